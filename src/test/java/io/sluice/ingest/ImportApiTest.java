package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.sluice.BenchRows;
import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** docs/api.md §3 through the real API: initiate, signed PUT, trigger, poll; and the stream endpoint. */
class ImportApiTest extends ServerTest {
  Vertx vertx;

  @Override
  protected Map<String, Object> serverConfig() {
    return Map.of("import.batch.rows", 500);
  }

  @BeforeEach
  void createItems(Vertx vertx) {
    this.vertx = vertx;
    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
  }

  @Test
  void gzipFileImportsWithBadLinesReported() {
    Map<Integer, String> bad = Map.of(10, "{\"id\": \"ten\"}", 2000, "not json at all", 2999, "");
    byte[] file = BenchRows.gzip(BenchRows.ndjson(7, 3000, bad));

    JsonObject initiated = server.post("/api/v1/data/items/file", new JsonObject()).json();
    assertThat(initiated.getString("method")).isEqualTo("PUT");
    assertThat(initiated.getString("expires")).isNotBlank();
    var put = upload(initiated.getString("url"), file);
    assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(200);
    assertThat(put.bodyAsJsonObject().getLong("bytes")).isEqualTo(file.length);

    String id = initiated.getString("id");
    assertThat(server.get("/api/v1/data/items/file/" + id).json().getJsonObject("status").getString("phase"))
        .isEqualTo("Uploaded");
    var trigger = server.post("/api/v1/data/items/file/" + id, new JsonObject());
    assertThat(trigger.json()).isEqualTo(new JsonObject().put("id", id).put("status", "started"));
    assertThat(server.post("/api/v1/data/items/file/" + id, new JsonObject()).json().getString("id")).isEqualTo(id);

    JsonObject status = awaitFinished("items", id);
    JsonObject s = status.getJsonObject("status");
    assertThat(s.getString("phase")).as(status.encode()).isEqualTo("Finished");
    assertThat(s.getLong("completedCount")).isEqualTo(2997);
    assertThat(s.getLong("failedCount")).isEqualTo(2);
    assertThat(s.getJsonObject("lastSuccessfulElement").getInteger("id")).isEqualTo(2998);
    assertThat(s.getString("startedAt")).isNotNull();
    assertThat(s.getLong("totalDuration")).isNotNull();
    JsonArray errors = status.getJsonObject("errors").getJsonArray("rows");
    assertThat(status.getJsonObject("errors").getString("message")).isEqualTo("Last 2 failing rows");
    assertThat(errors.getJsonObject(0).getLong("line")).isEqualTo(11);
    assertThat(errors.getJsonObject(0).getString("message")).contains("'id'");
    assertThat(errors.getJsonObject(1).getLong("line")).isEqualTo(2001);
    assertThat(errors.getJsonObject(1).getString("row")).isEqualTo("not json at all");

    assertThat(count("items")).isEqualTo(2997);
    // deleted once the job's input is closed, which may finish just after the status says Finished
    await("finished upload's file deleted").atMost(java.time.Duration.ofSeconds(10))
        .until(() -> !Files.exists(ImportVerticle.uploadFile(dataDir, id)));
  }

  @Test
  void uploadUrlIsSignedSingleUseAndExpires() {
    byte[] file = BenchRows.gzip(BenchRows.ndjson(1, 10, Map.of()));
    String url = server.post("/api/v1/data/items/file", new JsonObject()).json().getString("url");

    assertThat(upload(url.replace("signature=", "signature=0"), file).statusCode()).isEqualTo(403);
    assertThat(upload(url.replace("table=items", "table=other"), file).statusCode()).isEqualTo(403);
    String expires = URI.create(url).getQuery().replaceAll(".*expires=(\\d+).*", "$1");
    assertThat(upload(url.replace("expires=" + expires, "expires=" + (Long.parseLong(expires) + 1)), file)
        .statusCode()).isEqualTo(403);
    var first = upload(url, file);
    assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(200);
    var replay = upload(url, file);
    assertThat(replay.statusCode()).isEqualTo(403);
    assertThat(replay.bodyAsJsonObject().getString("message")).contains("already used");
  }

