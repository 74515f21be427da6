package io.sluice.core;

import io.sluice.engine.Checkpoint;
import io.sluice.engine.KeyRecord;
import io.sluice.engine.Page;
import io.sluice.engine.Row;
import io.sluice.engine.RowBatch;
import io.sluice.engine.StorageEngine;
import io.sluice.engine.StorageException;
import io.sluice.engine.TableDef;
import io.sluice.engine.TableStats;
import io.sluice.errors.ApiError;
import io.sluice.ingest.BatchParser;
import io.sluice.ingest.LineBatchParser;
import io.sluice.metrics.Metrics;
import io.sluice.engine.Order;
import io.sluice.engine.Predicate;
import io.sluice.query.PropositionParser;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.Names;
import io.sluice.schema.SchemaParser;
import io.sluice.schema.TableSchema;
import io.sluice.store.Idempotency;
import io.sluice.store.StreamLines;
import io.sluice.store.TableStore;
import io.sluice.bus.Written;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database the API sees, on any {@link StorageEngine}: the catalog (table name → {@link TableDef}) and its lock,
 * schema changes with their link checks, parsing and validating rows ({@link BatchParser}, {@link LineBatchParser})
 * into the engine's typed rows, the import checkpoint protocol, search validation, paging, {@code select}
 * projection and link joins, and every user-facing error message. The engine only stores.
 *
 * <p>Thread-safety: any number of threads may call it. Data operations hold the catalog's read lock while they
 * call the engine; schema operations hold its write lock, so a table never changes shape under a write. A
 * write's future completes once the engine says it is durable.
 */
public final class Database implements TableStore {
  private static final Logger LOG = LoggerFactory.getLogger(Database.class);

  private final StorageEngine engine;
  private final int maxResultLimit;
  private final Metrics metrics;
  private final ReentrantReadWriteLock catalogLock = new ReentrantReadWriteLock();
  private final Map<String, TableDef> entries;
  /** Set when saving the catalog failed: the engine's catalog is then unknown, writes are refused until restart. */
  private volatile StorageException catalogFailure;
  /**
   * Internal ids of tables rebuilt with their rows (a dropped column): old id → new id, so that an import that
   * started on the old table goes on into the new one. A dropped or replaced table has no entry: its imports end.
   */
  private final Map<String, String> rebuiltIds = new HashMap<>();
  /** The rebuild the schema change in progress saves with the catalog (under the write lock); null: none. */
  private Map<String, String> pendingRebuild;
  /**
   * Appends by table id whose future has not completed. The catalog lock covers only the start of a write: an
   * engine that stores rows when it commits (PostgreSQL) does not count or copy them before, so a schema change
   * that counts or copies rows first waits for these ({@link #awaitWrites}); no new one starts under its lock.
   */
  private final Map<String, AtomicInteger> writing = new ConcurrentHashMap<>();
  /**
   * Idempotency-Keys of writes in flight on this node (table id + scope): a repeat meanwhile gets a 409. With a
   * shared catalog, also held for every node ({@link StorageEngine.SharedCatalog#holdKey}), by {@link #holdKey}.
   */
  private final Set<String> keysInFlight = ConcurrentHashMap.newKeySet();
  /** The cluster-wide holds of the keys in {@link #keysInFlight}, when the catalog is shared. */
  private final Map<String, StorageEngine.SharedCatalog.KeyHold> keyHolds = new ConcurrentHashMap<>();
  private final long idempotencyRetentionSeconds;
  /**
   * Row counts of {@link #tableStats} by table id, and the ids written since they were counted: only those are
   * counted again (PostgreSQL counts with a scan).
   */
  private final Map<String, Long> countedRows = new ConcurrentHashMap<>();
  private final Set<String> recount = ConcurrentHashMap.newKeySet();
  /** The last stats of each table id, kept when measuring it fails once (a gauge should not blink). */
  private final Map<String, TableStats> lastStats = new ConcurrentHashMap<>();
  /**
   * Idempotency-Key records of schema operations (record name → {@code {"batch", "reply"}}), saved with the
   * catalog (the catalog change and its record in one atomic write). Under the catalog write lock.
   */
  private final Map<String, String> schemaKeys = new HashMap<>();
  /** The record of the schema operation running under a key (write lock held), saved by its catalog change. */
  private PendingKey pendingKey;

  private static final class PendingKey {
    final String name;
    final long batch;
    JsonObject reply;
    boolean saved;

    PendingKey(String name, long batch) {
      this.name = name;
      this.batch = batch;
    }
  }

  /** The catalog as of the last schema change, for reads that must not wait for the lock. */
  private volatile Published published;
  /**
   * Non-null when other nodes change the catalog too (a cluster on one PostgreSQL). Then every operation first
   * reads the stored catalog version and reloads the catalog when it moved ({@link #refresh}); a schema change
   * holds the cluster-wide schema lock, under which the engine stores an append or delete only if the version is
   * still the one its rows were validated under; one that raced a change is validated again and retried once
   * ({@link #retryStale}).
   */
  private final StorageEngine.SharedCatalog shared;
  /** Runs a retry off the thread that completed the engine's future (an event loop, for PostgreSQL). */
  private final java.util.concurrent.Executor retries;

  private record Published(Map<String, TableDef> entries, Map<String, String> rebuiltIds) {
  }

  /** How long a schema change waits for the table's writes in flight before it gives up (503). */
  private static final long WRITES_TIMEOUT_MS = 120_000;

  /** metrics: receives rows ingested and rejected per table. */
  public Database(StorageEngine engine, int maxResultLimit, Metrics metrics) {
    this(engine, maxResultLimit, metrics, 86_400);
  }

  /** idempotencyRetentionSeconds: how long a write's Idempotency-Key is remembered. */
  public Database(StorageEngine engine, int maxResultLimit, Metrics metrics, long idempotencyRetentionSeconds) {
    this(engine, maxResultLimit, metrics, idempotencyRetentionSeconds, Runnable::run);
  }

  /** retries: where a write that raced another node's schema change is validated again (a worker thread). */
  public Database(StorageEngine engine, int maxResultLimit, Metrics metrics, long idempotencyRetentionSeconds,
      java.util.concurrent.Executor retries) {
    this.idempotencyRetentionSeconds = idempotencyRetentionSeconds;
    this.engine = engine;
    this.maxResultLimit = maxResultLimit;
    this.metrics = metrics;
    this.retries = retries;
    this.shared = engine.sharedCatalog();
    // Another node may be inside a schema change, with storage its catalog does not name yet: not an orphan.
    try (StorageEngine.SharedCatalog.Lock lock = shared == null ? null : shared.lock()) {
      this.entries = engine.loadCatalog();
      this.schemaKeys.putAll(engine.loadCatalogKeys());
      Set<String> known = new HashSet<>();
      entries.values().forEach(table -> known.add(table.id()));
      engine.dropOrphans(known);
      if (shared != null) {
        rebuiltIds.putAll(shared.rebuiltIds()); // imports resumed here may have started on a table since rebuilt
      }
    }
    this.published = new Published(Map.copyOf(entries), Map.copyOf(rebuiltIds));
  }

  // ---------------------------------------------------------------- schema

  @Override
  public JsonObject schema() {
    return read(this::schemaUnlocked);
  }

  @Override
  public JsonObject putSchema(JsonObject body) {
    Map<String, TableSchema> tables = SchemaParser.parseDatabase(body);
    return write(() -> {
      tables.forEach((name, schema) -> checkLinks(name, schema, tables));
      Map<String, TableDef> old = new LinkedHashMap<>(entries);
      Map<String, TableDef> fresh = new LinkedHashMap<>();
      tables.forEach((name, schema) -> fresh.put(name, new TableDef(newId(), schema)));
      JsonObject freshJson = new JsonObject();
      fresh.forEach((name, def) -> freshJson.put(name, def.schema().toJson()));
      replyWillBe(new JsonObject().put("schema", freshJson));
      List<TableDef> created = new ArrayList<>();
      try {
        for (TableDef table : fresh.values()) {
          engine.createTable(table);
          created.add(table);
        }
        saveCatalog(fresh);
      } catch (RuntimeException e) {
        created.forEach(table -> drop(table.id()));
        throw e;
      }
      entries.clear();
      entries.putAll(fresh);
      old.values().forEach(table -> drop(table.id()));
      return schemaUnlocked();
    });
  }

