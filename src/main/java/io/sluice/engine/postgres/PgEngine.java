package io.sluice.engine.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.SluiceConfig;
import io.sluice.engine.Checkpoint;
import io.sluice.engine.KeyRecord;
import io.sluice.engine.Order;
import io.sluice.engine.Page;
import io.sluice.engine.Predicate;
import io.sluice.engine.Row;
import io.sluice.engine.RowBatch;
import io.sluice.engine.RowCheck;
import io.sluice.engine.StorageEngine;
import io.sluice.engine.StorageException;
import io.sluice.engine.TableDef;
import io.sluice.engine.TableStats;
import io.sluice.engine.Utf8;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;
import io.sluice.schema.SchemaParser;
import io.sluice.schema.TableSchema;
import io.sluice.schema.analysis.TextTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.impl.VertxThread;
import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.spi.VertxThreadFactory;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.StringJoiner;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL engine, on the reactive pipelined client. Layout, in one schema (created if missing):
 * {@code catalog} (position, name, internal id, schema JSON), and per table {@code t_<id>} with {@code _seq}
 * (insertion order), {@code _source} (the row's JSON, returned byte for byte), one typed column per schema column
 * ({@link PgNames}), a {@code text[]} of Sluice's analyzer tokens per Text column (GIN-indexed: {@code $match} and
 * {@code $has} find what Lucene finds), and {@code _job}/{@code _batch}, an import's checkpoint, in the same
 * transaction as its rows.
 *
 * <p>Every write is acknowledged after PostgreSQL's COMMIT with {@code synchronous_commit=on} (set for the
 * session, whatever the server's default), so {@code deferred} changes nothing and {@link #sync} has nothing to
 * wait for: an asynchronous commit with one flushing commit per sync measured no faster (docs/performance.md).
 */
public final class PgEngine implements StorageEngine {
  private static final Logger LOG = LoggerFactory.getLogger(PgEngine.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Event loops of one pool at most (one per connection below that). */
  private static final int MAX_LOOPS = 16;
  /** Connections of node state and uploads: small statements, and a cluster's 1 MB upload chunks. */
  private static final int STATE_POOL_SIZE = 2;
  /**
   * In a cluster node state also carries the import leases (claims, heartbeats, the triggers' queue lock) and
   * the node registry, beside uploads: two connections ran out when several triggers and uploads came at once.
   */
  private static final int CLUSTER_STATE_POOL_SIZE = 6;
  /** Rows read and rewritten at once when a dropped column leaves the sources. */
  private static final int REWRITE_PAGE = 5_000;

  /** Writes, schema changes and everything else, on {@link #writeLoops}. */
  private final Pool pool;
  /**
   * Reads only (searches, link values, checkpoints, row counts, the catalog, health probes): connections of their
   * own, so a read never waits for a connection an import's inserts hold (the read lane, down to PostgreSQL), on
   * {@link #readLoops}.
   */
  private final Pool reads;
  /**
   * Node state and uploads, on the server's own event loops: their callers (the import verticle, HTTP upload
   * handlers) expect completions on their own context.
   */
  private final Pool state;
  /**
   * Event loops of the client's write connections only. The client encodes a statement's parameters on its
   * connection's event loop (an import batch's bind message: tens of milliseconds of CPU); on the server's loops
   * that stalled HTTP requests, bus deliveries and other connections' replies behind it.
   */
  private final Vertx writeLoops;
  /** Event loops of the read connections only: a read's reply never queues behind a write's encoding. */
  private final Vertx readLoops;
  /**
   * The setting a bulk append's statement (an import's) runs with while other writes are about
   * ({@code store.postgres.flush.after.kb}; null: never). An import outgrows shared_buffers, so its backends write
   * its pages out, into the OS's page cache: left to pile up there they went to disk in bursts of 300-800 MB/s,
   * during which any commit's log flush (a small batch's) waited 100-800 ms. Handed to the OS's writeback as they
   * go, they keep the disk's queue short, at a cost to an import alone (a tenth of its rows/s when its table fits
   * the page cache): so only beside others.
   */
  private final String flushBeside;
  /** Whether a connection may have been left with {@link #flushBeside}: until then a bulk append resets nothing. */
  private volatile boolean flushSent;
  /** When the last write that is not a bulk append started ({@link System#nanoTime}; {@link #bulkBesideOthers}). */
  private volatile long otherWriteNanos = System.nanoTime() - BESIDE_NANOS;
  /** How long after another write a bulk append's statements still hand their pages to the disk as they go. */
  private static final long BESIDE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
  /**
   * The rows' text (sources and string columns) from which an append counts as bulk beside others: an import's
   * batch is ~384 KiB ({@code import.batch.bytes}), a 100-row batch of the benchmark's rows ~40 KiB.
   */
  static final long BULK_BYTES = 256 * 1024;
  /** Row writes (appends, deletes) take turns by table for the write pool's connections. */
  private final WriteSlots writes;
  /** When a table the appends grow is analyzed. */
  private final GrowthStatistics growth = new GrowthStatistics();
  /** Searches' kept counts of settled rows; null in a cluster, where other nodes append too. */
  private final PrefixCounts prefixCounts;
  private final String schema;
  private final String catalog;
  /** One row: the catalog's version, advanced by every {@link #saveCatalog} in the same transaction. */
  private final String catalogVersion;
  private final Vertx vertx;
  private final PgConnectOptions options;
  /** Non-null when other nodes share the catalog: appends and deletes then check its version. */
  private final SharedCatalog shared;
  /** The PostgreSQL advisory lock of schema changes (exclusive) against appends and deletes (shared), per schema. */
  private final long schemaLockKey;
  /** This engine instance's id as an import lease holder (a node's id until it stops). */
  private final String nodeId = java.util.UUID.randomUUID().toString();
  private volatile long loadedVersion = -1;
  /** Idempotency-Key records of deletes (a delete leaves no row to carry one), written in the delete's transaction. */
  private final String keyRecords;
  /** Idempotency-Key records of schema operations, written in the catalog's transaction. */
  private final String catalogKeys;
  /** Tables rebuilt with their rows (old id → new), written in the catalog's transaction; read in a cluster. */
  private final String catalogRebuilt;
  /** Whether new tables (and added columns) get a btree index per indexable column ({@link #indexed}). */
  private final boolean indexColumns;
  private final AtomicBoolean probing = new AtomicBoolean();
  private volatile boolean initialized;
  private volatile String failure;

  public PgEngine(Vertx vertx, PgConnectOptions connect, int poolSize, String schema) {
    this(vertx, connect, poolSize, 1, schema);
  }

  /** poolSize: connections for writes; readPoolSize: connections reserved for reads. */
  public PgEngine(Vertx vertx, PgConnectOptions connect, int poolSize, int readPoolSize, String schema) {
    this(vertx, connect, poolSize, readPoolSize, schema, false);
  }

  /** shared: other Sluice nodes use the same schema (a cluster), see {@link #sharedCatalog}. */
  public PgEngine(Vertx vertx, PgConnectOptions connect, int poolSize, int readPoolSize, String schema,
      boolean shared) {
    this(vertx, connect, poolSize, readPoolSize, schema, shared, 0);
  }

  /**
   * idleTransactionMs: when above 0, PostgreSQL ends a session left idle inside a transaction that long. In a
   * cluster it is the import lease timeout: a frozen node's batch transaction holds its lease row ({@code FOR
   * SHARE}), which would keep every other node from claiming the import until the node thaws.
   */
  public PgEngine(Vertx vertx, PgConnectOptions connect, int poolSize, int readPoolSize, String schema,
      boolean shared, long idleTransactionMs) {
    this(vertx, connect, poolSize, readPoolSize, schema, shared, idleTransactionMs, false);
  }

  /** indexColumns: a btree index on each Int, Long, Decimal and String column of tables created from now on. */
  public PgEngine(Vertx vertx, PgConnectOptions connect, int poolSize, int readPoolSize, String schema,
      boolean shared, long idleTransactionMs, boolean indexColumns) {
    this(vertx, connect, poolSize, readPoolSize, schema, shared, idleTransactionMs, indexColumns,
        SluiceConfig.tableConnections(0, poolSize),
        (Integer) SluiceConfig.STORE_POSTGRES_FLUSH_AFTER_KB.defaultValue());
  }

  /**
   * tableConnections: write connections one table's statements hold at most ({@link WriteSlots}); flushAfterKb:
   * the {@code backend_flush_after} of a file import's statements while other writes are about (0: the server's).
   */
  public PgEngine(Vertx vertx, PgConnectOptions connect, int poolSize, int readPoolSize, String schema,
      boolean shared, long idleTransactionMs, boolean indexColumns, int tableConnections, int flushAfterKb) {
    this.indexColumns = indexColumns;
    PgConnectOptions options = new PgConnectOptions(connect)
        .setCachePreparedStatements(true)
        .setPipeliningLimit(256);
    options.addProperty("synchronous_commit", "on");
    if (idleTransactionMs > 0) {
      options.addProperty("idle_in_transaction_session_timeout", Long.toString(idleTransactionMs));
    }
    options.addProperty("application_name", "sluice");
    this.writeLoops = loops("sluice-pg-write", poolSize);
    this.readLoops = loops("sluice-pg-read", readPoolSize);
    this.flushBeside = flushAfterKb > 0 ? "backend_flush_after = '" + flushAfterKb + "kB'" : null;
    this.pool = pool(writeLoops, options, poolSize, "sluice-pg-write", loopCount(poolSize));
    // A search's ranges of _seq are narrow or whole by their parameters: a generic plan, made once for any
    // values, would scan the table for the narrow ones.
    PgConnectOptions readOptions = new PgConnectOptions(options);
    readOptions.addProperty("plan_cache_mode", "force_custom_plan");
    this.reads = pool(readLoops, readOptions, readPoolSize, "sluice-pg-read", loopCount(readPoolSize));
    this.state = pool(vertx, options, shared ? CLUSTER_STATE_POOL_SIZE : STATE_POOL_SIZE, "sluice-pg-state", 0);
    this.writes = new WriteSlots(poolSize, tableConnections);
    this.schema = schema;
    this.catalog = PgNames.quote(schema) + ".catalog";
    this.catalogVersion = PgNames.quote(schema) + ".catalog_version";
    this.vertx = vertx;
    this.options = options;
    this.schemaLockKey = 0x534C5543L << 32 | (schema.hashCode() & 0xFFFFFFFFL);
    this.shared = shared ? new Shared() : null;
    this.prefixCounts = shared ? null : new PrefixCounts();
    this.keyRecords = PgNames.quote(schema) + ".key_records";
    this.catalogKeys = PgNames.quote(schema) + ".catalog_keys";
    this.catalogRebuilt = PgNames.quote(schema) + ".catalog_rebuilt";
  }

  /** Node state (jobs, key hashes, the upload secret, the node registry) on a small pool of its own. */
  public PgNodeState nodeState() {
    return new PgNodeState(this, vertx, state, stateTable(), nodesTable(), shared == null ? null : nodeId,
        shared == null ? null : new PgUploadStore(state, PgNames.quote(schema) + "." + PgUploadStore.TABLE));
  }

  /** A setting as the write connections' sessions have it (tests). */
  String writeSetting(String name) {
    return await(pool.preparedQuery("SELECT current_setting($1)").execute(Tuple.of(name))).iterator().next()
        .getString(0);
  }

  /** The searches' kept counts (tests); null in a cluster. */
  PrefixCounts prefixCounts() {
    return prefixCounts;
  }

  /** The event loops of the write connections (tests hold them busy). */
  Vertx writeLoops() {
    return writeLoops;
  }

  private String stateTable() {
    return PgNames.quote(schema) + "." + PgNodeState.TABLE;
  }

  private String nodesTable() {
    return PgNames.quote(schema) + "." + PgNodeState.NODES;
  }

  /**
   * A Vert.x instance whose event loops serve one pool's connections, one loop per connection (at most
   * {@link #MAX_LOOPS}), its threads named after the pool. Callers wait on its futures from worker threads.
   */
  private static Vertx loops(String name, int connections) {
    VertxOptions options = new VertxOptions()
        .setEventLoopPoolSize(loopCount(connections))
        .setWorkerPoolSize(1)
        .setInternalBlockingPoolSize(1)
        // no file cache directory in the working directory for an instance that never serves files
        .setFileSystemOptions(new FileSystemOptions().setFileCachingEnabled(false)
            .setClassPathResolvingEnabled(false));
    return VertxBootstrap.create().options(options).threadFactory(new VertxThreadFactory() {
      @Override
      public VertxThread newVertxThread(Runnable target, String thread, boolean worker, long maxExecTime,
          TimeUnit maxExecTimeUnit) {
        return new VertxThread(target, name + thread.replaceFirst("^vert\\.x", ""), worker, maxExecTime,
            maxExecTimeUnit);
      }
    }).init().vertx();
  }

  private static int loopCount(int connections) {
    return Math.max(1, Math.min(connections, MAX_LOOPS));
  }

  /** eventLoops: how many of the instance's loops the connections spread over; 0: each on its first caller's. */
  private static Pool pool(Vertx vertx, PgConnectOptions options, int size, String name, int eventLoops) {
    return PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(size).setName(name).setEventLoopSize(eventLoops))
        // an unreachable host fails a request within seconds (503), not after the client's default minute
        .with(new NetClientOptions().setConnectTimeout(10_000))
        .connectingTo(options)
        .using(vertx)
        .build();
  }