  @Test
  void expiredUrlIsRefused(@TempDir Path otherDir) {
    server.stop();
    server = new TestServer(vertx, otherDir, Map.of("upload.expiry.seconds", 1)).start();
    server.put("/api/v1/schema/items", BenchRows.SCHEMA);
    JsonObject initiated = server.post("/api/v1/data/items/file", new JsonObject()).json();
    String url = initiated.getString("url");
    java.time.Instant expires = java.time.Instant.parse(initiated.getString("expires"));
    // The URL is valid through its expiry second: wait on a timer until that second has passed.
    long wait = expires.plusSeconds(1).toEpochMilli() - System.currentTimeMillis();
    TestServer.await(vertx.timer(Math.max(1, wait)));
    var response = upload(url, BenchRows.gzip(BenchRows.ndjson(1, 10, Map.of())));
    assertThat(response.statusCode()).isEqualTo(403);
    assertThat(response.bodyAsJsonObject().getString("message")).contains("expired");
  }

  @Test
  void uploadNeverTriggeredIsCleanedUpWithItsFile(@TempDir Path otherDir) throws InterruptedException {
    server.stop();
    server = new TestServer(vertx, otherDir, Map.of("upload.expiry.seconds", 1, "import.keep.seconds", 1)).start();
    server.put("/api/v1/schema/items", BenchRows.SCHEMA);
    JsonObject initiated = server.post("/api/v1/data/items/file", new JsonObject()).json();
    String id = initiated.getString("id");
    assertThat(upload(initiated.getString("url"), BenchRows.gzip(BenchRows.ndjson(1, 10, Map.of()))).statusCode())
        .isEqualTo(200);
    assertThat(Files.exists(ImportVerticle.uploadFile(otherDir, id))).isTrue();
    long deadline = System.currentTimeMillis() + 15_000;
    while (server.get("/api/v1/data/items/file/" + id).status() == 200 && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    assertThat(server.get("/api/v1/data/items/file/" + id).status()).isEqualTo(404);
    assertThat(Files.exists(ImportVerticle.uploadFile(otherDir, id))).isFalse();
  }

  @Test
  void notGzipAndTruncatedGzipEndInError() {
    JsonObject notGzip = importFile("items", "PK\u0003\u0004 this is a zip".getBytes(StandardCharsets.UTF_8));
    assertThat(notGzip.getJsonObject("status").getString("phase")).isEqualTo("FinishedInError");
    assertThat(notGzip.getJsonObject("errors").getString("message")).contains("not gzip");

    byte[] gz = BenchRows.gzip(BenchRows.ndjson(3, 5000, Map.of()));
    byte[] truncated = java.util.Arrays.copyOf(gz, gz.length / 2);
    JsonObject cut = importFile("items", truncated);
    assertThat(cut.getJsonObject("status").getString("phase")).isEqualTo("FinishedInError");
    assertThat(cut.getJsonObject("status").getBoolean("finished")).isTrue();
    assertThat(cut.getJsonObject("errors").getString("message")).containsIgnoringCase("truncated");
    long stored = cut.getJsonObject("status").getLong("completedCount");
    assertThat(count("items")).isEqualTo(stored);
  }

  @Test
  void triggersBeyondTheImportQueueGet429(@TempDir Path otherDir) {
    server.stop();
    server = new TestServer(vertx, otherDir, Map.of("import.max.jobs", 1, "import.max.queued", 0)).start();
    server.put("/api/v1/schema/items", BenchRows.SCHEMA);
    byte[] big = BenchRows.gzip(BenchRows.ndjson(2, 200_000, Map.of()));
    JsonObject first = server.post("/api/v1/data/items/file", new JsonObject()).json();
    JsonObject second = server.post("/api/v1/data/items/file", new JsonObject()).json();
    assertThat(upload(first.getString("url"), big).statusCode()).isEqualTo(200);
    assertThat(upload(second.getString("url"), big).statusCode()).isEqualTo(200);
    assertThat(server.post("/api/v1/data/items/file/" + first.getString("id"), new JsonObject()).status())
        .isEqualTo(200);
    var refused = server.post("/api/v1/data/items/file/" + second.getString("id"), new JsonObject());
    assertThat(refused.status()).as(refused.toString()).isEqualTo(429);
    assertThat(refused.header("x-error-cause")).isEqualTo("Throttled");
    assertThat(refused.header("Retry-After")).isNotNull();
    assertThat(awaitFinished("items", first.getString("id")).getJsonObject("status").getString("phase"))
        .isEqualTo("Finished");
    assertThat(server.post("/api/v1/data/items/file/" + second.getString("id"), new JsonObject()).status())
        .as("a slot is free again").isEqualTo(200);
  }

  @Test
  void plainNdjsonIsAcceptedToo() {
    JsonObject status = importFile("items", BenchRows.ndjson(5, 1234, Map.of()));
    assertThat(status.getJsonObject("status").getString("phase")).isEqualTo("Finished");
    assertThat(count("items")).isEqualTo(1234);
  }

  @Test
  void gzipBombIsRefused() {
    ByteArrayOutputStream zeros = new ByteArrayOutputStream();
    try (var gzip = new java.util.zip.GZIPOutputStream(zeros)) {
      byte[] block = new byte[1 << 20];
      java.util.Arrays.fill(block, (byte) ' ');
      for (int i = 0; i < 200; i++) {
        gzip.write(block);
      }
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    JsonObject status = importFile("items", zeros.toByteArray());
    assertThat(status.getJsonObject("status").getString("phase")).isEqualTo("FinishedInError");
    assertThat(status.getJsonObject("errors").getString("message")).contains("ratio");
  }

  @Test
  void overLongLineIsSkippedAndReported(@TempDir Path otherDir) {
    server.stop();
    server = new TestServer(vertx, otherDir, Map.of("import.max.line.bytes", 1000)).start();
    server.put("/api/v1/schema/items", BenchRows.SCHEMA);
    String longLine = "{\"id\":1,\"name\":\"" + "x".repeat(5000) + "\"}";
    JsonObject status = importFile("items", BenchRows.gzip(BenchRows.ndjson(9, 100, Map.of(50, longLine))));
    assertThat(status.getJsonObject("status").getLong("completedCount")).isEqualTo(99);
    JsonObject failure = status.getJsonObject("errors").getJsonArray("rows").getJsonObject(0);
    assertThat(failure.getLong("line")).isEqualTo(51);
    assertThat(failure.getString("message")).contains("over the limit");
  }

  @Test
  void unknownJobIs404AndUploadBeforeTriggerIs400() {
    assertThat(server.get("/api/v1/data/items/file/00000000-0000-0000-0000-000000000000").status()).isEqualTo(404);
    assertThat(server.post("/api/v1/data/nope/file", new JsonObject()).status()).isEqualTo(404);
    String id = server.post("/api/v1/data/items/file", new JsonObject()).json().getString("id");
    var early = server.post("/api/v1/data/items/file/" + id, new JsonObject());
    assertThat(early.status()).isEqualTo(400);
    assertThat(early.json().getString("message")).contains("PUT the file");
  }

  @Test
  void pullImportFromSourceUrl() {
    byte[] file = BenchRows.gzip(BenchRows.ndjson(11, 2500, Map.of()));
    HttpServer source = TestServer.await(vertx.createHttpServer()
        .requestHandler(request -> request.response().end(Buffer.buffer(file))).listen(0, "127.0.0.1"));
    try {
      String id = server.post("/api/v1/data/items/file", new JsonObject()).json().getString("id");
      var trigger = server.post("/api/v1/data/items/file/" + id,
          new JsonObject().put("sourceUrl", "http://127.0.0.1:" + source.actualPort() + "/data.ndjson.gz"));
      assertThat(trigger.status()).as(trigger.toString()).isEqualTo(200);
      JsonObject status = awaitFinished("items", id);
      assertThat(status.getJsonObject("status").getString("phase")).as(status.encode()).isEqualTo("Finished");
      assertThat(count("items")).isEqualTo(2500);
    } finally {
      TestServer.await(source.close());
    }
  }

  /**
   * The status's {@code progress} (a Sluice extension): the stored rows over the run, from the start, growing
   * while the job runs (here a pull import whose source sends its rows in two parts) and kept when it ends,
   * across a restart too.
   */
  @Test
  void progressHistoryGrowsWhileRunningAndIsKept() {
    AtomicReference<HttpServerResponse> sending = new AtomicReference<>();
    HttpServer source = TestServer.await(vertx.createHttpServer().requestHandler(request -> {
      HttpServerResponse response = request.response().setChunked(true);
      response.write(Buffer.buffer(BenchRows.ndjson(31, 1000, Map.of()))); // two whole batches of 500
      sending.set(response);
    }).listen(0, "127.0.0.1"));
    try {
      String id = server.post("/api/v1/data/items/file", new JsonObject()).json().getString("id");
      assertThat(server.get("/api/v1/data/items/file/" + id).json().getJsonArray("progress")).isEmpty();
      var trigger = server.post("/api/v1/data/items/file/" + id,
          new JsonObject().put("sourceUrl", "http://127.0.0.1:" + source.actualPort() + "/rows.ndjson"));
      assertThat(trigger.status()).as(trigger.toString()).isEqualTo(200);

      JsonObject running = await().atMost(Duration.ofSeconds(30))
          .until(() -> server.get("/api/v1/data/items/file/" + id).json(),
              status -> status.getJsonArray("progress").size() >= 2 && lastRows(status) == 1000);
      assertThat(running.getJsonObject("status").getString("phase")).isEqualTo("Running");
      JsonArray early = running.getJsonArray("progress");
      assertThat(early.getJsonObject(0)).as("the run's start")
          .isEqualTo(new JsonObject().put("at", Instant.parse(running.getJsonObject("status").getString("startedAt"))
              .toEpochMilli()).put("rows", 0));
      assertIncreasing(early);

      sending.get().write(Buffer.buffer(BenchRows.ndjson(32, 1000, Map.of())));
      JsonObject later = await().atMost(Duration.ofSeconds(30))
          .until(() -> server.get("/api/v1/data/items/file/" + id).json(),
              status -> lastRows(status) == 2000 && status.getJsonArray("progress").size() > early.size());
      assertThat(later.getJsonObject("status").getBoolean("finished")).isFalse();
      assertThat(later.getJsonArray("progress").getList().subList(0, early.size() - 1))
          .as("earlier points stay").isEqualTo(early.getList().subList(0, early.size() - 1));
      assertIncreasing(later.getJsonArray("progress"));

      sending.get().end();
      JsonObject finished = awaitFinished("items", id);
      assertThat(finished.getJsonObject("status").getString("phase")).isEqualTo("Finished");
      JsonArray progress = finished.getJsonArray("progress");
      assertIncreasing(progress);
      assertThat(progress.size()).isGreaterThanOrEqualTo(later.getJsonArray("progress").size());
      assertThat(progress.getJsonObject(progress.size() - 1)).as("the run's end")
          .isEqualTo(new JsonObject().put("at", Instant.parse(finished.getJsonObject("status").getString("finishedAt"))
              .toEpochMilli()).put("rows", 2000));

      server.restart();
      assertThat(server.get("/api/v1/data/items/file/" + id).json().getJsonArray("progress")).isEqualTo(progress);
    } finally {
      TestServer.await(source.close());
    }
  }

  private static long lastRows(JsonObject status) {
    JsonArray progress = status.getJsonArray("progress");
    return progress.isEmpty() ? -1 : progress.getJsonObject(progress.size() - 1).getLong("rows");
  }

  private static void assertIncreasing(JsonArray progress) {
    for (int i = 1; i < progress.size(); i++) {
      JsonObject before = progress.getJsonObject(i - 1);
      JsonObject point = progress.getJsonObject(i);
      assertThat(point.getLong("at")).as(progress.encode()).isGreaterThan(before.getLong("at"));
      assertThat(point.getLong("rows")).as(progress.encode()).isGreaterThanOrEqualTo(before.getLong("rows"));
    }
  }

  @Test
  void streamEndpointPlainAndGzip() {
    var plain = server.send(HttpMethod.POST, "/api/v1/data/items/stream",
        Buffer.buffer(BenchRows.ndjson(21, 1500, Map.of(3, "{\"id\": 1.5}"))), TestServer.RW_KEY);
    assertThat(plain.status()).as(plain.toString()).isEqualTo(200);
    assertThat(plain.json().getLong("total")).isEqualTo(1499);
    assertThat(plain.json().getLong("failedCount")).isEqualTo(1);
    assertThat(plain.json().getJsonObject("errors").getJsonArray("rows").getJsonObject(0).getLong("line"))
        .isEqualTo(4);

    var gz = server.send(HttpMethod.POST, "/api/v1/data/items/stream",
        Buffer.buffer(BenchRows.gzip(BenchRows.ndjson(22, 700, Map.of()))), TestServer.RW_KEY);
    assertThat(gz.status()).as(gz.toString()).isEqualTo(200);
    assertThat(gz.json().getLong("total")).isEqualTo(700);
    assertThat(count("items")).isEqualTo(2199);

    var readOnly = server.send(HttpMethod.POST, "/api/v1/data/items/stream", Buffer.buffer("{}"), TestServer.RO_KEY);
    assertThat(readOnly.status()).isEqualTo(403);
    var unknown = server.send(HttpMethod.POST, "/api/v1/data/nope/stream", Buffer.buffer("{}"), TestServer.RW_KEY);
    assertThat(unknown.status()).isEqualTo(404);
  }

  @Test
  void clientDisconnectingMidStreamLeavesOnlyWholeBatches() throws Exception {
    byte[] lines = BenchRows.ndjson(31, 1250, Map.of());
    // The server logs the interrupted stream once its sink is done, i.e. after every batch it would store
    // has landed: the deterministic point to count (a wrongly flushed partial batch would be there by then).
    CountDownLatch interrupted = new CountDownLatch(1);
    Logger routes = (Logger) LoggerFactory.getLogger("io.sluice.api.ImportRoutes");
    AppenderBase<ILoggingEvent> watcher = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent event) {
        if (event.getFormattedMessage().startsWith("stream into table 'items' interrupted")) {
          interrupted.countDown();
        }
      }
    };
    watcher.start();
    routes.addAppender(watcher);
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
      var out = socket.getOutputStream();
      out.write(("POST /api/v1/data/items/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + TestServer.RW_KEY
          + "\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write((Integer.toHexString(lines.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(lines);
      out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // Wait until the two whole batches (500 rows each) are stored, then hang up mid-body.
      long deadline = System.currentTimeMillis() + 30_000;
      while (count("items") < 1000 && System.currentTimeMillis() < deadline) {
        Thread.sleep(20);
      }
    }
    try {
      assertThat(interrupted.await(60, TimeUnit.SECONDS)).as("the server ended the interrupted stream").isTrue();
    } finally {
      routes.detachAppender(watcher);
    }
    assertThat(count("items")).as("only whole batches of 500 rows, never the unfinished rest").isEqualTo(1000);
  }

  @Test
  void importsAreListedNewestFirstWithTheirStatus() {
    assertThat(server.get("/api/v1/data/_imports").json()).isEqualTo(new JsonObject().put("imports", new JsonArray())
        .put("dropped", 0).put("maxHistory", 1000));

    byte[] first = BenchRows.gzip(BenchRows.ndjson(41, 1200, Map.of(7, "{\"id\": true}")));
    String firstId = startImport("items", first);
    awaitFinished("items", firstId);
    assertThat(server.put("/api/v1/schema/other", BenchRows.SCHEMA).status()).isEqualTo(200);
    String secondId = startImport("other", BenchRows.ndjson(42, 300, Map.of()));
    awaitFinished("other", secondId);
    String initiatedId = server.post("/api/v1/data/items/file", new JsonObject()).json().getString("id");

    var response = server.send(HttpMethod.GET, "/api/v1/data/_imports", null, TestServer.RO_KEY);
    assertThat(response.status()).as(response.toString()).isEqualTo(200);
    assertThat(response.header("content-type")).startsWith("application/json");
    JsonArray imports = response.json().getJsonArray("imports");
    assertThat(imports.stream().map(entry -> ((JsonObject) entry).getString("id")))
        .containsExactly(initiatedId, secondId, firstId);

    JsonObject firstEntry = imports.getJsonObject(2);
    assertThat(firstEntry.getString("table")).isEqualTo("items");
    JsonObject firstStatus = server.get("/api/v1/data/items/file/" + firstId).json();
    assertThat(firstEntry.getJsonObject("status")).isEqualTo(firstStatus.getJsonObject("status"));
    assertThat(firstEntry.getJsonObject("errors")).isEqualTo(firstStatus.getJsonObject("errors"));
    assertThat(firstEntry.getJsonObject("status").getString("phase")).isEqualTo("Finished");
    assertThat(firstEntry.getJsonObject("status").getLong("completedCount")).isEqualTo(1199);
    assertThat(firstEntry.getJsonObject("errors").getJsonArray("rows").getJsonObject(0).getLong("line")).isEqualTo(8);
    assertThat(firstEntry.getLong("bytes")).isEqualTo(first.length);
    assertThat(firstEntry.getLong("bytesRead")).isEqualTo(first.length);
    assertThat(firstEntry.getString("createdAt")).isNotBlank();

    assertThat(imports.getJsonObject(1).getString("table")).isEqualTo("other");
    assertThat(imports.getJsonObject(1).getJsonObject("status").getLong("completedCount")).isEqualTo(300);
    JsonObject initiated = imports.getJsonObject(0);
    assertThat(initiated.getJsonObject("status").getString("phase")).isEqualTo("Initiated");
    assertThat(initiated.getJsonObject("status").getBoolean("finished")).isFalse();
    assertThat(initiated.getJsonObject("errors").getString("message")).isEqualTo("Last 0 failing rows");

    var limited = server.get("/api/v1/data/_imports?limit=1").json().getJsonArray("imports");
    assertThat(limited.size()).isEqualTo(1);
    assertThat(limited.getJsonObject(0).getString("id")).isEqualTo(initiatedId);
    for (String bad : new String[] {"0", "-1", "x", "1001"}) {
      var refused = server.get("/api/v1/data/_imports?limit=" + bad);
      assertThat(refused.status()).as(refused.toString()).isEqualTo(400);
      assertThat(refused.json().getString("message")).contains("limit");
    }
    assertThat(server.send(HttpMethod.GET, "/api/v1/data/_imports", null, null).status()).isEqualTo(403);
    assertThat(server.send(HttpMethod.GET, "/api/v1/data/_imports", null, "wrong").status()).isEqualTo(403);

    // "_imports" stays a valid table name for the row endpoints (only GET of the exact path is the list).
    assertThat(server.put("/api/v1/schema/_imports", BenchRows.SCHEMA).status()).isEqualTo(200);
    var row = server.post("/api/v1/data/_imports", new JsonObject(BenchRows.row(new java.util.Random(1), 5)));
    assertThat(row.status()).as(row.toString()).isEqualTo(200);
    assertThat(count("_imports")).isEqualTo(1);

    // The list is rebuilt from the persisted jobs after a restart, in the same order.
    server.restart();
    var afterRestart = server.get("/api/v1/data/_imports").json().getJsonArray("imports");
    assertThat(afterRestart.stream().map(entry -> ((JsonObject) entry).getString("id")))
        .containsExactly(initiatedId, secondId, firstId);
    assertThat(afterRestart.getJsonObject(2).getJsonObject("status")).isEqualTo(firstStatus.getJsonObject("status"));
  }

  // ---------------------------------------------------------------- helpers

  private HttpResponse<Buffer> upload(String url, byte[] body) {
    return TestServer.await(server.client().requestAbs(HttpMethod.PUT, url).sendBuffer(Buffer.buffer(body)));
  }

  private JsonObject importFile(String table, byte[] body) {
    return awaitFinished(table, startImport(table, body));
  }

  /** Initiates, uploads and triggers an import; returns its id. */
  private String startImport(String table, byte[] body) {
    JsonObject initiated = server.post("/api/v1/data/" + table + "/file", new JsonObject()).json();
    assertThat(upload(initiated.getString("url"), body).statusCode()).isEqualTo(200);
    String id = initiated.getString("id");
    assertThat(server.post("/api/v1/data/" + table + "/file/" + id, new JsonObject()).status()).isEqualTo(200);
    return id;
  }

  JsonObject awaitFinished(String table, String id) {
    long deadline = System.currentTimeMillis() + 120_000;
    while (System.currentTimeMillis() < deadline) {
      var response = server.get("/api/v1/data/" + table + "/file/" + id);
      assertThat(response.status()).as(response.toString()).isEqualTo(200);
      JsonObject status = response.json();
      assertThat(status.getJsonObject("errors").getString("message")).isNotNull();
      if (status.getJsonObject("status").getBoolean("finished")) {
        return status;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("import " + id + " did not finish");
  }

  private long count(String table) {
    return server.post("/api/v1/_search", new JsonObject().put("from", table).put("limit", 0)).json()
        .getLong("total");
  }
}
