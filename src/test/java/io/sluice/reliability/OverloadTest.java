package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.BenchRows;
import io.sluice.ForkedServer;
import io.sluice.TestServer;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Overload gives 429, never an out-of-memory error, and never loses an acknowledged row. */
class OverloadTest {
  @TempDir
  Path tmp;

  @Test
  void sixtyFourClientsFloodingTenMegabyteBatchesIntoA256MegabyteHeap() {
    StringBuilder body = new StringBuilder("[");
    Random random = new Random(5);
    int rows = 0;
    while (body.length() < 10_000_000 - 400) {
      body.append(rows == 0 ? "" : ",").append(BenchRows.row(random, rows++));
    }
    byte[] batch = body.append(']').toString().getBytes(StandardCharsets.UTF_8);
    int rowsPerBatch = rows;

    try (ForkedServer server = new ForkedServer(tmp.resolve("data"), List.of("-Xmx256m"),
        Map.of("SLUICE_MAX_BATCH_BYTES", "10485760")).start()) {
      server.call("PUT", "/api/v1/schema/items", BenchRows.SCHEMA);
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
      List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
      for (int client = 0; client < 64; client++) {
        responses.add(http.sendAsync(HttpRequest.newBuilder(server.uri("/api/v1/data/items/batch"))
            .timeout(Duration.ofMinutes(5)).header("x-api-key", TestServer.RW_KEY)
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(batch)).build(), HttpResponse.BodyHandlers.ofString()));
      }
      long acknowledged = 0;
      int throttled = 0;
      for (CompletableFuture<HttpResponse<String>> future : responses) {
        HttpResponse<String> response = future.join();
        assertThat(response.statusCode()).as(response.body()).isIn(200, 429);
        if (response.statusCode() == 200) {
          acknowledged += new JsonObject(response.body()).getLong("total");
        } else {
          throttled++;
          assertThat(response.headers().firstValue("Retry-After")).isPresent();
          assertThat(response.headers().firstValue("x-error-cause")).hasValue("Throttled");
        }
      }
      assertThat(acknowledged).isPositive().isEqualTo(acknowledged / rowsPerBatch * rowsPerBatch);
      assertThat(throttled).as("the budget must refuse some of 64 x 10 MB in a 256 MB heap").isPositive();
      assertThat(server.call("GET", "/api/v1/health", null).getString("status")).isEqualTo("ok");
      long stored = server.call("POST", "/api/v1/_search", new JsonObject().put("from", "items").put("limit", 0))
          .getLong("total");
      assertThat(stored).isEqualTo(acknowledged);
    }
  }
}
