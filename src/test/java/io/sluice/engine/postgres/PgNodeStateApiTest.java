package io.sluice.engine.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.BenchRows;
import io.sluice.TestPostgres;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * On PostgreSQL, a node's state is in the database, not in its data directory: a server restarted on a fresh,
 * empty data directory still knows its import jobs, generated API keys, upload secret and /api/v1/jobs results,
 * and two servers starting at once on one database agree on one generated key pair.
 */
@ExtendWith(VertxExtension.class)
class PgNodeStateApiTest {
  private static final Pattern RW_KEY = Pattern.compile("read-write API key: (\\S+)");
  private static final Pattern RO_KEY = Pattern.compile("read-only API key: +(\\S+)");

  @TempDir
  Path first;
  @TempDir
  Path second;
  private TestServer a;
  private TestServer b;
  /** A second server's own Vert.x: servers in one Vert.x would share each other's event-bus addresses. */
  private Vertx otherVertx;

  @AfterEach
  void stop() {
    if (a != null) {
      a.stop();
    }
    if (b != null) {
      b.stop();
    }
    if (otherVertx != null) {
      TestServer.await(otherVertx.close());
    }
  }

  /** A server on the database of {@code database} with no keys and no upload secret configured. */
  private static TestServer server(Vertx vertx, Path dataDir, String database) {
    Map<String, Object> settings = new HashMap<>(TestPostgres.storeSettings(database));
    settings.put("api.key.rw", " "); // blank is unset: generated, or the stored hash
    settings.put("api.key.ro", " ");
    return new TestServer(vertx, dataDir, settings);
  }

