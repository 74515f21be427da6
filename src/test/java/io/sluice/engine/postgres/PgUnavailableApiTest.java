package io.sluice.engine.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.TestPorts;
import io.sluice.TestPostgres;
import io.sluice.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL going away under a running Sluice, through the HTTP API: writes and reads are a 503 with an
 * x-error-cause and nothing is acknowledged, /ready is degraded, and once PostgreSQL is back on the same port
 * Sluice reconnects by itself (no restart) with every acknowledged row still there.
 */
@ExtendWith(VertxExtension.class)
class PgUnavailableApiTest {
  @TempDir
  Path dataDir;
  @TempDir
  Path pgDir;
  private EmbeddedPostgres pg;
  private TestServer server;

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.stop();
    }
    if (pg != null) {
      pg.close();
    }
  }

  @Test
  void unreachablePostgresIsA503AndReadyDegradedUntilItIsBack(Vertx vertx) throws IOException {
    int port = TestPorts.free();
    pg = TestPostgres.start(pgDir, port);
    server = new TestServer(vertx, dataDir, Map.of("store.type", "postgres",
        "store.postgres.url", "postgresql://127.0.0.1:" + port + "/postgres",
        "store.postgres.user", TestPostgres.USER)).start();
    assertThat(server.put("/api/v1/schema/t", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"}}}""")).status()).isEqualTo(200);
    assertThat(server.post("/api/v1/data/t/batch", new JsonArray().add(new JsonObject().put("id", 1))).status())
        .isEqualTo(200);

    pg.close();
    pg = null;

    TestServer.Response write = server.post("/api/v1/data/t/batch", new JsonArray().add(new JsonObject().put("id", 2)));
    assertThat(write.status()).as(write.toString()).isEqualTo(503);
    assertThat(write.header("x-error-cause")).as(write.toString()).isEqualTo("StoreUnavailable");
    assertThat(write.json().getString("message")).as(write.toString()).contains("unavailable");
    TestServer.Response search = server.search(new JsonObject().put("from", "t"));
    assertThat(search.status()).as(search.toString()).isEqualTo(503);
    assertThat(search.header("x-error-cause")).as(search.toString()).isEqualTo("StoreUnavailable");
    TestServer.Response ready = server.send(HttpMethod.GET, "/ready", null, null);
    assertThat(ready.status()).as(ready.toString()).isEqualTo(503);
    assertThat(ready.json().getString("status")).isEqualTo("degraded");

    pg = TestPostgres.start(pgDir, port);

    Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> server.send(HttpMethod.GET, "/ready", null, null).status() == 200);
    assertThat(server.post("/api/v1/data/t/batch", new JsonArray().add(new JsonObject().put("id", 3))).status())
        .isEqualTo(200);
    TestServer.Response rows = server.search(new JsonObject().put("from", "t").put("orderBy", "id"));
    assertThat(rows.status()).as(rows.toString()).isEqualTo(200);
    assertThat(rows.hits().stream().map(hit -> ((JsonObject) hit).getInteger("id"))).containsExactly(1, 3);
  }
}
