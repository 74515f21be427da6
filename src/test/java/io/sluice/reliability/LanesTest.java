package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.TestPostgres;
import io.sluice.TestServer;
import io.sluice.metrics.Metrics;
import io.sluice.engine.lucene.DirectoryFactory;
import io.sluice.engine.lucene.LogFile;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgConnectOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Store lanes, on either engine ({@code -Dsluice.test.store=postgres}). Reads have their own: with every write
 * held in the middle of a batch, searches, schema reads and readiness are still answered, from what was
 * acknowledged before (without the lane they queued behind the held writes). On Lucene a write is held in its
 * write-ahead log append, which holds a write thread; on PostgreSQL by a table lock that blocks inserts but not
 * reads, which holds every connection of the write pool (without the read pool a search waited for one). Writers
 * share theirs fairly: a write to one table does not wait behind the queue of another table's writes, nor for one
 * of them to end (a table holds at most store.write.instances threads of a lane that has one more).
 */
@ExtendWith(VertxExtension.class)
class LanesTest {
  private static final int WRITE_WORKERS = 2;

  @TempDir
  Path dataDir;

  @Test
  void readsAreAnsweredWhileEveryWriteWorkerIsHeld(Vertx vertx) throws Exception {
    Held held = TestPostgres.chosen() ? new HeldTables(dataDir) : new HeldLog();
    TestServer server = new TestServer(vertx, dataDir, Map.of("store.instances", WRITE_WORKERS,
        "store.postgres.pool.size", WRITE_WORKERS, "store.postgres.read.pool.size", 1))
        .withDirectories(held instanceof HeldLog log ? log : DirectoryFactory.FILE_SYSTEM).start();
    try {
      List<String> tables = new ArrayList<>();
      for (int i = 0; i < WRITE_WORKERS; i++) {
        // One table per held write: a table's log appends are serialised, so each worker blocks in its own.
        String table = "t" + i;
        tables.add(table);
        assertThat(server.put("/api/v1/schema/" + table, new JsonObject(
            "{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"}}}")).status()).isEqualTo(200);
        assertThat(server.post("/api/v1/data/" + table + "/batch", new JsonArray("[{\"id\":1},{\"id\":2}]"))
            .status()).isEqualTo(200);
      }

      held.hold();
      List<Future<HttpResponse<Buffer>>> writes = new ArrayList<>();
      for (String table : tables) {
        writes.add(server.client().post("/api/v1/data/" + table + "/batch").putHeader("x-api-key", TestServer.RW_KEY)
            .sendJson(new JsonArray("[{\"id\":3}]")));
      }
      assertThat(held.awaitBlocked(WRITE_WORKERS, 60)).as("every write worker (connection) is held mid-write")
          .isTrue();

      for (String table : tables) {
        JsonObject found = TestServer.await(server.client().post("/api/v1/_search")
            .putHeader("x-api-key", TestServer.RW_KEY)
            .sendJson(new JsonObject().put("from", table).put("limit", 0)), 20).bodyAsJsonObject();
        assertThat(found.getLong("total")).as("a search on %s while its write is held: %s", table, found)
            .isEqualTo(2);
      }
      assertThat(TestServer.await(server.client().get("/api/v1/schema").putHeader("x-api-key", TestServer.RW_KEY)
          .send(), 20).statusCode()).as("schema read while writes are held").isEqualTo(200);
      assertThat(TestServer.await(server.client().get("/ready").send(), 20).statusCode())
          .as("readiness while writes are held").isEqualTo(200);
      for (Future<HttpResponse<Buffer>> write : writes) {
        assertThat(write.isComplete()).as("a held write is not acknowledged").isFalse();
      }

      held.release();
      for (Future<HttpResponse<Buffer>> write : writes) {
        assertThat(TestServer.await(write, 60).statusCode()).isEqualTo(200);
      }
      for (String table : tables) {
        assertThat(server.search(new JsonObject().put("from", table).put("limit", 0)).total()).isEqualTo(3);
      }
    } finally {
      held.release();
      server.stop();
    }
  }

