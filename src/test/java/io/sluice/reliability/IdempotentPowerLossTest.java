package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.sluice.TestPostgres;
import io.sluice.TestSeeds;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A keyed batch cut by a power loss ({@link PowerLossFileSystem}: unsynced bytes, entries and renames forgotten,
 * torn log tails) at the instant it is acknowledged or at a seeded file-system step inside it, then sent again
 * with its key: each row is stored exactly once, and a retry of an acknowledged write is a replay. The index is
 * committed rarely, so the write-ahead log holds the rows and their keys. Lucene only: the simulated disk is the
 * embedded engine's.
 */
@ExtendWith(TestSeeds.class)
class IdempotentPowerLossTest {
  private static final Map<String, Object> CONFIG = Map.of("http.instances", 1, "metrics.enabled", false,
      "store.commit.interval.ms", 3_600_000);
  private static final int CYCLES = 8;

  @TempDir
  Path tmp;

  private final List<Vertx> started = new ArrayList<>();
  private PowerLossFileSystem fs;
  private Vertx vertx;
  private TestServer server;

  @AfterEach
  void close() {
    started.forEach(IdempotentPowerLossTest::closeQuietly);
  }

  @Test
  void aRetryAfterAPowerLossStoresEachRowOnce() throws Exception {
    assumeFalse(TestPostgres.chosen(), "the simulated disk is the Lucene engine's");
    long seed = TestSeeds.seed("IdempotentPowerLossTest");
    Random random = new Random(seed);
    fs = PowerLossFileSystem.mount(Files.createDirectories(tmp.resolve("disk")));
    boot();
    assertThat(server.put("/api/v1/schema/t", new JsonObject("""
        {"type":"table","columns":{"cycle":{"type":"Int"},"n":{"type":"Int"}}}""")).status()).isEqualTo(200);
    long expected = 0;
    for (int cycle = 0; cycle < CYCLES; cycle++) {
      String key = "power-" + cycle;
      JsonArray rows = rows(cycle, 1 + random.nextInt(80));
      boolean atAck = random.nextBoolean();
      if (!atAck) {
        fs.powerOffAtStep(fs.steps() + 1 + random.nextInt(6));
      }
      Response first = send(key, rows);
      int status = first == null ? -1 : first.status();
      if (atAck) {
        assertThat(status).as("cycle " + cycle + ", seed " + seed).isEqualTo(200);
        fs.powerOff("at the acknowledgement of " + key);
      } else if (!fs.poweredOff()) {
        fs.powerOff("after " + key + " answered " + status);
      }
      String reason = fs.powerOffReason();
      System.out.println("  cycle " + cycle + ": " + key + " answered " + status + "; power loss " + reason);
      closeQuietly(vertx);
      fs = fs.reboot(random, true);
      boot();
      Response retry = send(key, rows);
      assertThat(retry).as("retry of " + key).isNotNull();
      assertThat(retry.status()).as("retry of " + key + " after " + reason + ", seed " + seed + ": " + retry)
          .isEqualTo(200);
      if (status == 200) {
        assertThat(retry.header("Idempotent-Replayed")).as("acknowledged " + key + ", seed " + seed)
            .isEqualTo("true");
      }
      expected += rows.size();
      long total = server.search(new JsonObject().put("from", "t").put("limit", 0)).json().getLong("total");
      assertThat(total).as("rows after " + reason + " (cycle " + cycle + ", seed " + seed + ")").isEqualTo(expected);
    }
  }

