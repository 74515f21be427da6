package io.sluice.ingest;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.FuzzSchemas;
import io.sluice.errors.ApiError;
import io.sluice.schema.TableSchema;
import io.sluice.engine.lucene.DocumentBuilder;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the row parsers of the batch endpoint ({@link BatchParser#validateArray}, then {@link BatchParser#rows}
 * as the store iterates them) and of imports ({@link LineBatchParser#parse}) with arbitrary bytes against a
 * schema of every type. Acceptable: an {@link ApiError} 400 (batch) or a result. A row that is accepted must
 * be what the store can keep: it validates, its stored source bytes are exactly one JSON object equal to the
 * parsed row, and Lucene indexes its document without complaint (an exception there latches the table).
 *
 * <p>Without {@code JAZZER_FUZZ} the inputs under
 * {@code src/test/resources/io/sluice/ingest/RowParsersFuzzTestInputs/<method>/} are replayed; see
 * docs/fuzzing.md.
 */
class RowParsersFuzzTest {
  private static final String TABLE = FuzzSchemas.ITEMS;
  private static final TableSchema SCHEMA = FuzzSchemas.ITEMS_SCHEMA;

  private static ByteBuffersDirectory dir;
  private static IndexWriter writer;
  private static long seq;

  @BeforeAll
  static void open() throws IOException {
    dir = new ByteBuffersDirectory();
    writer = new IndexWriter(dir, new IndexWriterConfig(FuzzSchemas.indexAnalyzer(SCHEMA)));
  }

  @AfterAll
  static void close() throws IOException {
    writer.close();
    dir.close();
  }

  @FuzzTest(maxDuration = "2m")
  void batch(byte[] body) throws IOException {
    int count;
    try {
      count = BatchParser.validateArray(TABLE, SCHEMA, body);
    } catch (ApiError e) {
      if (e.status() != 400 || e.getMessage() == null) {
        throw new AssertionError("status " + e.status() + ": " + e.getMessage() + " for " + show(body), e);
      }
      if (e.errors() != null && e.errors().size() > ApiError.MAX_LISTED_ERRORS) {
        throw new AssertionError("more than " + ApiError.MAX_LISTED_ERRORS + " errors listed");
      }
      return;
    }
    int seen = 0;
    for (io.sluice.engine.Row row : BatchParser.rows(SCHEMA, body)) {
      checkStorable(row, body);
      seen++;
    }
    if (seen != count) {
      throw new AssertionError("validateArray counted " + count + " rows, rows() gave " + seen + " for " + show(body));
    }
  }

  @FuzzTest(maxDuration = "2m")
  void lines(byte[] payload) throws IOException {
    LineBatchParser.Result result = LineBatchParser.parse(TABLE, SCHEMA, payload, 1);
    long lineCount = 1;
    for (byte b : payload) {
      if (b == '\n') {
        lineCount++;
      }
    }
    if (result.failedCount() != result.failures().size()
        || result.rows().size() + result.failedCount() > lineCount) {
      throw new AssertionError("inconsistent result " + result.rows().size() + " rows, " + result.failedCount()
          + " failed, " + result.failures().size() + " reported of " + lineCount + " lines for " + show(payload));
    }
    long lastLine = 0;
    for (int i = 0; i < result.failures().size(); i++) {
      JsonObject failure = result.failures().getJsonObject(i);
      long line = failure.getLong("line");
      if (line <= lastLine || line > lineCount || failure.getString("message") == null
          || failure.getString("row") == null
          || failure.getString("row").length() > LineBatchParser.MAX_REPORTED_ROW_CHARS + 1) {
        throw new AssertionError("bad failure report " + failure.encode() + " for " + show(payload));
      }
      lastLine = line;
    }
    for (io.sluice.engine.Row row : result.rows()) {
      checkStorable(row, payload);
    }
    sameAsLineByLine(result, LineBatchParser.lineByLine(TABLE, SCHEMA, payload, 1), payload);
  }

  /** The single-parser fast path of {@link LineBatchParser#parse} must answer exactly as line by line. */
  static void sameAsLineByLine(LineBatchParser.Result fast, LineBatchParser.Result slow, byte[] payload) {
    boolean same = fast.failedCount() == slow.failedCount() && fast.failures().equals(slow.failures())
        && fast.rows().size() == slow.rows().size();
    for (int i = 0; same && i < fast.rows().size(); i++) {
      same = java.util.Arrays.equals(fast.rows().get(i).source(), slow.rows().get(i).source())
          && java.util.Arrays.deepEquals(fast.rows().get(i).values(), slow.rows().get(i).values());
    }
    if (!same) {
      throw new AssertionError("parse and lineByLine differ for " + show(payload));
    }
  }

  @FuzzTest(maxDuration = "2m")
  void one(byte[] body) throws IOException {
    io.sluice.engine.Row row;
    try {
      row = BatchParser.parseOne(TABLE, SCHEMA, body);
    } catch (ApiError e) {
      if (e.status() != 400 || e.getMessage() == null) {
        throw new AssertionError("status " + e.status() + ": " + e.getMessage() + " for " + show(body), e);
      }
      return;
    }
    checkStorable(row, body);
  }

  /**
   * The row validates; its source is UTF-8 text of exactly one JSON object equal to the row, readable the way
   * search reads it (a UTF-8 String into a Vert.x JsonObject); and Lucene takes its document.
   */
  private static void checkStorable(io.sluice.engine.Row row, byte[] input) throws IOException {
    // The fast path keeps typed values instead of a tree: check the tree its source parses to.
    JsonNode tree = Json.MAPPER.readTree(row.source());
    RowValidator.RowProblem problem = RowValidator.validate(TABLE, SCHEMA, tree);
    if (problem != null) {
      throw new AssertionError("accepted an invalid row (" + problem.message() + ") from " + show(input));
    }
    String text = new String(row.source(), StandardCharsets.UTF_8);
    if (!Arrays.equals(text.getBytes(StandardCharsets.UTF_8), row.source())) {
      throw new AssertionError("the stored source of a row is not UTF-8: " + show(row.source()));
    }
    try {
      new JsonObject(text);
    } catch (RuntimeException e) {
      throw new AssertionError("search cannot read the stored source " + show(row.source()), e);
    }
    JsonNode reparsed;
    try (JsonParser parser = Json.MAPPER.createParser(text)) {
      reparsed = Json.MAPPER.readTree(parser);
      JsonToken after = parser.nextToken();
      if (after != null) {
        throw new AssertionError("the stored source of a row has content after the row (" + after + "): "
            + show(row.source()));
      }
    } catch (IOException e) {
      throw new AssertionError("the stored source of a row is not valid JSON: " + show(row.source()), e);
    }
    if (!reparsed.equals(tree)) {
      throw new AssertionError("the stored source " + show(row.source()) + " differs from the row " + tree);
    }
    try {
      writer.addDocument(DocumentBuilder.build(SCHEMA, row, seq++));
    } catch (IllegalArgumentException e) {
      throw new AssertionError("a valid row cannot be indexed (the store would latch the table): "
          + e.getMessage() + " for " + show(row.source()), e);
    }
    if (seq % 1000 == 0) {
      writer.deleteAll();
    }
  }

  private static String show(byte[] input) {
    String s = new String(input, StandardCharsets.UTF_8);
    return s.length() > 300 ? s.substring(0, 300) + "…(" + input.length + " bytes)" : s;
  }
}
