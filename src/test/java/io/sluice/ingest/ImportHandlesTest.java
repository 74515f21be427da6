package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sluice.BenchRows;
import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every way an import ends must release its input. The server runs in this JVM, so its open files
 * are this process's: read from {@code /proc/self/fd} (Linux only; skipped elsewhere).
 */
class ImportHandlesTest extends ServerTest {
  private static final Path FD_DIR = Path.of("/proc/self/fd");
  private static final int ROUNDS = 4;

  private Vertx vertx;
  private HttpServer source;
  /** Connections of the pull source that are open now (the server under test is its only client). */
  private final AtomicInteger sourceConnections = new AtomicInteger();

  private final byte[] good = BenchRows.gzip(BenchRows.ndjson(3, 1200, Map.of()));
  private final byte[] truncated = Arrays.copyOf(BenchRows.gzip(BenchRows.ndjson(4, 5000, Map.of())), 20_000);
  /** Not gzip, and far longer than socket buffers, so a reader that stops early leaves most of it unread. */
  private final byte[] notGzip = notGzip(8 << 20);

  @Override
  protected Map<String, Object> serverConfig() {
    return Map.of("import.batch.rows", 500);
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    assumeTrue(Files.isDirectory(FD_DIR), "needs /proc/self/fd (Linux)");
    this.vertx = vertx;
    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
    // "Connection: close" so that a reader which reads a body to its end leaves no pooled connection open.
    source = TestServer.await(vertx.createHttpServer()
        .connectionHandler(connection -> {
          sourceConnections.incrementAndGet();
          connection.closeHandler(v -> sourceConnections.decrementAndGet());
        })
        .requestHandler(request -> {
          byte[] body = request.path().endsWith("/good") ? good
              : request.path().endsWith("/truncated") ? truncated : notGzip;
          request.response().putHeader("connection", "close").end(Buffer.buffer(body));
        })
        .listen(0, "127.0.0.1"));
  }

  @Test
  void everyKindOfImportReleasesItsInput() throws IOException {
    String root = dataDir.toRealPath().toString();
    AtomicInteger streamConnections = new AtomicInteger();
    HttpClient streamClient = vertx.httpClientBuilder()
        .with(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(server.port()))
        .withConnectHandler(connection -> {
          streamConnections.incrementAndGet();
          connection.closeHandler(v -> streamConnections.decrementAndGet());
        })
        .build();
    try {
      round(streamClient); // loads every class and pools the clients' connections before the baseline
      awaitAtMost(() -> sourceConnections.get(), 0, "connections to the pull source");
      awaitAtMost(() -> streamConnections.get(), 0, "connections of failed streams");
      int baseline = countOutsideIndexes(root);

      for (int i = 0; i < ROUNDS; i++) {
        round(streamClient);
      }

      awaitAtMost(() -> count(openFiles(), t -> t.startsWith(root) && t.endsWith(" (deleted)")), 0,
          "handles on deleted files under " + root);
      awaitAtMost(() -> count(openFiles(), t -> t.startsWith(root + "/uploads/")), 0,
          "handles on files under " + root + "/uploads");
      awaitAtMost(() -> sourceConnections.get(), 0, "connections to the pull source");
      awaitAtMost(() -> streamConnections.get(), 0, "connections of failed streams");
      awaitAtMost(() -> countOutsideIndexes(root), baseline, "open files (all but Lucene's index files)");
    } finally {
      TestServer.await(streamClient.close());
      TestServer.await(source.close());
    }
  }

  @Test
  void stoppingTheServerMidImportReleasesTheFileAndTheJobResumes() throws IOException {
    String root = dataDir.toRealPath().toString();
    int rows = 100_000;
    String id = startFileImport(BenchRows.gzip(BenchRows.ndjson(9, rows, Map.of())));
    // Running with its file open (bytes read), well before the end.
    long deadline = System.currentTimeMillis() + 60_000;
    JsonObject entry = listed(id);
    while (!(running(entry) && entry.getLong("bytesRead") > 0) && System.currentTimeMillis() < deadline) {
      pause();
      entry = listed(id);
    }
    assertThat(running(entry)).as("caught running: " + entry.encode()).isTrue();

    server.stop();
    awaitAtMost(() -> count(openFiles(), t -> t.startsWith(root + "/")), 0,
        "open files under the stopped server's data dir");

    server.start();
    JsonObject resumed = server.awaitImport("items", id);
    assertThat(resumed.getJsonObject("status").getString("phase")).as(resumed.encode()).isEqualTo("Finished");
    assertThat(resumed.getJsonObject("status").getLong("completedCount")).isEqualTo(rows);
  }

  // ---------------------------------------------------------------- one round of every kind

