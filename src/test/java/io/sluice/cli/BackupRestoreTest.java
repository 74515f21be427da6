package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.BenchRows;
import io.sluice.Stores;
import io.sluice.TestPostgres;
import io.sluice.TestSeeds;
import io.sluice.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Online backup through the real server while a thread keeps posting batches, restored offline into a new data
 * directory and served by a fresh server: every batch acknowledged before the backup started is there, no batch
 * is there in part, later writes and schema changes are not, schemas and an import's batch markers are intact.
 */
@ExtendWith({VertxExtension.class, TestSeeds.class})
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class BackupRestoreTest {
  private static final int BATCH = 50;

  @TempDir
  Path dir;

  record Run(int code, String out, String err) {
  }

  static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var commandLine = SluiceCli.commandLine(new SluiceCli(Map.of("SLUICE_API_KEY", TestServer.RW_KEY), false));
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    return new Run(commandLine.execute(args), out.toString(), err.toString());
  }

  @Test
  void backupUnderLoadRestoresAConsistentPointInTime(Vertx vertx) throws Exception {
    Assumptions.assumeFalse(TestPostgres.chosen(), "the Lucene store's backup; PostgreSQL's is its own tools'");
    long seed = TestSeeds.seed("BackupRestoreTest");
    Random random = new Random(seed);
    Path backups = dir.resolve("backups");
    // Commits every 50 ms: while the backup copies, later commits would delete the files it copies unless the
    // snapshot keeps them.
    TestServer server = new TestServer(vertx, dir.resolve("data"), Map.of("backup.dir", backups.toString(),
        "import.batch.rows", 500, "store.commit.interval.ms", 50)).start();
    TestServer restored = null;
    AtomicBoolean stop = new AtomicBoolean();
    Thread writer = null;
    try {
      assertThat(server.put("/api/v1/schema/events", new JsonObject("""
          {"type":"table","columns":{"id":{"type":"Int"},"batch":{"type":"Int"},
            "note":{"type":"Text","analyzer":"english"}}}""")).status()).isEqualTo(200);
      assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);

      // A finished file import: its rows carry the job's batch markers.
      JsonObject initiated = server.post("/api/v1/data/items/file", new JsonObject()).json();
      String job = initiated.getString("id");
      assertThat(server.upload(initiated.getString("url"),
          Buffer.buffer(BenchRows.gzip(BenchRows.ndjson(seed, 2000, Map.of())))).status()).isEqualTo(200);
      assertThat(server.post("/api/v1/data/items/file/" + job, new JsonObject()).status()).isEqualTo(200);
      assertThat(server.awaitImport("items", job).getJsonObject("status").getLong("completedCount"))
          .isEqualTo(2000);

      AtomicLong acked = new AtomicLong();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      TestServer live = server;
      writer = new Thread(() -> {
        int batch = 0;
        try {
          while (!stop.get()) {
            JsonArray rows = new JsonArray();
            for (int k = 0; k < BATCH; k++) {
              rows.add(new JsonObject().put("id", batch * BATCH + k).put("batch", batch)
                  .put("note", "row " + random.nextInt(1000)));
            }
            var answer = live.post("/api/v1/data/events/batch", rows);
            if (answer.status() != 200) {
              throw new AssertionError("batch " + batch + ": " + answer);
            }
            acked.set(++batch);
          }
        } catch (Throwable e) {
          failure.set(e);
        }
      }, "backup-test-writer");
      writer.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> acked.get() >= 20 || failure.get() != null);

      long ackedBefore = acked.get();
      Run backup = cli("backup", "--to", backups.resolve("snap").toString(), "--url",
          "http://127.0.0.1:" + server.port());
      assertThat(backup.code()).as(backup.err()).isZero();
      assertThat(backup.out()).contains("backup written to " + backups.resolve("snap"));
      long ackedAtReply = acked.get();
      await().atMost(Duration.ofSeconds(60)).until(() -> acked.get() >= ackedAtReply + 10 || failure.get() != null);
      stop.set(true);
      writer.join();
      assertThat(failure.get()).isNull();
      assertThat(server.put("/api/v1/schema/later", new JsonObject("""
          {"type":"table","columns":{"id":{"type":"Int"}}}""")).status()).isEqualTo(200);

      // The API writes only a new directory directly under backup.dir.
      assertThat(server.post("/api/v1/_backup", new JsonObject().put("to", "snap")).status()).isEqualTo(409);
      assertThat(server.post("/api/v1/_backup", new JsonObject().put("to", "../escape")).status()).isEqualTo(400);
      assertThat(server.post("/api/v1/_backup", new JsonObject().put("to", dir.resolve("x").toString())).status())
          .isEqualTo(400);
      JsonObject named = server.post("/api/v1/_backup", new JsonObject()).json();
      assertThat(Path.of(named.getString("path")).getParent()).isEqualTo(backups.toAbsolutePath());

      // Restore refuses a data directory in use (not empty), then restores into a new one.
      Run refused = cli("restore", "--from", backups.resolve("snap").toString(), "--data-dir",
          server.dataDir().toString());
      assertThat(refused.code()).isEqualTo(SluiceCli.FAILED);
      assertThat(refused.err()).contains("not empty");
      Path copy = dir.resolve("restored");
      Run restore = cli("restore", "--from", backups.resolve("snap").toString(), "--data-dir", copy.toString());
      assertThat(restore.code()).as(restore.err()).isZero();
      server.stop();

      restored = new TestServer(vertx, copy).start();
      JsonObject schema = restored.get("/api/v1/schema").json().getJsonObject("schema");
      assertThat(schema.fieldNames()).containsExactlyInAnyOrder("events", "items");
      assertThat(schema.getJsonObject("events").getJsonObject("columns").getJsonObject("note")
          .getString("analyzer")).isEqualTo("english");
      long rows = restored.search(new JsonObject().put("from", "events").put("limit", 0)).total();
      System.out.printf("acked before the backup %d batches, at its reply %d, in the end %d; restored %d rows%n",
          ackedBefore, ackedAtReply, acked.get(), rows);
      assertThat(rows % BATCH).as("no batch is restored in part").isZero();
      assertThat(rows / BATCH).isBetween(ackedBefore, ackedAtReply);
      // Batches are numbered in order: the restored ones are exactly 0..n-1, each whole.
      long batches = rows / BATCH;
      for (long b : new long[] {0, batches / 2, batches - 1}) {
        assertThat(restored.search(new JsonObject().put("from", "events").put("limit", 0)
            .put("where", new JsonObject().put("batch", b))).total()).as("batch " + b).isEqualTo(BATCH);
      }
      assertThat(restored.search(new JsonObject().put("from", "items").put("limit", 0)).total()).isEqualTo(2000);
      // Writes go on after the restored rows.
      assertThat(restored.post("/api/v1/data/events", new JsonObject().put("id", -1).put("batch", -1)
          .put("note", "after")).status()).isEqualTo(200);
      restored.stop();
      restored = null;

      // The import's batch markers came along (what a resumed import asks for).
      var store = Stores.lucene(copy, 10_000);
      try {
        assertThat(store.importedBatches("items", job).getJsonArray("batches")).containsExactly(0L, 1L, 2L, 3L);
      } finally {
        store.close();
      }
    } finally {
      stop.set(true);
      if (writer != null) {
        writer.join();
      }
      if (restored != null) {
        restored.stop();
      }
      server.stop();
    }
  }

  @Test
  void thePostgresStoreSaysItsOwnToolsBackItUp(Vertx vertx) {
    Assumptions.assumeTrue(TestPostgres.chosen(), "runs with -Dsluice.test.store=postgres");
    TestServer server = new TestServer(vertx, dir.resolve("data"), Map.of("backup.dir",
        dir.resolve("backups").toString())).start();
    try {
      var answer = server.post("/api/v1/_backup", new JsonObject());
      assertThat(answer.status()).isEqualTo(501);
      assertThat(answer.json().getString("message")).contains("pg_dump");
    } finally {
      server.stop();
    }
  }

  @Test
  void backupsAreOffUntilABackupDirIsSet(Vertx vertx) {
    TestServer server = new TestServer(vertx, dir.resolve("data")).start();
    try {
      var answer = server.post("/api/v1/_backup", new JsonObject());
      assertThat(answer.status()).isEqualTo(409);
      assertThat(answer.json().getString("message")).contains("backup.dir");
      assertThat(server.post("/api/v1/_backup", new JsonObject().put("where", "x")).status()).isIn(400, 409);
    } finally {
      server.stop();
    }
  }
}
