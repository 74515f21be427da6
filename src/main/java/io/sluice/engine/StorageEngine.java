package io.sluice.engine;

import io.sluice.schema.TableSchema;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;

/**
 * What Sluice needs of a database, below everything that is Aito's: tables by internal id ({@link TableDef}),
 * typed rows ({@link Row}), predicates ({@link Predicate}), sort keys ({@link Order}) and import checkpoints
 * ({@link Checkpoint}). No HTTP status, no Aito JSON, no user-facing validation: the core
 * ({@code io.sluice.core}) does those once for every engine and holds the catalog lock, so an engine never sees
 * two schema changes at once, nor a schema change during a write to the same table.
 *
 * <p>Threading: callers are worker threads; methods may block. Writes return a future completed once the write
 * is durable (on disk, or committed by the database) — never before. Failures are {@link StorageException}s.
 */
public interface StorageEngine extends AutoCloseable {

  // ------------------------------------------------------------------ catalog

  /** The catalog as last saved: table name → definition, in the order tables were created. */
  Map<String, TableDef> loadCatalog();

  /**
   * Stores the whole catalog durably (atomically: after a crash the old or the new one is read). A failure is
   * final for this engine instance ({@link #failure} reports it): what is stored is no longer known.
   */
  default void saveCatalog(Map<String, TableDef> tables) {
    saveCatalog(tables, null);
  }

  /**
   * {@link #saveCatalog(Map)} that also replaces the Idempotency-Key records of schema operations with
   * {@code keys} (record name → the core's JSON text) in the same atomic write; null keeps those stored.
   */
  void saveCatalog(Map<String, TableDef> tables, Map<String, String> keys);

  /**
   * {@link #saveCatalog(Map, Map)} that also records, in the same atomic write, tables this change rebuilt with
   * their rows ({@code rebuilt}: old internal id → new), so that every node reading the new catalog reads them too
   * ({@link SharedCatalog#rebuiltIds}): an import running on another node follows its rows. An engine whose
   * catalog no other node reads has nothing to record (the core keeps them in memory).
   */
  default void saveCatalog(Map<String, TableDef> tables, Map<String, String> keys, Map<String, String> rebuilt) {
    saveCatalog(tables, keys);
  }

  /** The Idempotency-Key records of schema operations as last saved with the catalog. */
  Map<String, String> loadCatalogKeys();

  /** Creates empty storage for a table id not yet in the catalog. */
  void createTable(TableDef table);

  /** Fills the (just created) storage of {@code to} with every row of {@code fromId}, with their order and marks. */
  void copyRows(String fromId, TableDef to);

  /**
   * Fills the (just created) storage of {@code to} with every row of {@code fromId} without column
   * {@code droppedColumn}, keeping order and import marks (the rows' sources lose the column too).
   */
  void copyRowsWithout(String fromId, TableDef to, String droppedColumn);

  /** A nullable column was added to a table (existing rows hold null in it). */
  void addColumn(String id, TableSchema updated);

  /** Deletes a table's storage. The table is no longer in the saved catalog. */
  void dropTable(String id);

  /** Deletes storage no table of the catalog refers to (left by a crash during a schema change). */
  void dropOrphans(Set<String> knownIds);

  long rowCount(String id);

  /**
   * The table's rows (only when {@code countRows}, else -1: the core keeps counts of tables not written since),
   * the bytes its storage takes on disk and, of those, its write-ahead log's ({@link TableStats#NO_LOG} when the
   * engine has none per table). For metrics, every few seconds: it must not take what user reads need (the
   * PostgreSQL engine's reserved read connections). Null when no such table is open (dropped meanwhile).
   */
  TableStats tableStats(String id, boolean countRows);

  // ------------------------------------------------------------------ writes

  /**
   * Appends rows. With a checkpoint, the rows and the checkpoint are stored in one commit. With {@code deferred},
   * the future completes once the rows are added but maybe not yet durable: the caller then {@link #sync}s
   * before it counts them (imports batch their commits so). Completes with the rows stored: the batch's count, or
   * 0 for a {@link Checkpoint#leased() leased} batch found already stored (a copy resent after a lost reply).
   */
  Future<Integer> append(TableDef table, RowBatch rows, Checkpoint checkpoint, boolean deferred);

  /**
   * What this engine refuses among valid values, or null when it stores them all. {@link #append} still refuses
   * such a row with {@link StorageException.Kind#UNSUPPORTED_VALUE}; this lets an import skip just its line.
   */
  default RowCheck rowCheck() {
    return null;
  }

  /** Completes once everything appended to the table before the call is durable. */
  Future<Void> sync(String id);

