package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.BenchRows;
import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A schema change during an import never leaves a status that lies. A pull import reads from a
 * source this test holds after its first 2,000 rows (deterministically mid-import, all of them committed), the
 * schema changes, then the source sends 2,000 more: a dropped or replaced table ends the import FinishedInError
 * saying so, counting nothing that is not stored; a rename carries it along; a dropped column moves its rows.
 */
class ImportSchemaChangeTest extends ServerTest {
  private static final int HALF = 2000;
  private Vertx vertx;
  private HttpServer source;
  private Promise<Void> release;

  @Override
  protected Map<String, Object> serverConfig() {
    return Map.of("import.batch.rows", 500, "import.commit.interval.ms", 50);
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
    release = Promise.promise();
    byte[] first = BenchRows.ndjson(1, HALF, Map.of());
    byte[] rest = BenchRows.ndjson(2, HALF, Map.of());
    source = TestServer.await(vertx.createHttpServer().requestHandler(request -> {
      Context context = vertx.getOrCreateContext();
      request.response().setChunked(true).write(Buffer.buffer(first));
      release.future().onComplete(v -> context.runOnContext(x -> request.response().end(Buffer.buffer(rest))));
    }).listen(0, "127.0.0.1"));
  }

  @AfterEach
  void closeSource() {
    release.tryComplete();
    TestServer.await(source.close());
  }

  /** Starts a pull import, waits until its first half is committed, runs {@code change}, releases the rest. */
  private JsonObject importAround(Runnable change) {
    String id = server.post("/api/v1/data/items/file", new JsonObject()).json().getString("id");
    assertThat(server.post("/api/v1/data/items/file/" + id, new JsonObject()
        .put("sourceUrl", "http://127.0.0.1:" + source.actualPort() + "/rows.ndjson")).status()).isEqualTo(200);
    poll(() -> status(id), s -> s.getJsonObject("status").getLong("completedCount") == HALF);
    change.run();
    release.complete();
    return poll(() -> status(id), s -> s.getJsonObject("status").getBoolean("finished"));
  }

  /** The job's status, wherever it is listed (a rename moves it). */
  private JsonObject status(String id) {
    for (Object entry : server.get("/api/v1/data/_imports").json().getJsonArray("imports")) {
      JsonObject job = (JsonObject) entry;
      if (job.getString("id").equals(id)) {
        return job;
      }
    }
    throw new AssertionError("import " + id + " is not listed");
  }

  private JsonObject poll(java.util.function.Supplier<JsonObject> read, java.util.function.Predicate<JsonObject> done) {
    JsonObject last = null;
    for (int i = 0; i < 1200; i++) {
      last = read.get();
      if (done.test(last)) {
        return last;
      }
      TestServer.await(vertx.timer(50));
    }
    throw new AssertionError("gave up waiting; last: " + last);
  }

  private static void assertEndedBecauseReplaced(JsonObject job) {
    JsonObject status = job.getJsonObject("status");
    assertThat(status.getString("phase")).as(job.encode()).isEqualTo("FinishedInError");
    assertThat(job.getJsonObject("errors").getString("message")).as(job.encode())
        .contains("table 'items' was dropped or replaced while the import ran")
        .contains("the " + HALF + " rows it had stored went with it");
    assertThat(status.getLong("completedCount")).as("nothing it counted is stored").isZero();
  }

  private long count(String table) {
    return server.search(new JsonObject().put("from", table).put("limit", 0)).json().getLong("total");
  }

  @Test
  void droppingTheTableEndsTheImportInError() {
    JsonObject job = importAround(() -> assertThat(server.delete("/api/v1/schema/items").status()).isEqualTo(200));
    assertEndedBecauseReplaced(job);
    assertThat(server.get("/api/v1/schema/items").status()).isEqualTo(404);
  }

  @Test
  void droppingAndRecreatingTheTableEndsTheImportInErrorAndLeavesTheNewTableAlone() {
    JsonObject job = importAround(() -> {
      assertThat(server.delete("/api/v1/schema/items").status()).isEqualTo(200);
      assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
    });
    assertEndedBecauseReplaced(job);
    assertThat(count("items")).isZero();
  }

  @Test
  void replacingTheWholeSchemaEndsTheImportInError() {
    JsonObject job = importAround(() -> assertThat(server.put("/api/v1/schema",
        new JsonObject().put("schema", new JsonObject().put("items", BenchRows.SCHEMA))).status()).isEqualTo(200));
    assertEndedBecauseReplaced(job);
    assertThat(count("items")).isZero();
  }

  @Test
  void deletingTheWholeSchemaEndsTheImportInError() {
    JsonObject job = importAround(() -> assertThat(server.delete("/api/v1/schema").status()).isEqualTo(200));
    assertEndedBecauseReplaced(job);
  }

  @Test
  void aRenameCarriesTheImportAlong() {
    JsonObject job = importAround(() -> assertThat(server.post("/api/v1/schema/_rename",
        new JsonObject().put("from", "items").put("rename", "goods")).status()).isEqualTo(200));
    assertThat(job.getJsonObject("status").getString("phase")).as(job.encode()).isEqualTo("Finished");
    assertThat(job.getString("table")).isEqualTo("goods");
    assertThat(job.getJsonObject("status").getLong("completedCount")).isEqualTo(2 * HALF);
    assertThat(count("goods")).isEqualTo(2 * HALF);
    var byNewName = server.get("/api/v1/data/goods/file/" + job.getString("id"));
    assertThat(byNewName.status()).as(byNewName.toString()).isEqualTo(200);
  }

  @Test
  void aDroppedColumnMovesTheRowsAndTheImportGoesOn() {
    JsonObject job = importAround(() -> assertThat(server.delete("/api/v1/schema/items/category").status())
        .isEqualTo(200));
    JsonObject status = job.getJsonObject("status");
    assertThat(status.getString("phase")).as(job.encode()).isEqualTo("Finished");
    // The rest of the file still has the dropped column: those lines are refused, and counted so.
    assertThat(status.getLong("completedCount")).isEqualTo(HALF);
    assertThat(status.getLong("failedCount")).isEqualTo(HALF);
    assertThat(count("items")).isEqualTo(HALF);
  }

  @Test
  void aStreamWhoseTableIsDroppedEndsWithAClearError() {
    HttpClient http = vertx.createHttpClient();
    try {
      HttpClientRequest request = TestServer.await(http.request(new RequestOptions().setMethod(HttpMethod.POST)
          .setHost("127.0.0.1").setPort(server.port()).setURI("/api/v1/data/items/stream")
          .putHeader("x-api-key", TestServer.RW_KEY)));
      request.setChunked(true);
      var answer = request.response().compose(response -> response.body()
          .map(body -> new JsonObject().put("status", response.statusCode()).put("body", body.toString())));
      request.write(Buffer.buffer(BenchRows.ndjson(3, HALF, Map.of())));
      poll(() -> new JsonObject().put("count", count("items")), c -> c.getLong("count") == HALF);
      assertThat(server.delete("/api/v1/schema/items").status()).isEqualTo(200);
      request.end(Buffer.buffer(BenchRows.ndjson(4, HALF, Map.of())));
      JsonObject result = TestServer.await(answer, 60);
      assertThat(result.getInteger("status")).as(result.encode()).isEqualTo(409);
      assertThat(new JsonObject(result.getString("body")).getString("message")).as(result.encode())
          .contains("was dropped or replaced while the import ran").contains("rows it had stored went with it");
    } finally {
      TestServer.await(http.close());
    }
  }
}
