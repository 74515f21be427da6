package io.sluice.ingest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.errors.ApiError;
import io.sluice.schema.TableSchema;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Parses the body of the batch and single-row endpoints and validates every row. All or nothing: any
 * invalid row makes the whole body a 400 listing the bad rows (the first {@value ApiError#MAX_LISTED_ERRORS}).
 * Each valid row keeps its own JSON bytes, sliced from the body, as the stored source.
 */
public final class BatchParser {

  private BatchParser() {
  }

  public static List<ParsedRow> parseArray(String table, TableSchema schema, byte[] body) {
    List<ParsedRow> rows = new ArrayList<>();
    JsonArray errors = new JsonArray();
    int invalid = 0;
    try (JsonParser parser = Json.MAPPER.createParser(body)) {
      if (parser.nextToken() != JsonToken.START_ARRAY) {
        throw ApiError.badRequest("body must be a JSON array of row objects for table '" + table + "'");
      }
      int index = 0;
      JsonToken token;
      while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
        if (token == null) {
          throw ApiError.badRequest("body ends before the JSON array is closed");
        }
        int start = (int) parser.currentTokenLocation().getByteOffset();
        JsonNode row = Json.MAPPER.readTree(parser);
        int end = (int) parser.currentLocation().getByteOffset();
        RowValidator.RowProblem problem = RowValidator.validate(table, schema, row);
        if (problem != null) {
          invalid++;
          if (errors.size() < ApiError.MAX_LISTED_ERRORS) {
            errors.add(rowError(index, problem));
          }
        } else {
          rows.add(new ParsedRow(row, Arrays.copyOfRange(body, start, end)));
        }
        index++;
      }
      if (parser.nextToken() != null) {
        throw ApiError.badRequest("unexpected content after the JSON array");
      }
    } catch (JsonProcessingException e) {
      throw ApiError.badRequest("malformed JSON at line " + e.getLocation().getLineNr() + ", column "
          + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new IllegalStateException("reading a byte array cannot fail", e);
    }
    if (invalid > 0) {
      JsonObject first = errors.getJsonObject(0);
      throw new ApiError(400, invalid + " of the rows for table '" + table + "' are invalid, nothing was stored; first: row "
          + first.getInteger("row") + ": " + first.getString("message"), errors);
    }
    return rows;
  }

  public static ParsedRow parseOne(String table, TableSchema schema, byte[] body) {
    JsonNode row;
    try {
      row = Json.MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw ApiError.badRequest("malformed JSON at line " + e.getLocation().getLineNr() + ", column "
          + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new IllegalStateException("reading a byte array cannot fail", e);
    }
    RowValidator.RowProblem problem = RowValidator.validate(table, schema, row);
    if (problem != null) {
      throw new ApiError(400, "invalid row for table '" + table + "': " + problem.message(),
          new JsonArray().add(rowError(0, problem)));
    }
    return new ParsedRow(row, compact(row, body));
  }

  private static byte[] compact(JsonNode row, byte[] body) {
    try {
      return Json.MAPPER.writeValueAsBytes(row);
    } catch (JsonProcessingException e) {
      return body;
    }
  }

  static JsonObject rowError(int index, RowValidator.RowProblem problem) {
    JsonObject error = new JsonObject().put("row", index);
    if (problem.column() != null) {
      error.put("column", problem.column());
    }
    return error.put("message", problem.message());
  }
}
