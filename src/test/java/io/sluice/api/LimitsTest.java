package io.sluice.api;

import static io.sluice.api.ApiAssertions.error;
import static io.sluice.api.ApiAssertions.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.sluice.TestPostgres;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.sluice.bus.Addresses;
import io.sluice.bus.StoreOp;
import io.sluice.bus.StoreRequest;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every documented limit at limit - 1, limit and limit + 1, through the HTTP API, with limits configured small
 * so the tests are cheap. Moving any limit by one (a {@code >} that becomes {@code >=}) fails a test here.
 * docs/testing.md lists the limits and their tests.
 */
class LimitsTest extends ServerTest {
  static final int MAX_BATCH_BYTES = 2048;
  /** room for the 51 over-long lines of the import-failures test */
  static final int UPLOAD_MAX_BYTES = 16_384;
  static final int STREAM_MAX_BYTES = 4096;
  static final int MAX_LINE_BYTES = 256;
  static final int MAX_RESULT_LIMIT = 10;
  /** schema/Names.MAX_LENGTH (docs/api.md §0: names are 1-128 characters). */
  static final int MAX_NAME_LENGTH = 128;
  /** Jackson's maxNestingDepth in ingest/Json (docs/reliability.md). */
  static final int MAX_NESTING_DEPTH = 64;
  /** ImportProgress.KEPT_FAILURES: an import status lists its last 50 failing rows (README, Imports). */
  static final int KEPT_FAILURES = 50;
  /** Lucene's IndexSearcher.getMaxClauseCount(), checked by PropositionCompiler as a 400. */
  static final int MAX_CLAUSES = 1024;
  /** ApiError.MAX_LISTED_ERRORS: a refused batch lists its first 50 bad rows. */
  static final int LISTED_ERRORS = 50;

  @Override
  protected Map<String, Object> serverConfig() {
    return Map.of("max.batch.bytes", MAX_BATCH_BYTES, "upload.max.bytes", UPLOAD_MAX_BYTES,
        "stream.max.bytes", STREAM_MAX_BYTES, "import.max.line.bytes", MAX_LINE_BYTES,
        "max.result.limit", MAX_RESULT_LIMIT);
  }

