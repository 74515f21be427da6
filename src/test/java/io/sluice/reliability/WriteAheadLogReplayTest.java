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
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acknowledged writes live in the write-ahead log until a background commit; after kill -9 the replay must
 * rebuild exactly the acknowledged state, whether the last commit holds none, part or all of the log it
 * names: batches, single rows and deletes interleaved, killed mid-stream, with commits racing the writes
 * (interval 50 ms) or never happening (interval one hour). The writer fails the test on any outcome it did not
 * expect ({@link KilledServerWrites}).
 */
@ExtendWith(TestSeeds.class)
class WriteAheadLogReplayTest {
  @TempDir
  Path tmp;

  @Test
  void killNineThenReplayGivesExactlyTheAcknowledgedRows() throws Exception {
    long seed = TestSeeds.seed("WriteAheadLogReplayTest");
    Random random = new Random(seed);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    Path data = tmp.resolve("data");
    TreeSet<Integer> expected = new TreeSet<>();
    int[] nextId = {0};
    for (int cycle = 0; cycle < 8; cycle++) {
      String interval = cycle % 4 == 3 ? "3600000" : "50";
      try (ForkedServer server = new ForkedServer(data, List.of(),
          Map.of("SLUICE_STORE_COMMIT_INTERVAL_MS", interval)).start()) {
        if (cycle == 0) {
          server.call("PUT", "/api/v1/schema/t", new JsonObject(
              "{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"},\"note\":{\"type\":\"Text\"}}}"));
        }
        assertThat(ids(server)).as("after restart, cycle %d (seed %d)", cycle, seed).isEqualTo(expected);
        // One client writes until the kill; its last write may be cut off, so it is "pending": after the
        // restart the table holds the acknowledged state, with or without that write applied.
        KilledServerWrites writes = new KilledServerWrites(http, server);
        AtomicReference<UnaryOperator<TreeSet<Integer>>> pending = new AtomicReference<>();
        Random ops = new Random(random.nextLong());
        // Kill after a seeded number of acknowledged writes (not after a delay): a varied point of the log.
        CountDownLatch enoughAcknowledged = new CountDownLatch(3 + random.nextInt(60));
        Thread writer = new Thread(() -> {
          while (!writes.killing()) {
            int kind = ops.nextInt(10);
            String path;
            Object body;
            UnaryOperator<TreeSet<Integer>> effect;
            if (kind < 6) {
              JsonArray batch = new JsonArray();
              List<Integer> added = new ArrayList<>();
              for (int i = 1 + ops.nextInt(200); i > 0; i--) {
                batch.add(new JsonObject().put("id", nextId[0]).put("note", "row " + nextId[0]));
                added.add(nextId[0]++);
              }
              path = "/api/v1/data/t/batch";
              body = batch;
              effect = set -> with(set, s -> s.addAll(added));
            } else if (kind < 8) {
              int id = nextId[0]++;
              path = "/api/v1/data/t";
              body = new JsonObject().put("id", id).put("note", "one");
              effect = set -> with(set, s -> s.add(id));
            } else {
              int from = ops.nextInt(nextId[0] + 1);
              int to = from + ops.nextInt(150);
              path = "/api/v1/data/_delete";
              body = new JsonObject().put("from", "t").put("where",
                  new JsonObject().put("id", new JsonObject().put("$gte", from).put("$lt", to)));
              effect = set -> with(set, s -> s.subSet(from, to).clear());
            }
            pending.set(effect);
            if (writes.send("POST", path, body.toString(), status -> status == 200) != 200) {
              return; // killed, or a surprise that fails the cycle
            }
            TreeSet<Integer> next = effect.apply(expected);
            expected.clear();
            expected.addAll(next);
            pending.set(null);
            enoughAcknowledged.countDown();
          }
        });
        writer.start();
        assertThat(enoughAcknowledged.await(60, TimeUnit.SECONDS))
            .as("cycle %d: writes acknowledged within a minute (seed %d)", cycle, seed).isTrue();
        writes.kill();
        writer.join();
        writes.assertNoSurprises("cycle " + cycle + ", seed " + seed);
        try (ForkedServer restarted = new ForkedServer(data, List.of(), Map.of()).start()) {
          TreeSet<Integer> actual = ids(restarted);
          TreeSet<Integer> withPending = pending.get() == null ? expected : pending.get().apply(expected);
          assertThat(actual).as("cycle %d: the acknowledged rows, with or without the write cut off by the kill "
              + "(seed %d)", cycle, seed).isIn(expected, withPending);
          expected.clear();
          expected.addAll(actual);
          restarted.kill();
        }
      }
    }
    assertThat(expected).as("the writes left rows to check").isNotEmpty();
  }

  private static TreeSet<Integer> with(TreeSet<Integer> set, java.util.function.Consumer<TreeSet<Integer>> change) {
    TreeSet<Integer> copy = new TreeSet<>(set);
    change.accept(copy);
    return copy;
  }

  private static TreeSet<Integer> ids(ForkedServer server) {
    TreeSet<Integer> ids = new TreeSet<>();
    for (int offset = 0; ; offset += 10_000) {
      JsonArray hits = server.call("POST", "/api/v1/_search", new JsonObject().put("from", "t")
          .put("select", new JsonArray().add("id")).put("offset", offset).put("limit", 10_000)).getJsonArray("hits");
      for (int i = 0; i < hits.size(); i++) {
        assertThat(ids.add(hits.getJsonObject(i).getInteger("id"))).as("no duplicate row").isTrue();
      }
      if (hits.size() < 10_000) {
        return ids;
      }
    }
  }
}