  private void round(HttpClient streamClient) {
    assertFinished(server.awaitImport("items", startFileImport(good)), "Finished");
    assertFinished(server.awaitImport("items", startFileImport(notGzip)), "FinishedInError");
    assertFinished(server.awaitImport("items", startFileImport(truncated)), "FinishedInError");

    for (String path : List.of("/good", "/notgzip", "/truncated")) {
      String id = server.post("/api/v1/data/items/file", new JsonObject()).json().getString("id");
      var trigger = server.post("/api/v1/data/items/file/" + id,
          new JsonObject().put("sourceUrl", "http://127.0.0.1:" + source.actualPort() + path));
      assertThat(trigger.status()).as(trigger.toString()).isEqualTo(200);
      assertFinished(server.awaitImport("items", id), path.equals("/good") ? "Finished" : "FinishedInError");
    }

    var ok = server.send(HttpMethod.POST, "/api/v1/data/items/stream", Buffer.buffer(good), TestServer.RW_KEY);
    assertThat(ok.status()).as(ok.toString()).isEqualTo(200);
    var cut = server.send(HttpMethod.POST, "/api/v1/data/items/stream", Buffer.buffer(truncated),
        TestServer.RW_KEY);
    assertThat(cut.status()).as(cut.toString()).isEqualTo(400);
    // A body refused early: the server answers 400 (or the client sees the connection go while still sending);
    // either way the connection must not stay open half-read.
    Future<Integer> refused = streamClient.request(new RequestOptions().setMethod(HttpMethod.POST)
            .setURI("/api/v1/data/items/stream").putHeader("x-api-key", TestServer.RW_KEY))
        .compose(request -> request.send(Buffer.buffer(notGzip)))
        .compose(response -> response.body().map(body -> response.statusCode()));
    Integer status = TestServer.await(refused.recover(failure -> Future.succeededFuture(-1)));
    assertThat(status).isIn(400, -1);
  }

  private JsonObject listed(String id) {
    return server.get("/api/v1/data/_imports").json().getJsonArray("imports").stream()
        .map(JsonObject.class::cast).filter(job -> job.getString("id").equals(id)).findFirst().orElseThrow();
  }

  private static boolean running(JsonObject entry) {
    return "Running".equals(entry.getJsonObject("status").getString("phase"));
  }

  private String startFileImport(byte[] body) {
    JsonObject initiated = server.post("/api/v1/data/items/file", new JsonObject()).json();
    assertThat(server.upload(initiated.getString("url"), Buffer.buffer(body)).status()).isEqualTo(200);
    String id = initiated.getString("id");
    assertThat(server.post("/api/v1/data/items/file/" + id, new JsonObject()).status()).isEqualTo(200);
    return id;
  }

  private static void assertFinished(JsonObject status, String phase) {
    assertThat(status.getJsonObject("status").getString("phase")).as(status.encode()).isEqualTo(phase);
  }

  // ---------------------------------------------------------------- open files

  /** Link targets of this process's open file descriptors, e.g. "/tmp/x/uploads/a.upload (deleted)". */
  private static List<String> openFiles() {
    List<String> targets = new ArrayList<>();
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(FD_DIR)) {
      for (Path fd : fds) {
        try {
          targets.add(Files.readSymbolicLink(fd).toString());
        } catch (IOException e) {
          // closed while listing
        }
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return targets;
  }

  /**
   * Every descriptor except Lucene's files under {@code tables/}, whose number follows segments and merges, and
   * sockets: the test JVM's other clients (earlier tests' PostgreSQL pools among them) open and close theirs at
   * their own pace (CI once saw two more at the end), and the import's own connections are counted above, by
   * their close handlers. Files, pipes and the JVM's own descriptors count: the count must come back.
   */
  private static int countOutsideIndexes(String root) {
    return count(openFiles(), t -> !t.startsWith(root + "/tables/") && !t.startsWith("socket:"));
  }

  private static int count(List<String> targets, java.util.function.Predicate<String> filter) {
    return (int) targets.stream().filter(filter).count();
  }

  /** Closing is asynchronous: polls until {@code value} is at most {@code limit}, for up to 20 s. */
  private static void awaitAtMost(Supplier<Integer> value, int limit, String what) {
    long deadline = System.currentTimeMillis() + 20_000;
    int now = value.get();
    while (now > limit && System.currentTimeMillis() < deadline) {
      pause();
      now = value.get();
    }
    List<String> shown = openFiles().stream().filter(t -> !t.endsWith(".jar")).toList();
    assertThat(now).as(what + (now > limit ? ": " + shown : "")).isLessThanOrEqualTo(limit);
  }

  private static void pause() {
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
  }

  private static byte[] notGzip(int length) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) 'z');
    byte[] head = "PK\u0003\u0004 this is a zip".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(head, 0, bytes, 0, head.length);
    return bytes;
  }
}