  @Override
  public JsonObject deleteSchema() {
    return write(() -> {
      Map<String, TableDef> old = new LinkedHashMap<>(entries);
      replyWillBe(new JsonObject().put("deleted", new JsonArray(new ArrayList<>(old.keySet()))));
      saveCatalog(Map.of());
      entries.clear();
      old.values().forEach(table -> drop(table.id()));
      return new JsonObject().put("deleted", new JsonArray(new ArrayList<>(old.keySet())));
    });
  }

  @Override
  public JsonObject table(String table) {
    return read(() -> entry(table).schema().toJson());
  }

  @Override
  public String tableId(String table) {
    return read(() -> entry(table).id());
  }

  /**
   * The current name of the table an import started on: its internal id, followed through rebuilds that kept the
   * rows, found under any name (a rename carries the import along). A table dropped or replaced since (by a
   * table or whole-schema PUT, a drop, a rename or copy over it) is gone with the rows the import stored: 409.
   * Under the catalog lock.
   */
  private String currentName(String table, String tableId) {
    return currentName(table, tableId, entries, rebuiltIds);
  }

  private static String currentName(String table, String tableId, Map<String, TableDef> entries,
      Map<String, String> rebuiltIds) {
    if (tableId == null) {
      return table;
    }
    String id = tableId;
    for (int hops = 0; rebuiltIds.containsKey(id) && hops < 1000; hops++) {
      id = rebuiltIds.get(id);
    }
    for (Map.Entry<String, TableDef> e : entries.entrySet()) {
      if (e.getValue().id().equals(id)) {
        return e.getKey();
      }
    }
    throw new ApiError(409, "table '" + table + "' was dropped or replaced while the import ran", null,
        TableStore.TABLE_REPLACED);
  }

  @Override
  public JsonObject putTable(String table, JsonObject body) {
    TableSchema schema = SchemaParser.parseTable(table, body);
    return write(() -> {
      Map<String, TableSchema> view = schemasUnlocked();
      view.put(table, schema);
      checkLinks(table, schema, view);
      TableDef existing = entries.get(table);
      if (existing != null) {
        if (existing.schema().equals(schema)) {
          return schema.toJson();
        }
        long rows = rowCount(existing.id());
        if (rows > 0) {
          throw ApiError.conflict("table '" + table + "' has " + rows + " rows and a different schema; delete its"
              + " rows or the table first, or add columns one by one with PUT /api/v1/schema/" + table + "/<column>");
        }
        checkNotLinkedTo(table, schema);
        replyWillBe(schema.toJson());
        installTable(table, new TableDef(newId(), schema), null);
      } else {
        replyWillBe(schema.toJson());
        installTable(table, new TableDef(newId(), schema), null);
      }
      return schema.toJson();
    });
  }

  @Override
  public JsonObject deleteTable(String table) {
    return write(() -> {
      TableDef dropped = entries.get(table);
      if (dropped == null) { // idempotent, as in Aito; decided under the catalog lock
        return new JsonObject().put("deleted", new JsonArray());
      }
      for (Map.Entry<String, TableDef> other : entries.entrySet()) {
        if (other.getKey().equals(table)) {
          continue;
        }
        other.getValue().schema().columns().forEach((column, col) -> {
          if (table.equals(col.linkTable())) {
            throw ApiError.conflict("table '" + table + "' is linked from column '" + column + "' of table '"
                + other.getKey() + "'; drop that column or table first");
          }
        });
      }
      Map<String, TableDef> next = new LinkedHashMap<>(entries);
      next.remove(table);
      replyWillBe(new JsonObject().put("deleted", new JsonArray().add(table)));
      saveCatalog(next);
      entries.remove(table);
      drop(dropped.id());
      return new JsonObject().put("deleted", new JsonArray().add(table));
    });
  }

  @Override
  public JsonObject column(String table, String column) {
    return read(() -> column(entry(table).schema(), table, column).toJson());
  }

  @Override
  public JsonObject putColumn(String table, String column, JsonObject body) {
    ColumnSchema parsed = SchemaParser.parseColumn(table, column, body);
    return write(() -> {
      TableDef current = entry(table);
      TableSchema schema = current.schema();
      ColumnSchema existing = schema.column(column);
      if (parsed.equals(existing)) {
        return parsed.toJson();
      }
      TableSchema updated = schema.withColumn(column, parsed);
      Map<String, TableSchema> view = schemasUnlocked();
      view.put(table, updated);
      checkLinks(table, updated, view);
      long rows = rowCount(current.id());
      if (rows > 0 && existing != null) {
        throw ApiError.conflict("column '" + column + "' of table '" + table + "' already exists with another type"
            + " and the table has " + rows + " rows; drop the column first");
      }
      if (rows > 0 && !parsed.nullable()) {
        throw ApiError.conflict("cannot add non-nullable column '" + column + "' to table '" + table + "' which has "
            + rows + " rows; declare it \"nullable\": true");
      }
      replyWillBe(parsed.toJson());
      if (rows == 0 && existing != null) {
        installTable(table, new TableDef(newId(), updated), null);
      } else {
        TableDef next = new TableDef(current.id(), updated);
        engine.addColumn(current.id(), updated);
        Map<String, TableDef> catalog = new LinkedHashMap<>(entries);
        catalog.put(table, next);
        saveCatalog(catalog);
        entries.put(table, next);
      }
      return parsed.toJson();
    });
  }

  @Override
  public JsonObject deleteColumn(String table, String column) {
    return write(() -> {
      TableDef current = entries.get(table);
      if (current == null || current.schema().column(column) == null) { // idempotent too
        return new JsonObject().put("deleted", new JsonArray());
      }
      TableSchema schema = current.schema();
      if (schema.columns().size() == 1) {
        throw ApiError.badRequest("cannot drop '" + column + "', the last column of table '" + table
            + "'; delete the table instead");
      }
      checkNotLinkTarget(table, column);
      TableDef rebuilt = new TableDef(newId(), schema.withoutColumn(column));
      awaitWrites(current.id());
      replyWillBe(new JsonObject().put("deleted", new JsonArray().add(table + "." + column)));
      // saved with the catalog, so that imports on other nodes sharing it follow the rows too
      pendingRebuild = Map.of(current.id(), rebuilt.id());
      try {
        installTable(table, rebuilt, () -> engine.copyRowsWithout(current.id(), rebuilt, column));
      } finally {
        pendingRebuild = null;
      }
      rebuiltIds.put(current.id(), rebuilt.id()); // the rows moved: running imports follow them
      return new JsonObject().put("deleted", new JsonArray().add(table + "." + column));
    });
  }

  @Override
  public JsonObject rename(JsonObject body) {
    String from = requiredName(body, "from");
    String to = requiredName(body, "rename");
    boolean replace = body.getBoolean("replace", false);
    return write(() -> {
      TableDef entry = entry(from);
      if (from.equals(to)) {
        return new JsonObject().put("from", from).put("rename", to);
      }
      if (entries.containsKey(to) && !replace) {
        throw ApiError.conflict("table '" + to + "' exists; pass \"replace\": true to overwrite it");
      }
      Map<String, TableDef> next = new LinkedHashMap<>();
      for (Map.Entry<String, TableDef> e : entries.entrySet()) {
        if (e.getKey().equals(to)) {
          continue;
        }
        String name = e.getKey().equals(from) ? to : e.getKey();
        next.put(name, new TableDef(e.getValue().id(), relink(e.getValue().schema(), from, to)));
      }
      replyWillBe(new JsonObject().put("from", from).put("rename", to).put("schema", entry.schema().toJson()));
      saveCatalog(next);
      TableDef replaced = entries.get(to);
      entries.clear();
      entries.putAll(next);
      if (replaced != null) {
        drop(replaced.id());
      }
      return new JsonObject().put("from", from).put("rename", to).put("schema", entry.schema().toJson());
    });
  }

