package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.BenchRows;
import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code DELETE /api/v1/data/{table}/file/{id}}: an import cancelled before it runs imports nothing; one cancelled
 * while it runs keeps exactly the rows it had committed; the end is persisted before the answer.
 */
class ImportCancelTest extends ServerTest {
  private HttpServer source;
  /** Connections of the pull source that are open now (the server under test is its only client). */
  private final AtomicInteger sourceConnections = new AtomicInteger();

  @Override
  protected Map<String, Object> serverConfig() {
    return Map.of("import.batch.rows", 500, "import.max.jobs", 1);
  }

  /** A pull source that sends 1,200 NDJSON rows and then holds the response open, so the import stays Running. */
  @BeforeEach
  void setUp(Vertx vertx) {
    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
    byte[] head = BenchRows.ndjson(3, 1200, Map.of());
    source = TestServer.await(vertx.createHttpServer()
        .connectionHandler(connection -> {
          sourceConnections.incrementAndGet();
          connection.closeHandler(v -> sourceConnections.decrementAndGet());
        })
        .requestHandler(request -> request.response().setChunked(true).write(Buffer.buffer(head)))
        .listen(0, "127.0.0.1"));
  }

  @Test
  void cancellingARunningImportKeepsTheCommittedRowsAndReleasesTheSource() {
    String id = pull();
    await(() -> status(id).getLong("completedCount") >= 1000, "the first two batches committed");

    Response cancel = cancel(id);
    assertThat(cancel.status()).as(cancel.toString()).isEqualTo(200);
    JsonObject status = cancel.json().getJsonObject("status");
    assertThat(status.getString("phase")).isEqualTo("Cancelled");
    assertThat(status.getBoolean("finished")).isTrue();
    assertThat(cancel.json().getJsonObject("errors").getString("message"))
        .startsWith("import cancelled; the 1000 rows committed before stay stored");
    assertThat(status.getLong("completedCount")).isEqualTo(1000);
    assertThat(count()).isEqualTo(1000);
    await(() -> sourceConnections.get() == 0, "the pulled response released");

    Response again = cancel(id);
    assertThat(again.status()).as(again.toString()).isEqualTo(409);
    assertThat(again.json().getString("message")).contains("already ended Cancelled");

    server.restart();
    assertThat(status(id).getString("phase")).as("the end was persisted").isEqualTo("Cancelled");
    assertThat(count()).isEqualTo(1000);
  }

  @Test
  void cancellingBeforeTheImportRunsImportsNothing() {
    String running = pull(); // holds the only import slot (import.max.jobs 1)
    await(() -> status(running).getString("phase").equals("Running"), "the first import running");

    JsonObject queued = initiate();
    String queuedId = queued.getString("id");
    assertThat(server.upload(queued.getString("url"), Buffer.buffer(BenchRows.ndjson(4, 300, Map.of()))).status())
        .isEqualTo(200);
    assertThat(server.post("/api/v1/data/items/file/" + queuedId, new JsonObject()).status()).isEqualTo(200);
    assertThat(status(queuedId).getString("phase")).isEqualTo("Started");
    Response cancelQueued = cancel(queuedId);
    assertThat(cancelQueued.status()).as(cancelQueued.toString()).isEqualTo(200);
    assertThat(cancelQueued.json().getJsonObject("status").getString("phase")).isEqualTo("Cancelled");
    assertThat(cancelQueued.json().getJsonObject("errors").getString("message"))
        .startsWith("import cancelled before it ran; nothing was imported");
    assertThat(Files.exists(ImportVerticle.uploadFile(server.dataDir(), queuedId))).as("its file deleted").isFalse();

    JsonObject uploaded = initiate();
    assertThat(server.upload(uploaded.getString("url"), Buffer.buffer(BenchRows.ndjson(5, 10, Map.of()))).status())
        .isEqualTo(200);
    assertThat(cancel(uploaded.getString("id")).status()).isEqualTo(200);

    JsonObject initiated = initiate();
    assertThat(cancel(initiated.getString("id")).status()).isEqualTo(200);
    Response lateUpload = server.upload(initiated.getString("url"), Buffer.buffer(BenchRows.ndjson(6, 10, Map.of())));
    assertThat(lateUpload.status()).as("a cancelled import's upload URL is spent").isEqualTo(403);

    assertThat(cancel(running).status()).isEqualTo(200);
    assertThat(count()).isEqualTo(status(running).getLong("completedCount"));
    for (JsonObject job : new JsonObject[] {queued, uploaded, initiated}) {
      assertThat(status(job.getString("id")).getLong("completedCount")).isZero();
    }
  }

  @Test
  void cancellingAFinishedImportIsAConflict() {
    JsonObject initiated = initiate();
    String id = initiated.getString("id");
    assertThat(server.upload(initiated.getString("url"), Buffer.buffer(BenchRows.gzip(BenchRows.ndjson(5, 300,
        Map.of())))).status()).isEqualTo(200);
    assertThat(server.post("/api/v1/data/items/file/" + id, new JsonObject()).status()).isEqualTo(200);
    assertThat(server.awaitImport("items", id).getJsonObject("status").getString("phase")).isEqualTo("Finished");
    Response late = cancel(id);
    assertThat(late.status()).as(late.toString()).isEqualTo(409);
    assertThat(late.json().getString("message")).contains("already ended Finished");
    assertThat(status(id).getString("phase")).isEqualTo("Finished");
    assertThat(count()).isEqualTo(300);
  }

  @Test
  void unknownJobsAndReadOnlyKeysAreRefused() {
    String id = initiate().getString("id");
    assertThat(cancel("no-such-job").status()).isEqualTo(404);
    assertThat(server.send(HttpMethod.DELETE, "/api/v1/data/other/file/" + id, null, TestServer.RW_KEY).status())
        .as("the job belongs to another table").isEqualTo(404);
    Response readOnly = server.send(HttpMethod.DELETE, "/api/v1/data/items/file/" + id, null, TestServer.RO_KEY);
    assertThat(readOnly.status()).isEqualTo(403);
    assertThat(status(id).getString("phase")).isEqualTo("Initiated");
  }

  private String pull() {
    String id = initiate().getString("id");
    Response trigger = server.post("/api/v1/data/items/file/" + id,
        new JsonObject().put("sourceUrl", "http://127.0.0.1:" + source.actualPort() + "/rows.ndjson"));
    assertThat(trigger.status()).as(trigger.toString()).isEqualTo(200);
    return id;
  }

  private JsonObject initiate() {
    return server.post("/api/v1/data/items/file", new JsonObject()).json();
  }

  private Response cancel(String id) {
    return server.delete("/api/v1/data/items/file/" + id);
  }

  private JsonObject status(String id) {
    return server.get("/api/v1/data/items/file/" + id).json().getJsonObject("status");
  }

  private long count() {
    return server.search(new JsonObject().put("from", "items").put("limit", 0)).total();
  }

  /** Polls the server until {@code condition} holds, for up to 30 s. */
  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.currentTimeMillis() + 30_000;
    while (!condition.getAsBoolean()) {
      assertThat(System.currentTimeMillis()).as("waiting for " + what).isLessThan(deadline);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
  }
}
