package io.sluice.engine.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.BenchRows;
import io.sluice.TestPorts;
import io.sluice.TestPostgres;
import io.sluice.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL gone while an import runs, so neither its rows nor its end can be saved: the import pauses (no
 * crash, a status that says so and claims only the rows stored), and once PostgreSQL is back it resumes from
 * its checkpoint by itself and ends with every row stored exactly once.
 */
@ExtendWith(VertxExtension.class)
class PgImportStateUnavailableTest {
  @TempDir
  Path dataDir;
  @TempDir
  Path pgDir;
  private EmbeddedPostgres pg;
  private TestServer server;
  private HttpServer source;

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.stop();
    }
    if (source != null) {
      TestServer.await(source.close());
    }
    if (pg != null) {
      pg.close();
    }
  }

  @Test
  void anImportWhoseStateCannotBeSavedPausesAndResumesWhenPostgresIsBack(Vertx vertx) throws IOException {
    int port = TestPorts.free();
    pg = TestPostgres.start(pgDir, port);
    server = new TestServer(vertx, dataDir, Map.of("store.type", "postgres",
        "store.postgres.url", "postgresql://127.0.0.1:" + port + "/postgres",
        "store.postgres.user", TestPostgres.USER, "import.batch.rows", 100)).start();
    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);

    // A pull import whose source sends the first 1000 rows, then waits; later requests get the whole file.
    byte[] first = BenchRows.ndjson(41, 1000, Map.of());
    byte[] rest = BenchRows.ndjson(42, 1000, Map.of());
    AtomicReference<HttpServerResponse> waiting = new AtomicReference<>();
    AtomicInteger requests = new AtomicInteger();
    source = TestServer.await(vertx.createHttpServer().requestHandler(request -> {
      HttpServerResponse response = request.response().setChunked(true);
      if (requests.incrementAndGet() == 1) {
        response.write(Buffer.buffer(first));
        waiting.set(response);
      } else {
        response.end(Buffer.buffer(first).appendBytes(rest));
      }
    }).listen(0, "127.0.0.1"));

    String id = server.post("/api/v1/data/items/file", new JsonObject()).json().getString("id");
    String statusPath = "/api/v1/data/items/file/" + id;
    assertThat(server.post(statusPath, new JsonObject().put("sourceUrl", "http://127.0.0.1:"
        + source.actualPort() + "/rows.ndjson")).status()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(60)).until(() -> server.get(statusPath).json().getJsonObject("status")
        .getLong("completedCount") == 1000);

    pg.close();
    pg = null;
    waiting.get().end(Buffer.buffer(rest)); // its batches fail, and so does saving the import's end

    JsonObject paused = await().atMost(Duration.ofSeconds(60)).until(() -> server.get(statusPath).json(),
        status -> status.getJsonObject("errors").getString("message", "").contains("paused"));
    assertThat(paused.getJsonObject("status").getString("phase")).as(paused.encode()).isEqualTo("Running");
    assertThat(paused.getJsonObject("status").getBoolean("finished")).isFalse();
    assertThat(paused.getJsonObject("status").getLong("completedCount")).as("only rows stored")
        .isLessThanOrEqualTo(1000);
    assertThat(paused.getJsonObject("errors").getString("message")).as(paused.encode())
        .contains("cannot save the state of import " + id).contains("PostgreSQL unreachable");
    assertThat(server.send(HttpMethod.GET, "/ready", null, null).status()).isEqualTo(503);

    pg = TestPostgres.start(pgDir, port);

    JsonObject finished = server.awaitImport("items", id);
    assertThat(finished.getJsonObject("status").getString("phase")).as(finished.encode()).isEqualTo("Finished");
    assertThat(finished.getJsonObject("status").getLong("completedCount")).isEqualTo(2000);
    assertThat(finished.getJsonObject("status").getLong("failedCount")).isZero();
    assertThat(server.search(new JsonObject().put("from", "items").put("limit", 0)).total()).isEqualTo(2000);
    assertThat(requests.get()).as("the source was read again to resume").isGreaterThanOrEqualTo(2);

    server.restart(); // what was saved says Finished too
    assertThat(server.get(statusPath).json().getJsonObject("status").getString("phase")).isEqualTo("Finished");
  }
}
