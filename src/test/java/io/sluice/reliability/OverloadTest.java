package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.BenchRows;
import io.sluice.ForkedServer;
import io.sluice.TestSeeds;
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
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Overload gives 429 with Retry-After, never an out-of-memory error, and never loses an acknowledged row; a
 * client that retries as told gets its batch stored.
 */
@ExtendWith(TestSeeds.class)
class OverloadTest {
  private static final int CLIENTS = 64;
  private static final int MAX_ATTEMPTS = 200;

  @TempDir
  Path tmp;

  @Test
  void sixtyFourClientsFloodingTenMegabyteBatchesIntoA256MegabyteHeap() {
    StringBuilder body = new StringBuilder("[");
    Random random = TestSeeds.random("OverloadTest.rows");
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
      AtomicInteger throttled = new AtomicInteger();
      List<CompletableFuture<Long>> inserts = new ArrayList<>();
      for (int client = 0; client < CLIENTS; client++) {
        inserts.add(insert(http, server, batch, throttled, 0));
      }
      long acknowledged = 0;
      for (CompletableFuture<Long> insert : inserts) {
        acknowledged += insert.join();
      }
      // every client retried its throttled batch until it was stored: nothing is lost, nothing is doubled
      assertThat(acknowledged).isEqualTo((long) CLIENTS * rowsPerBatch);
      assertThat(throttled.get()).as("the budget must refuse some of 64 x 10 MB in a 256 MB heap").isPositive();
      assertThat(server.call("GET", "/api/v1/health", null).getString("status")).isEqualTo("ok");
      long stored = server.call("POST", "/api/v1/_search", new JsonObject().put("from", "items").put("limit", 0))
          .getLong("total");
      assertThat(stored).isEqualTo(acknowledged);
    }
  }

  /**
   * One client's batch: 200 ends it; 429 (Throttled, with Retry-After) is retried after Retry-After; any other
   * outcome fails the test. Completes with the rows acknowledged.
   */
  private static CompletableFuture<Long> insert(HttpClient http, ForkedServer server, byte[] batch,
      AtomicInteger throttled, int attempt) {
    if (attempt > MAX_ATTEMPTS) {
      return CompletableFuture.failedFuture(new AssertionError("still throttled after " + MAX_ATTEMPTS + " retries"));
    }
    return http.sendAsync(HttpRequest.newBuilder(server.uri("/api/v1/data/items/batch"))
            .timeout(Duration.ofMinutes(5)).header("x-api-key", TestServer.RW_KEY)
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(batch)).build(), HttpResponse.BodyHandlers.ofString())
        .thenCompose(response -> {
          if (response.statusCode() == 200) {
            return CompletableFuture.completedFuture(new JsonObject(response.body()).getLong("total"));
          }
          assertThat(response.statusCode()).as("only 200 or 429 under overload: %s", response.body()).isEqualTo(429);
          assertThat(response.headers().firstValue("x-error-cause")).hasValue("Throttled");
          String retryAfter = response.headers().firstValue("Retry-After").orElse(null);
          assertThat(retryAfter).as("a 429 says when to retry").isNotNull();
          throttled.incrementAndGet();
          Executor later = CompletableFuture.delayedExecutor(Long.parseLong(retryAfter.trim()), TimeUnit.SECONDS);
          return CompletableFuture.supplyAsync(() -> attempt + 1, later)
              .thenCompose(next -> insert(http, server, batch, throttled, next));
        });
  }
}
