package io.sluice.ingest;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.engine.Row;
import io.sluice.engine.RowCheck;
import io.sluice.schema.TableSchema;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Parses and validates one batch of NDJSON lines for an import. Unlike the batch endpoint, bad lines are
 * skipped and reported (line number, reason, the line truncated), and the good rows go on.
 */
public final class LineBatchParser {
  public static final int MAX_REPORTED_ROW_CHARS = 1000;

  /** Valid rows, and for the bad lines their count and a report of each (all of them: a batch is small). */
  public record Result(List<Row> rows, int failedCount, JsonArray failures) {
  }

  private LineBatchParser() {
  }

  /** payload: the batch's lines separated by '\n'; blank lines are skipped but still counted. */
  public static Result parse(String table, TableSchema schema, byte[] payload, long firstLine) {
    return parse(table, schema, payload, firstLine, null);
  }

  /**
   * check: the store's refusals of valid values (null: none), reported as the line's failure like a bad row; a
   * batch with such a row is read again line by line to name its line.
   */
  public static Result parse(String table, TableSchema schema, byte[] payload, long firstLine, RowCheck check) {
    List<Row> plain = plainLines(new RowReader(schema), payload);
    if (plain != null && check != null) {
      for (int i = 0, n = plain.size(); i < n && plain != null; i++) {
        if (check.refusal(schema, plain.get(i)) != null) {
          plain = null;
        }
      }
    }
    return plain != null ? new Result(plain, 0, new JsonArray())
        : lineByLine(table, schema, payload, firstLine, check);
  }

  /** What {@link #parse} answers, always reading line by line (tests compare the two). */
  static Result lineByLine(String table, TableSchema schema, byte[] payload, long firstLine) {
    return lineByLine(table, schema, payload, firstLine, null);
  }

  private static Result lineByLine(String table, TableSchema schema, byte[] payload, long firstLine,
      RowCheck check) {
    RowReader reader = new RowReader(schema);
    List<Row> rows = new ArrayList<>();
    JsonArray failures = new JsonArray();
    long lineNumber = firstLine;
    int start = 0;
    for (int i = 0; i <= payload.length; i++) {
      if (i == payload.length || payload[i] == '\n') {
        int before = rows.size();
        parseLine(table, schema, reader, payload, start, i, lineNumber, rows, failures);
        if (check != null && rows.size() > before) {
          RowCheck.Refusal refused = check.refusal(schema, rows.get(before));
          if (refused != null) {
            rows.remove(before);
            failures.add(failure(lineNumber, refused.message(), payload, start, i));
          }
        }
        lineNumber++;
        start = i + 1;
      }
    }
    return new Result(rows, failures.size(), failures);
  }

