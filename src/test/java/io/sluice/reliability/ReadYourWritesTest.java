package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.sluice.TestSeeds;
import io.sluice.TestServer.Response;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Read-your-writes under concurrency: a search that starts after a write's reply was sent sees that write, even
 * while other clients search the same table (they used to clear the "stale" flag and leave a writer reading the
 * searcher from before its write). Writers and readers run from a printed seed; every search a writer makes
 * right after an acknowledged batch, row or delete is checked against what was acknowledged before it started.
 */
@ExtendWith(TestSeeds.class)
class ReadYourWritesTest extends ServerTest {
  private static final int WRITERS = 2;
  private static final int READERS = 3;
  private static final int STEPS = 40;

  @Test
  void searchAfterAcknowledgedWriteSeesItWhileOthersSearch() throws Exception {
    long seed = TestSeeds.seed();
    System.out.println("ReadYourWritesTest " + TestSeeds.replay());
    assertThat(server.put("/api/v1/schema/t", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},"writer":{"type":"String"},"batch":{"type":"Int"},
         "x":{"type":"Text","analyzer":"Whitespace"}}}""")).status()).isEqualTo(200);

    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicLong searches = new AtomicLong();
    List<String> violations = Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS + READERS + 1);
    try {
      List<Future<?>> readers = new ArrayList<>();
      for (int r = 0; r < READERS; r++) {
        readers.add(pool.submit(() -> {
          while (writing.get()) {
            Response response = server.search(new JsonObject("""
                {"from":"t","where":{"x":{"$match":"noise"}},"limit":3}"""));
            assertThat(response.status()).as("a background search: %s (seed %d)", response, seed).isEqualTo(200);
            searches.incrementAndGet();
          }
          return null;
        }));
      }
      List<Future<?>> writers = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        int writer = w;
        writers.add(pool.submit(() -> {
          write(writer, new Random(seed + writer), violations, seed);
          return null;
        }));
      }
      writers.add(pool.submit(() -> {
        schemaChanges(new Random(seed - 1), violations, seed);
        return null;
      }));
      for (Future<?> writer : writers) {
        writer.get(5, TimeUnit.MINUTES);
      }
      writing.set(false);
      for (Future<?> reader : readers) {
        reader.get(1, TimeUnit.MINUTES);
      }
    } finally {
      writing.set(false);
      pool.shutdownNow();
    }
    assertThat(searches.get()).as("the background readers ran").isPositive();
    assertThat(violations).as("searches that missed an acknowledged write (seed %d)", seed).isEmpty();
  }

  /** Batches, single rows, stream imports and deletes of one writer's own rows, each followed at once by a search. */
  private void write(int writer, Random random, List<String> violations, long seed) {
    String name = "w" + writer;
    List<Integer> liveBatches = new ArrayList<>();
    for (int step = 0; step < STEPS; step++) {
      int choice = random.nextInt(10);
      if (choice < 2 && !liveBatches.isEmpty()) {
        int batch = liveBatches.remove(random.nextInt(liveBatches.size()));
        Response deleted = server.post("/api/v1/data/_delete", new JsonObject().put("from", "t")
            .put("where", new JsonObject().put("writer", name).put("batch", batch)));
        assertThat(deleted.status()).as("delete: %s (seed %d)", deleted, seed).isEqualTo(200);
        check(name, batch, 0, "after an acknowledged delete", violations, seed);
      } else if (choice < 4) {
        int id = writer * 1_000_000 + step * 10_000;
        Response inserted = server.post("/api/v1/data/t", row(id, name, step));
        assertThat(inserted.status()).as("single row: %s (seed %d)", inserted, seed).isEqualTo(200);
        liveBatches.add(step);
        check(name, step, 1, "after an acknowledged single row", violations, seed);
      } else if (choice < 5) {
        int rows = 1 + random.nextInt(2_000);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < rows; i++) {
          lines.append(row(writer * 1_000_000 + step * 10_000 + i, name, step).encode()).append('\n');
        }
        Response streamed = server.post("/api/v1/data/t/stream", lines.toString());
        assertThat(streamed.status()).as("stream: %s (seed %d)", streamed, seed).isEqualTo(200);
        liveBatches.add(step);
        check(name, step, rows, "after an acknowledged stream import of " + rows, violations, seed);
      } else {
        int rows = 1 + random.nextInt(3_000);
        JsonArray batch = new JsonArray();
        for (int i = 0; i < rows; i++) {
          batch.add(row(writer * 1_000_000 + step * 10_000 + i, name, step));
        }
        Response inserted = server.post("/api/v1/data/t/batch", batch);
        assertThat(inserted.status()).as("batch: %s (seed %d)", inserted, seed).isEqualTo(200);
        liveBatches.add(step);
        check(name, step, rows, "after an acknowledged batch of " + rows, violations, seed);
      }
    }
  }

  /** A table created, filled, searched and dropped: each search sees the schema and rows acknowledged before. */
  private void schemaChanges(Random random, List<String> violations, long seed) {
    for (int round = 0; round < 10; round++) {
      String table = "s" + round;
      assertThat(server.put("/api/v1/schema/" + table, new JsonObject("""
          {"type":"table","columns":{"id":{"type":"Int"}}}""")).status()).isEqualTo(200);
      expectTotal(table, 0, "right after the table was created", violations, seed);
      assertThat(server.put("/api/v1/schema/" + table + "/extra", new JsonObject("""
          {"type":"String","nullable":true}""")).status()).isEqualTo(200);
      int rows = 1 + random.nextInt(500);
      JsonArray batch = new JsonArray();
      for (int i = 0; i < rows; i++) {
        batch.add(new JsonObject().put("id", i).put("extra", "e"));
      }
      assertThat(server.post("/api/v1/data/" + table + "/batch", batch).status()).isEqualTo(200);
      Response withColumn = server.search(new JsonObject().put("from", table)
          .put("where", new JsonObject().put("extra", "e")).put("limit", 0));
      if (withColumn.status() != 200 || withColumn.total() != rows) {
        violations.add(table + " after a column was added and " + rows + " rows acknowledged: " + withColumn);
      }
      assertThat(server.delete("/api/v1/schema/" + table).status()).isEqualTo(200);
      Response gone = server.search(new JsonObject().put("from", table).put("limit", 0));
      if (gone.status() != 404) {
        violations.add(table + " was dropped, yet a search answered " + gone);
      }
    }
  }

  private void check(String writer, int batch, long expected, String when, List<String> violations, long seed) {
    Response found = server.search(new JsonObject().put("from", "t")
        .put("where", new JsonObject().put("writer", writer).put("batch", batch)).put("limit", 0));
    if (found.status() != 200 || found.total() != expected) {
      violations.add(writer + " batch " + batch + " " + when + ": expected " + expected + " rows, search answered "
          + found + " (seed " + seed + ")");
    }
  }

  private void expectTotal(String table, long expected, String when, List<String> violations, long seed) {
    Response found = server.search(new JsonObject().put("from", table).put("limit", 0));
    if (found.status() != 200 || found.total() != expected) {
      violations.add(table + " " + when + ": expected " + expected + " rows, search answered " + found
          + " (seed " + seed + ")");
    }
  }

  private static JsonObject row(int id, String writer, int batch) {
    return new JsonObject().put("id", id).put("writer", writer).put("batch", batch).put("x", "noise " + id);
  }

}