  @BeforeEach
  void table() {
    ok(server.put("/api/v1/schema/t", new JsonObject(
        "{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"},\"s\":{\"type\":\"String\",\"nullable\":true}}}")));
  }

  // ---- max.batch.bytes: 413 with a JSON error above, stored at and below

  @ParameterizedTest
  @ValueSource(ints = {MAX_BATCH_BYTES - 1, MAX_BATCH_BYTES})
  void aBatchBodyAtOrBelowMaxBatchBytesIsStored(int size) {
    String body = padded("[{\"id\":1,\"s\":\"", "\"}]", size);
    assertThat(ok(server.post("/api/v1/data/t/batch", body)).getLong("total"))
        .as("a %d-byte batch with max.batch.bytes=%d", size, MAX_BATCH_BYTES).isEqualTo(1);
  }

  @Test
  void aBatchBodyOneByteOverMaxBatchBytesIs413() {
    String body = padded("[{\"id\":1,\"s\":\"", "\"}]", MAX_BATCH_BYTES + 1);
    error(server.post("/api/v1/data/t/batch", body), 413, "max.batch.bytes");
    assertThat(count()).as("nothing stored from a refused body").isZero();
  }

  @ParameterizedTest
  @ValueSource(ints = {MAX_BATCH_BYTES - 1, MAX_BATCH_BYTES, MAX_BATCH_BYTES + 1})
  void theOneRowEndpointHasTheSameLimit(int size) {
    Response response = server.post("/api/v1/data/t", padded("{\"id\":1,\"s\":\"", "\"}", size));
    if (size <= MAX_BATCH_BYTES) {
      ok(response);
    } else {
      error(response, 413, "max.batch.bytes");
    }
  }

  // ---- ApiError.MAX_LISTED_ERRORS: a refused batch lists its first 50 bad rows, and counts... none stored

  @ParameterizedTest
  @ValueSource(ints = {LISTED_ERRORS - 1, LISTED_ERRORS, LISTED_ERRORS + 1})
  void aRefusedBatchListsAtMostFiftyBadRows(int bad) {
    JsonArray rows = new JsonArray();
    for (int i = 0; i < bad; i++) {
      rows.add(new JsonObject().put("id", "bad"));
    }
    JsonObject body = error(server.post("/api/v1/data/t/batch", rows), 400);
    JsonArray errors = body.getJsonArray("errors");
    assertThat(errors).as("errors listed for %d bad rows (limit %d): %s", bad, LISTED_ERRORS, body)
        .hasSize(Math.min(bad, LISTED_ERRORS));
    assertThat(errors.getJsonObject(errors.size() - 1).getInteger("row")).as("the first ones, in order")
        .isEqualTo(Math.min(bad, LISTED_ERRORS) - 1);
  }

  // ---- table and column names: 1-128 characters

  @ParameterizedTest
  @ValueSource(ints = {MAX_NAME_LENGTH - 1, MAX_NAME_LENGTH, MAX_NAME_LENGTH + 1})
  void tableNamesUpToTheMaximumLength(int length) {
    String name = "n".repeat(length);
    Response response = server.put("/api/v1/schema/" + name,
        new JsonObject("{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"}}}"));
    if (length <= MAX_NAME_LENGTH) {
      ok(response);
      ok(server.get("/api/v1/schema/" + name));
    } else {
      error(response, 400, "invalid table name", "1-" + MAX_NAME_LENGTH);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {MAX_NAME_LENGTH - 1, MAX_NAME_LENGTH, MAX_NAME_LENGTH + 1})
  void columnNamesUpToTheMaximumLength(int length) {
    String column = "c".repeat(length);
    Response response = server.put("/api/v1/schema/u",
        new JsonObject().put("type", "table").put("columns", new JsonObject().put(column,
            new JsonObject().put("type", "Int"))));
    if (length <= MAX_NAME_LENGTH) {
      ok(response);
      ok(server.post("/api/v1/data/u", new JsonObject().put(column, 1)));
    } else {
      error(response, 400, "invalid column name", "1-" + MAX_NAME_LENGTH);
    }
  }

  // ---- JSON nesting depth 64: deeper input is refused by the parser, before any validation

  @ParameterizedTest
  @ValueSource(ints = {MAX_NESTING_DEPTH - 1, MAX_NESTING_DEPTH, MAX_NESTING_DEPTH + 1})
  void nestingBeyondSixtyFourLevelsIsRefusedByTheParser(int depth) {
    // the batch array and the row object are two levels; the rest is a nested value that validation refuses
    int inner = depth - 2;
    String body = "[{\"id\":1,\"s\":" + "[".repeat(inner) + "]".repeat(inner) + "}]";
    JsonObject refused = error(server.post("/api/v1/data/t/batch", body), 400);
    if (depth <= MAX_NESTING_DEPTH) {
      assertThat(refused.encode()).as("depth %d is within the nesting limit %d: refused by validation, not the "
          + "parser", depth, MAX_NESTING_DEPTH).doesNotContain("nesting").contains("\"s\"");
    } else {
      assertThat(refused.getString("message")).as("depth %d is over the nesting limit %d", depth,
          MAX_NESTING_DEPTH).contains("nesting");
    }
  }

  // ---- import failures: the status keeps the last 50 failing rows, and counts all

  @ParameterizedTest
  @CsvSource({"49,store", "50,store", "51,store", "49,too-long", "50,too-long", "51,too-long"})
  void anImportStatusKeepsTheLastFiftyFailingRows(int bad, String kind) {
    assertThat(bad - KEPT_FAILURES).as("the cases are the limit and its neighbours").isBetween(-1, 1);
    // two paths into the status: rows the store refuses, and lines refused before the store (too long)
    String badLine = kind.equals("store") ? "{\"id\":\"bad\"}"
        : padded("{\"id\":1,\"s\":\"", "\"}", MAX_LINE_BYTES + 1);
    StringBuilder file = new StringBuilder("{\"id\":0}\n");
    for (int i = 0; i < bad; i++) {
      file.append(badLine).append('\n');
    }
    JsonObject status = importFile(file.toString().getBytes(StandardCharsets.UTF_8));
    assertThat(status.getJsonObject("status").getLong("failedCount")).as("failedCount counts every bad line")
        .isEqualTo(bad);
    assertThat(status.getJsonObject("status").getLong("completedCount")).isEqualTo(1);
    JsonArray rows = status.getJsonObject("errors").getJsonArray("rows");
    int kept = Math.min(bad, KEPT_FAILURES);
    assertThat(rows).as("failing rows kept of %d (limit %d): %s", bad, KEPT_FAILURES, status).hasSize(kept);
    // lines are numbered from 1 and line 1 is good: the last 'kept' bad lines end at line bad + 1
    assertThat(rows.getJsonObject(0).getLong("line")).as("the oldest kept line").isEqualTo(bad + 2 - kept);
    assertThat(rows.getJsonObject(kept - 1).getLong("line")).as("the newest kept line").isEqualTo(bad + 1);
    assertThat(status.getJsonObject("errors").getString("message")).isEqualTo("Last " + kept + " failing rows");
  }

  // ---- import.max.line.bytes: a longer line is skipped and reported

  @ParameterizedTest
  @ValueSource(ints = {MAX_LINE_BYTES - 1, MAX_LINE_BYTES, MAX_LINE_BYTES + 1})
  void linesUpToMaxLineBytesAreImported(int length) {
    String line = padded("{\"id\":7,\"s\":\"", "\"}", length);
    JsonObject result = ok(server.send(HttpMethod.POST, "/api/v1/data/t/stream", line + "\n", TestServer.RW_KEY));
    if (length <= MAX_LINE_BYTES) {
      assertThat(result.getLong("total")).as("a %d-byte line, import.max.line.bytes=%d: %s", length,
          MAX_LINE_BYTES, result).isEqualTo(1);
      assertThat(result.getLong("failedCount")).isZero();
    } else {
      assertThat(result.getLong("total")).as("a %d-byte line, import.max.line.bytes=%d: %s", length,
          MAX_LINE_BYTES, result).isZero();
      assertThat(result.getLong("failedCount")).isEqualTo(1);
      assertThat(result.encode()).contains("import.max.line.bytes");
    }
  }

  // ---- stream.max.bytes: 413 above

  @ParameterizedTest
  @ValueSource(ints = {STREAM_MAX_BYTES - 1, STREAM_MAX_BYTES, STREAM_MAX_BYTES + 1})
  void streamBodiesUpToStreamMaxBytes(int size) {
    String body = ndjsonOfSize(size);
    Response response = server.send(HttpMethod.POST, "/api/v1/data/t/stream", body, TestServer.RW_KEY);
    if (size <= STREAM_MAX_BYTES) {
      assertThat(ok(response).getLong("failedCount")).as("a %d-byte stream, stream.max.bytes=%d: %s", size,
          STREAM_MAX_BYTES, response).isZero();
    } else {
      error(response, 413, Integer.toString(STREAM_MAX_BYTES));
    }
  }

  // ---- upload.max.bytes: 413 above, whether the size is announced (Content-Length) or found while receiving

  @ParameterizedTest
  @ValueSource(ints = {UPLOAD_MAX_BYTES - 1, UPLOAD_MAX_BYTES, UPLOAD_MAX_BYTES + 1})
  void uploadsUpToUploadMaxBytes(int size) {
    String url = server.post("/api/v1/data/t/file", new JsonObject()).json().getString("url");
    Response response = server.upload(url, Buffer.buffer(ndjsonOfSize(size)));
    if (size <= UPLOAD_MAX_BYTES) {
      ok(response);
    } else {
      error(response, 413, Integer.toString(UPLOAD_MAX_BYTES));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {UPLOAD_MAX_BYTES - 1, UPLOAD_MAX_BYTES, UPLOAD_MAX_BYTES + 1})
  void chunkedUploadsUpToUploadMaxBytes(int size, Vertx vertx) {
    String url = server.post("/api/v1/data/t/file", new JsonObject()).json().getString("url");
    byte[] body = ndjsonOfSize(size).getBytes(StandardCharsets.UTF_8);
    // no Content-Length: the server can only count the bytes as they arrive
    var client = vertx.createHttpClient();
    try {
      HttpClientResponse response = TestServer.await(client.request(new RequestOptions().setMethod(HttpMethod.PUT)
          .setAbsoluteURI(url)).compose(request -> {
            request.setChunked(true);
            for (int at = 0; at < body.length; at += 1000) {
              request.write(Buffer.buffer(java.util.Arrays.copyOfRange(body, at, Math.min(body.length, at + 1000))));
            }
            return request.end().compose(v -> request.response());
          }));
      int status = response.statusCode();
      if (size <= UPLOAD_MAX_BYTES) {
        assertThat(status).as("chunked upload of %d bytes, upload.max.bytes=%d", size, UPLOAD_MAX_BYTES)
            .isEqualTo(200);
      } else {
        assertThat(status).as("chunked upload of %d bytes, upload.max.bytes=%d", size, UPLOAD_MAX_BYTES)
            .isEqualTo(413);
      }
    } finally {
      TestServer.await(client.close());
    }
  }

  // ---- max.result.limit: the largest search limit

  @ParameterizedTest
  @ValueSource(ints = {MAX_RESULT_LIMIT - 1, MAX_RESULT_LIMIT, MAX_RESULT_LIMIT + 1})
  void searchLimitUpToMaxResultLimit(int limit) {
    Response response = server.search(new JsonObject().put("from", "t").put("limit", limit));
    if (limit <= MAX_RESULT_LIMIT) {
      ok(response);
    } else {
      error(response, 400, Integer.toString(MAX_RESULT_LIMIT));
    }
  }

  // ---- where-clause size: at most 1024 Lucene clauses (IndexSearcher's maximum), a 400 above, never a 500

  @ParameterizedTest
  @ValueSource(ints = {MAX_CLAUSES - 1, MAX_CLAUSES, MAX_CLAUSES + 1})
  void aWhereClauseOfUpToMaxClauseCountClauses(int clauses, Vertx vertx) {
    Assumptions.assumeFalse(TestPostgres.chosen() && clauses > MAX_CLAUSES,
        "the 1024-clause limit is the Lucene engine's (IndexSearcher); PostgreSQL has none");
    server.stop(); // the where-clause is larger than this class's max.batch.bytes
    server = new TestServer(vertx, dataDir).start();
    JsonArray or = new JsonArray();
    for (int i = 0; i < clauses; i++) {
      or.add(new JsonObject().put("s", "v" + i));
    }
    Response response = server.search(new JsonObject().put("from", "t").put("where", new JsonObject().put("$or", or))
        .put("limit", 0));
    if (clauses <= MAX_CLAUSES) {
      assertThat(ok(response).getLong("total")).as("%d clauses, limit %d", clauses, MAX_CLAUSES).isZero();
    } else {
      error(response, 400, "too large", "more than " + MAX_CLAUSES + " clauses");
    }
  }

  // ---- GET /api/v1/data/_imports?limit: 1-1000

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 999, 1000, 1001})
  void importListLimitIsOneToAThousand(int limit) {
    Response response = server.get("/api/v1/data/_imports?limit=" + limit);
    if (limit >= 1 && limit <= 1000) {
      ok(response);
    } else {
      error(response, 400, "limit");
    }
  }

  // ---- import.window: at most N batches of one import in flight to the store

  /**
   * Holds every APPEND_LINES request of the import at the event bus (an inbound interceptor, the same seam a
   * store verticle sees), so nothing is acknowledged: the import must send exactly {@code import.window}
   * batches and then wait. Each line is larger than the import's 64 KiB file reads and a batch is one row,
   * so every read can complete at most one batch; with smaller batches one read may hand the store several at
   * once (docs/testing.md, "import.window").
   */
  @Test
  void anImportHasAtMostImportWindowBatchesInFlight(Vertx vertx) throws Exception {
    int window = 3;
    int lines = 8;
    server.stop();
    server = new TestServer(vertx, dataDir, Map.of("import.window", window, "import.batch.rows", 1,
        "import.max.line.bytes", 1 << 20)).start();
    StringBuilder file = new StringBuilder();
    for (int i = 0; i < lines; i++) {
      file.append(padded("{\"id\":" + i + ",\"s\":\"", "\"}", 70_000)).append('\n');
    }
    String url = server.post("/api/v1/data/t/file", new JsonObject()).json().getString("url");
    ok(server.upload(url, Buffer.buffer(file.toString())));

    ArrayDeque<Runnable> held = new ArrayDeque<>();
    Semaphore arrived = new Semaphore(0);
    Handler<DeliveryContext<Object>> hold = delivery -> {
      if (Addresses.STORE.equals(delivery.message().address()) && delivery.body() instanceof StoreRequest request
          && request.op() == StoreOp.APPEND_LINES) {
        Context context = Vertx.currentContext();
        synchronized (held) {
          held.add(() -> context.runOnContext(v -> delivery.next()));
        }
        arrived.release();
      } else {
        delivery.next();
      }
    };
    vertx.eventBus().addInboundInterceptor(hold);
    try {
      String id = url.substring(url.indexOf("/uploads/") + 9, url.indexOf('?'));
      ok(server.post("/api/v1/data/t/file/" + id, new JsonObject()));
      assertThat(arrived.tryAcquire(window, 60, TimeUnit.SECONDS))
          .as("the import filled its window of import.window=%d batches", window).isTrue();
      // nothing is acknowledged, so a further batch would mean more than the window in flight
      assertThat(arrived.tryAcquire(1, 2, TimeUnit.SECONDS))
          .as("a batch beyond import.window=%d was sent before any was acknowledged", window).isFalse();
      // acknowledge one at a time: each frees one credit, so exactly one more batch may arrive
      int released = 0;
      while (released < lines) {
        Runnable next;
        synchronized (held) {
          next = held.poll();
        }
        assertThat(next).as("a held batch after %d acknowledged", released).isNotNull();
        next.run();
        released++;
        int expected = Math.min(1, lines - window - (released - 1));
        if (expected > 0) {
          assertThat(arrived.tryAcquire(1, 60, TimeUnit.SECONDS)).as("batch %d follows acknowledgement %d",
              window + released, released).isTrue();
          synchronized (held) {
            assertThat(held).as("in flight after acknowledgement %d (import.window=%d)", released, window)
                .hasSize(window);
          }
        }
      }
      vertx.eventBus().removeInboundInterceptor(hold);
      JsonObject status = server.awaitImport("t", id);
      assertThat(status.getJsonObject("status").getLong("completedCount")).as(status.encode()).isEqualTo(lines);
    } finally {
      vertx.eventBus().removeInboundInterceptor(hold);
      synchronized (held) {
        held.forEach(Runnable::run);
        held.clear();
      }
    }
  }

  // ---- helpers

  /** prefix + 'x' padding + suffix, exactly {@code size} bytes (ASCII). */
  private static String padded(String prefix, String suffix, int size) {
    int pad = size - prefix.length() - suffix.length();
    assertThat(pad).as("room for padding").isNotNegative();
    return prefix + "x".repeat(pad) + suffix;
  }

  /** Valid NDJSON of exactly {@code size} bytes: short rows, the last padded. */
  private static String ndjsonOfSize(int size) {
    StringBuilder body = new StringBuilder();
    int id = 0;
    while (size - body.length() > 200) {
      body.append("{\"id\":").append(id++).append("}\n");
    }
    return body.append(padded("{\"id\":" + id + ",\"s\":\"", "\"}\n", size - body.length())).toString();
  }

  private JsonObject importFile(byte[] file) {
    JsonObject initiated = ok(server.post("/api/v1/data/t/file", new JsonObject()));
    ok(server.upload(initiated.getString("url"), Buffer.buffer(file)));
    String id = initiated.getString("id");
    ok(server.post("/api/v1/data/t/file/" + id, new JsonObject()));
    return server.awaitImport("t", id);
  }

  private long count() {
    return ok(server.search(new JsonObject().put("from", "t").put("limit", 0))).getLong("total");
  }
}
