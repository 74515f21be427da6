package io.sluice.reliability;

import io.sluice.errors.ApiError;
import io.sluice.metrics.Metrics;
import io.sluice.schema.SchemaParser;
import io.sluice.engine.lucene.DirectoryFactory;
import io.sluice.Stores;
import io.sluice.core.Database;
import io.sluice.engine.lucene.LuceneEngine;
import io.sluice.store.TableStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acknowledged = durable, under power loss: the store runs on a {@link PowerLossFileSystem}, which forgets at
 * each crash everything that was not fsynced (file bytes, directory entries, renames, deletes). A seeded
 * schedule of row writes, deletes, imports and schema changes on several tables is cut by power losses between
 * operations, at the instant a write is acknowledged, at a random file-system step inside the store (a write, an
 * fsync, a rename) and while writes are in flight. After every restart the store must hold exactly what was
 * acknowledged: every acknowledged row once, no refused row, a write in flight wholly or not at all, every
 * acknowledged delete still deleted, and each table's schema the acknowledged one (for a schema change cut
 * off: the one before or after, with its rows).
 *
 * <p>Replay a run with {@code -Dsluice.test.seed=<seed>}: the schedule, data and crash points are the seed's;
 * background commits run on their own threads, so where a crash lands relative to them may vary.
 */
class PowerLossTest {
  @TempDir
  Path tmp;

  private final List<TableStore> open = new ArrayList<>();
  private final ExecutorService clients = Executors.newFixedThreadPool(3);

  @AfterEach
  void closeStores() {
    clients.shutdownNow();
    open.forEach(PowerLossTest::closeQuietly);
  }

  /** Commits race the writes (every 20 ms, and whenever the log passes 4 KB): crashes land around commits. */
  @Test
  void frequentCommits() throws Exception {
    new Schedule("frequentCommits", seed() ^ 0x1L, new LuceneEngine.Options(20, 4 * 1024), 25).run();
  }

  /** No background commit: acknowledged rows live only in the write-ahead log until a schema change or restart. */
  @Test
  void onlyTheLogHoldsTheRows() throws Exception {
    new Schedule("onlyTheLogHoldsTheRows", seed() ^ 0x2L, new LuceneEngine.Options(3_600_000, 64L << 20), 25).run();
  }