  /**
   * The rows of a batch whose every line is one plainly valid row or blank, read with a single parser (a
   * parser per line costs more than reading the row); null as soon as anything else shows (two values on a
   * line, a row over several lines, a byte order mark, a bad row...), and then {@link #parse} reads the batch
   * line by line, which reports exactly what is wrong where.
   */
  private static List<Row> plainLines(RowReader reader, byte[] payload) {
    if (TextCheck.check(payload, 0, payload.length) != null) {
      return null; // line by line reports the line and column
    }
    List<Row> rows = new ArrayList<>();
    try (JsonParser parser = Json.FAST_ROWS.createParser(payload)) {
      int next = 0; // first byte after the last row's line
      JsonToken token;
      while ((token = parser.nextToken()) != null) {
        JsonLocation opened = parser.currentTokenLocation();
        int start = (int) opened.getByteOffset();
        if (token != JsonToken.START_OBJECT || start < next) {
          return null;
        }
        for (int i = next; i < start; i++) {
          if (payload[i] != '\n' && !isBlank(payload[i])) {
            return null;
          }
        }
        Object[] values = reader.read(parser, payload, 0);
        if (values == null) {
          return null;
        }
        JsonLocation closed = parser.currentLocation();
        int end = (int) closed.getByteOffset();
        // A line break inside a row can only be whitespace between its tokens (a string cannot hold one
        // unescaped), where the parser counts it as a new line: no need to look at the row's bytes again.
        if (closed.getLineNr() != opened.getLineNr()) {
          return null;
        }
        next = end;
        while (next < payload.length && payload[next] != '\n') {
          if (!isBlank(payload[next++])) {
            return null;
          }
        }
        rows.add(new Row(values, payload, start, end - start));
      }
      for (int i = next; i < payload.length; i++) {
        if (payload[i] != '\n' && !isBlank(payload[i])) {
          return null;
        }
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return rows;
  }

  private static void parseLine(String table, TableSchema schema, RowReader reader, byte[] payload, int start,
      int end, long lineNumber, List<Row> rows, JsonArray failures) {
    int lineStart = start;
    while (start < end && isBlank(payload[start])) {
      start++;
    }
    // A UTF-8 byte order mark (files saved by some editors begin with one): Jackson skips it, but it must not
    // become part of the stored source, which search reads back as JSON text.
    if (end - start >= 3 && payload[start] == (byte) 0xEF && payload[start + 1] == (byte) 0xBB
        && payload[start + 2] == (byte) 0xBF) {
      start += 3;
      while (start < end && isBlank(payload[start])) {
        start++;
      }
    }
    while (end > start && isBlank(payload[end - 1])) {
      end--;
    }
    if (start == end) {
      return;
    }
    String notUtf8 = Json.notUtf8(payload, start, end - start);
    TextCheck.Problem text = notUtf8 == null ? TextCheck.check(payload, start, end - start) : null;
    Object[] values = notUtf8 == null && text == null ? fastRead(reader, payload, start, end) : null;
    if (values != null) {
      rows.add(new Row(values, payload, start, end - start));
      return;
    }
    JsonNode row;
    if (notUtf8 != null) {
      failures.add(failure(lineNumber, notUtf8, payload, start, end));
      return;
    }
    if (text != null) {
      failures.add(failure(lineNumber, text.describeInLine(lineStart), payload, start, end));
      return;
    }
    try {
      row = Json.TREE.readValue(payload, start, end - start);
    } catch (JsonProcessingException e) {
      failures.add(failure(lineNumber, "malformed JSON: " + e.getOriginalMessage(), payload, start, end));
      return;
    } catch (IOException e) { // nothing is read from a device: a character decoding error
      failures.add(failure(lineNumber, "malformed JSON: " + e.getMessage(), payload, start, end));
      return;
    }
    RowValidator.RowProblem problem = RowValidator.validate(table, schema, row);
    if (problem != null) {
      failures.add(failure(lineNumber, problem.message(), payload, start, end));
      return;
    }
    rows.add(RowValues.of(schema, row, Arrays.copyOfRange(payload, start, end)));
  }

  /** The row's values by the fast path, or null when the line needs the tree path (to report its problem). */
  private static Object[] fastRead(RowReader reader, byte[] payload, int start, int end) {
    try (JsonParser parser = Json.FAST_ROWS.createParser(payload, start, end - start)) {
      parser.nextToken();
      Object[] values = reader.read(parser, payload, start);
      // Content after the row's object makes the line malformed: the tree path reports it.
      return values != null && parser.nextToken() == null ? values : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static boolean isBlank(byte b) {
    return b == ' ' || b == '\t' || b == '\r';
  }

  public static JsonObject failure(long lineNumber, String message, byte[] payload, int start, int end) {
    String text = new String(payload, start, Math.min(end - start, MAX_REPORTED_ROW_CHARS * 4), StandardCharsets.UTF_8);
    return failure(lineNumber, message, text);
  }

  public static JsonObject failure(long lineNumber, String message, String row) {
    String text = row.length() > MAX_REPORTED_ROW_CHARS ? row.substring(0, MAX_REPORTED_ROW_CHARS) + "…" : row;
    return new JsonObject().put("line", lineNumber).put("message", message).put("row", text);
  }
}
