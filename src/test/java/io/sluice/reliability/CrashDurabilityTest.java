package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ForkedServer;
import io.sluice.TestSeeds;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acknowledged = durable, under kill -9: 8 clients post batches (and a ninth changes schemas) while the server
 * JVM is killed at seeded moments; after each restart every acknowledged batch is wholly present and every
 * unacknowledged one wholly present or wholly absent, and the scratch tables are those the acknowledged schema
 * changes left (the one cut off by the kill applied or not). Every writer fails the test on an outcome it did
 * not expect ({@link KilledServerWrites}).
 */
@ExtendWith(TestSeeds.class)
class CrashDurabilityTest {
  private static final int CLIENTS = 8;
  private static final int ROWS_PER_BATCH = 250;
  /**
   * Kill cycles ({@code sluice.test.crash.kills}, default 20): the PostgreSQL run of the suite does 5, the same
   * checks after each, to keep the whole CI run within its time.
   */
  private static final int KILLS = Integer.getInteger("sluice.test.crash.kills", 20);

  @TempDir
  Path tmp;

  @Test
  void killNineWhileEightClientsWrite() throws Exception {
    long seed = TestSeeds.seed("CrashDurabilityTest");
    Random random = new Random(seed);
    Path data = tmp.resolve("data");
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    try (ForkedServer first = new ForkedServer(data, List.of(), Map.of()).start()) {
      first.call("PUT", "/api/v1/schema/rows", new JsonObject("""
          {"type":"table","columns":{"cycle":{"type":"Int"},"batch":{"type":"Int"},"n":{"type":"Int"},
           "note":{"type":"Text","analyzer":"english"}}}"""));
      first.kill();
    }

    // the scratch tables the churn writer's acknowledged changes leave (none yet); checked after every kill
    Set<String> scratch = new TreeSet<>();
    for (int cycle = 0; cycle < KILLS; cycle++) {
      try (ForkedServer server = new ForkedServer(data, List.of(), Map.of()).start()) {
        KilledServerWrites writes = new KilledServerWrites(http, server);
        Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
        Set<Integer> sent = ConcurrentHashMap.newKeySet();
        // Kill after a seeded number of acknowledgements (not after a delay), so every cycle checks some.
        int wanted = 1 + random.nextInt(4 * CLIENTS);
        CountDownLatch enoughAcknowledged = new CountDownLatch(wanted);
        List<Thread> threads = new ArrayList<>();
        int currentCycle = cycle;
        for (int client = 0; client < CLIENTS; client++) {
          int clientId = client;
          threads.add(started(() -> {
            for (int b = 0; !writes.killing() && b < 10_000; b++) {
              int batch = clientId * 10_000 + b;
              sent.add(batch);
              int status = writes.send("POST", "/api/v1/data/rows/batch", rows(currentCycle, batch), s -> s == 200);
              if (status != 200) {
                return; // killed, or a surprise that fails the cycle
              }
              acknowledged.add(batch);
              enoughAcknowledged.countDown();
            }
          }));
        }
        // A ninth client churns schemas: PUT is always acknowledged, DELETE is 200 for a table the
        // acknowledged changes left, 404 for one they removed. The change cut off by the kill is "pending".
        Set<String> churned = new TreeSet<>(scratch);
        Set<String> withPending = new TreeSet<>();
        threads.add(started(() -> {
          for (int i = 0; !writes.killing() && i < 10_000; i++) {
            String put = "scratch" + (i % 3);
            String drop = "scratch" + ((i + 1) % 3);
            synchronized (withPending) {
              withPending.clear();
              withPending.addAll(churned);
              withPending.add(put);
            }
            if (writes.send("PUT", "/api/v1/schema/" + put, "{\"type\":\"table\",\"columns\":{\"x\":{\"type\":\"Int\"}}}",
                s -> s == 200) != 200) {
              return;
            }
            churned.add(put);
            synchronized (withPending) {
              withPending.clear();
              withPending.addAll(churned);
              withPending.remove(drop);
            }
            // A missing table's delete succeeds too (deleting nothing), as in Aito.
            if (writes.send("DELETE", "/api/v1/schema/" + drop, null, s -> s == 200) != 200) {
              return;
            }
            churned.remove(drop);
          }
        }));
        assertThat(enoughAcknowledged.await(60, TimeUnit.SECONDS))
            .as("cycle %d: %d batches acknowledged within a minute (seed %d)", cycle, wanted, seed).isTrue();
        writes.kill();
        for (Thread thread : threads) {
          thread.join();
        }
        writes.assertNoSurprises("cycle " + cycle + ", seed " + seed);

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
          Set<String> tables = scratchTables(restarted);
          synchronized (withPending) {
            assertThat(tables).as("cycle %d: the scratch tables of the acknowledged schema changes, with or without "
                + "the change cut off by the kill (seed %d)", cycle, seed).isIn(Set.copyOf(churned),
                Set.copyOf(withPending));
          }
          assertThat(restarted.call("GET", "/api/v1/schema/rows", null).getJsonObject("columns").fieldNames())
              .as("the churn never touches the written table (seed %d)", seed).contains("cycle", "batch", "n");
          scratch = tables;
          restarted.kill();
        }
      }
    }
  }

  private static Set<String> scratchTables(ForkedServer server) {
    Set<String> tables = new TreeSet<>();
    for (String name : server.call("GET", "/api/v1/schema", null).getJsonObject("schema").fieldNames()) {
      if (name.startsWith("scratch")) {
        tables.add(name);
      }
    }
    return tables;
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
}