  @Override
  public JsonObject copy(JsonObject body) {
    String from = requiredName(body, "from");
    String to = requiredName(body, "copy");
    boolean replace = body.getBoolean("replace", false);
    return write(() -> {
      TableDef source = entry(from);
      if (from.equals(to)) {
        throw ApiError.badRequest("cannot copy table '" + from + "' onto itself");
      }
      if (entries.containsKey(to) && !replace) {
        throw ApiError.conflict("table '" + to + "' exists; pass \"replace\": true to overwrite it");
      }
      TableDef copy = new TableDef(newId(), source.schema());
      awaitWrites(source.id());
      replyWillBe(new JsonObject().put("from", from).put("copy", to).put("schema", copy.schema().toJson()));
      installTable(to, copy, () -> engine.copyRows(source.id(), copy));
      return new JsonObject().put("from", from).put("copy", to).put("schema", copy.schema().toJson());
    });
  }

  /** The rows of a table, counting every write that is in flight (see {@link #writing}). Under the write lock. */
  private long rowCount(String id) {
    awaitWrites(id);
    return engine.rowCount(id);
  }

  private void drop(String id) {
    engine.dropTable(id);
    writing.remove(id);
  }

  private static void finished(AtomicInteger pending) {
    if (pending.decrementAndGet() == 0) {
      synchronized (pending) {
        pending.notifyAll();
      }
    }
  }

  /**
   * Waits until no write to the table is in flight. Under the write lock, so none starts meanwhile. With a shared
   * catalog the cluster's schema lock already did (and a local write queued behind that lock would never end).
   */
  private void awaitWrites(String id) {
    AtomicInteger pending = writing.get(id);
    if (pending == null || shared != null) {
      return;
    }
    long deadline = System.currentTimeMillis() + WRITES_TIMEOUT_MS;
    synchronized (pending) {
      while (pending.get() > 0) {
        long left = deadline - System.currentTimeMillis();
        if (left <= 0) {
          throw new ApiError(503, "writes to the table did not complete in time; retry the schema change", null,
              "StorageFailure");
        }
        try {
          pending.wait(Math.min(left, 100));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new ApiError(503, "interrupted while waiting for the table's writes", null, "StorageFailure");
        }
      }
    }
  }

  /**
   * Creates the table's new storage beside the old one (filled by {@code fill}) and swaps it in: the catalog names
   * the new storage only once it is filled, so a crash midway leaves the old table (and an orphan the engine
   * drops at the next start). Under the write lock.
   */
  private void installTable(String table, TableDef next, Runnable fill) {
    engine.createTable(next);
    Map<String, TableDef> catalog = new LinkedHashMap<>(entries);
    catalog.put(table, next);
    try {
      if (fill != null) {
        fill.run();
      }
      saveCatalog(catalog);
    } catch (RuntimeException e) {
      drop(next.id());
      throw e;
    }
    TableDef old = entries.put(table, next);
    if (old != null) {
      drop(old.id());
    }
  }

  /** The reply a schema change will answer, known before it saves the catalog: its key's record holds it. */
  private void replyWillBe(JsonObject reply) {
    if (pendingKey != null) {
      pendingKey.reply = reply;
    }
  }

  /**
   * A schema or column change under an Idempotency-Key (null: none). The record (named by the key's scope and the
   * table, or the whole schema) holds the request's fingerprint and the reply, and is saved in the same atomic
   * catalog write as the change. A change that saves nothing (it was already so) records nothing: a repeat
   * answers the same by itself. Repeats wait for the catalog lock, so no 409 is needed.
   */
  @Override
  public Written schemaChange(String kind, String table, String column, JsonObject body, Idempotency idempotency,
      java.util.function.Supplier<JsonObject> change) {
    if (idempotency == null) {
      return Written.fresh(change.get());
    }
    String name = KEY_JOB + idempotency.scope() + "\n" + (table == null ? "" : table);
    long fingerprint = fingerprint(kind, ((column == null ? "" : column) + "\n" + (body == null ? "" : body.encode()))
        .getBytes(StandardCharsets.UTF_8));
    catalogLock.writeLock().lock();
    try {
      checkCatalog();
      long now = System.currentTimeMillis() / 1000;
      String stored = schemaKeys.get(name);
      if (stored != null) {
        JsonObject record = new JsonObject(stored);
        long batch = record.getLong("batch");
        if ((batch >>> FINGERPRINT_BITS) >= now - idempotencyRetentionSeconds) {
          if ((batch & FINGERPRINT_MASK) != fingerprint) {
            metrics.idempotency("mismatch");
            throw new ApiError(422, "Idempotency-Key '" + idempotency.key() + "' was already used"
                + (table == null ? "" : " on table '" + table + "'") + " for a different request; send a new key"
                + " for a new request", null, "IdempotencyKeyReused");
          }
          metrics.idempotency("replayed");
          return new Written(record.getJsonObject("reply").copy(), true);
        }
      }
      pendingKey = new PendingKey(name, (now << FINGERPRINT_BITS) | fingerprint);
      JsonObject reply = change.get();
      if (pendingKey.saved) {
        metrics.idempotency("recorded");
      }
      return Written.fresh(reply);
    } finally {
      pendingKey = null;
      catalogLock.writeLock().unlock();
    }
  }

  // ---------------------------------------------------------------- rows

  @Override
  public Future<Written> insertOne(String table, byte[] body, Idempotency idempotency) {
    return idempotent(table, "row", body, idempotency,
        checkpoint -> writeRows(table, null, checkpoint, false, schema -> BatchParser.parseOne(table, schema, body),
            row -> batch(1, List.of(row), new RowBatch.Redo(false, body)), (row, name) -> objectOf(row)),
        (schema, record) -> objectOf(BatchParser.parseOne(table, schema, body)));
  }

  /**
   * Validates the whole array first (all or nothing). A body up to {@link #PARSE_ONCE_BYTES} is read once into
   * typed rows; a larger one is read again row by row while the engine stores it, so it never holds more than one
   * parsed row besides its body. Both take the fast path ({@link BatchParser#plainCount}) when every row is
   * plainly valid, else trees, which report what is wrong.
   */
  @Override
  public Future<Written> insertBatch(String table, byte[] body, Idempotency idempotency) {
    RowBatch.Redo redo = new RowBatch.Redo(true, body);
    return idempotent(table, "batch", body, idempotency,
        checkpoint -> writeRows(table, null, checkpoint, false, schema -> batchRows(table, schema, body, redo),
            rows -> rows, (rows, name) -> new JsonObject().put("total", rows.count())),
        (schema, record) -> new JsonObject().put("total", batchRows(table, schema, body, redo).count()));
  }

  // ---------------------------------------------------------------- idempotency keys

  /** Low bits of a record's checkpoint batch: the request's fingerprint; the high bits: when it was written. */
  private static final int FINGERPRINT_BITS = 28;
  private static final long FINGERPRINT_MASK = (1L << FINGERPRINT_BITS) - 1;
  private static final String KEY_JOB = "idem:";

