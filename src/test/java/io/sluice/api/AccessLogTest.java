package io.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.sluice.metrics.Metrics;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The access log: one line per request with method, path, status, bytes, duration and remote; no key, no signature. */
@ExtendWith(VertxExtension.class)
class AccessLogTest {
  private static final String WRONG_KEY = "not-a-key-but-secret-looking-0123456789";

  @TempDir
  Path dataDir;
  TestServer server;
  ListAppender<ILoggingEvent> captured;
  Logger root;
  Logger sluice;
  Level rootLevel;
  Level sluiceLevel;

  @BeforeEach
  void start(Vertx vertx) {
    root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    sluice = (Logger) LoggerFactory.getLogger("io.sluice");
    rootLevel = root.getLevel();
    sluiceLevel = sluice.getLevel();
    // Everything Sluice logs, 4xx details at debug included, and everything else at info.
    root.setLevel(Level.INFO);
    sluice.setLevel(Level.DEBUG);
    captured = new ListAppender<>();
    captured.start();
    root.addAppender(captured);
    server = new TestServer(vertx, dataDir).start();
  }

  @AfterEach
  void stop() {
    server.stop();
    root.detachAppender(captured);
    root.setLevel(rootLevel);
    sluice.setLevel(sluiceLevel);
  }

  @Test
  void requestsAreLoggedWithoutKeysOrSignatures() {
    assertThat(server.put("/api/v1/schema/customers", new JsonObject("{\"type\":\"table\",\"columns\":"
        + "{\"id\":{\"type\":\"Int\"},\"name\":{\"type\":\"String\"}}}")).status()).isEqualTo(200);
    assertThat(server.post("/api/v1/data/customers/batch", new JsonArray("[{\"id\":1,\"name\":\"a\"}]")).status())
        .isEqualTo(200);
    assertThat(server.send(HttpMethod.GET, "/api/v1/schema", null, TestServer.RO_KEY).status()).isEqualTo(200);
    assertThat(server.send(HttpMethod.GET, "/api/v1/schema?x-api-key=" + WRONG_KEY, null, WRONG_KEY).status())
        .isEqualTo(403);
    assertThat(server.send(HttpMethod.DELETE, "/api/v1/schema", null, TestServer.RO_KEY).status()).isEqualTo(403);

    JsonObject initiated = server.post("/api/v1/data/customers/file", new JsonObject()).json();
    String url = initiated.getString("url");
    String signature = URI.create(url).getQuery().replaceAll(".*signature=([^&]+).*", "$1");
    assertThat(signature).hasSizeGreaterThan(20);
    Buffer file = Buffer.buffer("{\"id\":2,\"name\":\"b\"}\n");
    assertThat(server.upload(url.replace("signature=", "signature=00"), file).status()).isEqualTo(403);
    Response upload = server.upload(url, file);
    assertThat(upload.status()).as(upload.toString()).isEqualTo(200);
    assertThat(server.upload(url, file).status()).as("single use").isEqualTo(403);
    String id = initiated.getString("id");
    assertThat(server.post("/api/v1/data/customers/file/" + id, new JsonObject()).status()).isEqualTo(200);
    server.awaitImport("customers", id);
    server.stop();

    List<String> lines = new ArrayList<>();
    for (ILoggingEvent event : captured.list) {
      StringBuilder line = new StringBuilder(event.getLoggerName()).append(' ').append(event.getFormattedMessage());
      if (event.getKeyValuePairs() != null) {
        event.getKeyValuePairs().forEach(kv -> line.append(' ').append(kv.key).append('=').append(kv.value));
      }
      if (event.getThrowableProxy() != null) {
        line.append(' ').append(event.getThrowableProxy().getMessage());
      }
      lines.add(line.toString());
    }
    String all = String.join("\n", lines);
    List<String> access = lines.stream().filter(l -> l.startsWith(AccessLog.LOGGER + " "))
        .collect(Collectors.toList());

    assertThat(access).as(all).anySatisfy(l -> assertThat(l)
        .startsWith(AccessLog.LOGGER + " PUT /uploads/" + id + " 200 ")
        .contains("method=PUT", "path=/uploads/" + id, "status=200", "bytes=", "durationMs=", "remote=127.0.0.1"));
    assertThat(access).anySatisfy(l -> assertThat(l).contains("POST /api/v1/data/customers/batch 200 "));
    assertThat(access).anySatisfy(l -> assertThat(l).contains("GET /api/v1/schema 403 "));
    assertThat(access).anySatisfy(l -> assertThat(l).contains("PUT /uploads/" + id + " 403 "));
    assertThat(lines).as("log lines").allSatisfy(l -> assertThat(l)
        .doesNotContain(TestServer.RW_KEY, TestServer.RO_KEY, WRONG_KEY, signature, "signature=", "?"));
  }

  @Test
  void throttledResponsesAreCounted(Vertx vertx) {
    Metrics metrics = Metrics.prometheus();
    Router router = Router.router(vertx);
    router.route().handler(ctx -> AccessLog.handle(ctx, metrics));
    router.get("/busy").handler(ctx -> ctx.response().setStatusCode(429).end("{}"));
    router.get("/fine").handler(ctx -> ctx.response().end("{}"));
    var http = TestServer.await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
    WebClient client = WebClient.create(vertx);
    try {
      for (String path : new String[] {"/busy", "/fine", "/busy"}) {
        TestServer.await(client.get(http.actualPort(), "127.0.0.1", path).send());
      }
      // The count is taken when the response has been written, which may be just after the client read it.
      long deadline = System.currentTimeMillis() + 10_000;
      while (metrics.registry().get(Metrics.THROTTLED).counter().count() < 2
          && System.currentTimeMillis() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(metrics.registry().get(Metrics.THROTTLED).counter().count()).isEqualTo(2.0);
    } finally {
      client.close();
      TestServer.await(http.close());
    }
  }
}
