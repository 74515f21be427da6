package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.BenchRows;
import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The stream endpoint and upload URLs have no whole-request deadline, so a client trickling its
 * body is ended by stream.idle.timeout.seconds and stream.min.bytes.per.second with a JSON 408, keeping the
 * batches already committed. The clients below write with Vert.x's HttpClient on timers (no sleeping).
 */
class SlowClientTest extends ServerTest {
  private Vertx vertx;
  private HttpClient http;

  @Override
  protected Map<String, Object> serverConfig() {
    return Map.of("import.batch.rows", 500, "stream.idle.timeout.seconds", 2, "stream.min.bytes.per.second", 1000);
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    this.http = vertx.createHttpClient();
    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
  }

  @AfterEach
  void closeClient() {
    TestServer.await(http.close());
  }

  /** Sends {@code first} at once, then {@code trickle} every {@code everyMs} (never if null); the answer. */
  private Answer slowRequest(HttpMethod method, String uri, byte[] first, String trickle, long everyMs) {
    RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(server.port())
        .setURI(uri).putHeader("x-api-key", TestServer.RW_KEY);
    HttpClientRequest request = TestServer.await(http.request(options));
    request.setChunked(true);
    long start = System.nanoTime();
    request.write(Buffer.buffer(first));
    long timer = trickle == null ? -1 : vertx.setPeriodic(everyMs, id -> request.write(Buffer.buffer(trickle)));
    try {
      // The body is asked for on the event loop as the response arrives: later, its bytes would be gone.
      return TestServer.await(request.response().compose(response -> response.body().map(body ->
          new Answer(response.statusCode(), body.toString(), (System.nanoTime() - start) / 1_000_000))), 60);
    } finally {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
      request.reset();
    }
  }

  private record Answer(int status, String text, long millis) {
    JsonObject body() {
      return new JsonObject(text);
    }
  }

  @Test
  void aStreamTricklingUnderTheMinimumRateIsEndedKeepingItsCommittedBatches() {
    // 1,250 whole lines: two whole batches of 500 are sent and committed, the rest waits for more lines.
    Answer answer = slowRequest(HttpMethod.POST, "/api/v1/data/items/stream", BenchRows.ndjson(1, 1250, Map.of()),
        "{", 400);
    assertThat(answer.status()).as(answer.toString()).isEqualTo(408);
    assertThat(answer.body().getInteger("status")).isEqualTo(408);
    assertThat(answer.body().getString("message")).as(answer.toString())
        .contains("stream.min.bytes.per.second").contains("1000 rows were committed");
    assertThat(answer.millis()).as("ended within a few rate windows").isLessThan(15_000);
    assertThat(count()).isEqualTo(1000);
  }

  @Test
  void aStreamThatStopsSendingIsEndedByTheIdleGuard() {
    Answer answer = slowRequest(HttpMethod.POST, "/api/v1/data/items/stream", BenchRows.ndjson(2, 600, Map.of()),
        null, 0);
    assertThat(answer.status()).as(answer.toString()).isEqualTo(408);
    assertThat(answer.body().getString("message")).as(answer.toString())
        .contains("no data arrived for 2 s (stream.idle.timeout.seconds)").contains("500 rows were committed");
    assertThat(count()).isEqualTo(500);
  }

  @Test
  void anUploadTricklingIsEndedAndItsUrlCanBeUsedAgain() {
    JsonObject initiated = server.post("/api/v1/data/items/file", new JsonObject()).json();
    String url = initiated.getString("url");
    String uri = url.substring(url.indexOf("/uploads/"));
    byte[] file = BenchRows.ndjson(3, 100, Map.of());
    Answer answer = slowRequest(HttpMethod.PUT, uri, java.util.Arrays.copyOf(file, 10), "x", 400);
    assertThat(answer.status()).as(answer.toString()).isEqualTo(408);
    assertThat(answer.body().getString("message")).as(answer.toString()).contains("upload ended")
        .contains("stream.min.bytes.per.second");
    Answer idle = slowRequest(HttpMethod.PUT, uri, java.util.Arrays.copyOf(file, file.length - 1), null, 0);
    assertThat(idle.status()).as(idle.toString()).isEqualTo(408);
    assertThat(idle.body().getString("message")).as(idle.toString()).contains("stream.idle.timeout.seconds");

    var upload = server.upload(url, Buffer.buffer(file));
    assertThat(upload.status()).as(upload.toString()).isEqualTo(200);
    assertThat(upload.json().getLong("bytes")).isEqualTo(file.length);
  }

  private long count() {
    return server.search(new JsonObject().put("from", "items").put("limit", 0)).json().getLong("total");
  }
}