  /**
   * A keyed delete cut by a power loss, then retried after rows that match it were added: the retry is a replay
   * (with the first count, the new rows stay) exactly when the first delete's record survived, and an
   * acknowledged delete's record always does.
   */
  @Test
  void aDeleteRetriedAfterAPowerLossIsReplayedExactlyWhenItWasDurable() throws Exception {
    assumeFalse(TestPostgres.chosen(), "the simulated disk is the Lucene engine's");
    long seed = TestSeeds.seed("IdempotentPowerLossTest.delete");
    Random random = new Random(seed);
    fs = PowerLossFileSystem.mount(Files.createDirectories(tmp.resolve("disk")));
    boot();
    assertThat(server.put("/api/v1/schema/t", new JsonObject("""
        {"type":"table","columns":{"cycle":{"type":"Int"},"n":{"type":"Int"}}}""")).status()).isEqualTo(200);
    for (int cycle = 0; cycle < CYCLES; cycle++) {
      assertThat(send("rows-" + cycle, rows(cycle, 10)).status()).isEqualTo(200);
      String key = "delete-" + cycle;
      JsonObject delete = new JsonObject().put("from", "t").put("where", new JsonObject().put("cycle", cycle));
      boolean atAck = random.nextBoolean();
      if (!atAck) {
        fs.powerOffAtStep(fs.steps() + 1 + random.nextInt(6));
      }
      Response first = post("/api/v1/data/_delete", key, delete.encode());
      int status = first == null ? -1 : first.status();
      if (atAck) {
        assertThat(status).as("cycle " + cycle + ", seed " + seed).isEqualTo(200);
        fs.powerOff("at the acknowledgement of " + key);
      } else if (!fs.poweredOff()) {
        fs.powerOff("after " + key + " answered " + status);
      }
      String reason = fs.powerOffReason();
      closeQuietly(vertx);
      fs = fs.reboot(random, true);
      boot();
      long before = count(cycle);
      assertThat(send("more-" + cycle, rows(cycle, 3)).status()).isEqualTo(200);
      Response retry = post("/api/v1/data/_delete", key, delete.encode());
      assertThat(retry).as("retry of " + key).isNotNull();
      assertThat(retry.status()).as("retry of " + key + " after " + reason + ", seed " + seed).isEqualTo(200);
      boolean replayed = "true".equals(retry.header("Idempotent-Replayed"));
      if (status == 200) {
        assertThat(replayed).as("acknowledged " + key + " after " + reason + ", seed " + seed).isTrue();
        assertThat(retry.json().getLong("total")).isEqualTo(first.json().getLong("total"));
      }
      assertThat(count(cycle)).as(key + " after " + reason + ", seed " + seed).isEqualTo(replayed ? before + 3 : 0);
    }
  }

  private long count(int cycle) {
    return server.search(new JsonObject().put("from", "t").put("where", new JsonObject().put("cycle", cycle))
        .put("limit", 0)).json().getLong("total");
  }

  private Response post(String path, String key, String body) {
    try {
      return new Response(TestServer.await(server.client().request(HttpMethod.POST, path)
          .putHeader("x-api-key", TestServer.RW_KEY).putHeader("Idempotency-Key", key)
          .sendBuffer(Buffer.buffer(body)), 30));
    } catch (AssertionError brokenByThePowerLoss) {
      return null;
    }
  }

  private Response send(String key, JsonArray rows) {
    try {
      return new Response(TestServer.await(server.client().request(HttpMethod.POST, "/api/v1/data/t/batch")
          .putHeader("x-api-key", TestServer.RW_KEY).putHeader("Idempotency-Key", key)
          .sendBuffer(Buffer.buffer(rows.encode())), 30));
    } catch (AssertionError brokenByThePowerLoss) {
      return null;
    }
  }

  private static JsonArray rows(int cycle, int size) {
    JsonArray rows = new JsonArray();
    for (int n = 0; n < size; n++) {
      rows.add(new JsonObject().put("cycle", cycle).put("n", n));
    }
    return rows;
  }

  private void boot() {
    vertx = Vertx.vertx();
    started.add(vertx);
    server = new TestServer(vertx, fs.root, CONFIG).start();
  }

  private static void closeQuietly(Vertx vertx) {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // a server whose disk lost power: undeploying fails, its threads and locks are released by the close
    }
  }
}
