package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ForkedServer;
import io.sluice.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acknowledged = durable, under kill -9: 8 clients post batches (and a ninth changes schemas) while the server
 * JVM is killed at seeded moments; after each restart every acknowledged batch is wholly present and every
 * unacknowledged one wholly present or wholly absent.
 */
class CrashDurabilityTest {
  private static final int CLIENTS = 8;
  private static final int ROWS_PER_BATCH = 250;
  private static final int KILLS = 20;

  @TempDir
  Path tmp;

  @Test
  void killNineWhileEightClientsWrite() throws Exception {
    long seed = System.nanoTime();
    System.out.println("killNineWhileEightClientsWrite seed=" + seed);
    Random random = new Random(seed);
    Path data = tmp.resolve("data");
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    try (ForkedServer first = new ForkedServer(data, List.of(), Map.of()).start()) {
      first.call("PUT", "/api/v1/schema/rows", new JsonObject("""
          {"type":"table","columns":{"cycle":{"type":"Int"},"batch":{"type":"Int"},"n":{"type":"Int"},
           "note":{"type":"Text","analyzer":"english"}}}"""));
      first.kill();
    }

    for (int cycle = 0; cycle < KILLS; cycle++) {
      try (ForkedServer server = new ForkedServer(data, List.of(), Map.of()).start()) {
        Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
        Set<Integer> sent = ConcurrentHashMap.newKeySet();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> threads = new ArrayList<>();
        int currentCycle = cycle;
        for (int client = 0; client < CLIENTS; client++) {
          int clientId = client;
          threads.add(started(() -> {
            for (int b = 0; running.get() && b < 10_000; b++) {
              int batch = clientId * 10_000 + b;
              sent.add(batch);
              if (post(http, server, "/api/v1/data/rows/batch", rows(currentCycle, batch)) == 200) {
                acknowledged.add(batch);
              }
            }
          }));
        }
        threads.add(started(() -> {
          for (int i = 0; running.get() && i < 10_000; i++) {
            send(http, server, "PUT", "/api/v1/schema/scratch" + (i % 3),
                "{\"type\":\"table\",\"columns\":{\"x\":{\"type\":\"Int\"}}}");
            send(http, server, "DELETE", "/api/v1/schema/scratch" + ((i + 1) % 3), null);
          }
        }));
        // Kill at a seeded point after some acknowledgements, so every cycle checks acknowledged rows.
        int wanted = 1 + random.nextInt(2 * CLIENTS);
        long deadline = System.currentTimeMillis() + 60_000;
        while (acknowledged.size() < wanted && System.currentTimeMillis() < deadline) {
          Thread.sleep(5);
        }
        Thread.sleep(random.nextInt(300));
        server.kill();
        running.set(false);
        for (Thread thread : threads) {
          thread.join();
        }

        try (ForkedServer restarted = new ForkedServer(data, List.of(), Map.of()).start()) {
          Map<Integer, Integer> stored = storedBatches(restarted, cycle);
          for (int batch : acknowledged) {
            assertThat(stored.getOrDefault(batch, 0)).as("acknowledged batch %d of cycle %d (seed %d)", batch, cycle,
                seed).isEqualTo(ROWS_PER_BATCH);
          }
          for (int batch : sent) {
            assertThat(stored.getOrDefault(batch, 0)).as("batch %d of cycle %d is all or nothing (seed %d)", batch,
                cycle, seed).isIn(0, ROWS_PER_BATCH);
          }
          assertThat(stored.keySet()).as("nothing stored that was not sent (seed %d)", seed).isSubsetOf(sent);
          assertThat(acknowledged).as("cycle %d acknowledged some batches (seed %d)", cycle, seed).isNotEmpty();
          restarted.kill();
        }
      }
    }
  }

  private static Thread started(Runnable body) {
    Thread thread = new Thread(body);
    thread.start();
    return thread;
  }

  private static String rows(int cycle, int batch) {
    StringBuilder body = new StringBuilder("[");
    for (int n = 0; n < ROWS_PER_BATCH; n++) {
      body.append(n == 0 ? "" : ",").append("{\"cycle\":").append(cycle).append(",\"batch\":").append(batch)
          .append(",\"n\":").append(n).append(",\"note\":\"row ").append(n).append(" of a durable batch\"}");
    }
    return body.append(']').toString();
  }

  private static Map<Integer, Integer> storedBatches(ForkedServer server, int cycle) {
    Map<Integer, Integer> counts = new HashMap<>();
    for (int offset = 0; ; offset += 10_000) {
      JsonArray hits = server.call("POST", "/api/v1/_search", new JsonObject().put("from", "rows")
          .put("where", new JsonObject().put("cycle", cycle)).put("select", new JsonArray().add("batch"))
          .put("offset", offset).put("limit", 10_000)).getJsonArray("hits");
      for (int i = 0; i < hits.size(); i++) {
        counts.merge(hits.getJsonObject(i).getInteger("batch"), 1, Integer::sum);
      }
      if (hits.size() < 10_000) {
        return counts;
      }
    }
  }

  private static int post(HttpClient http, ForkedServer server, String path, String body) {
    return send(http, server, "POST", path, body);
  }

  /** The status, or -1 when the connection broke (the server was killed). */
  private static int send(HttpClient http, ForkedServer server, String method, String path, String body) {
    try {
      HttpRequest request = HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(30))
          .header("x-api-key", TestServer.RW_KEY).header("content-type", "application/json")
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
          .build();
      return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }
}