  /**
   * A write under an Idempotency-Key. The record is the engine's import checkpoint ({@code job} "idem:" + scope,
   * {@code batch} = epoch seconds << 28 | a fingerprint of the request), stored with the rows in the same commit
   * (for Lucene also in the write-ahead log record), so the rows and the record are durable together. A repeat is
   * answered by reading the request again (the fingerprint says it is the same), so no reply is stored.
   * Records older than the retention are ignored: a repeat then writes again. A write that stores no rows (a
   * delete) stores a {@link KeyRecord} with the same job and batch instead, with its reply's count, which
   * {@code replay} gets (null for a row write's record).
   */
  private Future<Written> idempotent(String table, String kind, byte[] body, Idempotency idempotency,
      Function<Checkpoint, Future<JsonObject>> write, BiFunction<TableSchema, KeyRecord, JsonObject> replay) {
    if (idempotency == null) {
      return write.apply(null).map(Written::fresh);
    }
    checkCatalog();
    String job = KEY_JOB + idempotency.scope();
    long fingerprint = fingerprint(kind, body);
    String flight = read(() -> entry(table).id()) + " " + job;
    if (!holdKey(flight)) {
      metrics.idempotency("in_flight");
      throw new ApiError(409, "a request with Idempotency-Key '" + idempotency.key() + "' on table '" + table
          + "' is still in progress; retry after it is answered", null, IDEMPOTENCY_IN_FLIGHT);
    }
    Future<Written> result;
    try {
      long now = System.currentTimeMillis() / 1000;
      JsonObject replayed = read(() -> {
        TableDef def = entry(table);
        Long recorded = null;
        for (long batch : engine.importedBatches(def.id(), job)) {
          if ((batch >>> FINGERPRINT_BITS) >= now - idempotencyRetentionSeconds) {
            recorded = batch; // ascending: the newest record within the retention wins
          }
        }
        KeyRecord keyRecord = engine.keyRecord(def.id(), job);
        if (keyRecord != null && (keyRecord.batch() >>> FINGERPRINT_BITS) >= now - idempotencyRetentionSeconds
            && (recorded == null || keyRecord.batch() > recorded)) {
          recorded = keyRecord.batch();
        } else {
          keyRecord = null;
        }
        if (recorded == null) {
          return null;
        }
        if ((recorded & FINGERPRINT_MASK) != fingerprint) {
          metrics.idempotency("mismatch");
          throw new ApiError(422, "Idempotency-Key '" + idempotency.key() + "' was already used on table '" + table
              + "' for a different request; send a new key for a new request", null, "IdempotencyKeyReused");
        }
        return replay.apply(def.schema(), keyRecord);
      });
      if (replayed != null) {
        metrics.idempotency("replayed");
        result = Future.succeededFuture(new Written(replayed, true));
      } else {
        result = write.apply(new Checkpoint(job, (now << FINGERPRINT_BITS) | fingerprint))
            .onSuccess(reply -> metrics.idempotency("recorded")).map(Written::fresh);
      }
    } catch (RuntimeException e) {
      releaseKey(flight);
      throw e;
    }
    return result.onComplete(done -> releaseKey(flight));
  }

  /**
   * A stream sent under an Idempotency-Key begins: the key is held until {@link #endStream} (a second stream
   * with it meanwhile gets a 409), and the reply lists the lines its earlier attempts committed, within the
   * retention: {@code {"job", "tableId", "hour", "lines": [[first, count]...]}}. Each batch of the stream then
   * carries {@link StreamLines} as its checkpoint, in the batch's own commit.
   */
  @Override
  public JsonObject beginStream(String table, Idempotency idempotency) {
    checkCatalog();
    String job = StreamLines.JOB_PREFIX + idempotency.scope();
    return read(() -> {
      TableDef def = entry(table);
      if (!holdKey(def.id() + " " + job)) {
        metrics.idempotency("in_flight");
        throw new ApiError(409, "a stream with Idempotency-Key '" + idempotency.key() + "' into table '" + table
            + "' is still in progress; retry after it is answered", null, IDEMPOTENCY_IN_FLIGHT);
      }
      try {
        long hour = StreamLines.hourNow();
        long oldest = hour - (idempotencyRetentionSeconds + 3599) / 3600;
        JsonArray lines = new JsonArray();
        for (long batch : engine.importedBatches(def.id(), job)) {
          if (StreamLines.hour(batch) >= oldest) {
            lines.add(new JsonArray().add(StreamLines.firstLine(batch)).add(StreamLines.count(batch)));
          }
        }
        metrics.idempotency(lines.isEmpty() ? "recorded" : "replayed"); // a stream's start: new, or resumed
        return new JsonObject().put("job", job).put("tableId", def.id()).put("hour", hour).put("lines", lines);
      } catch (RuntimeException e) {
        releaseKey(def.id() + " " + job);
        throw e;
      }
    });
  }

  @Override
  public JsonObject endStream(String tableId, Idempotency idempotency) {
    releaseKey(tableId + " " + StreamLines.JOB_PREFIX + idempotency.scope());
    return new JsonObject();
  }

  /**
   * Holds an Idempotency-Key (table id + job) while its request runs: false when a request holds it already, on
   * this node or, with a shared catalog, on any node. Blocking (a worker thread).
   */
  private boolean holdKey(String flight) {
    if (!keysInFlight.add(flight)) {
      return false;
    }
    if (shared == null) {
      return true;
    }
    StorageEngine.SharedCatalog.KeyHold hold;
    try {
      hold = shared.holdKey(flight);
    } catch (RuntimeException e) {
      keysInFlight.remove(flight);
      throw e instanceof StorageException storage ? storageError(null, storage) : e;
    }
    if (hold == null) {
      keysInFlight.remove(flight);
      return false;
    }
    keyHolds.put(flight, hold);
    return true;
  }

  /** Releases what {@link #holdKey} held; never blocks. */
  private void releaseKey(String flight) {
    StorageEngine.SharedCatalog.KeyHold hold = keyHolds.remove(flight);
    if (hold != null) {
      hold.release();
    }
    keysInFlight.remove(flight);
  }