  /** What starting servers print to standard output (the generated keys), captured. */
  private static String printedBy(Runnable start) {
    PrintStream out = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(new OutputStream() {
      @Override
      public synchronized void write(int b) {
        captured.write(b);
        out.write(b);
      }

      @Override
      public synchronized void write(byte[] bytes, int off, int len) {
        captured.write(bytes, off, len);
        out.write(bytes, off, len);
      }
    }, true));
    try {
      start.run();
    } finally {
      System.setOut(out);
    }
    return captured.toString(StandardCharsets.UTF_8);
  }

  private static String key(Pattern pattern, String printed) {
    Matcher m = pattern.matcher(printed);
    assertThat(m.find()).as("a generated key in: " + printed).isTrue();
    return m.group(1);
  }

  private static Response send(TestServer server, HttpMethod method, String path, Object body, String key) {
    return server.send(method, path, body, key);
  }

  private static JsonObject awaitImport(TestServer server, String key, String table, String id) {
    JsonObject[] last = new JsonObject[1];
    Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50)).until(() -> {
      last[0] = send(server, HttpMethod.GET, "/api/v1/data/" + table + "/file/" + id, null, key).json();
      return last[0].getJsonObject("status").getBoolean("finished");
    });
    return last[0];
  }

  private static JsonObject awaitJob(TestServer server, String key, String id) {
    Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
        .until(() -> send(server, HttpMethod.GET, "/api/v1/jobs/" + id, null, key).json().containsKey("finishedAt"));
    Response result = send(server, HttpMethod.GET, "/api/v1/jobs/" + id + "/result", null, key);
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
    return result.json();
  }

  @Test
  void aServerRestartedOnAFreshDataDirKeepsItsJobsKeysSecretAndJobResults(Vertx vertx) {
    String database = "fresh-data-dir-" + UUID.randomUUID();
    a = server(vertx, first, database);
    String printed = printedBy(a::start);
    String rw = key(RW_KEY, printed);
    String ro = key(RO_KEY, printed);
    assertThat(send(a, HttpMethod.PUT, "/api/v1/schema/items", BenchRows.SCHEMA, rw).status()).isEqualTo(200);

    // a finished import, with a rejected line
    JsonObject done = send(a, HttpMethod.POST, "/api/v1/data/items/file", new JsonObject(), rw).json();
    String doneId = done.getString("id");
    byte[] file = BenchRows.gzip(BenchRows.ndjson(3, 1000, Map.of(5, "not json")));
    assertThat(a.upload(done.getString("url"), Buffer.buffer(file)).status()).isEqualTo(200);
    assertThat(send(a, HttpMethod.POST, "/api/v1/data/items/file/" + doneId, new JsonObject(), rw).status())
        .isEqualTo(200);
    JsonObject finished = awaitImport(a, rw, "items", doneId);
    assertThat(finished.getJsonObject("status").getLong("completedCount")).isEqualTo(999);
    // an upload URL handed out before the restart, used after it
    JsonObject pending = send(a, HttpMethod.POST, "/api/v1/data/items/file", new JsonObject(), rw).json();
    // a search run as a job
    JsonObject query = new JsonObject().put("from", "items").put("limit", 3);
    Response started = send(a, HttpMethod.POST, "/api/v1/jobs/_search", query, rw);
    assertThat(started.status()).as(started.toString()).isEqualTo(201);
    String jobId = started.json().getString("id");
    JsonObject jobResult = awaitJob(a, rw, jobId);
    String oldAddress = "127.0.0.1:" + a.port() + "/";
    a.stop();
    a = null;

    b = server(vertx, second, database); // same database, empty data directory
    assertThat(printedBy(b::start)).doesNotContain("API key");

    assertThat(send(b, HttpMethod.GET, "/api/v1/schema", null, rw).status()).isEqualTo(200);
    assertThat(send(b, HttpMethod.GET, "/api/v1/schema", null, ro).status()).isEqualTo(200);
    assertThat(send(b, HttpMethod.PUT, "/api/v1/schema/x", BenchRows.SCHEMA, ro).status()).isEqualTo(403);
    assertThat(send(b, HttpMethod.GET, "/api/v1/schema", null, "some-other-key").status()).isEqualTo(403);

    JsonObject status = send(b, HttpMethod.GET, "/api/v1/data/items/file/" + doneId, null, rw).json();
    assertThat(status.getJsonObject("status").getString("phase")).isEqualTo("Finished");
    assertThat(status.getJsonObject("status").getLong("completedCount")).isEqualTo(999);
    assertThat(status.getJsonObject("status").getLong("failedCount")).isEqualTo(1);
    JsonArray listed = send(b, HttpMethod.GET, "/api/v1/data/_imports", null, rw).json().getJsonArray("imports");
    assertThat(listed.stream().map(job -> ((JsonObject) job).getString("id")))
        .containsExactlyInAnyOrder(doneId, pending.getString("id"));

    String url = pending.getString("url").replace(oldAddress, "127.0.0.1:" + b.port() + "/");
    Response upload = b.upload(url, Buffer.buffer(BenchRows.gzip(BenchRows.ndjson(4, 10,
        Map.of()))));
    assertThat(upload.status()).as(upload.toString()).isEqualTo(200);
    assertThat(send(b, HttpMethod.POST, "/api/v1/data/items/file/" + pending.getString("id"), new JsonObject(), rw)
        .status()).isEqualTo(200);
    assertThat(awaitImport(b, rw, "items", pending.getString("id")).getJsonObject("status")
        .getLong("completedCount")).isEqualTo(10);

    assertThat(awaitJob(b, rw, jobId)).isEqualTo(jobResult);
  }

  @Test
  void twoServersStartingAtOnceAgreeOnOneKeyPair(Vertx vertx) {
    String database = "two-at-once-" + UUID.randomUUID();
    otherVertx = Vertx.vertx();
    a = server(vertx, first, database);
    b = server(otherVertx, second, database);
    String printed = printedBy(() -> {
      CompletableFuture<?> one = CompletableFuture.runAsync(a::start);
      CompletableFuture<?> two = CompletableFuture.runAsync(b::start);
      CompletableFuture.allOf(one, two).join();
    });
    assertThat(Pattern.compile("read-write API key").matcher(printed).results().count()).as(printed).isEqualTo(1);
    assertThat(Pattern.compile("read-only API key").matcher(printed).results().count()).as(printed).isEqualTo(1);
    String rw = key(RW_KEY, printed);
    String ro = key(RO_KEY, printed);
    for (TestServer server : new TestServer[] {a, b}) {
      assertThat(send(server, HttpMethod.GET, "/api/v1/schema", null, rw).status()).isEqualTo(200);
      assertThat(send(server, HttpMethod.GET, "/api/v1/schema", null, ro).status()).isEqualTo(200);
    }

    // an import created on one is seen by the other
    assertThat(send(a, HttpMethod.PUT, "/api/v1/schema/items", BenchRows.SCHEMA, rw).status()).isEqualTo(200);
    String id = send(a, HttpMethod.POST, "/api/v1/data/items/file", new JsonObject(), rw).json().getString("id");
    Response seen = send(b, HttpMethod.GET, "/api/v1/data/items/file/" + id, null, rw);
    assertThat(seen.status()).as(seen.toString()).isEqualTo(200);
    assertThat(seen.json().getJsonObject("status").getString("phase")).isEqualTo("Initiated");
    // so is a job's result
    Response started = send(a, HttpMethod.POST, "/api/v1/jobs/_search", new JsonObject().put("from", "items"), rw);
    String jobId = started.json().getString("id");
    JsonObject result = awaitJob(a, rw, jobId);
    assertThat(awaitJob(b, rw, jobId)).isEqualTo(result);
  }
}
