package io.sluice.ingest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.engine.Row;
import io.sluice.engine.RowBatch;
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

  /** Checks every row of a JSON array body; returns how many there are or throws a 400 listing the bad rows. */
  public static int validateArray(String table, TableSchema schema, byte[] body) {
    return parse(table, schema, body, null);
  }

  /**
   * How many rows the body has if every one of them is plainly valid, checked by {@link RowReader} without trees;
   * -1 as soon as anything is not (then {@link #validateArray} reads the body again and reports exactly what is
   * wrong). When it answers, {@link #plainRows} reads the same body.
   */
  public static int plainCount(TableSchema schema, byte[] body) {
    return plainScan(schema, body, null);
  }

  /**
   * The rows of the body, read once into typed values, if every one of them is plainly valid; null otherwise
   * (as {@link #plainCount} answers -1). For bodies small enough to hold parsed: it saves the second read.
   */
  public static List<Row> plainParsed(TableSchema schema, byte[] body) {
    List<Row> rows = new java.util.ArrayList<>();
    return plainScan(schema, body, rows) < 0 ? null : rows;
  }

  private static int plainScan(TableSchema schema, byte[] body, List<Row> rows) {
    if (Json.notUtf8(body, 0, body.length) != null || TextCheck.check(body, 0, body.length) != null) {
      return -1; // the tree path refuses it with a clear 400
    }
    RowReader reader = new RowReader(schema);
    int count = 0;
    try (JsonParser parser = Json.FAST_ROWS.createParser(body)) {
      if (parser.nextToken() != JsonToken.START_ARRAY) {
        return -1;
      }
      JsonToken token;
      while ((token = parser.nextToken()) == JsonToken.START_OBJECT) {
        int start = rows == null ? 0 : (int) parser.currentTokenLocation().getByteOffset();
        Object[] values = reader.read(parser, body, 0);
        if (values == null) {
          return -1;
        }
        if (rows != null) {
          int end = (int) parser.currentLocation().getByteOffset();
          rows.add(new Row(values, body, start, end - start));
        }
        count++;
      }
      if (token != JsonToken.END_ARRAY || parser.nextToken() != null) {
        return -1;
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return count;
  }

  /** The rows of an already validated array body, parsed one at a time as they are iterated. */
  public static Iterable<Row> rows(TableSchema schema, byte[] body) {
    return rows(schema, null, body);
  }

  /**
   * The rows of a body that {@link #plainCount} accepted, read one at a time into typed values (no trees) as they
   * are iterated.
   */
  public static Iterable<Row> plainRows(TableSchema schema, byte[] body) {
    return rows(schema, new RowReader(schema), body);
  }

  /** reader: null to parse trees (after {@link #validateArray}), else the fast path (after {@link #plainCount}). */
  private static Iterable<Row> rows(TableSchema schema, RowReader reader, byte[] body) {
    return () -> new java.util.Iterator<>() {
      private final JsonParser parser = open();
      private JsonToken next = advance();

      private JsonParser open() {
        try {
          JsonParser p = reader == null ? Json.MAPPER.createParser(body) : Json.FAST_ROWS.createParser(body);
          p.nextToken();
          return p;
        } catch (IOException e) {
          throw new IllegalStateException("the body was validated before", e);
        }
      }

      private JsonToken advance() {
        try {
          return parser.nextToken();
        } catch (IOException e) {
          throw new IllegalStateException("the body was validated before", e);
        }
      }

      @Override
      public boolean hasNext() {
        return next == JsonToken.START_OBJECT;
      }

      @Override
      public Row next() {
        try {
          int start = (int) parser.currentTokenLocation().getByteOffset();
          JsonNode tree = null;
          Object[] values = null;
          if (reader == null) {
            tree = Json.MAPPER.readTree(parser);
          } else {
            values = reader.read(parser, body, 0);
            if (values == null) {
              throw new IllegalStateException("the body was validated before");
            }
          }
          int end = (int) parser.currentLocation().getByteOffset();
          next = advance();
          byte[] source = Arrays.copyOfRange(body, start, end);
          return values != null ? new Row(values, source) : RowValues.of(schema, tree, source);
        } catch (IOException e) {
          throw new IllegalStateException("the body was validated before", e);
        }
      }
    };
  }

  /** Validates every row; collects the valid ones into {@code rows} unless it is null. Returns the row count. */
  private static int parse(String table, TableSchema schema, byte[] body, List<Row> rows) {
    int count = 0;
    JsonArray errors = new JsonArray();
    int invalid = 0;
    String notUtf8 = Json.notUtf8(body, 0, body.length);
    if (notUtf8 != null) {
      throw ApiError.badRequest("body for table '" + table + "': " + notUtf8);
    }
    TextCheck.Problem text = TextCheck.check(body, 0, body.length);
    if (text != null) {
      throw ApiError.badRequest("body for table '" + table + "': " + text.describe(body, 0, 1)
          + "; nothing was stored");
    }
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
        } else if (rows != null) {
          rows.add(RowValues.of(schema, row, Arrays.copyOfRange(body, start, end)));
        }
        count++;
        index++;
      }
      if (parser.nextToken() != null) {
        throw ApiError.badRequest("unexpected content after the JSON array");
      }
    } catch (JsonProcessingException e) {
      throw ApiError.badRequest(malformed(e));
    } catch (IOException e) {
      // nothing is read from a device: a character decoding error (CharConversionException)
      throw ApiError.badRequest("malformed JSON: " + e.getMessage());
    }
    if (invalid > 0) {
      JsonObject first = errors.getJsonObject(0);
      throw new ApiError(400, invalid + " of the rows for table '" + table + "' are invalid, nothing was stored; first: row "
          + first.getInteger("row") + ": " + first.getString("message"), errors);
    }
    return count;
  }

  /**
   * The rows of a logged write again ({@link io.sluice.engine.RowDecoder}): the body was valid when it was
   * logged, so it reads the same rows, by the fast path when it can.
   */
  public static Iterable<Row> redo(TableSchema schema, RowBatch.Redo redo) {
    if (!redo.batch()) {
      return List.of(parseOne("(log)", schema, redo.body()));
    }
    return plainCount(schema, redo.body()) >= 0 ? plainRows(schema, redo.body()) : rows(schema, redo.body());
  }

  public static Row parseOne(String table, TableSchema schema, byte[] body) {
    JsonNode row;
    String notUtf8 = Json.notUtf8(body, 0, body.length);
    if (notUtf8 != null) {
      throw ApiError.badRequest("invalid row for table '" + table + "': " + notUtf8);
    }
    TextCheck.Problem text = TextCheck.check(body, 0, body.length);
    if (text != null) {
      throw ApiError.badRequest("invalid row for table '" + table + "': " + text.describe(body, 0, 1));
    }
    try {
      row = Json.TREE.readValue(body);
    } catch (JsonProcessingException e) {
      throw ApiError.badRequest(malformed(e));
    } catch (IOException e) {
      throw ApiError.badRequest("malformed JSON: " + e.getMessage()); // a character decoding error
    }
    RowValidator.RowProblem problem = RowValidator.validate(table, schema, row);
    if (problem != null) {
      throw new ApiError(400, "invalid row for table '" + table + "': " + problem.message(),
          new JsonArray().add(rowError(0, problem)));
    }
    return RowValues.of(schema, row, compact(row, body));
  }

  private static byte[] compact(JsonNode row, byte[] body) {
    try {
      return Json.MAPPER.writeValueAsBytes(row);
    } catch (JsonProcessingException e) {
      return body;
    }
  }

  /** "malformed JSON at line L, column C: reason"; constraint violations (nesting, sizes) have no location. */
  static String malformed(JsonProcessingException e) {
    String where = e.getLocation() == null ? ""
        : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
    return "malformed JSON" + where + ": " + e.getOriginalMessage();
  }

  static JsonObject rowError(int index, RowValidator.RowProblem problem) {
    JsonObject error = new JsonObject().put("row", index);
    if (problem.column() != null) {
      error.put("column", problem.column());
    }
    return error.put("message", problem.message());
  }
}