  private static long fingerprint(String kind, byte[] body) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(kind.getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
      byte[] hash = digest.digest(body);
      long bits = 0;
      for (int i = 0; i < 4; i++) {
        bits = (bits << 8) | (hash[i] & 0xFF);
      }
      return bits & FINGERPRINT_MASK;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static final int PARSE_ONCE_BYTES = 1024 * 1024;

  private static RowBatch batchRows(String table, TableSchema schema, byte[] body, RowBatch.Redo redo) {
    if (body.length <= PARSE_ONCE_BYTES) {
      List<Row> parsed = BatchParser.plainParsed(schema, body);
      if (parsed != null) {
        return batch(parsed.size(), parsed, redo);
      }
    } else {
      int plain = BatchParser.plainCount(schema, body);
      if (plain >= 0) {
        return batch(plain, BatchParser.plainRows(schema, body), redo);
      }
    }
    return batch(BatchParser.validateArray(table, schema, body), BatchParser.rows(schema, body), redo);
  }

  private static RowBatch batch(int count, Iterable<Row> rows, RowBatch.Redo redo) {
    return new RowBatch() {
      @Override
      public int count() {
        return count;
      }

      @Override
      public Iterable<Row> rows() {
        return rows;
      }

      @Override
      public Redo redo() {
        return redo;
      }
    };
  }

  @Override
  public Future<JsonObject> appendLines(String table, JsonObject args, byte[] payload) {
    long firstLine = args.getLong("firstLine", 1L);
    String job = args.getString("job");
    Long batch = args.getLong("batch");
    boolean validateOnly = args.getBoolean("validateOnly", false);
    boolean deferCommit = args.getBoolean("deferCommit", false);
    Checkpoint checkpoint = job == null || batch == null ? null : new Checkpoint(job, batch, true,
        args.getString("holder"));
    return writeRows(table, args.getString("tableId"), checkpoint, deferCommit, schema -> {
      LineBatchParser.Result parsed = LineBatchParser.parse(table, schema, payload, firstLine, engine.rowCheck());
      if (!validateOnly) {
        metrics.rowsRejected(table, parsed.failedCount());
      }
      return parsed;
    }, parsed -> validateOnly ? batch(0, List.of(), null) : batch(parsed.rows().size(), parsed.rows(), null),
        (parsed, name) -> {
          List<Row> valid = parsed.rows();
          JsonObject reply = new JsonObject()
              .put("table", name) // its current name: a rename carries the import along
              .put("appended", valid.size())
              .put("failedCount", parsed.failedCount())
              .put("failures", parsed.failures());
          if (!valid.isEmpty()) {
            reply.put("last", objectOf(valid.get(valid.size() - 1)));
          }
          if (validateOnly) { // recounted: stored by an earlier run
            reply.put(TableStore.ALREADY_STORED, true);
          }
          return reply;
        });
  }

  @Override
  public JsonObject importedBatches(String table, String job) {
    return read(() -> new JsonObject().put("batches",
        new JsonArray(new ArrayList<>(engine.importedBatches(entry(table).id(), job)))));
  }

  /** Reads a write's body for a table's schema (may throw the 400 that lists bad rows). */
  private interface Parse<P> {
    P parse(TableSchema schema);
  }

  /** The reply to a write: built from what was parsed and the table's current name once the rows are stored. */
  private interface Reply<P> {
    JsonObject of(P parsed, String table);
  }

  /**
   * Parses, appends and waits until durable. tableId: the internal id an import started on (null: the table now
   * named so). The reply is built before waiting, so the parsed rows are garbage as soon as they are stored:
   * memory held per waiting write is only its reply. Deferred: the reply comes once the rows are added, not yet
   * durable: the caller must {@link #sync}.
   */
  private <P> Future<JsonObject> writeRows(String requested, String tableId, Checkpoint checkpoint,
      boolean deferred, Parse<P> parse, Function<P, RowBatch> rowsOf, Reply<P> reply) {
    refresh();
    return retryStale(() -> writeRowsOnce(requested, tableId, checkpoint, deferred, parse, rowsOf, reply))
        .recover(failure -> mapFailure(requested, failure));
  }

  /** A write's failure because another node changed the schema under it: nothing was stored. */
  private boolean stale(Throwable failure) {
    return shared != null && failure instanceof StorageException e
        && (e.kind() == StorageException.Kind.STALE_CATALOG || e.kind() == StorageException.Kind.TABLE_GONE);
  }

  /**
   * Runs a write; if it raced another node's schema change, reloads the catalog and runs it once more (on a
   * worker: it parses and validates again). A second race is answered 503 with Retry-After by the caller.
   */
  private Future<JsonObject> retryStale(java.util.function.Supplier<Future<JsonObject>> write) {
    Future<JsonObject> first = write.get();
    if (shared == null) {
      return first;
    }
    return first.recover(failure -> {
      if (!stale(failure)) {
        return Future.failedFuture(failure);
      }
      io.vertx.core.Promise<JsonObject> again = io.vertx.core.Promise.promise();
      retries.execute(() -> {
        try {
          refresh();
          write.get().onComplete(again);
        } catch (RuntimeException e) {
          again.fail(e);
        }
      });
      // raced again (schema changes back to back): a 503 to retry, not the 409 of a table dropped for good
      return again.future().recover(second -> Future.failedFuture(stale(second)
          ? new StorageException(StorageException.Kind.STALE_CATALOG, "the schema is changing", second)
          : second));
    });
  }

  /** One try of {@link #writeRows}; a stale catalog's failure is left unmapped, for {@link #retryStale}. */
  private <P> Future<JsonObject> writeRowsOnce(String requested, String tableId, Checkpoint checkpoint,
      boolean deferred, Parse<P> parse, Function<P, RowBatch> rowsOf, Reply<P> reply) {
    checkCatalog();
    String table = requested;
    JsonObject result;
    Future<Integer> durable;
    catalogLock.readLock().lock();
    try {
      table = currentName(requested, tableId);
      TableDef def = entry(table);
      P parsed;
      try {
        parsed = parse.parse(def.schema());
      } catch (ApiError invalid) {
        if (invalid.status() == 400) {
          // A refused batch lists its bad rows (the first 50); a single bad row has no list.
          metrics.rowsRejected(table, invalid.errors() == null ? 1 : invalid.errors().size());
        }
        throw invalid;
      }
      RowBatch rows = rowsOf.apply(parsed);
      if (rows.count() == 0) {
        return Future.succeededFuture(reply.of(parsed, table));
      }
      AtomicInteger pending = writing.computeIfAbsent(def.id(), id -> new AtomicInteger());
      pending.incrementAndGet();
      try {
        durable = engine.append(def, rows, checkpoint, deferred);
      } catch (RuntimeException e) {
        finished(pending);
        throw e;
      }
      String id = def.id();
      durable.onComplete(done -> {
        recount.add(id);
        finished(pending);
      });
      result = reply.of(parsed, table);
    } catch (StorageException e) {
      return Future.failedFuture(stale(e) ? e : storageError(table, e));
    } finally {
      catalogLock.readLock().unlock();
    }
    String written = table;
    return durable.map(stored -> {
      // Deferred rows are counted once added: the import's own sync follows within import.commit.interval.ms.
      metrics.rowsIngested(written, stored);
      if (stored == 0) {
        // a resent import batch whose first copy was stored: answered as that copy was, but counted once
        result.put(TableStore.ALREADY_STORED, true);
      }
      return result;
    }).recover(failure -> stale(failure) ? Future.failedFuture(failure) : mapFailure(written, failure));
  }

  @Override
  public Future<JsonObject> sync(String table) {
    return sync(table, null);
  }

  @Override
  public Future<JsonObject> sync(String requested, String tableId) {
    String table;
    Future<Void> durable;
    catalogLock.readLock().lock();
    try {
      table = currentName(requested, tableId);
      String id = entry(table).id();
      durable = engine.sync(id).onComplete(done -> recount.add(id));
    } catch (StorageException e) {
      return Future.failedFuture(storageError(requested, e));
    } finally {
      catalogLock.readLock().unlock();
    }
    Future<JsonObject> reply = durable.map(v -> new JsonObject().put("table", table))
        .recover(failure -> mapFailure(table, failure));
    if (tableId == null) {
      return reply;
    }
    // The commit may complete on a table dropped meanwhile (its rows went with it): check again after it.
    // Read from the published catalog, not under the lock: this may run on the thread that completes the
    // engine's commits (an event loop for PostgreSQL), which a schema change waiting for writes may need.
    return reply.compose(done -> {
      Published catalog = published;
      return Future.succeededFuture(done.put("table",
          currentName(requested, tableId, catalog.entries(), catalog.rebuiltIds())));
    });
  }

  /**
   * With an Idempotency-Key the delete stores a {@link KeyRecord} in its own commit (or transaction) with the
   * count it answers, so a repeat answers that count again and deletes nothing (rows added since stay).
   */
  @Override
  public Future<Written> delete(JsonObject body, Idempotency idempotency) {
    // A misspelt "where" must not delete every row as an absent one does.
    onlyKeys(body, "a delete", DELETE_KEYS);
    String table = requiredName(body, "from");
    return idempotent(table, "delete", body.encode().getBytes(StandardCharsets.UTF_8), idempotency,
        checkpoint -> delete(table, body, checkpoint == null ? null : new KeyRecord(checkpoint.job(),
            checkpoint.batch(), 0, (checkpoint.batch() >>> FINGERPRINT_BITS) + idempotencyRetentionSeconds)),
        (schema, record) -> {
          if (record == null) { // a row write's key: another request
            throw new IllegalStateException("unreachable: the fingerprint names the kind of request");
          }
          return new JsonObject().put("total", record.total());
        });
  }

  private Future<JsonObject> delete(String table, JsonObject body, KeyRecord record) {
    checkCatalog();
    refresh();
    return retryStale(() -> deleteOnce(table, body, record)).recover(failure -> mapFailure(table, failure));
  }

  private Future<JsonObject> deleteOnce(String table, JsonObject body, KeyRecord record) {
    Future<Long> deleted;
    catalogLock.readLock().lock();
    try {
      TableDef def = entry(table);
      deleted = engine.delete(def, where(table, def.schema(), body.getValue("where")), record)
          .onComplete(done -> recount.add(def.id()));
    } catch (StorageException e) {
      return Future.failedFuture(stale(e) ? e : storageError(table, e));
    } finally {
      catalogLock.readLock().unlock();
    }
    return deleted.map(count -> new JsonObject().put("total", count))
        .recover(failure -> stale(failure) ? Future.failedFuture(failure) : mapFailure(table, failure));
  }

  @Override
  public Future<JsonObject> importStarting(String requested, String tableId, String job) {
    Future<Void> done;
    catalogLock.readLock().lock();
    try {
      done = engine.importStarting(entry(currentName(requested, tableId)), job);
    } catch (StorageException e) {
      return Future.failedFuture(storageError(requested, e));
    } finally {
      catalogLock.readLock().unlock();
    }
    return done.map(v -> new JsonObject()).recover(failure -> mapFailure(requested, failure));
  }

  @Override
  public Future<JsonObject> importEnded(String requested, String tableId, String job) {
    Future<Void> done;
    catalogLock.readLock().lock();
    try {
      // The table it ran on now (a rename or a rebuild carried it along), or none: the engine forgets the job.
      TableDef current;
      try {
        current = entry(currentName(requested, tableId));
      } catch (ApiError gone) {
        current = null;
      }
      done = engine.importEnded(current, job);
    } finally {
      catalogLock.readLock().unlock();
    }
    return done.map(v -> new JsonObject()).recover(failure -> mapFailure(requested, failure));
  }

  @Override
  public Future<JsonObject> optimize(String table) {
    Future<Void> done;
    catalogLock.readLock().lock();
    try {
      done = engine.optimize(entry(table).id());
    } catch (StorageException e) {
      return Future.failedFuture(storageError(table, e));
    } finally {
      catalogLock.readLock().unlock();
    }
    return done.map(v -> new JsonObject().put("message", "table '" + table + "' optimized"))
        .recover(failure -> mapFailure(table, failure));
  }

  // ---------------------------------------------------------------- search

  private static final List<String> DELETE_KEYS = List.of("from", "where");
  private static final List<String> SEARCH_KEYS = List.of("from", "where", "select", "orderBy", "offset", "limit");
  /** Most fields in a search's 'select' (each link path among them reads a linked row per hit). */
  static final int MAX_SELECT = 1024;

  @Override
  public JsonObject search(JsonObject body) {
    onlyKeys(body, "a search", SEARCH_KEYS);
    String table = requiredName(body, "from");
    int offset = nonNegative(body, "offset", 0);
    int limit = nonNegative(body, "limit", 10);
    if (limit > maxResultLimit) {
      throw ApiError.badRequest("'limit' " + limit + " is over the maximum " + maxResultLimit
          + "; page with 'offset'");
    }
    if ((long) offset + limit > Integer.MAX_VALUE - 1) {
      throw ApiError.badRequest("'offset' + 'limit' is too large");
    }
    List<String> select = selectList(body.getValue("select"));
    return read(() -> {
      TableDef def = entry(table);
      TableSchema schema = def.schema();
      Predicate where = where(table, schema, body.getValue("where"));
      List<Order> order = parser(table, schema).orderBy(body.getValue("orderBy"));
      if (select != null) {
        select.forEach(field -> checkSelect(table, schema, field));
      }
      Page page;
      try {
        page = engine.search(def, where, order, offset, limit);
      } catch (StorageException e) {
        throw storageError(table, e);
      }
      JsonArray hits = new JsonArray();
      for (byte[] source : page.sources()) {
        JsonObject row = new JsonObject(new String(source, StandardCharsets.UTF_8));
        hits.add(select == null ? row : project(table, schema, row, select));
      }
      return new JsonObject().put("offset", offset).put("total", page.total()).put("hits", hits);
    });
  }

  private static List<String> selectList(Object select) {
    if (select == null) {
      return null;
    }
    if (!(select instanceof JsonArray array)) {
      throw ApiError.badRequest("'select' must be an array of column names or link paths");
    }
    if (array.size() > MAX_SELECT) {
      throw ApiError.badRequest("'select' lists " + array.size() + " fields; at most " + MAX_SELECT
          + " are allowed");
    }
    List<String> fields = new ArrayList<>();
    for (Object field : array) {
      if (!(field instanceof String name)) {
        throw ApiError.badRequest("'select' must list column names as strings, got " + field);
      }
      fields.add(name);
    }
    return fields;
  }

  private void checkSelect(String table, TableSchema schema, String field) {
    int dot = field.indexOf('.');
    if (dot < 0) {
      column(schema, table, field);
      return;
    }
    ColumnSchema link = column(schema, table, field.substring(0, dot));
    if (link.link() == null) {
      throw ApiError.badRequest("'" + field + "' in 'select': column '" + field.substring(0, dot) + "' of table '"
          + table + "' is not a link");
    }
    column(entry(linkTable(table, link)).schema(), linkTable(table, link), field.substring(dot + 1));
  }

  private JsonObject project(String table, TableSchema schema, JsonObject row, List<String> select) {
    JsonObject result = new JsonObject();
    Map<String, JsonObject> linked = new LinkedHashMap<>();
    for (String field : select) {
      int dot = field.indexOf('.');
      if (dot < 0) {
        result.put(field, row.getValue(field));
        continue;
      }
      String linkColumn = field.substring(0, dot);
      JsonObject target = linked.computeIfAbsent(linkColumn,
          c -> linkedRow(table, schema.column(c), row.getValue(c)));
      result.put(field, target == null ? null : target.getValue(field.substring(dot + 1)));
    }
    return result;
  }

  private JsonObject linkedRow(String table, ColumnSchema link, Object key) {
    if (key == null) {
      return null;
    }
    String target = linkTable(table, link);
    JsonObject where = new JsonObject().put(link.linkColumn(), key);
    JsonObject found = search(new JsonObject().put("from", target).put("where", where).put("limit", 1));
    JsonArray hits = found.getJsonArray("hits");
    return hits.isEmpty() ? null : hits.getJsonObject(0);
  }

  private TableSchema schemaOrNull(String table) {
    TableDef entry = entries.get(table);
    return entry == null ? null : entry.schema();
  }

  private PropositionParser parser(String table, TableSchema schema) {
    return new PropositionParser(table, schema, this::schemaOrNull);
  }

  /** A where clause as the engine's predicate, its link paths resolved on the linked tables. */
  private Predicate where(String table, TableSchema schema, Object where) {
    return resolveLinks(parser(table, schema).where(where));
  }

  /** Each link path becomes the keys of the linked table's rows that match its inner predicate. */
  private Predicate resolveLinks(Predicate where) {
    return PropositionParser.resolveLinks(where, link -> {
      String target = link.targetTable();
      TableDef def = entry(target);
      column(def.schema(), target, link.targetColumn());
      return engine.values(def, resolveLinks(link.inner()), link.targetColumn());
    });
  }

  // ---------------------------------------------------------------- backup

  /**
   * The point in time is fixed under the catalog write lock once no write is in flight (every table's writes
   * awaited, as a schema change does): the engine's snapshot then holds exactly the writes started before it,
   * every acknowledged one among them, and no half of a batch. Writes wait only for that; the copy runs under
   * the read lock, so writes go on and only schema changes wait (no table is dropped under the copy). The
   * manifest is written last: a directory without it is not a backup ({@code sluice restore} refuses it).
   */
  @Override
  public JsonObject backup(java.nio.file.Path dir) {
    StorageEngine.Snapshot snapshot;
    JsonObject tables = new JsonObject();
    String createdAt = java.time.Instant.now().toString();
    catalogLock.writeLock().lock();
    try {
      checkCatalog();
      entries.values().forEach(table -> awaitWrites(table.id()));
      snapshot = engine.snapshot();
      try {
        entries.forEach((name, table) -> tables.put(name, engine.rowCount(table.id())));
      } catch (RuntimeException e) {
        snapshot.close();
        throw e;
      }
      catalogLock.readLock().lock(); // downgraded: schema changes keep waiting, writes go on
    } catch (StorageException e) {
      throw storageError(null, e);
    } finally {
      catalogLock.writeLock().unlock();
    }
    try (snapshot) {
      java.nio.file.Files.createDirectories(dir.getParent());
      java.nio.file.Files.createDirectory(dir);
      long bytes = snapshot.copyTo(dir);
      JsonObject manifest = new JsonObject().put("format", 1).put("createdAt", createdAt).put("tables", tables);
      io.sluice.files.DurableFiles.writeAtomically(dir, BACKUP_MANIFEST,
          manifest.encodePrettily().getBytes(StandardCharsets.UTF_8));
      LOG.info("backup written to {}: {} tables, {} bytes", dir, tables.size(), bytes);
      return manifest.copy().put("path", dir.toString()).put("bytes", bytes);
    } catch (java.nio.file.FileAlreadyExistsException e) {
      throw ApiError.conflict("the backup directory " + dir.getFileName() + " already exists; name a new one");
    } catch (java.io.IOException | RuntimeException e) {
      LOG.error("backup to {} failed", dir, e);
      throw new ApiError(503, "the backup failed, " + dir + " is incomplete (it has no " + BACKUP_MANIFEST
          + "): " + e.getMessage(), null, TableStore.isDiskFull(e) ? "DiskFull" : "StorageFailure");
    } finally {
      catalogLock.readLock().unlock();
    }
  }

  // ---------------------------------------------------------------- stats

  /**
   * From the published catalog, without the lock: a table dropped meanwhile is left out (or keeps its last
   * figures once), and a schema change never waits for a count.
   */
  @Override
  public Map<String, TableStats> tableStats() {
    Map<String, TableDef> tables = published.entries();
    Map<String, TableStats> stats = new HashMap<>();
    Set<String> ids = new HashSet<>();
    tables.forEach((name, table) -> {
      String id = table.id();
      ids.add(id);
      try {
        // Unmarked before counting: a write that completes during the count marks the table again.
        Long counted = recount.remove(id) ? null : countedRows.get(id);
        TableStats size = engine.tableStats(id, counted == null);
        if (size == null) {
          return;
        }
        long rows = counted != null ? counted : size.rows();
        countedRows.put(id, rows);
        TableStats measured = new TableStats(rows, size.bytes(), size.walBytes());
        lastStats.put(id, measured);
        stats.put(name, measured);
      } catch (RuntimeException e) {
        recount.add(id);
        TableStats last = lastStats.remove(id);
        if (last != null) {
          stats.put(name, last);
        }
        LOG.debug("table '{}': cannot measure it: {}", name, e.toString());
      }
    });
    countedRows.keySet().retainAll(ids);
    recount.retainAll(ids);
    lastStats.keySet().retainAll(ids);
    return stats;
  }

  // ---------------------------------------------------------------- health and lifecycle

  @Override
  public String failure() {
    if (catalogFailure != null) {
      return "catalog: " + catalogFailure.getMessage();
    }
    String failure = engine.failure();
    if (failure == null) {
      return null;
    }
    // The engine knows tables by id; the operator by name.
    return readCached(() -> {
      String named = failure;
      for (Map.Entry<String, TableDef> table : entries.entrySet()) {
        named = named.replace(table.getValue().id(), "'" + table.getKey() + "'");
      }
      return named;
    });
  }

  /** Without the catalog lock, which {@link #failure} takes to name tables: a gauge reads it on an event loop. */
  @Override
  public boolean failed() {
    return catalogFailure != null || engine.failure() != null;
  }

  @Override
  public void close() {
    catalogLock.writeLock().lock();
    try {
      engine.close();
    } finally {
      catalogLock.writeLock().unlock();
    }
  }

  // ---------------------------------------------------------------- helpers

  private interface Action<T> {
    T run();
  }

  /** A read of the current catalog: with a shared one, reloaded first if another node changed it. */
  private <T> T read(Action<T> action) {
    if (shared == null) {
      return readCached(action);
    }
    refresh();
    try {
      return readCached(action);
    } catch (ApiError e) {
      if (!TableStore.TABLE_REPLACED.equals(e.errorCause())) {
        throw e;
      }
      // the table went away between the version read and the engine's: once more on the new catalog
      refresh();
      return readCached(action);
    }
  }

  private <T> T readCached(Action<T> action) {
    catalogLock.readLock().lock();
    try {
      return action.run();
    } catch (StorageException e) {
      throw storageError(null, e);
    } finally {
      catalogLock.readLock().unlock();
    }
  }

  /**
   * A schema change: under the catalog's write lock and, with a shared catalog, the cluster's schema lock, on the
   * catalog as stored (reloaded if another node changed it).
   */
  private <T> T write(Action<T> action) {
    catalogLock.writeLock().lock();
    StorageEngine.SharedCatalog.Lock clusterLock = null;
    try {
      checkCatalog();
      if (shared != null) {
        clusterLock = shared.lock();
        reloadIfChanged();
      }
      return action.run();
    } catch (StorageException e) {
      throw storageError(null, e);
    } finally {
      published = new Published(Map.copyOf(entries), Map.copyOf(rebuiltIds));
      if (clusterLock != null) {
        clusterLock.close();
      }
      catalogLock.writeLock().unlock();
    }
  }

  /** With a shared catalog: reloads it if another node changed it since it was read. Not under the lock. */
  private void refresh() {
    // Nested in an operation that holds the lock (a search's link joins): it refreshed already, and a read
    // lock cannot be upgraded.
    if (shared == null || catalogLock.getReadHoldCount() > 0 || catalogLock.isWriteLockedByCurrentThread()) {
      return;
    }
    try {
      if (shared.storedVersion() == shared.loadedVersion()) {
        return;
      }
      catalogLock.writeLock().lock();
      try {
        reloadIfChanged();
      } finally {
        published = new Published(Map.copyOf(entries), Map.copyOf(rebuiltIds));
        catalogLock.writeLock().unlock();
      }
    } catch (StorageException e) {
      throw storageError(null, e);
    }
  }

  /** Under the write lock. Every node's rebuilds are followed: they are saved with the catalog. */
  private void reloadIfChanged() {
    if (shared.storedVersion() == shared.loadedVersion()) {
      return;
    }
    Map<String, TableDef> stored = engine.loadCatalog();
    entries.clear();
    entries.putAll(stored);
    rebuiltIds.putAll(shared.rebuiltIds());
    // another node's schema operations' key records too: a catalog saved here keeps them
    schemaKeys.clear();
    schemaKeys.putAll(engine.loadCatalogKeys());
    LOG.debug("catalog reloaded: another node changed it (version {})", shared.loadedVersion());
  }

  /**
   * A catalog that failed to be saved is final, like a table's storage failure: what the engine holds may be the
   * old or the new version, so every later write is refused until a restart reads it again.
   */
  private void saveCatalog(Map<String, TableDef> tables) {
    Map<String, String> keys = null;
    PendingKey pending = pendingKey;
    if (pending != null) {
      if (pending.reply == null) {
        throw new IllegalStateException("a schema change under a key saved the catalog before its reply was known");
      }
      long oldest = System.currentTimeMillis() / 1000 - idempotencyRetentionSeconds;
      keys = new HashMap<>();
      for (Map.Entry<String, String> key : schemaKeys.entrySet()) {
        if ((new JsonObject(key.getValue()).getLong("batch") >>> FINGERPRINT_BITS) >= oldest) {
          keys.put(key.getKey(), key.getValue()); // expired records are dropped here, which bounds them
        }
      }
      keys.put(pending.name, new JsonObject().put("batch", pending.batch).put("reply", pending.reply).encode());
    }
    try {
      engine.saveCatalog(tables, keys, pendingRebuild);
      if (keys != null) {
        schemaKeys.clear();
        schemaKeys.putAll(keys);
        pending.saved = true;
      }
    } catch (StorageException e) {
      catalogFailure = e;
      LOG.error("saving the catalog failed; writes are refused until restart", e);
      throw e;
    }
  }

  private void checkCatalog() {
    StorageException failure = catalogFailure;
    if (failure != null) {
      throw storageError(null, failure);
    }
  }

  /**
   * A 503 whose {@code x-error-cause} says why: the disk is full, the store cannot be reached, or storage failed
   * otherwise; 409 when the table went away under the write.
   */
  static ApiError storageError(String table, StorageException e) {
    String where = table == null ? "" : "table '" + table + "': ";
    return switch (e.kind()) {
      case DISK_FULL -> new ApiError(503, where + e.getMessage() + " (the disk is full: free space, then restart)",
          null, "DiskFull");
      case FAILED -> new ApiError(503, where + e.getMessage(), null, "StorageFailure");
      case UNAVAILABLE -> new ApiError(503, where + "the store is unavailable, retry later: " + e.getMessage(), null,
          "StoreUnavailable");
      case QUERY_TOO_LARGE -> ApiError.badRequest("the proposition" + (table == null ? "" : " on table '" + table
          + "'") + " is too large: " + e.getMessage());
      case UNSUPPORTED -> new ApiError(501, e.getMessage(), null, "Unsupported");
      case UNSUPPORTED_VALUE -> {
        // a valid value this store cannot hold: the client's to change, as a bad row
        JsonObject error = new JsonObject().put("row", Math.max(e.row(), 0));
        String at = "row " + Math.max(e.row(), 0);
        if (e.column() != null) {
          error.put("column", e.column());
          at += ", column '" + e.column() + "'";
        }
        error.put("message", e.getMessage());
        yield new ApiError(400, "invalid row for table '" + table + "': " + at + ": " + e.getMessage(),
            new JsonArray().add(error));
      }
      case STALE_CATALOG -> new ApiError(503, (table == null ? "" : "table '" + table + "': ") + e.getMessage()
          + "; retry the request", null, "SchemaChanging");
      case LEASE_LOST -> new ApiError(409, e.getMessage(), null, "LeaseLost");
      case TABLE_GONE -> new ApiError(409, (table == null ? "the table" : "table '" + table + "'")
          + " was dropped or replaced meanwhile", null, TableStore.TABLE_REPLACED);
    };
  }

  private <T> Future<T> mapFailure(String table, Throwable failure) {
    if (failure instanceof ApiError) {
      return Future.failedFuture(failure);
    }
    if (failure instanceof StorageException storage) {
      return Future.failedFuture(storageError(table, storage));
    }
    LOG.error("write to table '{}' failed", table, failure);
    return Future.failedFuture(new ApiError(503, "table '" + table + "': the write failed and was not stored: "
        + failure.getMessage(), null, "StorageFailure"));
  }

  private TableDef entry(String table) {
    TableDef entry = table == null ? null : entries.get(table);
    if (entry == null) {
      throw ApiError.notFound("table '" + table + "' not found");
    }
    return entry;
  }

  private static ColumnSchema column(TableSchema schema, String table, String column) {
    ColumnSchema col = schema.column(column);
    if (col == null) {
      throw ApiError.notFound("column '" + column + "' not found in table '" + table + "'");
    }
    return col;
  }

  private static String linkTable(String table, ColumnSchema link) {
    return "this".equals(link.linkTable()) ? table : link.linkTable();
  }

  private JsonObject schemaUnlocked() {
    JsonObject tables = new JsonObject();
    entries.forEach((name, entry) -> tables.put(name, entry.schema().toJson()));
    return new JsonObject().put("schema", tables);
  }

  private Map<String, TableSchema> schemasUnlocked() {
    Map<String, TableSchema> view = new LinkedHashMap<>();
    entries.forEach((name, entry) -> view.put(name, entry.schema()));
    return view;
  }

  private static void checkLinks(String table, TableSchema schema, Map<String, TableSchema> tables) {
    schema.columns().forEach((column, col) -> {
      if (col.link() == null) {
        return;
      }
      String target = linkTable(table, col);
      TableSchema targetSchema = target.equals(table) ? schema : tables.get(target);
      if (targetSchema == null) {
        throw ApiError.badRequest("column '" + column + "' of table '" + table + "' links to '" + col.link()
            + "' but table '" + target + "' does not exist");
      }
      if (targetSchema.column(col.linkColumn()) == null) {
        throw ApiError.badRequest("column '" + column + "' of table '" + table + "' links to '" + col.link()
            + "' but table '" + target + "' has no column '" + col.linkColumn() + "'");
      }
    });
  }

  private void checkNotLinkedTo(String table, TableSchema replacement) {
    entries.forEach((name, entry) -> entry.schema().columns().forEach((column, col) -> {
      if (!name.equals(table) && table.equals(col.linkTable()) && replacement.column(col.linkColumn()) == null) {
        throw ApiError.conflict("column '" + column + "' of table '" + name + "' links to '" + col.link()
            + "', which the new schema of '" + table + "' lacks");
      }
    }));
  }

  private void checkNotLinkTarget(String table, String column) {
    entries.forEach((name, entry) -> entry.schema().columns().forEach((c, col) -> {
      String target = "this".equals(col.linkTable()) ? name : col.linkTable();
      if (table.equals(target) && column.equals(col.linkColumn()) && !(name.equals(table) && c.equals(column))) {
        throw ApiError.conflict("column '" + column + "' of table '" + table + "' is linked from column '" + c
            + "' of table '" + name + "'; drop that link first");
      }
    }));
  }

  private static TableSchema relink(TableSchema schema, String from, String to) {
    Map<String, ColumnSchema> columns = new LinkedHashMap<>();
    schema.columns().forEach((name, col) -> columns.put(name, from.equals(col.linkTable())
        ? new ColumnSchema(col.type(), col.nullable(), to + "." + col.linkColumn(), col.analyzer())
        : col));
    return new TableSchema(columns);
  }

  private static String newId() {
    return UUID.randomUUID().toString().replace("-", "");
  }

  private static void onlyKeys(JsonObject body, String what, List<String> keys) {
    if (body == null) {
      return;
    }
    for (String key : body.fieldNames()) {
      if (!keys.contains(key)) {
        throw ApiError.badRequest("unknown field '" + (key.length() > 64 ? key.substring(0, 64) + "…" : key)
            + "' in " + what + "; expected " + String.join(", ", keys));
      }
    }
  }

  private static String requiredName(JsonObject body, String key) {
    Object value = body == null ? null : body.getValue(key);
    if (!(value instanceof String name)) {
      throw ApiError.badRequest("'" + key + "' is required and must be a table name");
    }
    return Names.requireTable(name);
  }

  private static int nonNegative(JsonObject body, String key, int fallback) {
    Object value = body.getValue(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Integer || value instanceof Long) || ((Number) value).longValue() < 0
        || ((Number) value).longValue() > Integer.MAX_VALUE) {
      throw ApiError.badRequest("'" + key + "' must be a non-negative integer, got " + value);
    }
    return ((Number) value).intValue();
  }

  private static JsonObject objectOf(Row row) {
    return new JsonObject(new String(row.sourceBytes(), row.sourceOffset(), row.sourceLength(),
        StandardCharsets.UTF_8));
  }
}