  @Test
  void aWriteToOneTableDoesNotWaitBehindTheQueueOfAnother(Vertx vertx) throws Exception {
    // PostgreSQL's writes wait for the database on its pool, not on write threads: the lane never queues them
    Assumptions.assumeFalse(TestPostgres.chosen(), "the write lane's order is the Lucene engine's");
    HeldLog held = new HeldLog();
    Metrics metrics = Metrics.prometheus();
    TestServer server = new TestServer(vertx, dataDir, Map.of("store.instances", WRITE_WORKERS))
        .withDirectories(held).metrics(metrics).start();
    try {
      for (String table : List.of("busy", "small")) {
        assertThat(server.put("/api/v1/schema/" + table, new JsonObject(
            "{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"}}}")).status()).isEqualTo(200);
        assertThat(server.post("/api/v1/data/" + table, new JsonObject().put("id", 0)).status()).isEqualTo(200);
      }
      Path busy = held.appended.get(0);
      Path small = held.appended.get(1);
      held.appended.clear();
      held.entered.clear();

      held.hold();
      int busyWrites = 10;
      WebClient client = server.newClient(busyWrites + 1); // one connection per write: all reach the store at once
      List<Future<HttpResponse<Buffer>>> writes = new ArrayList<>();
      for (int i = 1; i <= busyWrites; i++) {
        writes.add(client.post("/api/v1/data/busy").putHeader("x-api-key", TestServer.RW_KEY)
            .sendJson(new JsonObject().put("id", i)));
      }
      // One write thread is held in busy's log append, the other waits for that log; the rest queue: busy holds
      // as many threads as one table may, and the lane's spare thread is left for other tables.
      assertThat(held.awaitBlocked(1, 60)).isTrue();
      awaitQueued(metrics, busyWrites - WRITE_WORKERS);
      writes.add(client.post("/api/v1/data/small").putHeader("x-api-key", TestServer.RW_KEY)
          .sendJson(new JsonObject().put("id", 1)));
      assertThat(held.awaitBlocked(1, 60)).as("the write to the small table reaches its log beside busy's held"
          + " ones").isTrue();
      awaitQueued(metrics, busyWrites - WRITE_WORKERS);

      held.release();
      for (Future<HttpResponse<Buffer>> write : writes) {
        assertThat(TestServer.await(write, 60).statusCode()).isEqualTo(200);
      }
      assertThat(held.appended).hasSize(busyWrites + 1);
      List<Path> order = List.copyOf(held.entered);
      // small's append reached its log second, after busy's first and before any of busy's queue.
      assertThat(order.indexOf(small)).as("where the write to the small table started among %s (busy: %s)", order,
          busy).isEqualTo(1);
    } finally {
      held.release();
      server.stop();
    }
  }

  @Test
  void aBatchIntoAnotherTableIsServedWhileAnImportHoldsItsConnections(Vertx vertx) throws Exception {
    // Lucene's write lane order is checked above; PostgreSQL's writes wait for connections of the write pool.
    Assumptions.assumeTrue(TestPostgres.chosen(), "the write pool's shares are the PostgreSQL engine's");
    int pool = 4;
    HeldTables held = new HeldTables(dataDir, "busy");
    // 5-row import batches, 8 in flight: without shares they would take every connection of the pool
    TestServer server = new TestServer(vertx, dataDir, Map.of("store.postgres.pool.size", pool,
        "import.batch.rows", 5, "import.window", 8)).start();
    try {
      for (String table : List.of("busy", "small")) {
        assertThat(server.put("/api/v1/schema/" + table, new JsonObject(
            "{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"}}}")).status()).isEqualTo(200);
      }
      StringBuilder file = new StringBuilder();
      for (int i = 0; i < 200; i++) {
        file.append("{\"id\":").append(i).append("}\n");
      }
      held.hold();
      JsonObject initiated = server.post("/api/v1/data/busy/file", new JsonObject()).json();
      assertThat(server.upload(initiated.getString("url"), Buffer.buffer(file.toString())).status()).isEqualTo(200);
      String id = initiated.getString("id");
      assertThat(server.post("/api/v1/data/busy/file/" + id, new JsonObject()).status()).isEqualTo(200);
      assertThat(held.awaitBlocked(pool - 1, 60)).as("the import's inserts wait for busy's lock").isTrue();

      JsonArray rows = new JsonArray();
      for (int i = 0; i < 100; i++) {
        rows.add(new JsonObject().put("id", i));
      }
      HttpResponse<Buffer> small = TestServer.await(server.client().post("/api/v1/data/small/batch")
          .putHeader("x-api-key", TestServer.RW_KEY).sendJson(rows), 20);
      assertThat(small.statusCode()).as("a 100-row batch into another table while the import is held: %s",
          small.bodyAsString()).isEqualTo(200);
      assertThat(held.blocked()).as("connections the held import holds (of %s)", pool).isEqualTo(pool - 1);
      assertThat(server.search(new JsonObject().put("from", "small").put("limit", 0)).total()).isEqualTo(100);

      held.release();
      assertThat(server.awaitImport("busy", id).getJsonObject("status").getString("phase")).isEqualTo("Finished");
      assertThat(server.search(new JsonObject().put("from", "busy").put("limit", 0)).total()).isEqualTo(200);
    } finally {
      held.release();
      server.stop();
    }
  }