  /**
   * An fsync that fails (EIO, not a full disk) is final: the write waiting on it is refused with a 5xx, later
   * writes to the table are refused until restart, searches go on, and after a power loss and restart every
   * acknowledged row is there. Then the catalog's fsync fails during a schema change: refused, every later
   * write refused, and after restart the schema is the old one or the new one, with the rows.
   */
  @Test
  void aFailedFsyncIsFinal() throws Exception {
    long seed = seed() ^ 0x3L;
    System.out.println("PowerLossTest.aFailedFsyncIsFinal seed=" + seed);
    Random random = new Random(seed);
    PowerLossFileSystem fs = PowerLossFileSystem.mount(Files.createDirectories(tmp.resolve("eio")));
    LuceneEngine.Options options = new LuceneEngine.Options(3_600_000, 64L << 20);
    TableStore store = openStore(fs, options);
    JsonObject schema = new JsonObject("{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"}}}");
    store.putTable("t", schema);
    int acked = 1 + random.nextInt(20);
    await(store.insertBatch("t", ids(0, acked)));

    fs.failNextForce(path -> path.toString().endsWith(".log"));
    Throwable refused = failure(() -> store.insertBatch("t", ids(100, 105)));
    if (!(refused instanceof ApiError error) || error.status() < 500) {
      throw new AssertionError("a write whose fsync failed must be refused with a 5xx (seed " + seed + "), got "
          + refused);
    }
    Throwable later = failure(() -> store.insertBatch("t", ids(200, 201)));
    if (!(later instanceof ApiError laterError) || laterError.status() != 503) {
      throw new AssertionError("after a failed fsync later writes must be refused until restart (seed " + seed
          + "), got " + later);
    }
    Set<Integer> visible = idsIn(store, "t");
    if (!visible.containsAll(ids(0, acked, true)) || visible.contains(200)) {
      throw new AssertionError("searches after a failed fsync: expected the acknowledged rows, got " + visible);
    }

    fs.powerOff("after a failed fsync");
    closeQuietly(store);
    fs = fs.reboot(random, false);
    TableStore restarted = openStore(fs, options);
    Set<Integer> after = idsIn(restarted, "t");
    if (!after.containsAll(ids(0, acked, true)) || after.contains(200)) {
      throw new AssertionError("after a failed fsync and a power loss: acknowledged rows [0, " + acked
          + ") must be there and the refused write of row 200 not (seed " + seed + "), got " + after);
    }
    Set<Integer> failed = ids(100, 105, true);
    if (after.stream().anyMatch(failed::contains) && !after.containsAll(failed)) {
      throw new AssertionError("half of the write whose fsync failed came back (seed " + seed + "): " + after);
    }

    // The catalog: its temporary file's fsync fails while a column is added.
    fs.failNextForce(path -> path.getFileName().toString().startsWith("catalog.json"));
    JsonObject column = new JsonObject().put("type", "String").put("nullable", true);
    Throwable schemaRefused = failure(() -> Future.succeededFuture(restarted.putColumn("t", "x", column)));
    if (schemaRefused == null) {
      throw new AssertionError("a schema change whose catalog fsync failed was acknowledged (seed " + seed + ")");
    }
    Throwable afterCatalog = failure(() -> restarted.insertBatch("t", ids(300, 301)));
    if (afterCatalog == null) {
      throw new AssertionError("a write after the catalog failed to be stored was acknowledged (seed " + seed + ")");
    }
    fs.powerOff("after a failed catalog fsync");
    closeQuietly(restarted);
    fs = fs.reboot(random, false);
    TableStore third = openStore(fs, options);
    JsonObject columns = third.table("t").getJsonObject("columns");
    if (!columns.fieldNames().equals(Set.of("id")) && !columns.fieldNames().equals(Set.of("id", "x"))) {
      throw new AssertionError("schema after a failed catalog fsync is neither the old nor the new one: " + columns);
    }
    Set<Integer> last = idsIn(third, "t");
    if (!last.containsAll(ids(0, acked, true)) || last.contains(300)) {
      throw new AssertionError("after a failed catalog fsync and a power loss: acknowledged rows [0, " + acked
          + ") must be there and refused row 300 not (seed " + seed + "), got " + last);
    }
    await(third.insertBatch("t", ids(400, 401)));
  }

  private TableStore openStore(PowerLossFileSystem fs, LuceneEngine.Options options) {
    TableStore store = Stores.lucene(fs.root, 1_000_000, DirectoryFactory.FILE_SYSTEM, Metrics.noop(), options);
    open.add(store);
    return store;
  }

  private static byte[] ids(int from, int to) {
    JsonArray rows = new JsonArray();
    for (int id = from; id < to; id++) {
      rows.add(new JsonObject().put("id", id));
    }
    return rows.encode().getBytes(StandardCharsets.UTF_8);
  }

  private static Set<Integer> ids(int from, int to, boolean asSet) {
    Set<Integer> set = new TreeSet<>();
    for (int id = from; id < to; id++) {
      set.add(id);
    }
    return set;
  }

  private static Set<Integer> idsIn(TableStore store, String table) {
    Set<Integer> ids = new TreeSet<>();
    store.search(new JsonObject().put("from", table).put("limit", 1_000_000)).getJsonArray("hits")
        .forEach(hit -> ids.add(((JsonObject) hit).getInteger("id")));
    return ids;
  }

  private static void await(Future<JsonObject> future) throws Exception {
    future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  /** The failure of a write, whether it throws or fails its future; null if it succeeded. */
  private static Throwable failure(Supplier<Future<JsonObject>> write) {
    try {
      write.get().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      return null;
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    } catch (RuntimeException e) {
      return e;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  // ------------------------------------------------------------------------------------------ model

  enum Fate { PENDING, ACKED, REFUSED, UNKNOWN }

  /** One row write (a batch, a single row or an import batch): its rows are one all-or-nothing unit. */
  static final class Write {
    final int number;
    final String kind;
    final List<Integer> ids;
    final Rows rows;
    volatile Fate fate = Fate.PENDING;
    volatile String failure;
    boolean settled;

    Write(int number, String kind, List<Integer> ids, Rows rows) {
      this.number = number;
      this.kind = kind;
      this.ids = ids;
      this.rows = rows;
    }

    @Override
    public String toString() {
      return kind + " " + number + " (" + ids.size() + " rows, " + fate + (failure == null ? "" : ": " + failure)
          + ")";
    }
  }

  /** A delete of id range [from, to): it removes the acknowledged rows it targets, all or none. */
  static final class Delete {
    final int number;
    final Set<Integer> targets;
    final Rows rows;
    String what = "";
    volatile Fate fate = Fate.PENDING;
    volatile String failure;
    boolean settled;

    Delete(int number, Set<Integer> targets, Rows rows) {
      this.number = number;
      this.targets = targets;
      this.rows = rows;
    }
  }

  /** The rows of one table (kept across a rename; copied by a copy). Ids are unique over the whole run. */
  static final class Rows {
    final Map<Integer, Write> present = new LinkedHashMap<>();
    final Map<Integer, String> gone = new LinkedHashMap<>();
    final List<Write> pending = new ArrayList<>();
    final List<Delete> pendingDeletes = new ArrayList<>();
    final Map<Long, Write> importBatches = new LinkedHashMap<>();

    Rows copy() {
      Rows copy = new Rows();
      copy.present.putAll(present);
      copy.gone.putAll(gone);
      copy.importBatches.putAll(importBatches);
      return copy;
    }
  }

  record Table(JsonObject schema, Rows rows) {
  }

  // ------------------------------------------------------------------------------------------ schedule

  private final class Schedule {
    private final String name;
    private final long seed;
    private final Random random;
    private final LuceneEngine.Options options;
    private final int cycles;
    private final String job = "job-1";
    /** The catalog as acknowledged; during a schema change cut off by the power, {@link #alternative} too. */
    private Map<String, Table> catalog = new LinkedHashMap<>();
    private Map<String, Table> alternative;
    private String alternativeOp;
    private PowerLossFileSystem fs;
    private TableStore store;
    private int nextId;
    private int nextWrite;
    private long nextImportBatch;
    private int nextColumn;
    private int cycle;
    private String crash = "";
    private final List<Write> writes = new ArrayList<>();
    private final List<Delete> deletes = new ArrayList<>();

    Schedule(String name, long seed, LuceneEngine.Options options, int cycles) {
      this.name = name;
      this.seed = seed;
      this.random = new Random(seed);
      this.options = options;
      this.cycles = cycles;
      System.out.println("PowerLossTest." + name + " seed=" + seed + " (replay: -Dsluice.test.seed=" + seed()
          + " -Dtest=PowerLossTest#" + name + ")");
    }

    void run() throws Exception {
      Path disk = Files.createDirectories(tmp.resolve(name));
      fs = PowerLossFileSystem.mount(disk);
      store = open();
      int acked = 0;
      for (cycle = 1; cycle <= cycles; cycle++) {
        int kind = random.nextInt(4);
        boolean armAck = kind == 1;
        if (kind == 2) {
          fs.powerOffAtStep(fs.steps() + 1 + random.nextInt(120));
        }
        int ops = 2 + random.nextInt(10);
        for (int i = 0; i < ops && !fs.poweredOff(); i++) {
          step(armAck && i == ops - 1);
        }
        if (kind == 3 && !fs.poweredOff()) {
          burst();
        }
        fs.powerOff("between operations");
        crash = fs.powerOffReason();
        restart();
        verify();
        acked += (int) writes.stream().filter(w -> w.fate == Fate.ACKED).count();
        writes.clear();
        deletes.clear();
      }
      if (acked == 0) {
        throw new AssertionError("the schedule acknowledged no write (seed " + seed + ")");
      }
      if (!fs.escapes().isEmpty()) {
        throw new AssertionError("files written around the file system (not through the store's Path): "
            + fs.escapes());
      }
    }

    private TableStore open() {
      try {
        TableStore opened = Stores.lucene(fs.root, 1_000_000, DirectoryFactory.FILE_SYSTEM, Metrics.noop(),
            options);
        open.add(opened);
        return opened;
      } catch (RuntimeException e) {
        throw new AssertionError(context() + ": the store does not open after the power loss; durable files: "
            + fs.durableTree(), e);
      }
    }

    private String context() {
      return "power loss " + crash + " in cycle " + cycle + " (seed " + seed + ", PowerLossTest." + name + ")";
    }

    // -------------------------------------------------------------------------------- operations

    private void step(boolean crashAtAck) {
      int op = random.nextInt(100);
      if (catalog.isEmpty() || op < 8) {
        createTable();
      } else if (op < 35) {
        track(insertBatch(anyTable(), false), crashAtAck);
      } else if (op < 45) {
        track(insertOne(anyTable()), crashAtAck);
      } else if (op < 55) {
        track(importBatch(anyTable()), crashAtAck);
      } else if (op < 65) {
        track(delete(anyTable()), crashAtAck);
      } else if (op < 70) {
        track(insertBatch(anyTable(), true), false);
      } else if (op < 76) {
        addColumn(anyTable());
      } else if (op < 81) {
        dropColumn(anyTable());
      } else if (op < 85) {
        dropTable(anyTable());
      } else if (op < 89) {
        rename(anyTable());
      } else if (op < 92) {
        copy(anyTable());
      } else {
        track(insertBatch(anyTable(), false), crashAtAck);
      }
    }

    /** Writes started together from other threads; the power goes off at once, at an ack, or at a step. */
    private void burst() throws Exception {
      int mode = random.nextInt(3);
      if (mode == 2) {
        fs.powerOffAtStep(fs.steps() + 1 + random.nextInt(40));
      }
      int n = 2 + random.nextInt(3);
      int firstNew = nextId;
      List<Supplier<Future<JsonObject>>> started = new ArrayList<>();
      boolean deleted = false;
      for (int i = 0; i < n; i++) {
        String table = anyTable();
        int kind = random.nextInt(4);
        if (kind == 0 && !deleted) {
          deleted = true;
          started.add(delete(table, firstNew));
        } else if (kind == 1) {
          started.add(insertOne(table));
        } else if (kind == 2) {
          started.add(importBatch(table));
        } else {
          started.add(insertBatch(table, false));
        }
      }
      List<CompletableFuture<Void>> running = new ArrayList<>();
      for (int i = 0; i < started.size(); i++) {
        Supplier<Future<JsonObject>> write = started.get(i);
        boolean crashAtAck = mode == 1 && i == 0;
        running.add(CompletableFuture.runAsync(() -> await(write, crashAtAck), clients));
      }
      if (mode == 0) {
        fs.powerOff("with " + n + " writes in flight");
      }
      CompletableFuture.allOf(running.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
      settle();
    }

    private String anyTable() {
      List<String> names = new ArrayList<>(catalog.keySet());
      return names.get(random.nextInt(names.size()));
    }

    private JsonObject row(int id, int write) {
      return new JsonObject().put("id", id).put("b", write).put("note", "row " + id + " of write " + write);
    }

    /** A batch of 1..20 rows; {@code invalid}: one row has a bad type, so the whole batch must be refused. */
    private Supplier<Future<JsonObject>> insertBatch(String table, boolean invalid) {
      int number = nextWrite++;
      JsonArray body = new JsonArray();
      List<Integer> ids = new ArrayList<>();
      int size = 1 + random.nextInt(20);
      int bad = invalid ? random.nextInt(size) : -1;
      for (int i = 0; i < size; i++) {
        int id = nextId++;
        ids.add(id);
        body.add(i == bad ? row(id, number).put("b", "not a number") : row(id, number));
      }
      Write write = register(new Write(number, invalid ? "invalid batch" : "batch", ids, catalog.get(table).rows()));
      byte[] bytes = body.encode().getBytes(StandardCharsets.UTF_8);
      return watch(write, () -> store.insertBatch(table, bytes));
    }

    private Supplier<Future<JsonObject>> insertOne(String table) {
      int number = nextWrite++;
      int id = nextId++;
      Write write = register(new Write(number, "single row", List.of(id), catalog.get(table).rows()));
      byte[] bytes = row(id, number).encode().getBytes(StandardCharsets.UTF_8);
      return watch(write, () -> store.insertOne(table, bytes));
    }

    /** An import batch (NDJSON with its job and batch number); half wait for the commit, half sync after. */
    private Supplier<Future<JsonObject>> importBatch(String table) {
      int number = nextWrite++;
      long batch = nextImportBatch++;
      StringBuilder lines = new StringBuilder();
      List<Integer> ids = new ArrayList<>();
      for (int i = 1 + random.nextInt(20); i > 0; i--) {
        int id = nextId++;
        ids.add(id);
        lines.append(row(id, number).encode()).append('\n');
      }
      Rows rows = catalog.get(table).rows();
      Write write = register(new Write(number, "import batch " + batch, ids, rows));
      boolean defer = random.nextBoolean();
      JsonObject args = new JsonObject().put("firstLine", 1).put("job", job).put("batch", batch)
          .put("deferCommit", defer);
      byte[] bytes = lines.toString().getBytes(StandardCharsets.UTF_8);
      return watch(write, () -> {
        Future<JsonObject> appended = store.appendLines(table, args, bytes);
        // deferCommit replies before the rows are durable: only the sync acknowledges them.
        return defer ? appended.compose(reply -> store.sync(table).map(reply)) : appended;
      });
    }

    private Supplier<Future<JsonObject>> delete(String table) {
      return delete(table, nextId);
    }

    /** Deletes a random id range below {@code limit} (ids of writes in flight are above it). */
    private Supplier<Future<JsonObject>> delete(String table, int limit) {
      Rows rows = catalog.get(table).rows();
      List<Integer> candidates = new ArrayList<>(rows.present.keySet());
      int from = candidates.isEmpty() ? 0 : candidates.get(random.nextInt(candidates.size()));
      int to = Math.min(limit, from + 1 + random.nextInt(15));
      Set<Integer> targets = new TreeSet<>();
      rows.present.keySet().stream().filter(id -> id >= from && id < to).forEach(targets::add);
      Delete delete = new Delete(nextWrite++, targets, rows);
      delete.what = "of ids [" + from + ", " + to + ") from '" + table + "' in cycle " + cycle;
      deletes.add(delete);
      JsonObject body = new JsonObject().put("from", table).put("where",
          new JsonObject().put("id", new JsonObject().put("$gte", from).put("$lt", to)));
      return () -> {
        Future<JsonObject> future;
        try {
          future = store.delete(body);
        } catch (RuntimeException e) {
          future = Future.failedFuture(e);
        }
        return future.andThen(result -> {
          if (result.succeeded() && fs.poweredOff()) {
            // completed after the power went off: a real process would be gone, so this was never an ack
            delete.fate = Fate.UNKNOWN;
          } else if (result.succeeded()) {
            int total = result.result().getInteger("total");
            if (total != targets.size()) {
              delete.failure = "deleted " + total + " rows of table '" + table + "' in [" + from + ", " + to
                  + "), expected " + targets.size() + ": " + targets;
            }
            delete.fate = Fate.ACKED;
          } else {
            delete.fate = fs.poweredOff() ? Fate.UNKNOWN : Fate.REFUSED;
            delete.failure = result.cause().toString();
          }
        });
      };
    }

    private Write register(Write write) {
      writes.add(write);
      return write;
    }

    /** Records the write's fate when its future completes (on whichever thread completes it). */
    private Supplier<Future<JsonObject>> watch(Write write, Supplier<Future<JsonObject>> call) {
      return () -> {
        Future<JsonObject> future;
        try {
          future = call.get();
        } catch (RuntimeException e) {
          future = Future.failedFuture(e);
        }
        return future.andThen(result -> {
          if (result.succeeded() && fs.poweredOff()) {
            // completed after the power went off: a real process would be gone, so this was never an ack
            write.fate = Fate.UNKNOWN;
          } else if (result.succeeded()) {
            write.fate = Fate.ACKED;
          } else if (fs.poweredOff() && !(result.cause() instanceof ApiError error && error.status() < 500)) {
            write.fate = Fate.UNKNOWN;
            write.failure = result.cause().toString();
          } else {
            write.fate = Fate.REFUSED;
            write.failure = result.cause().toString();
          }
        });
      };
    }

    /**
     * Runs a write and waits for it; with {@code crashAtAck} the power goes off inside the acknowledgement
     * itself (the future's first listener, on the thread that completes it), before anything else can run.
     */
    private void track(Supplier<Future<JsonObject>> write, boolean crashAtAck) {
      await(write, crashAtAck);
      settle();
    }

    private void await(Supplier<Future<JsonObject>> write, boolean crashAtAck) {
      Future<JsonObject> future = write.get();
      if (crashAtAck) {
        future = future.andThen(result -> {
          if (result.succeeded()) {
            fs.powerOff("at an acknowledgement");
          }
        });
      }
      try {
        future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      } catch (Exception failed) {
        // the fate is recorded by watch()
      }
    }

    /**
     * Applies what completed to the model (on the test thread): acknowledged rows must be there from now on,
     * refused ones never; writes cut off by the power wait for the restart to decide.
     */
    private void settle() {
      for (Write write : writes) {
        if (write.settled || write.fate == Fate.PENDING) {
          continue;
        }
        write.settled = true;
        boolean invalid = write.kind.equals("invalid batch");
        if (write.fate == Fate.ACKED) {
          if (invalid) {
            throw new AssertionError("acknowledged " + write + " although a row is invalid (seed " + seed + ")");
          }
          write.ids.forEach(id -> write.rows.present.put(id, write));
          if (write.kind.startsWith("import batch ")) {
            write.rows.importBatches.put(Long.parseLong(write.kind.substring("import batch ".length())), write);
          }
        } else if (write.fate == Fate.REFUSED) {
          if (!invalid) {
            throw new AssertionError("refused " + write + " without any fault (seed " + seed + ", cycle " + cycle
                + ")");
          }
          write.ids.forEach(id -> write.rows.gone.put(id, "refused " + write));
        } else {
          write.rows.pending.add(write);
        }
      }
      for (Delete delete : deletes) {
        if (delete.settled || delete.fate == Fate.PENDING) {
          continue;
        }
        delete.settled = true;
        if (delete.fate == Fate.ACKED) {
          if (delete.failure != null) {
            throw new AssertionError("delete " + delete.number + ": " + delete.failure + " (seed " + seed + ")");
          }
          for (int id : delete.targets) {
            delete.rows.present.remove(id);
            delete.rows.gone.put(id, "was deleted by acknowledged delete " + delete.number + " " + delete.what);
          }
        } else if (delete.fate == Fate.REFUSED) {
          throw new AssertionError("delete " + delete.number + " refused without any fault: " + delete.failure
              + " (seed " + seed + ", cycle " + cycle + ")");
        } else {
          delete.rows.pendingDeletes.add(delete);
        }
      }
    }

    // -------------------------------------------------------------------------------- schema changes

    private JsonObject baseSchema() {
      return new JsonObject().put("type", "table").put("columns", new JsonObject()
          .put("id", new JsonObject().put("type", "Int"))
          .put("b", new JsonObject().put("type", "Int"))
          .put("note", new JsonObject().put("type", "Text")));
    }

    private void createTable() {
      Set<String> names = new HashSet<>(catalog.keySet());
      if (names.size() >= 5) {
        return;
      }
      String table = "t" + random.nextInt(8);
      if (names.contains(table)) {
        return;
      }
      JsonObject schema = SchemaParser.parseTable(table, baseSchema()).toJson();
      Map<String, Table> after = new LinkedHashMap<>(catalog);
      after.put(table, new Table(schema, new Rows()));
      schemaChange("create table " + table, after, () -> store.putTable(table, baseSchema()));
    }

    private void dropTable(String table) {
      if (catalog.size() <= 1) {
        return;
      }
      Map<String, Table> after = new LinkedHashMap<>(catalog);
      after.remove(table);
      schemaChange("drop table " + table, after, () -> store.deleteTable(table));
    }

    private void addColumn(String table) {
      String column = "c" + nextColumn++;
      JsonObject definition = new JsonObject().put("type", "String").put("nullable", true);
      Table before = catalog.get(table);
      JsonObject schema = before.schema().copy();
      schema.getJsonObject("columns").put(column, SchemaParser.parseColumn(table, column, definition).toJson());
      Map<String, Table> after = new LinkedHashMap<>(catalog);
      after.put(table, new Table(schema, before.rows()));
      schemaChange("add column " + table + "." + column, after, () -> store.putColumn(table, column, definition));
    }

    /** Drops an added column: the table's rows are rewritten into a new index. */
    private void dropColumn(String table) {
      Table before = catalog.get(table);
      String column = before.schema().getJsonObject("columns").fieldNames().stream()
          .filter(c -> c.startsWith("c")).findFirst().orElse(null);
      if (column == null) {
        return;
      }
      JsonObject schema = before.schema().copy();
      schema.getJsonObject("columns").remove(column);
      Map<String, Table> after = new LinkedHashMap<>(catalog);
      after.put(table, new Table(schema, before.rows()));
      schemaChange("drop column " + table + "." + column, after, () -> store.deleteColumn(table, column));
    }

    private void rename(String table) {
      String to = "t" + random.nextInt(8);
      if (catalog.containsKey(to)) {
        return;
      }
      Map<String, Table> after = new LinkedHashMap<>();
      catalog.forEach((name, t) -> after.put(name.equals(table) ? to : name, t));
      schemaChange("rename " + table + " to " + to, after,
          () -> store.rename(new JsonObject().put("from", table).put("rename", to)));
    }

    private void copy(String table) {
      String to = "t" + random.nextInt(8);
      if (catalog.containsKey(to) || catalog.size() >= 5) {
        return;
      }
      Map<String, Table> after = new LinkedHashMap<>(catalog);
      Table source = catalog.get(table);
      after.put(to, new Table(source.schema(), source.rows().copy()));
      schemaChange("copy " + table + " to " + to, after,
          () -> store.copy(new JsonObject().put("from", table).put("copy", to)));
    }

    /** Acknowledged: the catalog is {@code after}. Cut off by the power: before or after, decided at restart. */
    private void schemaChange(String op, Map<String, Table> after, Supplier<JsonObject> call) {
      try {
        call.get();
        catalog = after;
      } catch (RuntimeException | AssertionError e) {
        // AssertionError: Lucene asserts that fsyncing a directory never fails on Linux; a power loss does
        if (!fs.poweredOff()) {
          throw new AssertionError(op + " failed without a power loss (seed " + seed + ")", e);
        }
        alternative = after;
        alternativeOp = op;
      }
    }

    // -------------------------------------------------------------------------------- restart and checks

    private void restart() throws Exception {
      // The abandoned store: every file operation fails now, closing releases its locks and threads.
      closeQuietly(store);
      open.remove(store);
      // Fates are settled at this point: a future still open was never acknowledged.
      for (Write write : writes) {
        if (write.fate == Fate.PENDING) {
          write.fate = Fate.UNKNOWN;
        }
      }
      for (Delete delete : deletes) {
        if (delete.fate == Fate.PENDING) {
          delete.fate = Fate.UNKNOWN;
        }
      }
      settle();
      fs = fs.reboot(random, random.nextInt(3) == 0);
      store = open();
    }

    private void verify() {
      Map<String, JsonObject> actualSchemas = new LinkedHashMap<>();
      JsonObject schema = store.schema().getJsonObject("schema");
      schema.fieldNames().forEach(t -> actualSchemas.put(t, schema.getJsonObject(t)));
      if (alternative != null) {
        if (schemasOf(alternative).equals(actualSchemas)) {
          catalog = alternative;
        } else if (!schemasOf(catalog).equals(actualSchemas)) {
          throw new AssertionError("schema after " + context() + " cut off '" + alternativeOp
              + "': neither the one before nor the one after; expected " + schemasOf(catalog) + " or "
              + schemasOf(alternative) + ", found " + actualSchemas);
        }
        alternative = null;
      } else if (!schemasOf(catalog).equals(actualSchemas)) {
        throw new AssertionError("acknowledged schema lost after " + context() + ": expected "
            + schemasOf(catalog) + ", found " + actualSchemas + "; durable files: " + fs.durableTree());
      }
      for (Map.Entry<String, Table> table : catalog.entrySet()) {
        verifyTable(table.getKey(), table.getValue().rows());
      }
      for (Write write : writes) {
        write.rows.pending.clear();
      }
      for (Delete delete : deletes) {
        delete.rows.pendingDeletes.clear();
      }
    }

    private Map<String, JsonObject> schemasOf(Map<String, Table> tables) {
      Map<String, JsonObject> schemas = new LinkedHashMap<>();
      tables.forEach((name, table) -> schemas.put(name, table.schema()));
      return schemas;
    }

    private void verifyTable(String table, Rows rows) {
      Map<Integer, Integer> actual = new LinkedHashMap<>();
      JsonArray hits = store.search(new JsonObject().put("from", table).put("limit", 1_000_000)
          .put("select", new JsonArray().add("id").add("b"))).getJsonArray("hits");
      for (int i = 0; i < hits.size(); i++) {
        JsonObject hit = hits.getJsonObject(i);
        Integer previous = actual.put(hit.getInteger("id"), hit.getInteger("b"));
        if (previous != null) {
          throw new AssertionError("row id=" + hit.getInteger("id") + " of write " + previous + " is in table '"
              + table + "' twice after " + context());
        }
      }
      // pending: writes and deletes cut off by the power (acknowledged and refused ones are settled).
      Map<Integer, Write> pendingIds = new LinkedHashMap<>();
      for (Write write : rows.pending) {
        write.ids.forEach(id -> pendingIds.put(id, write));
      }
      Set<Integer> maybeDeleted = new HashSet<>();
      rows.pendingDeletes.forEach(delete -> maybeDeleted.addAll(delete.targets));
      for (Map.Entry<Integer, Write> row : rows.present.entrySet()) {
        int id = row.getKey();
        if (!actual.containsKey(id) && !maybeDeleted.contains(id)) {
          throw new AssertionError("acknowledged row id=" + id + " of " + row.getValue() + " lost in table '"
              + table + "' after " + context() + "; durable files: " + fs.durableTree());
        }
      }
      for (Write write : rows.pending) {
        long found = write.ids.stream().filter(actual::containsKey).count();
        if (found != 0 && found != write.ids.size()) {
          throw new AssertionError("half a write: " + found + " of " + write.ids.size() + " rows of " + write
              + " in table '" + table + "' after " + context());
        }
      }
      for (Delete delete : rows.pendingDeletes) {
        long left = delete.targets.stream().filter(actual::containsKey).count();
        if (left != 0 && left != delete.targets.size()) {
          throw new AssertionError("half a delete: " + left + " of its " + delete.targets.size()
              + " rows left in table '" + table + "' after " + context());
        }
      }
      // Nothing else: no refused, deleted or never written row.
      for (Map.Entry<Integer, Integer> hit : actual.entrySet()) {
        int id = hit.getKey();
        if (rows.gone.containsKey(id)) {
          throw new AssertionError("row id=" + id + " is in table '" + table + "' after " + context() + " but "
              + rows.gone.get(id));
        }
        if (!rows.present.containsKey(id) && !pendingIds.containsKey(id)) {
          throw new AssertionError("row id=" + id + " of write " + hit.getValue() + " is in table '" + table
              + "' after " + context() + " but was never written to it");
        }
      }
      // The model takes what the restart decided.
      for (Delete delete : rows.pendingDeletes) {
        if (delete.targets.stream().noneMatch(actual::containsKey)) {
          for (int id : delete.targets) {
            rows.present.remove(id);
            rows.gone.put(id, "was deleted by delete " + delete.number + " (cut off, applied)");
          }
        }
      }
      for (Write write : rows.pending) {
        boolean stored = actual.containsKey(write.ids.get(0));
        for (int id : write.ids) {
          if (stored) {
            rows.present.put(id, write);
          } else {
            rows.gone.put(id, "was not stored by " + write + " (cut off)");
          }
        }
        if (stored && write.kind.startsWith("import batch ")) {
          rows.importBatches.put(Long.parseLong(write.kind.substring("import batch ".length())), write);
        }
      }
      // The import checkpoint: every stored import batch is listed, and only those.
      Set<Long> listed = new TreeSet<>();
      store.importedBatches(table, job).getJsonArray("batches").forEach(b -> listed.add(((Number) b).longValue()));
      Set<Long> expected = new TreeSet<>();
      rows.importBatches.forEach((batch, write) -> {
        if (write.ids.stream().anyMatch(rows.present::containsKey)) {
          expected.add(batch);
        }
      });
      if (!listed.containsAll(expected)) {
        throw new AssertionError("acknowledged import batches " + expected + " of table '" + table
            + "' not all listed as imported after " + context() + ": " + listed);
      }
    }
  }

  // ------------------------------------------------------------------------------------------ helpers

  /** The run's seed (see {@link io.sluice.TestSeeds}). */
  private static long seed() {
    return io.sluice.TestSeeds.seed();
  }

  private static void closeQuietly(TableStore store) {
    try {
      store.close();
    } catch (Throwable ignored) {
      // closing a store whose disk lost power: its files fail, its locks and threads are released
    }
  }
}