  /** The engine {@code store.type=postgres} configures ({@code store.postgres.*}). */
  public static PgEngine create(Vertx vertx, SluiceConfig.Postgres settings) {
    return create(vertx, settings, false);
  }

  /** shared: the nodes of a cluster use this database together. */
  public static PgEngine create(Vertx vertx, SluiceConfig.Postgres settings, boolean shared) {
    return create(vertx, settings, shared, 0);
  }

  /** idleTransactionMs: see the constructor. */
  public static PgEngine create(Vertx vertx, SluiceConfig.Postgres settings, boolean shared,
      long idleTransactionMs) {
    return new PgEngine(vertx, connectOptions(settings), settings.poolSize(), settings.readPoolSize(),
        settings.schema(), shared, idleTransactionMs, settings.indexColumns(), settings.tableConnections(),
        settings.flushAfterKb());
  }

  static PgConnectOptions connectOptions(SluiceConfig.Postgres settings) {
    PgConnectOptions options = settings.url() == null ? new PgConnectOptions()
        : PgConnectOptions.fromUri(settings.url());
    if (settings.host() != null) {
      options.setHost(settings.host());
    }
    if (settings.port() > 0) {
      options.setPort(settings.port());
    }
    if (settings.database() != null) {
      options.setDatabase(settings.database());
    }
    if (settings.user() != null) {
      options.setUser(settings.user());
    }
    if (settings.password() != null) {
      options.setPassword(settings.password());
    }
    return options;
  }

  // ------------------------------------------------------------------ catalog

  @Override
  public Map<String, TableDef> loadCatalog() {
    init();
    Map<String, TableDef> tables = new LinkedHashMap<>();
    // the version and the tables of one snapshot
    long[] version = new long[1];
    io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row> rows = await(reads.withTransaction(c -> {
      Future<?> snapshot = c.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute();
      Future<Long> stored = c.query("SELECT version FROM " + catalogVersion).execute()
          .map(r -> r.iterator().next().getLong(0));
      Future<io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row>> entries = c.query(
          "SELECT name, id, schema FROM " + catalog + " ORDER BY position").execute();
      return Future.all(snapshot, stored, entries).map(done -> {
        version[0] = stored.result();
        return entries.result();
      });
    }));
    for (io.vertx.sqlclient.Row row : rows) {
      String name = row.getString(0);
      tables.put(name, new TableDef(row.getString(1),
          SchemaParser.parseTable(name, new JsonObject(row.getString(2)))));
    }
    if (loadedVersion < 0 && shared == null) {
      // a bulk load this node did not see the end of (it stopped or died) left a table without its token indexes
      await(buildTokenIndexes(null));
    }
    loadedVersion = version[0];
    return tables;
  }

  @Override
  public void saveCatalog(Map<String, TableDef> tables, Map<String, String> keys) {
    saveCatalog(tables, keys, null);
  }

  @Override
  public void saveCatalog(Map<String, TableDef> tables, Map<String, String> keys, Map<String, String> rebuilt) {
    init();
    int n = tables.size();
    Integer[] positions = new Integer[n];
    String[] names = new String[n];
    String[] ids = new String[n];
    String[] schemas = new String[n];
    int i = 0;
    for (Map.Entry<String, TableDef> e : tables.entrySet()) {
      positions[i] = i;
      names[i] = e.getKey();
      ids[i] = e.getValue().id();
      schemas[i] = e.getValue().schema().toJson().encode();
      i++;
    }
    loadedVersion = await(pool.withTransaction(c -> {
      Future<?> delete = c.query("DELETE FROM " + catalog).execute();
      Future<?> insert = c.preparedQuery("INSERT INTO " + catalog + " (position, name, id, schema)"
          + " SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[])")
          .execute(Tuple.tuple().addValue(positions).addValue(names).addValue(ids).addValue(schemas));
      Future<Long> version = c.query("UPDATE " + catalogVersion + " SET version = version + 1 RETURNING version")
          .execute().map(r -> r.iterator().next().getLong(0));
      // Whoever reads this catalog reads its rebuilds too: a node's import on an old id follows its rows.
      Future<?> rebuilds = shared == null || rebuilt == null || rebuilt.isEmpty() ? Future.succeededFuture()
          : c.preparedQuery("INSERT INTO " + catalogRebuilt + " (old_id, new_id)"
              + " SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (old_id) DO NOTHING")
              .execute(Tuple.tuple().addValue(rebuilt.keySet().toArray(new String[0]))
                  .addValue(rebuilt.values().toArray(new String[0])));
      if (keys == null) {
        return Future.all(delete, insert, version, rebuilds).map(done -> version.result());
      }
      // The schema operations' Idempotency-Key records, in the catalog's transaction.
      Future<?> deleteKeys = c.query("DELETE FROM " + catalogKeys).execute();
      Future<?> insertKeys = c.preparedQuery("INSERT INTO " + catalogKeys + " (name, record)"
          + " SELECT * FROM unnest($1::text[], $2::text[])").execute(Tuple.tuple()
          .addValue(keys.keySet().toArray(new String[0])).addValue(keys.values().toArray(new String[0])));
      return Future.all(List.of(delete, insert, version, rebuilds, deleteKeys, insertKeys))
          .map(done -> version.result());
    }));
  }

