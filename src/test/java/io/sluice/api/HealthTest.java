package io.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.TestServer;
import io.sluice.bus.Addresses;
import io.sluice.bus.StoreOp;
import io.sluice.bus.StoreRequest;
import io.sluice.bus.StoreRequestCodec;
import io.sluice.config.SluiceConfig;
import io.sluice.ingest.UploadSigner;
import io.sluice.metrics.Metrics;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Liveness ({@code /health}) and readiness ({@code /ready}, {@code /api/v1/health}): against a real server, and
 * against a router whose store answers HEALTH as a latched store does, or not at all.
 */
@ExtendWith(VertxExtension.class)
class HealthTest {
  @TempDir
  Path dataDir;
  TestServer server;
  HttpServer http;
  WebClient client;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop();
    }
    if (client != null) {
      client.close();
    }
    if (http != null) {
      TestServer.await(http.close());
    }
  }

  @Test
  void aServingServerIsLiveAndReadyWithoutAKey(Vertx vertx) {
    server = new TestServer(vertx, dataDir).start();
    JsonObject ok = new JsonObject().put("status", "ok");
    for (String path : new String[] {"/health", "/ready", "/api/v1/health"}) {
      var response = server.send(io.vertx.core.http.HttpMethod.GET, path, null, null);
      assertThat(response.status()).as(path + ": " + response).isEqualTo(200);
      assertThat(response.json()).as(path).isEqualTo(ok);
    }
  }

  @Test
  void aLatchedStoreIsLiveButNotReady(Vertx vertx) {
    vertx.eventBus().<StoreRequest>consumer(Addresses.STORE_READ, message -> {
      assertThat(message.body().op()).isEqualTo(StoreOp.HEALTH);
      message.reply(new JsonObject().put("status", "degraded").put("message", "table 'customers': disk full"));
    });
    start(vertx);

    HttpResponse<?> live = get("/health");
    assertThat(live.statusCode()).isEqualTo(200);
    assertThat(live.bodyAsJsonObject()).isEqualTo(new JsonObject().put("status", "ok"));
    for (String path : new String[] {"/ready", "/api/v1/health"}) {
      HttpResponse<?> ready = get(path);
      assertThat(ready.statusCode()).as(path).isEqualTo(503);
      JsonObject body = ready.bodyAsJsonObject();
      assertThat(body.getString("status")).isEqualTo("degraded");
      assertThat(body.getString("message")).contains("store", "disk full");
      assertThat(body.getJsonArray("checks").getJsonObject(0).getString("id")).isEqualTo(Health.STORE_CHECK);
      assertThat(ready.getHeader("Retry-After")).isEqualTo("1");
    }
  }

  @Test
  void aStoreThatDoesNotAnswerIsNotReady(Vertx vertx) {
    start(vertx);
    HttpResponse<?> ready = get("/ready");
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.bodyAsJsonObject().getString("status")).isEqualTo("degraded");
    assertThat(get("/health").statusCode()).isEqualTo(200);
  }

  /** The router alone, without store verticles: the test plays the store. */
  private void start(Vertx vertx) {
    try {
      vertx.eventBus().registerCodec(new StoreRequestCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // registered by an earlier test in this Vert.x
    }
    SluiceConfig config = SluiceConfig.load(Map.of(), Map.of("data.dir", dataDir.toString(),
        "api.key.rw", TestServer.RW_KEY, "api.key.ro", TestServer.RO_KEY));
    var router = ApiRouter.create(vertx, config, ApiKeys.load(dataDir, TestServer.RW_KEY, TestServer.RO_KEY),
        new Jobs(), UploadSigner.load(dataDir, null), new RequestBudget(Long.MAX_VALUE),
        Metrics.noop());
    http = TestServer.await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
    client = WebClient.create(vertx);
  }

  private HttpResponse<?> get(String path) {
    return TestServer.await(client.get(http.actualPort(), "127.0.0.1", path).send());
  }
}