  /**
   * A file import into the table starts, none of its rows stored yet: the engine may prepare for a bulk load
   * (PostgreSQL: an empty table's token indexes are built once at the end instead of row by row). Whatever it
   * prepares, searches and writes stay correct meanwhile, and {@link #importEnded} or a restart undoes it.
   */
  default Future<Void> importStarting(TableDef table, String job) {
    return Future.succeededFuture();
  }

  /** The import {@link #importStarting} announced has ended (stored, failed or cancelled): undo what it prepared. */
  default Future<Void> importEnded(TableDef table, String job) {
    return Future.succeededFuture();
  }

  /** Deletes the matching rows; completes with how many, once durable. */
  default Future<Long> delete(TableDef table, Predicate where) {
    return delete(table, where, null);
  }

  /**
   * {@link #delete(TableDef, Predicate)} that also stores {@code record} (null: none) in the delete's own commit
   * or transaction, even when no row matches, replacing any record of the same job in the table.
   */
  Future<Long> delete(TableDef table, Predicate where, KeyRecord record);

  /** The record of {@code job} stored by a delete in the table, or null (none, or dropped after it expired). */
  KeyRecord keyRecord(String id, String job);

  Future<Void> optimize(String id);

  // ------------------------------------------------------------------ reads (never queued behind writes)

  /**
   * The rows matching {@code where}, ordered by {@code order} (empty: insertion order), skipping {@code offset},
   * at most {@code limit}; the total counts every match. Sees every write whose future has completed.
   */
  Page search(TableDef table, Predicate where, List<Order> order, int offset, int limit);

  /** The distinct non-null values of {@code column} in the matching rows, typed as {@link Row} says (String for
   * String/Text): a link's keys. */
  Set<Object> values(TableDef table, Predicate where, String column);

  /** The batch numbers of import job {@code job} already stored in the table. */
  SortedSet<Long> importedBatches(String id, String job);

  // ------------------------------------------------------------------ backup

  /**
   * Fixes a point in time of every table and the catalog for a backup, without stopping writes for longer
   * than a commit. The core calls it while no write is in flight and none may start (the catalog write lock,
   * every table's writes awaited), and copies the snapshot after releasing that lock (holding its read lock,
   * so no table is dropped under the copy). Engines without an online backup of their own throw
   * {@link StorageException.Kind#UNSUPPORTED}.
   */
  default Snapshot snapshot() {
    throw new StorageException(StorageException.Kind.UNSUPPORTED, "this store has no online backup", null);
  }

  /** A point in time of the whole store, kept from deletion until closed. */
  interface Snapshot extends AutoCloseable {
    /** Copies the snapshot into {@code dir} (an empty directory), durably; returns the bytes copied. */
    long copyTo(java.nio.file.Path dir) throws java.io.IOException;

    /** Lets the engine delete what only the snapshot kept. */
    @Override
    void close();
  }

  // ------------------------------------------------------------------ a catalog shared by several nodes

  /**
   * The catalog's sharing with other Sluice processes (the nodes of a cluster on one PostgreSQL), or null when
   * this process alone changes it (Lucene, a single PostgreSQL node): then nothing below costs anything.
   *
   * <p>With one, {@link #saveCatalog} also advances a stored catalog version, and {@link #append} and
   * {@link #delete} write only while the stored version is still the one this engine last read or saved:
   * otherwise they change nothing and fail with {@link StorageException.Kind#STALE_CATALOG}.
   */
  default SharedCatalog sharedCatalog() {
    return null;
  }

  /** A catalog that other nodes change too: its version and the cluster-wide lock of schema changes. */
  interface SharedCatalog {
    /** The version of the stored catalog now (one small read). */
    long storedVersion();

    /** The version {@link #loadCatalog} last read or {@link #saveCatalog} last wrote. */
    long loadedVersion();

    /**
     * Every rebuild recorded with a saved catalog (old internal id → new): read after {@link #loadCatalog}, it
     * holds at least those of the catalog read (rebuilds are only ever added).
     */
    Map<String, String> rebuiltIds();

    /**
     * Takes the cluster-wide schema lock. Returns once no append or delete of any node is in flight (theirs
     * completes before the lock is granted), and none starts before {@link Lock#close}: one that waited then
     * finds the version changed. Not reentrant.
     */
    Lock lock();

    /** Releases the schema lock. */
    interface Lock extends AutoCloseable {
      @Override
      void close();
    }

    /**
     * Holds {@code name} (an Idempotency-Key's table id and scope) for every node: null when a request on any node
     * holds it already. Held until {@link KeyHold#release} or until this node's connection to the store dies (a
     * node killed mid-request leaves nothing held). Blocking.
     */
    KeyHold holdKey(String name);

    /** A held key; releasing never blocks (it may run on an event loop). */
    interface KeyHold {
      void release();
    }
  }

  // ------------------------------------------------------------------ health

  /** Null when healthy, else why writes are refused (never a secret). */
  String failure();

  @Override
  void close();
}