  @Override
  public Map<String, String> loadCatalogKeys() {
    init();
    Map<String, String> keys = new LinkedHashMap<>();
    for (io.vertx.sqlclient.Row row : await(reads.query("SELECT name, record FROM " + catalogKeys).execute())) {
      keys.put(row.getString(0), row.getString(1));
    }
    return keys;
  }

  @Override
  public void createTable(TableDef table) {
    init();
    String name = table(table.id());
    List<String> columns = new ArrayList<>();
    columns.add("_seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
    columns.add("_source text NOT NULL");
    table.schema().columns().forEach((column, def) -> columns.add(PgNames.column(column) + " "
        + PgNames.sqlType(def.type())));
    table.schema().columns().forEach((column, def) -> {
      if (def.type() == ColumnType.TEXT) {
        columns.add(PgNames.tokens(column) + " " + TOKENS_TYPE);
      }
    });
    columns.add("_job text");
    columns.add("_batch bigint");
    List<String> statements = new ArrayList<>();
    statements.add("CREATE TABLE " + name + " (" + String.join(", ", columns) + ")");
    statements.add("CREATE INDEX ON " + name + " (_job, _batch)");
    table.schema().columns().forEach((column, def) -> {
      if (def.type() == ColumnType.TEXT) {
        statements.add("CREATE INDEX ON " + name + " USING gin (" + PgNames.tokens(column) + ")");
      }
      if (indexed(def.type())) {
        statements.add("CREATE INDEX ON " + name + " (" + PgNames.column(column) + ")");
      }
    });
    await(pool.withTransaction(c -> all(c, statements)));
    if (prefixCounts != null) {
      prefixCounts.created(table.id());
    }
  }

  /**
   * Columns a btree serves (equality, ranges, {@code $startsWith} under the C collation, orders): not Boolean
   * (two values: a scan is as fast) nor Text (free text; its tokens have their GIN index).
   */
  private boolean indexed(ColumnType type) {
    return indexColumns && switch (type) {
      case INT, LONG, DECIMAL, STRING -> true;
      case BOOLEAN, TEXT -> false;
    };
  }

  @Override
  public void copyRows(String fromId, TableDef to) {
    copy(fromId, to, null);
  }

  @Override
  public void copyRowsWithout(String fromId, TableDef to, String droppedColumn) {
    copy(fromId, to, droppedColumn);
  }

  private void copy(String fromId, TableDef to, String droppedColumn) {
    String from = table(fromId);
    String target = table(to.id());
    StringJoiner columns = new StringJoiner(", ");
    columns.add("_seq").add("_source").add("_job").add("_batch");
    to.schema().columns().forEach((column, def) -> {
      columns.add(PgNames.column(column));
      if (def.type() == ColumnType.TEXT) {
        columns.add(PgNames.tokens(column));
      }
    });
    await(changing(to.id(), () -> pool.withTransaction(c -> {
      Future<?> copied = c.query("INSERT INTO " + target + " (" + columns + ") SELECT " + columns + " FROM " + from)
          .execute()
          .compose(done -> droppedColumn == null ? Future.succeededFuture() : rewriteSources(c, target,
              droppedColumn, Long.MIN_VALUE));
      return copied.compose(done -> c.preparedQuery("SELECT setval(pg_get_serial_sequence($1, '_seq'), m)"
          + " FROM (SELECT max(_seq) AS m FROM " + target + ") AS x WHERE m IS NOT NULL")
          .execute(Tuple.of(target)));
    })));
  }

  /**
   * Takes a dropped column out of every row's source, in pages. In Java, not with jsonb's {@code -}: jsonb
   * reorders keys and respells numbers, and the sources must read as the Lucene engine rewrites them.
   */
  private Future<Void> rewriteSources(SqlConnection c, String table, String droppedColumn, long after) {
    return c.preparedQuery("SELECT _seq, _source FROM " + table + " WHERE _seq > $1 ORDER BY _seq LIMIT "
        + REWRITE_PAGE).execute(Tuple.of(after)).compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture();
          }
          Long[] seqs = new Long[rows.size()];
          String[] sources = new String[rows.size()];
          int i = 0;
          for (io.vertx.sqlclient.Row row : rows) {
            seqs[i] = row.getLong(0);
            sources[i] = without(row.getString(1), droppedColumn);
            i++;
          }
          long last = seqs[seqs.length - 1];
          return c.preparedQuery("UPDATE " + table + " AS t SET _source = u.s FROM unnest($1::bigint[], $2::text[])"
              + " AS u(q, s) WHERE t._seq = u.q").execute(Tuple.tuple().addValue(seqs).addValue(sources))
              .compose(done -> rewriteSources(c, table, droppedColumn, last));
        });
  }

  private static String without(String source, String column) {
    try {
      JsonNode row = JSON.readTree(source);
      ((ObjectNode) row).remove(column);
      return JSON.writeValueAsString(row);
    } catch (IOException e) {
      throw new IllegalStateException("a stored row is not a JSON object", e);
    }
  }

  @Override
  public void addColumn(String id, TableSchema updated) {
    String name = table(id);
    Set<String> existing = new HashSet<>();
    for (io.vertx.sqlclient.Row row : await(pool.preparedQuery("SELECT attname FROM pg_attribute"
        + " WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped").execute(Tuple.of(name)))) {
      existing.add(row.getString(0));
    }
    List<String> statements = new ArrayList<>();
    updated.columns().forEach((column, def) -> {
      if (!existing.contains(PgNames.columnName(column))) {
        statements.add("ALTER TABLE " + name + " ADD COLUMN " + PgNames.column(column) + " "
            + PgNames.sqlType(def.type()));
      }
      if (def.type() == ColumnType.TEXT && !existing.contains(PgNames.tokensName(column))) {
        statements.add("ALTER TABLE " + name + " ADD COLUMN " + PgNames.tokens(column) + " " + TOKENS_TYPE);
        statements.add("CREATE INDEX ON " + name + " USING gin (" + PgNames.tokens(column) + ")");
      }
      if (!existing.contains(PgNames.columnName(column)) && indexed(def.type())) {
        statements.add("CREATE INDEX ON " + name + " (" + PgNames.column(column) + ")");
      }
    });
    if (!statements.isEmpty()) {
      await(changing(id, () -> pool.withTransaction(c -> all(c, statements))));
    }
  }

  @Override
  public void dropTable(String id) {
    await(changing(id, () -> pool.query("DROP TABLE IF EXISTS " + table(id)).execute()));
    growth.dropped(id);
    if (prefixCounts != null) {
      prefixCounts.dropped(id);
    }
    await(pool.preparedQuery("DELETE FROM " + keyRecords + " WHERE table_id = $1").execute(Tuple.of(id)));
  }

  @Override
  public void dropOrphans(Set<String> knownIds) {
    init();
    List<String> drops = new ArrayList<>();
    for (io.vertx.sqlclient.Row row : await(pool.preparedQuery("SELECT tablename FROM pg_tables"
        + " WHERE schemaname = $1 AND starts_with(tablename, 't_')").execute(Tuple.of(schema)))) {
      String id = row.getString(0).substring(2);
      if (!knownIds.contains(id)) {
        drops.add("DROP TABLE IF EXISTS " + PgNames.quote(schema) + "." + PgNames.quote(row.getString(0)));
      }
    }
    if (!drops.isEmpty()) {
      LOG.info("dropping {} PostgreSQL table(s) no table of the catalog refers to", drops.size());
      await(changing(null, () -> pool.withTransaction(c -> all(c, drops))));
    }
  }

  @Override
  public long rowCount(String id) {
    return await(count(reads, id, PrefixCounts.ALL, List.of(), 0, null)).total();
  }

  /**
   * {@code pg_total_relation_size} (heap, TOAST, indexes) and the row count, on a write connection: a first count
   * is a scan, and the read connections are kept for reads. In the table's share of the write pool: outside it, a
   * count (a second or more of a large table being imported) held the connection a write to another table was
   * promised. Later counts start from the kept count ({@link PrefixCounts}): the gauges' count every 10 s of a
   * table being imported took 1-3 s each, a quarter of a core. The WAL is the server's, not a table's.
   */
  @Override
  public TableStats tableStats(String id, boolean countRows) {
    String name = table(id);
    io.vertx.sqlclient.Row size = await(writes.run(id, () -> pool.preparedQuery(
        "SELECT pg_total_relation_size(to_regclass($1))").execute(Tuple.of(name)))).iterator().next();
    if (size.getValue(0) == null) {
      return null;
    }
    long rows = -1;
    if (countRows) {
      rows = prefixCounts == null ? -1 : prefixCounts.rows(id);
      if (rows < 0) {
        rows = await(writes.run(id, () -> count(pool, id, PrefixCounts.ALL, List.of(), 0, null))).total();
      }
    }
    return new TableStats(rows, size.getLong(0), TableStats.NO_LOG);
  }

  // ------------------------------------------------------------------ writes

  @Override
  public Future<Integer> append(TableDef table, RowBatch rows, Checkpoint checkpoint, boolean deferred) {
    return insert(table, rows, checkpoint).onSuccess(stored -> {
      if (stored > 0 && growth.appended(table.id(), stored)) {
        // in the table's write share (ANALYZE takes no lock appends or searches wait for), after this batch
        String name = table(table.id());
        writes.run(table.id(), () -> pool.query("ANALYZE " + name).execute()).onFailure(e -> LOG.debug(
            "ANALYZE of a growing table failed: {}", e.toString()));
      }
    });
  }

  /**
   * The insert as one statement answering its highest row number, its transaction and its matches of each watched
   * condition (evaluated on the rows it inserts, its placeholders after the insert's); fills {@code params}.
   */
  private static String counted(Insert insert, List<PrefixCounts.Watch> watched, Tuple params) {
    for (int i = 0; i < insert.params.size(); i++) {
      params.addValue(insert.params.getValue(i));
    }
    StringBuilder returning = new StringBuilder(" RETURNING _seq");
    StringBuilder select = new StringBuilder("SELECT max(_seq), txid_current()");
    for (int w = 0; w < watched.size(); w++) {
      returning.append(", (").append(PgPredicates.shifted(watched.get(w).condition(), params.size()))
          .append(") AS w").append(w);
      watched.get(w).params().forEach(params::addValue);
      select.append(", count(*) FILTER (WHERE w").append(w).append(')');
    }
    return "WITH inserted AS (" + insert.sql + returning + ") " + select + " FROM inserted";
  }

  private Future<Integer> insert(TableDef table, RowBatch rows, Checkpoint checkpoint) {
    Insert insert;
    try {
      insert = Insert.of(table(table.id()), table.schema(), rows, checkpoint,
          shared == null ? null : catalog, table.id());
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    if (insert.count == 0) {
      return Future.succeededFuture(0);
    }
    boolean beside = bulkBesideOthers(checkpoint, insert.bytes);
    if (shared == null) {
      // One statement is one transaction (its rows and checkpoint commit together): no BEGIN and COMMIT round
      // trips, during which the backend sat idle in transaction waiting for this client. It answers its highest
      // row number, which settles the rows below it for the searches' kept counts, its transaction and its matches
      // of the conditions searched lately, which keep their totals live (PrefixCounts).
      String flush = flushing(beside);
      return watch(writes.run(table.id(), () -> {
        PrefixCounts.Append append = prefixCounts.appending(table.id());
        Tuple params = Tuple.tuple();
        String sql = counted(insert, append.watched(), params);
        // pipelined: the setting goes ahead of the statement, no round trip waited for; the statement's outcome is
        // the append's whatever the setting's
        return (flush == null ? pool.preparedQuery(sql).execute(params) : pool.withConnection(c -> {
          c.query(flush).execute().onFailure(e -> LOG.debug("{} failed: {}", flush, e.toString()));
          return c.preparedQuery(sql).execute(params);
        })).onComplete(done -> {
          if (done.succeeded()) {
            io.vertx.sqlclient.Row row = done.result().iterator().next();
            Long highest = row.getLong(0);
            long[] matches = new long[append.watched().size()];
            for (int w = 0; w < matches.length; w++) {
              matches[w] = row.getLong(2 + w);
            }
            prefixCounts.appended(table.id(), append, highest == null ? -1 : highest, insert.count,
                row.getLong(1), matches).forEach(this::refresh);
          } else if (done.cause() instanceof PgException) {
            prefixCounts.failed(table.id(), append);
          } else {
            prefixCounts.lost(table.id(), append);
          }
        });
      }).map(r -> insert.count));
    }
    // Pipelined: the shared lock waits for a schema change in progress on any node; the INSERT (its snapshot
    // taken after the lock) stores the rows only if the catalog still names the table id they were checked under.
    // A file import's batch is stored only while this node holds the import's lease (checked first, in the same
    // transaction): a node that lost it cannot add rows behind the one that claimed the import.
    // A batch may be stored by another node than the lease holder (batches spread over the cluster): the fence
    // checks the holder named in the checkpoint.
    boolean fenced = checkpoint != null && checkpoint.leased();
    String holder = fenced && checkpoint.holder() != null ? checkpoint.holder() : nodeId;
    return watch(writes.run(table.id(), () -> pool.withTransaction(c -> {
      if (beside) {
        // for this transaction only: nothing to reset when the import is alone again (a failure fails the
        // transaction's statements after it, so the append reports it)
        c.query("SET LOCAL " + flushBeside).execute();
      }
      Future<Integer> held = fenced ? c.preparedQuery(PgNodeState.leaseCheck(stateTable()))
          .execute(Tuple.of(checkpoint.job(), holder)).map(r -> r.rowCount()) : Future.succeededFuture(1);
      Future<?> locked = c.preparedQuery(SHARED_LOCK).execute(Tuple.of(schemaLockKey));
      if (!fenced) {
        return Future.all(held, locked, c.preparedQuery(insert.sql).execute(insert.params).map(r -> r.rowCount()))
            .map(done -> done.<Integer>resultAt(2));
      }
      // A batch is resent when its reply was lost (its node died after storing it, or answered too late): the
      // batch's own lock orders the copies, and a copy that finds the batch's rows stores nothing and succeeds.
      Future<?> batchLocked = c.preparedQuery(BATCH_LOCK)
          .execute(Tuple.of(checkpoint.job(), Long.toString(checkpoint.batch())));
      Future<Boolean> stored = c.preparedQuery("SELECT 1 FROM " + table(table.id())
          + " WHERE _job = $1 AND _batch = $2 LIMIT 1").execute(Tuple.of(checkpoint.job(), checkpoint.batch()))
          .map(r -> r.rowCount() > 0);
      return Future.all(held, locked, batchLocked, stored).compose(done -> {
        if (held.result() == 0) {
          return Future.failedFuture(new StorageException(StorageException.Kind.LEASE_LOST, "import "
              + checkpoint.job() + " is no longer its node's to run (its lease expired and another node took it);"
              + " batch " + checkpoint.batch() + " was not stored", null));
        }
        return stored.result() ? Future.succeededFuture(FOUND)
            : c.preparedQuery(insert.sql).execute(insert.params).map(r -> r.rowCount());
      });
    }))).compose(inserted -> inserted == FOUND ? Future.succeededFuture(0)
        : inserted == insert.count ? Future.succeededFuture(insert.count) : Future.failedFuture(stale()));
  }

  /**
   * Whether an append hands its pages to the disk as it goes ({@link #flushBeside}): a bulk append (a file
   * import's batch, {@link Checkpoint#leased}, or one of at least {@link #BULK_BYTES}: a streamed import's batch, a
   * large upload) while other writes are about. Any other append (a small batch, with an Idempotency-Key's
   * checkpoint or none) is one of those others: it writes out too little for the setting to matter.
   */
  private boolean bulkBesideOthers(Checkpoint checkpoint, long bytes) {
    long now = System.nanoTime();
    boolean bulk = checkpoint != null && checkpoint.leased() || bytes >= BULK_BYTES;
    if (!bulk) {
      otherWriteNanos = now;
      return false;
    }
    return flushBeside != null && now - otherWriteNanos < BESIDE_NANOS;
  }

  /**
   * What a single node's append statement runs first: a {@code SET} of {@link #flushBeside} beside others, else the
   * server's setting again once some connection may have served one beside, else nothing (null).
   */
  private String flushing(boolean beside) {
    if (beside) {
      flushSent = true;
      return "SET " + flushBeside;
    }
    return flushSent ? "RESET backend_flush_after" : null;
  }

  /** What a resent batch's transaction answers when it found the batch stored: it stored nothing. */
  private static final int FOUND = -1;

  /** Two int keys: a key space apart from the bigint keys of the schema lock and the Idempotency-Key locks. */
  private static final String BATCH_LOCK = "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))";

  private static final String SHARED_LOCK = "SELECT pg_advisory_xact_lock_shared($1)";

  private static StorageException stale() {
    return new StorageException(StorageException.Kind.STALE_CATALOG, "another node changed the schema meanwhile",
        null);
  }

  @Override
  public SharedCatalog sharedCatalog() {
    return shared;
  }

  /** The shared catalog's version row and a session-level advisory lock on a connection of its own. */
  private final class Shared implements SharedCatalog {
    @Override
    public long storedVersion() {
      init();
      return await(reads.query("SELECT version FROM " + catalogVersion).execute()).iterator().next().getLong(0);
    }

    @Override
    public long loadedVersion() {
      return loadedVersion;
    }

    @Override
    public Map<String, String> rebuiltIds() {
      init();
      Map<String, String> rebuilt = new HashMap<>();
      for (io.vertx.sqlclient.Row row : await(reads.query("SELECT old_id, new_id FROM " + catalogRebuilt)
          .execute())) {
        rebuilt.put(row.getString(0), row.getString(1));
      }
      return rebuilt;
    }

    @Override
    public Lock lock() {
      init();
      // Not from a pool: if the unlock fails, closing the session is what releases the lock.
      SqlConnection c = await(io.vertx.pgclient.PgConnection.connect(vertx, options).map(pg -> (SqlConnection) pg));
      try {
        await(c.preparedQuery("SELECT pg_advisory_lock($1)").execute(Tuple.of(schemaLockKey)));
      } catch (RuntimeException e) {
        c.close();
        throw e;
      }
      return () -> {
        try {
          await(c.preparedQuery("SELECT pg_advisory_unlock($1)").execute(Tuple.of(schemaLockKey)));
        } catch (RuntimeException e) {
          LOG.warn("releasing the schema lock failed ({}); closing its session releases it", e.getMessage());
        } finally {
          c.close();
        }
      };
    }

    @Override
    public KeyHold holdKey(String name) {
      init();
      long key = keyLockKey(name);
      // A session lock on a connection of its own: a node that dies drops its connection, which releases it;
      // closing the connection is the release (no pooled session left holding a lock).
      SqlConnection c = await(io.vertx.pgclient.PgConnection.connect(vertx, options).map(pg -> (SqlConnection) pg));
      boolean held;
      try {
        held = await(c.preparedQuery("SELECT pg_try_advisory_lock($1)").execute(Tuple.of(key)))
            .iterator().next().getBoolean(0);
      } catch (RuntimeException e) {
        c.close();
        throw e;
      }
      if (!held) {
        c.close();
        return null;
      }
      return c::close;
    }
  }

  /** The advisory lock key of a held Idempotency-Key: a hash of schema and name, never the schema lock's. */
  private long keyLockKey(String name) {
    try {
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
          .digest((schema + "\0" + name).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      long key = java.nio.ByteBuffer.wrap(digest).getLong();
      return key == schemaLockKey ? key + 1 : key;
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Token arrays compare bytes, as Lucene's terms do: under the database's collation (C.UTF-8 on Debian) every GIN
   * comparison was a strcoll, and building the index took 1.7 times as long (docs/performance.md). Equality, all
   * that {@code &&} and {@code @>} ask, is the same under either.
   */
  static final String TOKENS_TYPE = "text[] COLLATE \"C\"";

  static final String NUL_REFUSAL = "PostgreSQL text cannot hold the character U+0000";

  private static boolean hasNul(Utf8 text) {
    byte[] bytes = text.bytes();
    for (int i = text.offset(); i < text.offset() + text.length(); i++) {
      if (bytes[i] == 0) {
        return true;
      }
    }
    return false;
  }

  @Override
  public RowCheck rowCheck() {
    return (schema, row) -> {
      int c = 0;
      for (String column : schema.columns().keySet()) {
        if (row.values()[c++] instanceof Utf8 text && hasNul(text)) {
          return new RowCheck.Refusal(column, "column '" + column + "': " + NUL_REFUSAL);
        }
      }
      return null;
    };
  }

  @Override
  public Future<Void> sync(String id) {
    return Future.succeededFuture();
  }

  @Override
  public Future<Long> delete(TableDef table, Predicate where, KeyRecord record) {
    List<Object> params = new ArrayList<>();
    String condition;
    try {
      condition = new PgPredicates(table.schema(), params).sql(where);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    String delete = "DELETE FROM " + table(table.id()) + " WHERE " + condition;
    if (shared == null && record == null) {
      return watch(writes.run(table.id(), () -> changing(table.id(), () -> pool.preparedQuery(delete)
          .execute(Tuple.from(params)).map(result -> (long) result.rowCount()))));
    }
    // One transaction: the rows go and the key's record is there, or neither (expired records go with it); with a
    // shared catalog, as an append: under the shared lock and only while the catalog still names the table id the
    // predicate was made for.
    return watch(writes.run(table.id(), () -> changing(table.id(), () -> pool.withTransaction(c -> {
      Future<?> checked = Future.succeededFuture();
      if (shared != null) {
        Future<?> locked = c.preparedQuery(SHARED_LOCK).execute(Tuple.of(schemaLockKey));
        Future<Integer> named = c.preparedQuery("SELECT 1 FROM " + catalog + " WHERE id = $1")
            .execute(Tuple.of(table.id())).map(r -> r.rowCount());
        checked = Future.all(locked, named)
            .compose(done -> named.result() == 0 ? Future.failedFuture(stale()) : Future.succeededFuture());
      }
      return checked.compose(ok -> c.preparedQuery(delete).execute(Tuple.from(params)))
          .compose(deleted -> record == null ? Future.succeededFuture((long) deleted.rowCount())
              : c.preparedQuery("INSERT INTO " + keyRecords + " (table_id, job, batch, total, expires)"
                  + " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (table_id, job) DO UPDATE SET batch = EXCLUDED.batch,"
                  + " total = EXCLUDED.total, expires = EXCLUDED.expires")
                  .execute(Tuple.of(table.id(), record.job(), record.batch(), (long) deleted.rowCount(),
                      record.expires()))
                  .compose(inserted -> c.preparedQuery("DELETE FROM " + keyRecords + " WHERE expires < $1")
                      .execute(Tuple.of(System.currentTimeMillis() / 1000)))
                  .map(pruned -> (long) deleted.rowCount()));
    }))));
  }

  /**
   * Runs a change that may touch rows searches counted as settled (a delete, a column change, a copy, a drop):
   * while it runs, and after it, no kept count is used ({@link PrefixCounts}).
   */
  private <T> Future<T> changing(String table, java.util.function.Supplier<Future<T>> change) {
    if (prefixCounts == null) {
      return change.get();
    }
    prefixCounts.changeStarted();
    Future<T> changed;
    try {
      changed = change.get();
    } catch (RuntimeException e) {
      prefixCounts.changeEnded(table, false);
      throw e;
    }
    return changed.onComplete(done -> prefixCounts.changeEnded(table, done.failed()
        && !(done.cause() instanceof PgException)));
  }

  @Override
  public KeyRecord keyRecord(String id, String job) {
    for (io.vertx.sqlclient.Row row : await(reads.preparedQuery("SELECT batch, total, expires FROM " + keyRecords
        + " WHERE table_id = $1 AND job = $2").execute(Tuple.of(id, job)))) {
      return new KeyRecord(job, row.getLong(0), row.getLong(1), row.getLong(2));
    }
    return null;
  }

  @Override
  public Future<Void> optimize(String id) {
    String name;
    try {
      name = table(id);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    // also what a bulk load whose end was never seen left to do (the indexes are built at start otherwise)
    return watch(pool.query("VACUUM ANALYZE " + name).execute()
        .compose(done -> inBulk(id) ? Future.succeededFuture() : buildTokenIndexes(id)));
  }

  // ------------------------------------------------------------------ bulk loads

  /**
   * Tables loaded in bulk: internal id → the imports loading them. Their GIN indexes of tokens are dropped while
   * those imports run and built once the last of them ends. Row by row, every GIN index took its share of every
   * batch's insert, and the eight inserts of an import's window contended for each index's pending list: on the
   * benchmark, PostgreSQL spent 14-21 CPU-s on a 1M-row import with them and 11-12 without, and building both
   * afterwards took 2.6 CPU-s (2.1 s, the two in parallel) — docs/performance.md. Only single nodes: in a cluster
   * other nodes store the batches too.
   */
  private final Map<String, Set<String>> bulk = new HashMap<>();
  /** Bulk starts and ends run one at a time, each after the one before it completed. */
  private Future<Void> bulkSteps = Future.succeededFuture();

  private synchronized boolean inBulk(String id) {
    return bulk.containsKey(id);
  }

  private synchronized Future<Void> bulkStep(java.util.function.Supplier<Future<Void>> step) {
    Future<Void> next = bulkSteps.transform(before -> step.get());
    bulkSteps = next.otherwiseEmpty();
    return next;
  }

  @Override
  public Future<Void> importStarting(TableDef table, String job) {
    boolean tokens = table.schema().columns().values().stream().anyMatch(c -> c.type() == ColumnType.TEXT);
    if (shared != null || !tokens) {
      return Future.succeededFuture();
    }
    String name = table(table.id());
    return watch(bulkStep(() -> {
      synchronized (this) {
        Set<String> jobs = bulk.get(table.id());
        if (jobs != null) { // another import is loading the table: its indexes are built after both
          jobs.add(job);
          return Future.succeededFuture();
        }
      }
      // Only an empty table: building the indexes afterwards reads every row, an import's and those before it.
      // The lock keeps rows from arriving between the check and the drop (it waits for writes in flight).
      return pool.withTransaction(c -> c.query("LOCK TABLE " + name + " IN SHARE ROW EXCLUSIVE MODE").execute()
          .compose(locked -> c.query("SELECT EXISTS (SELECT 1 FROM " + name + ")").execute())
          .compose(rows -> rows.iterator().next().getBoolean(0) ? Future.succeededFuture(false)
              : c.preparedQuery("SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid"
                  + " JOIN pg_am am ON am.oid = ic.relam WHERE i.indrelid = $1::regclass AND am.amname = 'gin'")
                  .execute(Tuple.of(name))
                  .compose(indexes -> {
                    List<String> drops = new ArrayList<>();
                    indexes.forEach(index -> drops.add("DROP INDEX " + PgNames.quote(schema) + "."
                        + PgNames.quote(index.getString(0))));
                    return all(c, drops);
                  })
                  .map(true)))
          .map(dropped -> {
            if (dropped) {
              synchronized (this) {
                bulk.put(table.id(), new HashSet<>(Set.of(job)));
              }
              LOG.info("table {}: token indexes dropped for the bulk load of import {}; built when it ends",
                  table.id(), job);
            }
            return null;
          });
    }));
  }

  @Override
  public Future<Void> importEnded(TableDef table, String job) {
    if (shared != null) {
      return Future.succeededFuture();
    }
    return watch(bulkStep(() -> {
      List<String> done = new ArrayList<>();
      synchronized (this) {
        bulk.entrySet().removeIf(entry -> {
          if (entry.getValue().remove(job) && entry.getValue().isEmpty()) {
            done.add(entry.getKey());
            return true;
          }
          return false;
        });
      }
      // A table dropped or rebuilt meanwhile went with its missing indexes (a rebuilt one was created with them).
      return table != null && done.contains(table.id()) ? buildTokenIndexes(table.id()) : Future.succeededFuture();
    }));
  }

  /** Token columns (every text[] column is one) of the table's that have no GIN index. */
  private static final String MISSING_TOKEN_INDEXES = "SELECT c.relname, a.attname FROM pg_class c"
      + " JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid"
      + " WHERE n.nspname = $1 AND c.relkind = 'r' AND starts_with(c.relname, 't_') AND ($2::text IS NULL OR"
      + " c.relname = $2) AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid = 'text[]'::regtype"
      + " AND NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid"
      + " JOIN pg_am am ON am.oid = ic.relam WHERE i.indrelid = c.oid AND i.indkey[0] = a.attnum"
      + " AND am.amname = 'gin')";

  /** Builds the GIN indexes the table's (or every table's, id null) token columns lack, each on a connection. */
  Future<Void> buildTokenIndexes(String id) {
    return pool.preparedQuery(MISSING_TOKEN_INDEXES).execute(Tuple.of(schema, id == null ? null
        : PgNames.tableName(id))).compose(missing -> {
          List<Future<?>> builds = new ArrayList<>();
          for (io.vertx.sqlclient.Row row : missing) {
            String sql = "CREATE INDEX ON " + PgNames.quote(schema) + "." + PgNames.quote(row.getString(0))
                + " USING gin (" + PgNames.quote(row.getString(1)) + ")";
            // as much sort memory as the raw peer's index builds get (the server's default is 64 MB)
            builds.add(pool.withTransaction(c -> c.query("SET LOCAL maintenance_work_mem = '256MB'").execute()
                .compose(set -> c.query(sql).execute())));
          }
          return Future.all(builds).mapEmpty();
        });
  }

  // ------------------------------------------------------------------ reads

  @Override
  public Page search(TableDef table, Predicate where, List<Order> order, int offset, int limit) {
    String name = table(table.id());
    List<Object> params = new ArrayList<>();
    String condition = new PgPredicates(table.schema(), params).sql(where);
    StringJoiner orderBy = new StringJoiner(", ", " ORDER BY ", "");
    for (Order key : order) {
      if (table.schema().column(key.column()) == null) {
        throw new IllegalArgumentException("no column " + key.column() + " to order by");
      }
      String column = PgNames.column(key.column());
      orderBy.add(column + (key.descending() ? " DESC" : " ASC") + " NULLS LAST");
      if (table.schema().column(key.column()).type() == ColumnType.DECIMAL) {
        // float8 has -0.0 = 0.0; Lucene's sort (and so the API) puts -0.0 just below 0.0: atan2 tells them apart
        orderBy.add("(" + column + " = 0 AND atan2(" + column + ", -1) < 0)" + (key.descending() ? " ASC" : " DESC"));
      }
    }
    orderBy.add("_seq");
    int conditionParams = params.size();
    params.add((long) offset);
    params.add((long) limit);
    // One statement, so one snapshot for the page and its total and one round trip: beside an import every
    // further round trip (a transaction's BEGIN and COMMIT) waits again for a busy CPU.
    String pageSql = "ARRAY(SELECT _source FROM " + name + " WHERE " + condition + orderBy + " OFFSET $"
        + (conditionParams + 1) + " LIMIT $" + (conditionParams + 2) + ")";
    Counted counted = await(count(reads, table.id(), condition, params, conditionParams, pageSql));
    String[] hits = counted.row().getArrayOfStrings(counted.also());
    // A live total holds the acknowledged appends; the page's snapshot may hold rows of one not yet acknowledged.
    return page(hits.length == 0 ? counted.total() : Math.max(counted.total(), (long) offset + hits.length), hits);
  }

  /** A count, and the row its statement answered with {@code also} at column {@code also}. */
  private record Counted(long total, io.vertx.sqlclient.Row row, int also) {}

  /**
   * The rows matching {@code condition} (its parameters the first {@code conditionParams} of {@code params}),
   * counted in one statement with {@code also} (an expression of the select list, or null), from the
   * condition's kept count where there is one ({@link PrefixCounts}).
   */
  private Future<Counted> count(SqlClient client, String id, String condition, List<Object> params,
      int conditionParams, String also) {
    String name = table(id);
    String tail = also == null ? "" : ", " + also;
    PrefixCounts.Plan plan = prefixCounts == null ? null
        : prefixCounts.plan(id, condition, params.subList(0, conditionParams));
    if (plan != null && plan.live() >= 0) {
      // a live total: nothing to count, and nothing of the rows the appends are writing to read
      return also == null ? Future.succeededFuture(new Counted(plan.live(), null, -1))
          : client.preparedQuery("SELECT " + also).execute(Tuple.from(params))
              .map(rows -> new Counted(plan.live(), rows.iterator().next(), 0));
    }
    Future<Counted> plain = Future.succeededFuture(null);
    if (plan != null) {
      // The matches up to the settled bound: those above the kept count's bound (all of them when none is kept),
      // kept for the next search; then those above the bound, counted every time. Both are ranges of _seq (an
      // index range scan when narrow). With no append in flight, the highest row number may settle the table.
      // The statement's snapshot makes the total live (PrefixCounts).
      List<Object> planned = new ArrayList<>(params);
      planned.add(plan.from());
      planned.add(plan.bound());
      int from = planned.size() - 1;
      String sql = "SELECT (" + countBetween(name, condition, from) + "), (SELECT count(*) FROM " + name
          + " WHERE " + condition + " AND _seq > $" + (from + 1) + "), "
          + (plan.quiet() ? "(SELECT max(_seq) FROM " + name + ")" : "NULL::bigint")
          + ", txid_current_snapshot()::text" + tail;
      plain = client.preparedQuery(sql).execute(Tuple.from(planned)).map(rows -> {
        io.vertx.sqlclient.Row row = rows.iterator().next();
        long settled = plan.base() + row.getLong(0);
        Long highest = row.getLong(2);
        // null: a change began meanwhile and the kept count went into the total: counted again without it
        long total = settled + row.getLong(1);
        return prefixCounts.counted(plan, settled, total, highest == null ? -1 : highest,
            PrefixCounts.Snapshot.parse(row.getString(3))) ? new Counted(total, row, 4) : null;
      });
    }
    return plain.compose(counted -> counted != null ? Future.succeededFuture(counted)
        : client.preparedQuery("SELECT (SELECT count(*) FROM " + name + " WHERE " + condition + ")" + tail)
            .execute(Tuple.from(params)).map(rows -> {
              io.vertx.sqlclient.Row row = rows.iterator().next();
              return new Counted(row.getLong(0), row, 1);
            }));
  }

  /**
   * Advances a kept count searched lately as the appends settle rows, on a read connection and off any search's
   * path: the next search counts only what settled since ({@link PrefixCounts}).
   */
  private void refresh(PrefixCounts.Plan plan) {
    List<Object> params = new ArrayList<>(plan.params());
    params.add(plan.from());
    params.add(plan.bound());
    String sql = countBetween(table(plan.key().table()), plan.key().condition(), params.size() - 1);
    reads.preparedQuery(sql).execute(Tuple.from(params)).onComplete(done -> {
      if (done.succeeded()) {
        prefixCounts.counted(plan, plan.base() + done.result().iterator().next().getLong(0), -1);
      }
      prefixCounts.refreshed(plan);
    });
  }

  /** The matches of {@code condition} with {@code _seq} above parameter {@code from} and up to the next one. */
  private static String countBetween(String name, String condition, int from) {
    return "SELECT count(*) FROM " + name + " WHERE " + condition + " AND _seq > $" + from + " AND _seq <= $"
        + (from + 1);
  }

  private static Page page(long total, String[] page) {
    List<byte[]> sources = new ArrayList<>(page.length);
    for (String source : page) {
      sources.add(source.getBytes(StandardCharsets.UTF_8));
    }
    return new Page(total, sources);
  }

  @Override
  public Set<Object> values(TableDef table, Predicate where, String column) {
    ColumnSchema def = table.schema().column(column);
    if (def == null) {
      throw new IllegalArgumentException("no column " + column + " in the table's schema");
    }
    List<Object> params = new ArrayList<>();
    String condition = new PgPredicates(table.schema(), params).sql(where);
    String sql = "SELECT DISTINCT " + PgNames.column(column) + " FROM " + table(table.id()) + " WHERE "
        + condition + " AND " + PgNames.column(column) + " IS NOT NULL";
    Set<Object> values = new HashSet<>();
    for (io.vertx.sqlclient.Row row : await(reads.preparedQuery(sql).execute(Tuple.from(params)))) {
      values.add(switch (def.type()) {
        case INT, LONG -> row.getLong(0);
        case DECIMAL -> row.getDouble(0);
        case BOOLEAN -> row.getBoolean(0);
        case STRING, TEXT -> row.getString(0);
      });
    }
    return values;
  }

  @Override
  public SortedSet<Long> importedBatches(String id, String job) {
    SortedSet<Long> batches = new TreeSet<>();
    for (io.vertx.sqlclient.Row row : await(reads.preparedQuery("SELECT DISTINCT _batch FROM " + table(id)
        + " WHERE _job = $1 AND _batch IS NOT NULL").execute(Tuple.of(job)))) {
      batches.add(row.getLong(0));
    }
    return batches;
  }

  // ------------------------------------------------------------------ health

  /** PostgreSQL holds every row and the catalog: its own tools back them up, consistently and online. */
  @Override
  public Snapshot snapshot() {
    throw new StorageException(StorageException.Kind.UNSUPPORTED, "the PostgreSQL store is backed up with"
        + " PostgreSQL's own tools (pg_dump --schema=" + schema + ", or pg_basebackup with WAL archiving);"
        + " Sluice keeps no table data of its own", null);
  }

  @Override
  public String failure() {
    String reason = failure;
    if (reason != null && probing.compareAndSet(false, true)) {
      // the pool reconnects by itself; a probe notices, so /ready recovers without waiting for a write
      probe().onComplete(done -> probing.set(false));
    }
    return reason;
  }

  /** Clears {@link #failure} once PostgreSQL answers again. */
  Future<Void> probe() {
    return reads.query("SELECT 1").execute().onSuccess(done -> failure = null).mapEmpty();
  }

  @Override
  public void close() {
    try {
      Future.all(pool.close(), reads.close(), state.close()).toCompletionStage().toCompletableFuture().get();
      Future.all(writeLoops.close(), readLoops.close()).toCompletionStage().toCompletableFuture().get();
    } catch (ExecutionException e) {
      LOG.warn("closing the PostgreSQL pool failed: {}", e.getCause().toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ------------------------------------------------------------------ internals

  private String table(String id) {
    return PgNames.table(schema, id);
  }

  /** Creates the schema and catalog table if missing; once per engine, retried after a failure. */
  void init() {
    if (initialized) {
      return;
    }
    await(pool.withTransaction(c -> c.query("SHOW server_encoding").execute().compose(rows -> {
      String encoding = rows.iterator().next().getString(0);
      if (!"UTF8".equalsIgnoreCase(encoding)) {
        return Future.failedFuture(new StorageException(StorageException.Kind.FAILED,
            "the PostgreSQL database's encoding is " + encoding + "; Sluice needs UTF8", null));
      }
      // nodes sharing the database may start together: CREATE ... IF NOT EXISTS is not safe concurrently
      return all(c, List.of("SELECT pg_advisory_xact_lock(7361782033)",
          "CREATE SCHEMA IF NOT EXISTS " + PgNames.quote(schema),
          "CREATE TABLE IF NOT EXISTS " + catalog + " (position integer NOT NULL, name text PRIMARY KEY,"
              + " id text NOT NULL, schema text NOT NULL)",
          PgNodeState.createTable(stateTable()),
          PgNodeState.leaseColumns(stateTable()),
          PgNodeState.createNodesTable(nodesTable()),
          PgUploadStore.createTable(PgNames.quote(schema) + "." + PgUploadStore.TABLE),
          "CREATE TABLE IF NOT EXISTS " + catalogVersion + " (one boolean PRIMARY KEY DEFAULT true CHECK (one),"
              + " version bigint NOT NULL)",
          "INSERT INTO " + catalogVersion + " (version) VALUES (0) ON CONFLICT DO NOTHING",
          "CREATE TABLE IF NOT EXISTS " + keyRecords + " (table_id text NOT NULL, job text NOT NULL,"
              + " batch bigint NOT NULL, total bigint NOT NULL, expires bigint NOT NULL, PRIMARY KEY (table_id, job))",
          "CREATE TABLE IF NOT EXISTS " + catalogKeys + " (name text PRIMARY KEY, record text NOT NULL)",
          "CREATE TABLE IF NOT EXISTS " + catalogRebuilt + " (old_id text PRIMARY KEY, new_id text NOT NULL,"
              + " at timestamptz NOT NULL DEFAULT now())"));
    })));
    initialized = true;
  }

  /** Runs statements in order on one connection, pipelined. */
  private static Future<Void> all(SqlConnection c, List<String> statements) {
    List<Future<?>> results = new ArrayList<>();
    statements.forEach(sql -> results.add(c.query(sql).execute()));
    return Future.all(results).mapEmpty();
  }

  <T> T await(Future<T> future) {
    try {
      T result = future.toCompletionStage().toCompletableFuture().get();
      failure = null;
      return result;
    } catch (ExecutionException e) {
      throw storageFailure(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StorageException(StorageException.Kind.UNAVAILABLE, "interrupted waiting for PostgreSQL", e);
    }
  }

  private <T> Future<T> watch(Future<T> future) {
    return future.transform(result -> {
      if (result.succeeded()) {
        failure = null;
        return Future.succeededFuture(result.result());
      }
      return Future.failedFuture(storageFailure(result.cause()));
    });
  }

  /** What went wrong, in the engine's words; remembers an unreachable server for {@link #failure}. */
  RuntimeException storageFailure(Throwable e) {
    if (e instanceof StorageException storage) {
      return storage;
    }
    if (e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
      return (RuntimeException) e;
    }
    if (e instanceof PgException pg) {
      String state = pg.getSqlState() == null ? "" : pg.getSqlState();
      String message = "PostgreSQL: " + pg.getErrorMessage() + " (SQLSTATE " + state + ")";
      if (state.startsWith("08") || state.startsWith("57P") || state.startsWith("28") || state.equals("53300")
          || state.equals("3D000")) {
        failure = message;
        return new StorageException(StorageException.Kind.UNAVAILABLE, message, e);
      }
      if (state.equals("53100")) {
        return new StorageException(StorageException.Kind.DISK_FULL, message, e);
      }
      if (state.equals("42P01")) {
        return new StorageException(StorageException.Kind.TABLE_GONE, message, e);
      }
      return new StorageException(StorageException.Kind.FAILED, message, e);
    }
    // connection refused or lost, pool timeouts: the client's own exceptions
    String message = "PostgreSQL unreachable: " + e;
    failure = message;
    return new StorageException(StorageException.Kind.UNAVAILABLE, message, e);
  }

  /**
   * One append as one statement: the batch's bytes in one {@code bytea} ({@link RowBlob}) and a column array per
   * column, unnested into rows by PostgreSQL. Text (sources, String and Text values, token literals) is an array
   * of references into the blob, cut out by {@code substring} and checked as UTF-8 by {@code convert_from} as a
   * text parameter's receive would; numbers and booleans are arrays of the rows' own boxed values.
   */
  static final class Insert {
    final String sql;
    final Tuple params;
    final int count;
    /** The rows' text it sends: sources and string columns. */
    final long bytes;

    private Insert(String sql, Tuple params, int count, long bytes) {
      this.sql = sql;
      this.params = params;
      this.count = count;
      this.bytes = bytes;
    }

    static Insert of(String table, TableSchema schema, RowBatch batch, Checkpoint checkpoint) {
      return of(table, schema, batch, checkpoint, null, null);
    }

    /**
     * catalogTable: when set (a shared catalog), the rows are inserted only while the catalog still names the table
     * id they were checked against: a change that would refuse them (a column dropped, a type changed, the table
     * replaced) gives the table a new id, while another table's change does not stop this one's writes.
     */
    static Insert of(String table, TableSchema schema, RowBatch batch, Checkpoint checkpoint, String catalogTable,
        String tableId) {
      Columns columns = new Columns(schema, Math.max(batch.count(), 0));
      for (Row row : batch.rows()) {
        columns.add(row);
      }
      columns.trim();
      int n = columns.rows;

      StringJoiner target = new StringJoiner(", ", "(", ")");
      StringJoiner unnest = new StringJoiner(", ", "unnest(", ")");
      StringJoiner aliases = new StringJoiner(", ", "(", ")");
      StringJoiner select = new StringJoiner(", ");
      Tuple params = Tuple.tuple();
      Buffer text = columns.blob == null ? Buffer.buffer() : columns.blob.buffer();
      params.addValue(text);
      target.add("_source");
      params.addValue(columns.sources);
      unnest.add("$2::bigint[]");
      aliases.add("s");
      select.add(text("u.s"));
      for (int c = 0; c < columns.width; c++) {
        target.add(PgNames.column(columns.names[c]));
        params.addValue(columns.array(c));
        unnest.add("$" + params.size() + "::" + arrayType(columns.types[c]));
        aliases.add("v" + c);
        select.add(switch (columns.types[c]) {
          case INT -> "u.v" + c + "::integer";
          case LONG, DECIMAL, BOOLEAN -> "u.v" + c;
          case STRING, TEXT -> text("u.v" + c);
        });
      }
      for (int t = 0; t < columns.tokenColumns.length; t++) {
        target.add(PgNames.tokens(columns.names[columns.tokenColumns[t]]));
        params.addValue(columns.tokens[t]);
        unnest.add("$" + params.size() + "::bigint[]");
        aliases.add("k" + t);
        select.add(text("u.k" + t) + "::text[]");
      }
      if (checkpoint != null) {
        target.add("_job").add("_batch");
        params.addValue(checkpoint.job());
        select.add("$" + params.size() + "::text");
        params.addValue(checkpoint.batch());
        select.add("$" + params.size() + "::bigint");
      }
      String sql = "INSERT INTO " + table + " " + target + " SELECT " + select + " FROM " + unnest + " AS u"
          + aliases;
      if (catalogTable != null) {
        params.addValue(tableId);
        sql += " WHERE EXISTS (SELECT 1 FROM " + catalogTable + " WHERE id = $" + params.size() + ")";
      }
      return new Insert(sql, params, n, text.length());
    }

    /**
     * A batch's column arrays, filled row by row. Each kind of value has arrays of its own class (a store into an
     * Object[] that is a Long[] for one column and a Double[] for the next made the JIT recompile the loop on
     * every such surprise: six C2 compilations of 1.4-3.7 s in one import), and the work per row is in small
     * methods rather than one large loop compiled on stack replacement.
     */
    private static final class Columns {
      final int width;
      final String[] names;
      final ColumnType[] types;
      final ColumnSchema[] schemas;
      /** Per column: its array in {@link #longs}, {@link #doubles} or {@link #booleans}. */
      private final int[] slot;
      final int[] tokenColumns;
      Long[] sources;
      Long[][] longs;
      Double[][] doubles;
      Boolean[][] booleans;
      Long[][] tokens;
      RowBlob blob;
      int rows;

      Columns(TableSchema schema, int capacity) {
        width = schema.columns().size();
        names = new String[width];
        types = new ColumnType[width];
        schemas = new ColumnSchema[width];
        slot = new int[width];
        int longCount = 0;
        int doubleCount = 0;
        int booleanCount = 0;
        int textCount = 0;
        int c = 0;
        for (Map.Entry<String, ColumnSchema> column : schema.columns().entrySet()) {
          names[c] = column.getKey();
          schemas[c] = column.getValue();
          types[c] = column.getValue().type();
          slot[c] = switch (types[c]) {
            case INT, LONG, STRING, TEXT -> longCount++;
            case DECIMAL -> doubleCount++;
            case BOOLEAN -> booleanCount++;
          };
          if (types[c] == ColumnType.TEXT) {
            textCount++;
          }
          c++;
        }
        tokenColumns = new int[textCount];
        for (int i = 0, t = 0; i < width; i++) {
          if (types[i] == ColumnType.TEXT) {
            tokenColumns[t++] = i;
          }
        }
        sources = new Long[capacity];
        longs = new Long[longCount][capacity];
        doubles = new Double[doubleCount][capacity];
        booleans = new Boolean[booleanCount][capacity];
        tokens = new Long[textCount][capacity];
      }

      void add(Row row) {
        if (blob == null) {
          // token literals run to ~1.5 times the text they come from: room for them beside the body
          blob = new RowBlob(row.sourceBytes(), Math.max(sources.length, 1) * 64 * tokenColumns.length);
        }
        if (rows == sources.length) {
          resize(Math.max(16, rows * 2));
        }
        sources[rows] = blob.ref(row.sourceBytes(), row.sourceOffset(), row.sourceLength());
        Object[] values = row.values();
        for (int c = 0; c < width; c++) {
          if (values[c] != null) {
            value(c, values[c]);
          }
        }
        for (int t = 0; t < tokenColumns.length; t++) {
          Object text = values[tokenColumns[t]];
          if (text != null) {
            tokens[t][rows] = tokens(schemas[tokenColumns[t]], text.toString());
          }
        }
        rows++;
      }

      private void value(int c, Object value) {
        switch (types[c]) {
          case INT -> longs[slot[c]][rows] = intValue(value);
          case LONG -> longs[slot[c]][rows] = value instanceof Long l ? l : (Long) ((Number) value).longValue();
          case DECIMAL -> doubles[slot[c]][rows] = value instanceof Double d ? d
              : (Double) ((Number) value).doubleValue();
          case BOOLEAN -> booleans[slot[c]][rows] = (Boolean) value;
          case STRING, TEXT -> longs[slot[c]][rows] = text(c, value);
        }
      }

      private Long text(int c, Object value) {
        Utf8 text = value instanceof Utf8 u ? u : Utf8.of(String.valueOf(value));
        long ref = blob.ref(text.bytes(), text.offset(), text.length());
        if (blob.hasNul(ref)) {
          // refused before it reaches PostgreSQL, whose error would fail the whole table's storage
          throw new StorageException(StorageException.Kind.UNSUPPORTED_VALUE, NUL_REFUSAL, null, rows, names[c]);
        }
        return ref;
      }

      private Long tokens(ColumnSchema column, String text) {
        int start = blob.position();
        blob.beginTokens();
        TextTokens.forEach(column, text, blob::token);
        return blob.endTokens(start);
      }

      private void resize(int size) {
        sources = Arrays.copyOf(sources, size);
        for (int i = 0; i < longs.length; i++) {
          longs[i] = Arrays.copyOf(longs[i], size);
        }
        for (int i = 0; i < doubles.length; i++) {
          doubles[i] = Arrays.copyOf(doubles[i], size);
        }
        for (int i = 0; i < booleans.length; i++) {
          booleans[i] = Arrays.copyOf(booleans[i], size);
        }
        for (int i = 0; i < tokens.length; i++) {
          tokens[i] = Arrays.copyOf(tokens[i], size);
        }
      }

      void trim() {
        if (rows != sources.length) {
          resize(rows);
        }
      }

      Object[] array(int c) {
        return switch (types[c]) {
          case INT, LONG, STRING, TEXT -> longs[slot[c]];
          case DECIMAL -> doubles[slot[c]];
          case BOOLEAN -> booleans[slot[c]];
        };
      }
    }

    /** The text a reference ({@link RowBlob#ref}: offset << 32 | length) names in the blob, $1. */
    private static String text(String ref) {
      return "convert_from(substring($1::bytea FROM (" + ref + " >> 32)::integer + 1 FOR (" + ref
          + " & 4294967295)::integer), 'UTF8')";
    }

    /** An Int as the Long it is, checked against integer's range here rather than failing the statement. */
    private static Long intValue(Object value) {
      long l = ((Number) value).longValue();
      if (l != (int) l) {
        throw new ArithmeticException("integer overflow");
      }
      return value instanceof Long boxed ? boxed : l;
    }

    /** Int travels as bigint (the rows' own Longs, no boxing again), String and Text as blob references. */
    private static String arrayType(ColumnType type) {
      return switch (type) {
        case INT, LONG, STRING, TEXT -> "bigint[]";
        case DECIMAL -> "float8[]";
        case BOOLEAN -> "boolean[]";
      };
    }
  }
}