  private static void awaitQueued(Metrics metrics, long expected) {
    long deadline = System.currentTimeMillis() + 60_000;
    double queued = -1;
    while (System.currentTimeMillis() < deadline) {
      queued = metrics.registry().get(Metrics.LANE_QUEUED).tag(Metrics.TAG_LANE, "write").gauge().value();
      if (queued == expected) {
        return;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
    throw new AssertionError("the write lane never had " + expected + " tasks queued (last seen " + queued + ")");
  }

  /** Holds writes mid-way while held; counts the writes that wait. */
  interface Held {
    void hold() throws Exception;

    void release() throws Exception;

    boolean awaitBlocked(int writes, int seconds) throws Exception;
  }

  /**
   * PostgreSQL: every Sluice table locked in SHARE mode by a transaction of the test's own, which blocks inserts
   * (each holding its write connection) and lets reads through; blocked writes are the lock requests waiting.
   */
  static final class HeldTables implements Held {
    private final javax.sql.DataSource database;
    /** The Sluice table whose storage is locked (null: every table's). */
    private final String only;
    private Connection holder;

    HeldTables(Path dataDir) {
      this(dataDir, null);
    }

    HeldTables(Path dataDir, String only) {
      PgConnectOptions db = TestPostgres.databaseFor(dataDir.toAbsolutePath().toString());
      database = TestPostgres.server().getDatabase(db.getUser(), db.getDatabase());
      this.only = only;
    }

    @Override
    public void hold() throws SQLException {
      holder = database.getConnection();
      holder.setAutoCommit(false);
      try (Statement s = holder.createStatement()) {
        List<String> tables = new ArrayList<>();
        try (ResultSet rows = s.executeQuery(only == null ? "SELECT tablename FROM pg_tables WHERE schemaname"
            + " = 'sluice' AND tablename LIKE 't\\_%'" : "SELECT 't_' || id FROM sluice.catalog WHERE name = '"
            + only + "'")) {
          while (rows.next()) {
            tables.add("sluice.\"" + rows.getString(1) + "\"");
          }
        }
        s.execute("LOCK TABLE " + String.join(", ", tables) + " IN SHARE MODE");
      }
    }

    @Override
    public void release() throws SQLException {
      if (holder != null) {
        holder.rollback();
        holder.close();
        holder = null;
      }
    }

    /** Lock requests waiting now, in the test's database. */
    int blocked() throws SQLException {
      return TestPostgres.waitingLocks(database);
    }

    @Override
    public boolean awaitBlocked(int writes, int seconds) throws SQLException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < deadline) {
        if (blocked() >= writes) {
          return true;
        }
        java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
      }
      return false;
    }
  }

  /**
   * Write-ahead log files whose appends block while held, counting the appends that wait, and recording which
   * table directory each append went to, in order.
   */
  static final class HeldLog implements DirectoryFactory, Held {
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private final Semaphore blocked = new Semaphore(0);
    final List<Path> appended = java.util.Collections.synchronizedList(new ArrayList<>());
    /** The table directory of each append as it reached the log, before any hold. */
    final List<Path> entered = java.util.Collections.synchronizedList(new ArrayList<>());

    @Override
    public void hold() {
      gate = new CountDownLatch(1);
    }

    @Override
    public void release() {
      gate.countDown();
    }

    @Override
    public boolean awaitBlocked(int appends, int seconds) throws InterruptedException {
      return blocked.tryAcquire(appends, seconds, TimeUnit.SECONDS);
    }

    @Override
    public org.apache.lucene.store.Directory open(Path path) throws IOException {
      return FILE_SYSTEM.open(path);
    }

    @Override
    public LogFile createLog(Path path) throws IOException {
      LogFile file = LogFile.create(path);
      return new LogFile() {
        @Override
        public void write(ByteBuffer bytes) throws IOException {
          entered.add(path.getParent().getParent());
          CountDownLatch current = gate;
          if (current.getCount() > 0) {
            blocked.release();
            try {
              current.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new IOException("interrupted while held", e);
            }
          }
          appended.add(path.getParent().getParent());
          file.write(bytes);
        }

        @Override
        public void force() throws IOException {
          file.force();
        }

        @Override
        public void close() throws IOException {
          file.close();
        }
      };
    }
  }
}
