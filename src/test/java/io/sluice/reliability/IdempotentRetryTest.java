package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ForkedServer;
import io.sluice.TestSeeds;
import io.sluice.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that retries every write it did not see answered, with its Idempotency-Key, stores each row exactly
 * once through kill -9. The Lucene index is committed rarely ({@code store.commit.interval.ms}), so after a kill
 * the write-ahead log is the only holder of the acknowledged rows and of their keys. On PostgreSQL
 * ({@code -Dsluice.test.store=postgres}) the key is in the rows' transaction.
 */
@ExtendWith(TestSeeds.class)
class IdempotentRetryTest {
  private static final Map<String, String> WAL_ONLY = Map.of("SLUICE_STORE_COMMIT_INTERVAL_MS", "3600000");
  private static final int CLIENTS = 4;
  private static final int KILLS = 3;

  @TempDir
  Path tmp;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void aRetryAfterKillNineBetweenCommitAndReplyIsReplayed() {
    Path data = tmp.resolve("data");
    JsonArray batch = rows(0, 0, 25);
    try (ForkedServer server = new ForkedServer(data, List.of(), WAL_ONLY).start()) {
      server.call("PUT", "/api/v1/schema/rows", schema());
      HttpResponse<String> first = post(server, batch.encode(), "lost-reply");
      assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
      // The server's state is that of a kill between the commit and the reply: the rows and the key are only in
      // the write-ahead log, and the client (say) never saw the 200.
      server.kill();
    }
    try (ForkedServer server = new ForkedServer(data, List.of(), WAL_ONLY).start()) {
      HttpResponse<String> retry = post(server, batch.encode(), "lost-reply");
      assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);
      assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
      assertThat(new JsonObject(retry.body()).getInteger("total")).isEqualTo(25);
      assertThat(count(server)).isEqualTo(25);
    }
  }

  @Test
  void clientsRetryingWithTheirKeysThroughKillsStoreEachRowOnce() throws Exception {
    long seed = TestSeeds.seed("IdempotentRetryTest");
    Random random = new Random(seed);
    Path data = tmp.resolve("data");
    try (ForkedServer first = new ForkedServer(data, List.of(), WAL_ONLY).start()) {
      first.call("PUT", "/api/v1/schema/rows", schema());
      first.kill();
    }
    long expected = 0;
    for (int cycle = 0; cycle < KILLS; cycle++) {
      Map<String, JsonArray> sent = new ConcurrentHashMap<>();
      Set<String> unanswered = ConcurrentHashMap.newKeySet();
      try (ForkedServer server = new ForkedServer(data, List.of(), WAL_ONLY).start()) {
        int wanted = 1 + random.nextInt(3 * CLIENTS);
        CountDownLatch enough = new CountDownLatch(wanted);
        CountDownLatch killing = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<String> surprises = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int client = 0; client < CLIENTS; client++) {
          int clientId = client;
          int currentCycle = cycle;
          int size = 1 + random.nextInt(100);
          Thread thread = new Thread(() -> {
            for (int b = 0; killing.getCount() > 0 && b < 10_000; b++) {
              String key = "cycle" + currentCycle + "-client" + clientId + "-batch" + b;
              JsonArray rows = rows(currentCycle, clientId * 10_000 + b, size);
              sent.put(key, rows);
              unanswered.add(key);
              try {
                HttpResponse<String> response = post(server, rows.encode(), key);
                if (response.statusCode() != 200) {
                  surprises.add(key + " -> " + response.statusCode() + " " + response.body());
                  return;
                }
                unanswered.remove(key);
                enough.countDown();
              } catch (AssertionError broken) {
                if (killing.getCount() > 0) {
                  surprises.add(key + " failed before the kill: " + broken.getMessage());
                }
                return;
              }
            }
          }, "idempotent-writer-" + client);
          thread.start();
          threads.add(thread);
        }
        assertThat(enough.await(60, TimeUnit.SECONDS)).as("acknowledgements before the kill").isTrue();
        killing.countDown();
        server.kill();
        for (Thread thread : threads) {
          thread.join(30_000);
        }
        assertThat(surprises).as("seed " + seed).isEmpty();
      }
      try (ForkedServer server = new ForkedServer(data, List.of(), WAL_ONLY).start()) {
        // Every write is sent again with its key, answered or not: the answered ones must be replays.
        for (Map.Entry<String, JsonArray> write : sent.entrySet()) {
          HttpResponse<String> retry = post(server, write.getValue().encode(), write.getKey());
          assertThat(retry.statusCode()).as(write.getKey() + " " + retry.body()).isEqualTo(200);
          if (!unanswered.contains(write.getKey())) {
            assertThat(retry.headers().firstValue("Idempotent-Replayed")).as(write.getKey()).hasValue("true");
          }
          expected += write.getValue().size();
        }
        assertThat(count(server)).as("rows after cycle " + cycle + ", seed " + seed).isEqualTo(expected);
        server.kill();
      }
    }
  }

  @Test
  void aDeleteRetriedAfterKillNineIsReplayedAndDeletesNothingMore() {
    Path data = tmp.resolve("data");
    JsonObject delete = new JsonObject().put("from", "rows").put("where", new JsonObject().put("n",
        new JsonObject().put("$lt", 5)));
    try (ForkedServer server = new ForkedServer(data, List.of(), WAL_ONLY).start()) {
      server.call("PUT", "/api/v1/schema/rows", schema());
      assertThat(post(server, rows(0, 0, 10).encode(), "rows-1").statusCode()).isEqualTo(200);
      HttpResponse<String> first = post(server, "/api/v1/data/_delete", delete.encode(), "delete-1");
      assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
      assertThat(new JsonObject(first.body()).getLong("total")).isEqualTo(5);
      server.kill(); // the delete and its key are only in the write-ahead log
    }
    try (ForkedServer server = new ForkedServer(data, List.of(), WAL_ONLY).start()) {
      assertThat(post(server, rows(1, 0, 5).encode(), "rows-2").statusCode()).isEqualTo(200);
      HttpResponse<String> retry = post(server, "/api/v1/data/_delete", delete.encode(), "delete-1");
      assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);
      assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
      assertThat(new JsonObject(retry.body()).getLong("total")).isEqualTo(5);
      assertThat(count(server)).isEqualTo(10);
    }
  }

  @Test
  void aStreamBrokenByKillNineIsResumedWithItsKey() throws Exception {
    Path data = tmp.resolve("data");
    Map<String, String> smallBatches = Map.of("SLUICE_IMPORT_BATCH_ROWS", "100",
        "SLUICE_IMPORT_COMMIT_INTERVAL_MS", "0");
    int lines = 2000;
    StringBuilder ndjson = new StringBuilder();
    for (int n = 0; n < lines; n++) {
      ndjson.append(new JsonObject().put("cycle", 0).put("batch", 0).put("n", n).encode()).append('\n');
    }
    byte[] body = ndjson.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    try (ForkedServer server = new ForkedServer(data, List.of(), smallBatches).start()) {
      server.call("PUT", "/api/v1/schema/rows", schema());
      try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
        var out = socket.getOutputStream();
        out.write(("POST /api/v1/data/rows/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + TestServer.RW_KEY
            + "\r\nIdempotency-Key: killed-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        int half = body.length / 2;
        out.write((Integer.toHexString(half) + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        out.write(body, 0, half);
        out.write("\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        out.flush();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> count(server) >= 300);
        server.kill(); // mid-stream, with batches in flight
      }
    }
    try (ForkedServer server = new ForkedServer(data, List.of(), smallBatches).start()) {
      long survived = count(server);
      HttpResponse<String> retry = http.send(HttpRequest.newBuilder(server.uri("/api/v1/data/rows/stream"))
          .timeout(Duration.ofSeconds(60)).header("x-api-key", TestServer.RW_KEY)
          .header("content-type", "application/x-ndjson").header("Idempotency-Key", "killed-stream")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);
      JsonObject reply = new JsonObject(retry.body());
      assertThat(reply.getLong("committedLines")).isEqualTo(lines);
      assertThat(reply.getLong("skippedLines")).isEqualTo(survived);
      assertThat(count(server)).isEqualTo(lines);
      JsonObject all = server.call("POST", "/api/v1/_search", new JsonObject().put("from", "rows").put("limit", lines));
      assertThat(all.getJsonArray("hits").stream().map(hit -> ((JsonObject) hit).getInteger("n")).distinct().count())
          .as("each line once").isEqualTo(lines);
    }
  }

  private static JsonObject schema() {
    return new JsonObject("""
        {"type":"table","columns":{"cycle":{"type":"Int"},"batch":{"type":"Int"},"n":{"type":"Int"}}}""");
  }

  private static JsonArray rows(int cycle, int batch, int size) {
    JsonArray rows = new JsonArray();
    for (int n = 0; n < size; n++) {
      rows.add(new JsonObject().put("cycle", cycle).put("batch", batch).put("n", n));
    }
    return rows;
  }

  private long count(ForkedServer server) {
    return server.call("POST", "/api/v1/_search", new JsonObject().put("from", "rows").put("limit", 0))
        .getLong("total");
  }

  private HttpResponse<String> post(ForkedServer server, String body, String key) {
    return post(server, "/api/v1/data/rows/batch", body, key);
  }

  private HttpResponse<String> post(ForkedServer server, String path, String body, String key) {
    HttpRequest request = HttpRequest.newBuilder(server.uri(path))
        .timeout(Duration.ofSeconds(30))
        .header("x-api-key", TestServer.RW_KEY).header("content-type", "application/json")
        .header("Idempotency-Key", key)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError("POST with key " + key + " failed: " + e, e);
    }
  }
}
