package io.sluice.store;

import io.sluice.bus.Written;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * The storage seam: everything the API needs of a database, in Aito's shapes. Implementations may do blocking
 * work on the calling thread (callers are worker verticles) but complete a write's future only when it is
 * durable. Failures are {@link io.sluice.errors.ApiError}s carrying their HTTP status.
 */
public interface TableStore extends AutoCloseable {
  /** The x-error-cause of an import batch or sync whose table was dropped or replaced since the import began. */
  String TABLE_REPLACED = "TableReplaced";
  /** The x-error-cause of a 409 for a write whose Idempotency-Key is held by a request still in progress. */
  String IDEMPOTENCY_IN_FLIGHT = "IdempotencyKeyInUse";

  JsonObject schema();

  JsonObject putSchema(JsonObject body);

  JsonObject deleteSchema();

  JsonObject table(String table);

  JsonObject putTable(String table, JsonObject body);

  /**
   * {@code {"deleted": [table]}}, or {@code {"deleted": []}} when there is no such table (idempotent, as in Aito).
   * Whether it exists is decided atomically with the drop, so a table created, copied or renamed to that name
   * concurrently is either dropped and reported, or kept.
   */
  JsonObject deleteTable(String table);

  JsonObject column(String table, String column);

  JsonObject putColumn(String table, String column, JsonObject body);

  /** {@code {"deleted": ["table.column"]}}, or {@code {"deleted": []}} when there is no such table or column. */
  JsonObject deleteColumn(String table, String column);

  JsonObject rename(JsonObject body);

  JsonObject copy(JsonObject body);

  /**
   * Runs {@code change}, one of the schema and column operations above ({@code kind} names it, {@code table} and
   * {@code column} its path, {@code body} its request), under an Idempotency-Key (null: none): the key's record is
   * saved atomically with the catalog change; a repeat answers the recorded reply, marked replayed, and changes
   * nothing; the key with another request → 422.
   */
  Written schemaChange(String kind, String table, String column, JsonObject body, Idempotency idempotency,
      java.util.function.Supplier<JsonObject> change);

  default Future<JsonObject> insertOne(String table, byte[] body) {
    return insertOne(table, body, null).map(Written::reply);
  }

  default Future<JsonObject> insertBatch(String table, byte[] body) {
    return insertBatch(table, body, null).map(Written::reply);
  }

  /**
   * With an idempotency key (null: none), the first request writes and records the key in the same commit as its
   * rows; a repeat of the same request answers as the first did, marked {@link Written#replayed}, and writes nothing; a
   * different request under the key is refused (422), as is one while the first is in flight (409,
   * {@link #IDEMPOTENCY_IN_FLIGHT}). A failed write records nothing.
   */
  Future<Written> insertOne(String table, byte[] body, Idempotency idempotency);

  Future<Written> insertBatch(String table, byte[] body, Idempotency idempotency);

  /**
   * A stream under an Idempotency-Key begins: holds the key until {@link #endStream} (409,
   * {@link #IDEMPOTENCY_IN_FLIGHT}, while held) and replies the lines its earlier attempts committed:
   * {@code {"job", "tableId", "hour", "lines": [[first, count]...]}} (see {@link StreamLines}).
   */
  JsonObject beginStream(String table, Idempotency idempotency);

  /** Releases the key of a stream into the table with this internal id. */
  JsonObject endStream(String tableId, Idempotency idempotency);

  default Future<JsonObject> delete(JsonObject body) {
    return delete(body, null).map(Written::reply);
  }

  /** {@code {"total": n}} once durable; with an idempotency key as {@link #insertBatch}, the reply recorded. */
  Future<Written> delete(JsonObject body, Idempotency idempotency);

  JsonObject search(JsonObject body);

  /**
   * Parses, validates and appends one batch of NDJSON lines of an import; bad lines are reported, not fatal.
   * args: {@code firstLine}, and for file imports {@code job} + {@code batch} (stored with the rows as the
   * checkpoint) and {@code validateOnly} (recount a batch that is already stored). Replies
   * {@code {"appended", "failedCount", "failures": [{"line","message","row"}], "last"?}} once durable; with
   * {@code "deferCommit": true} it replies as soon as the rows are added, not yet durable: the caller must
   * then {@link #sync} before it counts them. A file import's batch resent after a lost reply (a cluster) and
   * found already stored stores nothing and replies as its first copy did, plus {@code "alreadyStored": true}, as
   * does a {@code validateOnly} one.
   */
  Future<JsonObject> appendLines(String table, JsonObject args, byte[] payload);

  /** The reply field of {@link #appendLines} that marks a batch stored by an earlier copy. */
  String ALREADY_STORED = "alreadyStored";

  /** Completes once everything appended to the table before the call is committed to disk. */
  Future<JsonObject> sync(String table);

  /**
   * {@link #sync} of the table an import started on, by its internal id ({@link #tableId}; null: by name): fails
   * with 409 (x-error-cause TableReplaced) if that table was dropped or replaced since, before or after the
   * commit; replies {@code {"table"}}, its current name (a rename carries imports along). {@link #appendLines}
   * takes the id as {@code "tableId"} in its args likewise.
   */
  Future<JsonObject> sync(String table, String tableId);

  /** The internal id of a table: it changes when the table is dropped and created again, or replaced. */
  String tableId(String table);

  /** {@code {"batches": [n...]}}: the batch numbers of an import job already stored in the table. */
  JsonObject importedBatches(String table, String job);

  /**
   * A file import into the table (bound to its internal id, {@link #tableId}) is about to store its first batch:
   * the engine may prepare a bulk load ({@link io.sluice.engine.StorageEngine#importStarting}). Replies {@code {}}.
   */
  default Future<JsonObject> importStarting(String table, String tableId, String job) {
    return Future.succeededFuture(new JsonObject());
  }

  /**
   * That import has ended, however; replies once the engine has undone what it prepared (PostgreSQL: the token
   * indexes are built), so the import reports its end only after. A table gone since is no failure.
   */
  default Future<JsonObject> importEnded(String table, String tableId, String job) {
    return Future.succeededFuture(new JsonObject());
  }

  Future<JsonObject> optimize(String table);

  /**
   * Writes a consistent point-in-time copy of every table and the schema into {@code dir}, a directory that must
   * not exist yet (created here; its parent is created if missing), while writes go on; answers what it holds.
   */
  JsonObject backup(java.nio.file.Path dir);

  /** The file that makes a directory a complete backup, written last. */
  String BACKUP_MANIFEST = "sluice-backup.json";

  /** Whether a failure is a full disk, in the words of the operating system. */
  static boolean isDiskFull(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("No space left on device")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Rows, bytes on disk and write-ahead-log bytes of every table, by name (for metrics). Blocking, and may take a
   * while on a large store: call it from a worker of its own, never per request.
   */
  java.util.Map<String, io.sluice.engine.TableStats> tableStats();

  /** Null when healthy, else why writes are refused. */
  String failure();

  /** Whether {@link #failure} is not null, without what it takes to word it: cheap enough for a scrape. */
  default boolean failed() {
    return failure() != null;
  }

  @Override
  void close();
}
