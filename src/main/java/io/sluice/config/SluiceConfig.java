package io.sluice.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Every setting, parsed once. Sources, later ones winning: built-in defaults, the config file
 * ({@code conf/sluice.json}, or the file named by {@code SLUICE_CONFIG} / {@code -Dsluice.config}),
 * environment variables, system properties ({@code -Dsluice.http.port=...}), and explicit overrides
 * (tests). Every key is listed in {@link #KEYS} with its environment variable.
 */
public record SluiceConfig(
    String httpHost,
    int httpPort,
    Path dataDir,
    String apiKeyRw,
    String apiKeyRo,
    String publicUrl,
    long maxBatchBytes,
    int httpInstances,
    int storeInstances,
    int maxResultLimit,
    String uploadSecret,
    long uploadExpirySeconds,
    long uploadMaxBytes,
    long importMaxDecompressedBytes,
    long importMaxRatio,
    int importMaxLineBytes,
    int importBatchRows,
    int importBatchBytes,
    int importWindow,
    long importCommitIntervalMs,
    int importMaxJobs,
    long streamMaxBytes,
    long importKeepSeconds,
    long maxInflightBytes,
    int maxConnections,
    int requestTimeoutSeconds,
    int importMaxQueued,
    boolean metricsEnabled,
    String logFormat,
    long storeCommitIntervalMs,
    long storeWalMaxBytes,
    int importMaxHistory,
    int streamIdleTimeoutSeconds,
    long streamMinBytesPerSecond,
    Tls tls,
    int shutdownTimeoutSeconds,
    String storeType,
    Postgres postgres,
    Lanes lanes,
    Path backupDir,
    long importErrorsMax,
    long idempotencyRetentionSeconds,
    Monitoring monitoring,
    Cluster cluster) {

  /**
   * Sluice's own gauges that need store or disk work: measured on a worker every {@code refreshMs} (a scrape
   * reads the last figures); per-table series for at most {@code tablesMax} tables, the largest.
   */
  public record Monitoring(long refreshMs, int tablesMax) {
  }

  /**
   * The store's lanes: threads of the read lane and of the write lane, and how many write tasks an import job may
   * start in a row while other tables or jobs wait (its share of the write lane against each of them).
   */
  public record Lanes(int readThreads, int writeThreads, int importTurns, int backgroundNice) {
  }

  /** HTTPS from PEM files; null when the server speaks plain HTTP. */
  public record Tls(Path certFile, Path keyFile) {
  }

  /**
   * Cluster mode ({@code cluster.*}, {@code serve --cluster}); null when off. {@code host}/{@code port}: this
   * node's Hazelcast member address (bound to that interface only); {@code members}: the {@code host:port} of
   * members to join over TCP-IP; {@code busHost}/{@code busPort}: the clustered event bus; {@code busTls}: mutual
   * TLS on the event bus, null when off. {@code leaseHeartbeatMs}/{@code leaseTimeoutMs}: how often a node extends
   * the leases of the imports it runs, and how long a lease lasts unextended before another node may take the job.
   */
  public record Cluster(String name, String host, int port, List<String> members, String busHost, int busPort,
      BusTls busTls, long leaseHeartbeatMs, long leaseTimeoutMs) {
  }

  /** Key and trust store of the event bus's mutual TLS (PKCS12 or JKS, by file extension); passwords never shown. */
  public record BusTls(Path keyStore, String keyStoreType, String keyStorePassword, Path trustStore,
      String trustStoreType, String trustStorePassword) {
    @Override
    public String toString() {
      return "BusTls[keyStore=" + keyStore + ", keyStoreType=" + keyStoreType + ", keyStorePassword=***, trustStore="
          + trustStore + ", trustStoreType=" + trustStoreType + ", trustStorePassword=***]";
    }
  }

  /** import.window's default. */
  public static final int DEFAULT_IMPORT_WINDOW = 8;
  /**
   * import.window's default on a single PostgreSQL node: there a batch in flight is thousands of small objects
   * until PostgreSQL commits it, and 8 of them made the young collections copy and promote so much that their
   * pauses set the latency of every request (docs/performance.md); 3 keep PostgreSQL as busy. A cluster spreads
   * one window over its nodes and keeps 8.
   */
  public static final int POSTGRES_IMPORT_WINDOW = 3;

  public static final String STORE_LUCENE = "lucene";
  public static final String STORE_POSTGRES = "postgres";

  /**
   * Where the PostgreSQL engine connects ({@code store.postgres.*}): {@code url} (postgresql://host:port/db),
   * overridden part by part by host, port, database and user when they are set. The password never shows in
   * {@link #toString} (nor does the URL, which may hold one).
   */
  public record Postgres(String url, String host, int port, String database, String user, String password,
      int poolSize, int readPoolSize, int tableConnections, int flushAfterKb, String schema, boolean indexColumns) {
    @Override
    public String toString() {
      return "Postgres[url=" + (url == null ? null : "***") + ", host=" + host + ", port=" + port + ", database="
          + database + ", user=" + user + ", password=" + (password == null ? null : "***") + ", poolSize="
          + poolSize + ", readPoolSize=" + readPoolSize + ", tableConnections=" + tableConnections
          + ", flushAfterKb=" + flushAfterKb + ", schema=" + schema + ", indexColumns=" + indexColumns + "]";
    }
  }

  /** A setting: its key in the config file, its environment variable, its default (null: none). */
  public record Key(String name, String env, Object defaultValue, String description) {
    public String sysProp() {
      return "sluice." + name;
    }
  }

  public static final Key HTTP_HOST = new Key("http.host", "SLUICE_HTTP_HOST", "127.0.0.1", "interface to bind");
  public static final Key HTTP_PORT = new Key("http.port", "SLUICE_HTTP_PORT", 8080, "HTTP port (0: any free port)");
  public static final Key DATA_DIR = new Key("data.dir", "SLUICE_DATA_DIR", "./data", "where tables, schema and keys live");
  public static final Key API_KEY_RW = new Key("api.key.rw", "SLUICE_API_KEY_RW", null,
      "read-write API key; generated at first start when unset");
  public static final Key API_KEY_RO = new Key("api.key.ro", "SLUICE_API_KEY_RO", null,
      "read-only API key; generated at first start when unset");
  public static final Key PUBLIC_URL = new Key("public.url", "SLUICE_PUBLIC_URL", null,
      "base of URLs handed to clients (default http://host:port)");
  public static final Key MAX_BATCH_BYTES = new Key("max.batch.bytes", "SLUICE_MAX_BATCH_BYTES", 10L * 1024 * 1024,
      "largest JSON body accepted by the row and batch endpoints");
  public static final Key HTTP_INSTANCES = new Key("http.instances", "SLUICE_HTTP_INSTANCES", 0,
      "HTTP verticle instances (0: one per core)");
  public static final Key STORE_INSTANCES = new Key("store.instances", "SLUICE_STORE_INSTANCES", 0,
      "store worker threads of each lane, reads and writes, unless store.read.instances or store.write.instances"
      + " set it (0: one per core, at least 2); one table or import uses at most that many, and each lane runs one"
      + " thread more for the others");
  public static final Key STORE_READ_INSTANCES = new Key("store.read.instances", "SLUICE_STORE_READ_INSTANCES", 0,
      "store worker threads of the read lane: searches, schema reads, health (0: store.instances)");
  public static final Key STORE_WRITE_INSTANCES = new Key("store.write.instances", "SLUICE_STORE_WRITE_INSTANCES", 0,
      "store worker threads of the write lane: row writes, import batches, schema changes (0: store.instances)");
  public static final Key STORE_WRITE_IMPORT_TURNS = new Key("store.write.import.turns",
      "SLUICE_STORE_WRITE_IMPORT_TURNS", 1, "write tasks an import may start in a row while other tables or imports"
      + " wait for the write lane (1: strict turns; n: an import gets n times the share of each other writer)");
  public static final Key STORE_BACKGROUND_NICE = new Key("store.background.nice", "SLUICE_STORE_BACKGROUND_NICE",
      10, "Linux niceness of the threads doing background work (import batches, Lucene commits and the merges they"
      + " start), so searches and small writes get a core first when both cores are busy (0: the server's own"
      + " priority)");
  public static final Key MAX_RESULT_LIMIT = new Key("max.result.limit", "SLUICE_MAX_RESULT_LIMIT", 10_000,
      "largest 'limit' a search accepts");

  public static final Key UPLOAD_SECRET = new Key("upload.secret", "SLUICE_UPLOAD_SECRET", null,
      "HMAC secret signing upload URLs; generated into the data dir when unset");
  public static final Key UPLOAD_EXPIRY_SECONDS = new Key("upload.expiry.seconds", "SLUICE_UPLOAD_EXPIRY_SECONDS", 900,
      "how long a signed upload URL is valid");
  public static final Key UPLOAD_MAX_BYTES = new Key("upload.max.bytes", "SLUICE_UPLOAD_MAX_BYTES",
      10L * 1024 * 1024 * 1024, "largest uploaded file (413 above it)");
  public static final Key IMPORT_MAX_DECOMPRESSED_BYTES = new Key("import.max.decompressed.bytes",
      "SLUICE_IMPORT_MAX_DECOMPRESSED_BYTES", 1024L * 1024 * 1024 * 1024, "largest decompressed import");
  public static final Key IMPORT_MAX_RATIO = new Key("import.max.ratio", "SLUICE_IMPORT_MAX_RATIO", 200,
      "largest gzip compression ratio accepted (guards against gzip bombs)");
  public static final Key IMPORT_MAX_LINE_BYTES = new Key("import.max.line.bytes", "SLUICE_IMPORT_MAX_LINE_BYTES",
      1024 * 1024, "longest NDJSON line; longer lines are skipped and reported");
  public static final Key IMPORT_BATCH_ROWS = new Key("import.batch.rows", "SLUICE_IMPORT_BATCH_ROWS", 10000,
      "rows per batch sent to the store by imports");
  public static final Key IMPORT_BATCH_BYTES = new Key("import.batch.bytes", "SLUICE_IMPORT_BATCH_BYTES",
      384 * 1024, "bytes per batch sent to the store by imports (kept below half a G1 region of a 1 GB heap: a"
      + " larger array is a humongous object, and they started concurrent collections during imports)");
  public static final Key IMPORT_WINDOW = new Key("import.window", "SLUICE_IMPORT_WINDOW", 0,
      "batches of one import in flight to the store at once (memory: window x batch bytes); 0: "
      + DEFAULT_IMPORT_WINDOW + ", or " + POSTGRES_IMPORT_WINDOW + " on a single PostgreSQL node");
  public static final Key IMPORT_COMMIT_INTERVAL_MS = new Key("import.commit.interval.ms",
      "SLUICE_IMPORT_COMMIT_INTERVAL_MS", 1000, "an import commits (and counts its stored rows) at most this often;"
      + " longer makes fewer, larger index segments");
  public static final Key IMPORT_MAX_JOBS = new Key("import.max.jobs", "SLUICE_IMPORT_MAX_JOBS", 2,
      "file imports running at once; more wait in phase Started");
  public static final Key STREAM_MAX_BYTES = new Key("stream.max.bytes", "SLUICE_STREAM_MAX_BYTES",
      10L * 1024 * 1024 * 1024, "largest body of the stream endpoint");

  public static final Key IMPORT_KEEP_SECONDS = new Key("import.keep.seconds", "SLUICE_IMPORT_KEEP_SECONDS", 86400,
      "how long finished import statuses, and uploads never triggered (after their URL expired), are kept");

  public static final Key IMPORT_MAX_HISTORY = new Key("import.max.history", "SLUICE_IMPORT_MAX_HISTORY", 1000,
      "finished import statuses kept at most; past it the oldest finished are dropped (running ones never)");

  public static final Key MAX_INFLIGHT_BYTES = new Key("max.inflight.bytes", "SLUICE_MAX_INFLIGHT_BYTES", 0,
      "request bytes held in memory at once before 429 (0: 10% of the heap)");
  public static final Key MAX_CONNECTIONS = new Key("max.connections", "SLUICE_MAX_CONNECTIONS", 1000,
      "open HTTP connections per HTTP verticle instance; more are closed at once");
  public static final Key REQUEST_TIMEOUT_SECONDS = new Key("request.timeout.seconds", "SLUICE_REQUEST_TIMEOUT_SECONDS",
      300, "deadline for receiving a request (headers and body) and idle connections");

  public static final Key METRICS_ENABLED = new Key("metrics.enabled", "SLUICE_METRICS_ENABLED", true,
      "serve Prometheus metrics at GET /metrics (HTTP, event bus, JVM and Sluice meters)");
  public static final Key LOG_FORMAT = new Key("log.format", "SLUICE_LOG_FORMAT", "text",
      "log format on standard output: text or json (picks logback.xml or logback-json.xml)");

  public static final Key IMPORT_MAX_QUEUED = new Key("import.max.queued", "SLUICE_IMPORT_MAX_QUEUED", 100,
      "triggered imports waiting for a slot; past it a trigger gets 429");

  public static final Key STORE_COMMIT_INTERVAL_MS = new Key("store.commit.interval.ms",
      "SLUICE_STORE_COMMIT_INTERVAL_MS", 5000, "row writes are acknowledged once in the write-ahead log; a table's"
      + " index is committed this often (and at store.wal.max.bytes), bounding what a restart replays");
  public static final Key STORE_WAL_MAX_BYTES = new Key("store.wal.max.bytes", "SLUICE_STORE_WAL_MAX_BYTES",
      64L * 1024 * 1024, "a table whose write-ahead log grows past this is committed at once");

  public static final Key STREAM_IDLE_TIMEOUT_SECONDS = new Key("stream.idle.timeout.seconds",
      "SLUICE_STREAM_IDLE_TIMEOUT_SECONDS", 60, "the stream endpoint and upload URLs end a request (408) that sends"
      + " no byte for this long while Sluice is ready to read; committed rows stay");
  public static final Key STREAM_MIN_BYTES_PER_SECOND = new Key("stream.min.bytes.per.second",
      "SLUICE_STREAM_MIN_BYTES_PER_SECOND", 1024, "the stream endpoint and upload URLs end a request (408) whose"
      + " body arrives slower than this, averaged over each stream.idle.timeout.seconds of reading (0: no minimum)");

  public static final Key HTTP_TLS_CERT = new Key("http.tls.cert", "SLUICE_HTTP_TLS_CERT", null,
      "PEM file with the server's certificate (and its chain): serve HTTPS, TLS 1.2 and 1.3 only; needs http.tls.key");
  public static final Key HTTP_TLS_KEY = new Key("http.tls.key", "SLUICE_HTTP_TLS_KEY", null,
      "PEM file with the private key of http.tls.cert (PKCS#8 or PKCS#1)");

  public static final Key SHUTDOWN_TIMEOUT_SECONDS = new Key("shutdown.timeout.seconds",
      "SLUICE_SHUTDOWN_TIMEOUT_SECONDS", 30, "on SIGTERM, how long requests in flight may take to finish before the"
      + " server stops anyway");

  public static final Key BACKUP_DIR = new Key("backup.dir", "SLUICE_BACKUP_DIR", null,
      "directory under which POST /api/v1/_backup writes snapshots (unset: online backups are off)");

  public static final Key IMPORT_ERRORS_MAX = new Key("import.errors.max", "SLUICE_IMPORT_ERRORS_MAX", 100_000,
      "rejected lines of a file import kept on disk for GET .../file/{id}/errors (0: none), removed with the job");

  public static final Key STORE_TYPE = new Key("store.type", "SLUICE_STORE_TYPE", STORE_LUCENE,
      "where tables live: lucene (embedded, under data.dir) or postgres (store.postgres.*)");
  public static final Key STORE_POSTGRES_URL = new Key("store.postgres.url", "SLUICE_STORE_POSTGRES_URL", null,
      "PostgreSQL to use, postgresql://host:port/database (keep the password out of it: store.postgres.password.*)");
  public static final Key STORE_POSTGRES_HOST = new Key("store.postgres.host", "SLUICE_STORE_POSTGRES_HOST", null,
      "PostgreSQL host (overrides the URL's)");
  public static final Key STORE_POSTGRES_PORT = new Key("store.postgres.port", "SLUICE_STORE_POSTGRES_PORT", null,
      "PostgreSQL port (overrides the URL's; default 5432)");
  public static final Key STORE_POSTGRES_DATABASE = new Key("store.postgres.database",
      "SLUICE_STORE_POSTGRES_DATABASE", null, "PostgreSQL database (overrides the URL's)");
  public static final Key STORE_POSTGRES_USER = new Key("store.postgres.user", "SLUICE_STORE_POSTGRES_USER", null,
      "PostgreSQL user (overrides the URL's)");
  public static final Key STORE_POSTGRES_PASSWORD_ENV = new Key("store.postgres.password.env",
      "SLUICE_STORE_POSTGRES_PASSWORD_ENV", null, "name of the environment variable holding the PostgreSQL password");
  public static final Key STORE_POSTGRES_PASSWORD_FILE = new Key("store.postgres.password.file",
      "SLUICE_STORE_POSTGRES_PASSWORD_FILE", null, "file holding the PostgreSQL password (a trailing newline is"
      + " ignored)");
  public static final Key STORE_POSTGRES_POOL_SIZE = new Key("store.postgres.pool.size",
      "SLUICE_STORE_POSTGRES_POOL_SIZE", 8, "PostgreSQL connections for writes at most; one table's writes"
      + " hold at most store.postgres.table.connections of them, in turns with other tables' (reads have their own:"
      + " store.postgres.read.pool.size)");
  public static final Key STORE_POSTGRES_READ_POOL_SIZE = new Key("store.postgres.read.pool.size",
      "SLUICE_STORE_POSTGRES_READ_POOL_SIZE", 0, "PostgreSQL connections reserved for reads (searches, schema and"
      + " checkpoint reads, health), so no read waits for a connection held by writes (0: the read lane's threads"
      + " + 1, as many as it runs at once)");
  public static final Key STORE_POSTGRES_TABLE_CONNECTIONS = new Key("store.postgres.table.connections",
      "SLUICE_STORE_POSTGRES_TABLE_CONNECTIONS", 0, "write connections one table's writes (an import) hold at most,"
      + " in turns with other tables' (0: as many as the machine has cores; at most store.postgres.pool.size - 1):"
      + " more statements of one import than cores only wait for each other, and for the CPU every read needs too");
  public static final Key STORE_POSTGRES_FLUSH_AFTER_KB = new Key("store.postgres.flush.after.kb",
      "SLUICE_STORE_POSTGRES_FLUSH_AFTER_KB", 256, "while other writes run beside an import (a file's or a"
      + " stream's), kB the import's statements write out before PostgreSQL has the OS start writing them to disk"
      + " (backend_flush_after; 0: the server's own setting, off by default): an import's pages otherwise pile up in"
      + " the page cache and go out in bursts that stall every commit waiting for its log to reach the disk");
  public static final Key STORE_POSTGRES_SCHEMA = new Key("store.postgres.schema", "SLUICE_STORE_POSTGRES_SCHEMA",
      "sluice", "PostgreSQL schema of Sluice's tables (created if missing)");
  public static final Key STORE_POSTGRES_INDEX_COLUMNS = new Key("store.postgres.index.columns",
      "SLUICE_STORE_POSTGRES_INDEX_COLUMNS", false, "a btree index on every Int, Long, Decimal and String column"
      + " of tables created (and columns added) from now on: selective where-clauses (ids, keys) and link look-ups"
      + " use them, at a cost to every insert; off: such filters scan the table");

  public static final Key IDEMPOTENCY_RETENTION_SECONDS = new Key("idempotency.retention.seconds",
      "SLUICE_IDEMPOTENCY_RETENTION_SECONDS", 86400, "how long a write's Idempotency-Key is remembered; a repeat"
      + " after it writes again");

  public static final Key METRICS_REFRESH_MS = new Key("metrics.refresh.ms", "SLUICE_METRICS_REFRESH_MS", 10_000,
      "how often the per-table gauges (rows, bytes, write-ahead log) and the data disk's gauges are measured, on a"
      + " worker; a scrape reads the last figures");
  public static final Key METRICS_TABLES_MAX = new Key("metrics.tables.max", "SLUICE_METRICS_TABLES_MAX", 100,
      "tables with gauges of their own (the largest by bytes); the others are summed under table=\"$other\""
      + " (0: only that sum)");

  public static final Key CLUSTER_ENABLED = new Key("cluster.enabled", "SLUICE_CLUSTER_ENABLED", false,
      "run as a node of a cluster (serve --cluster): clustered event bus over Hazelcast; needs store.type=postgres");
  public static final Key CLUSTER_NAME = new Key("cluster.name", "SLUICE_CLUSTER_NAME", "sluice",
      "Hazelcast cluster name: only members with the same name join");
  public static final Key CLUSTER_HOST = new Key("cluster.host", "SLUICE_CLUSTER_HOST", "127.0.0.1",
      "this node's address for the cluster (Hazelcast binds this interface only; use a private one)");
  public static final Key CLUSTER_PORT = new Key("cluster.port", "SLUICE_CLUSTER_PORT", 5701,
      "this node's Hazelcast member port (membership and the event bus's routing tables)");
  public static final Key CLUSTER_MEMBERS = new Key("cluster.members", "SLUICE_CLUSTER_MEMBERS", null,
      "comma-separated host:port of the members to join over TCP-IP (default: this node's own; multicast is off)");
  public static final Key CLUSTER_BUS_HOST = new Key("cluster.bus.host", "SLUICE_CLUSTER_BUS_HOST", null,
      "interface of the clustered event bus (default: cluster.host)");
  public static final Key CLUSTER_BUS_PORT = new Key("cluster.bus.port", "SLUICE_CLUSTER_BUS_PORT", 5711,
      "port of the clustered event bus (0: any free port)");
  public static final Key CLUSTER_BUS_TLS_KEYSTORE = new Key("cluster.bus.tls.keystore",
      "SLUICE_CLUSTER_BUS_TLS_KEYSTORE", null, "PKCS12 (.p12, .pfx) or JKS (.jks) key store with this node's"
      + " certificate: mutual TLS on the event bus; needs cluster.bus.tls.truststore");
  public static final Key CLUSTER_BUS_TLS_KEYSTORE_PASSWORD_ENV = new Key("cluster.bus.tls.keystore.password.env",
      "SLUICE_CLUSTER_BUS_TLS_KEYSTORE_PASSWORD_ENV", null, "name of the environment variable holding the key"
      + " store's password");
  public static final Key CLUSTER_BUS_TLS_KEYSTORE_PASSWORD_FILE = new Key("cluster.bus.tls.keystore.password.file",
      "SLUICE_CLUSTER_BUS_TLS_KEYSTORE_PASSWORD_FILE", null, "file holding the key store's password");
  public static final Key CLUSTER_BUS_TLS_TRUSTSTORE = new Key("cluster.bus.tls.truststore",
      "SLUICE_CLUSTER_BUS_TLS_TRUSTSTORE", null, "PKCS12 or JKS trust store: the certificates (or their CA) a node"
      + " must present to join the event bus");
  public static final Key CLUSTER_BUS_TLS_TRUSTSTORE_PASSWORD_ENV = new Key(
      "cluster.bus.tls.truststore.password.env", "SLUICE_CLUSTER_BUS_TLS_TRUSTSTORE_PASSWORD_ENV", null,
      "name of the environment variable holding the trust store's password");
  public static final Key CLUSTER_BUS_TLS_TRUSTSTORE_PASSWORD_FILE = new Key(
      "cluster.bus.tls.truststore.password.file", "SLUICE_CLUSTER_BUS_TLS_TRUSTSTORE_PASSWORD_FILE", null,
      "file holding the trust store's password");

  public static final Key CLUSTER_LEASE_HEARTBEAT_MS = new Key("cluster.lease.heartbeat.ms",
      "SLUICE_CLUSTER_LEASE_HEARTBEAT_MS", 5000, "how often a node extends the leases of the imports it runs (and"
      + " saves their progress), and looks for imports to claim");
  public static final Key CLUSTER_LEASE_TIMEOUT_MS = new Key("cluster.lease.timeout.ms",
      "SLUICE_CLUSTER_LEASE_TIMEOUT_MS", 15000, "an import's lease not extended for this long lets another node"
      + " claim the import and resume it; at least twice cluster.lease.heartbeat.ms");

  public static final List<Key> KEYS = List.of(HTTP_HOST, HTTP_PORT, DATA_DIR, API_KEY_RW, API_KEY_RO, PUBLIC_URL,
      MAX_BATCH_BYTES, HTTP_INSTANCES, STORE_INSTANCES, STORE_READ_INSTANCES, STORE_WRITE_INSTANCES,
      STORE_WRITE_IMPORT_TURNS, STORE_BACKGROUND_NICE, MAX_RESULT_LIMIT, UPLOAD_SECRET, UPLOAD_EXPIRY_SECONDS,
      UPLOAD_MAX_BYTES, IMPORT_MAX_DECOMPRESSED_BYTES, IMPORT_MAX_RATIO, IMPORT_MAX_LINE_BYTES, IMPORT_BATCH_ROWS,
      IMPORT_BATCH_BYTES, IMPORT_WINDOW, IMPORT_COMMIT_INTERVAL_MS, IMPORT_MAX_JOBS, STREAM_MAX_BYTES,
      IMPORT_KEEP_SECONDS, MAX_INFLIGHT_BYTES, MAX_CONNECTIONS, REQUEST_TIMEOUT_SECONDS, IMPORT_MAX_QUEUED,
      METRICS_ENABLED, LOG_FORMAT, STORE_COMMIT_INTERVAL_MS, STORE_WAL_MAX_BYTES, IMPORT_MAX_HISTORY,
      STREAM_IDLE_TIMEOUT_SECONDS, STREAM_MIN_BYTES_PER_SECOND, HTTP_TLS_CERT, HTTP_TLS_KEY,
      SHUTDOWN_TIMEOUT_SECONDS, STORE_TYPE, STORE_POSTGRES_URL, STORE_POSTGRES_HOST,
      STORE_POSTGRES_PORT, STORE_POSTGRES_DATABASE, STORE_POSTGRES_USER, STORE_POSTGRES_PASSWORD_ENV,
      STORE_POSTGRES_PASSWORD_FILE, STORE_POSTGRES_POOL_SIZE, STORE_POSTGRES_READ_POOL_SIZE,
      STORE_POSTGRES_TABLE_CONNECTIONS, STORE_POSTGRES_FLUSH_AFTER_KB, STORE_POSTGRES_SCHEMA,
      STORE_POSTGRES_INDEX_COLUMNS, BACKUP_DIR, IMPORT_ERRORS_MAX, IDEMPOTENCY_RETENTION_SECONDS, METRICS_REFRESH_MS, METRICS_TABLES_MAX,
      CLUSTER_ENABLED, CLUSTER_NAME, CLUSTER_HOST,
      CLUSTER_PORT, CLUSTER_MEMBERS, CLUSTER_BUS_HOST, CLUSTER_BUS_PORT, CLUSTER_BUS_TLS_KEYSTORE,
      CLUSTER_BUS_TLS_KEYSTORE_PASSWORD_ENV, CLUSTER_BUS_TLS_KEYSTORE_PASSWORD_FILE, CLUSTER_BUS_TLS_TRUSTSTORE,
      CLUSTER_BUS_TLS_TRUSTSTORE_PASSWORD_ENV, CLUSTER_BUS_TLS_TRUSTSTORE_PASSWORD_FILE, CLUSTER_LEASE_HEARTBEAT_MS,
      CLUSTER_LEASE_TIMEOUT_MS);

  public static SluiceConfig load(Map<String, String> env, Map<String, ?> overrides) {
    return load(env, null, overrides);
  }

  /** configFile: the config file to read instead of the usual one (serve --config); null: the usual one. */
  public static SluiceConfig load(Map<String, String> env, Path configFile, Map<String, ?> overrides) {
    Map<String, Object> values = new LinkedHashMap<>();
    KEYS.forEach(k -> values.put(k.name(), k.defaultValue()));
    Path file = configFile != null ? requireFile(configFile, "--config") : configFile(env);
    if (file != null) {
      values.putAll(readFile(file).getMap());
    }
    for (Key key : KEYS) {
      if (env.get(key.env()) != null) {
        values.put(key.name(), env.get(key.env()));
      }
      if (System.getProperty(key.sysProp()) != null) {
        values.put(key.name(), System.getProperty(key.sysProp()));
      }
    }
    values.putAll(overrides);
    return fromMap(values, env);
  }

  public static SluiceConfig defaults() {
    return load(Map.of(), Map.of());
  }

  private static Path configFile(Map<String, String> env) {
    String explicit = System.getProperty("sluice.config", env.get("SLUICE_CONFIG"));
    if (explicit != null) {
      return requireFile(Path.of(explicit), "SLUICE_CONFIG");
    }
    Path conventional = Path.of("conf", "sluice.json");
    return Files.isRegularFile(conventional) ? conventional : null;
  }

  private static Path requireFile(Path path, String source) {
    if (!Files.isRegularFile(path)) {
      throw new IllegalArgumentException("config file " + path + " (from " + source + ") does not exist");
    }
    return path;
  }

  private static JsonObject readFile(Path file) {
    try {
      return new JsonObject(Files.readString(file));
    } catch (IOException | DecodeException e) {
      throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage(), e);
    }
  }

  private static SluiceConfig fromMap(Map<String, Object> values, Map<String, String> env) {
    for (String name : values.keySet()) {
      if (KEYS.stream().noneMatch(k -> k.name().equals(name))) {
        throw new IllegalArgumentException("unknown config key '" + name + "'; known keys: "
            + KEYS.stream().map(Key::name).toList());
      }
    }
    int cores = Runtime.getRuntime().availableProcessors();
    int httpInstances = (int) inRange(HTTP_INSTANCES, get(values, HTTP_INSTANCES, Integer::parseInt), 0L, 1024L);
    int storeInstances = (int) inRange(STORE_INSTANCES, get(values, STORE_INSTANCES, Integer::parseInt), 0L, 1024L);
    storeInstances = storeInstances > 0 ? storeInstances : Math.max(2, cores);
    int readInstances = (int) inRange(STORE_READ_INSTANCES, get(values, STORE_READ_INSTANCES, Integer::parseInt), 0L,
        1024L);
    int writeInstances = (int) inRange(STORE_WRITE_INSTANCES, get(values, STORE_WRITE_INSTANCES, Integer::parseInt),
        0L, 1024L);
    Lanes lanes = new Lanes(readInstances > 0 ? readInstances : storeInstances,
        writeInstances > 0 ? writeInstances : storeInstances,
        (int) inRange(STORE_WRITE_IMPORT_TURNS, get(values, STORE_WRITE_IMPORT_TURNS, Integer::parseInt), 1L, 64L),
        (int) inRange(STORE_BACKGROUND_NICE, get(values, STORE_BACKGROUND_NICE, Integer::parseInt), 0L, 19L));
    String storeType = get(values, STORE_TYPE, SluiceConfig::parseStoreType);
    return new SluiceConfig(
        get(values, HTTP_HOST, s -> s),
        (int) inRange(HTTP_PORT, get(values, HTTP_PORT, Integer::parseInt), 0L, 65535L),
        Path.of(SluiceConfig.<String>get(values, DATA_DIR, s -> s)),
        get(values, API_KEY_RW, s -> s),
        get(values, API_KEY_RO, s -> s),
        get(values, PUBLIC_URL, SluiceConfig::stripTrailingSlash),
        inRange(MAX_BATCH_BYTES, get(values, MAX_BATCH_BYTES, Long::parseLong), 1L, Long.MAX_VALUE),
        httpInstances > 0 ? httpInstances : cores,
        storeInstances,
        (int) inRange(MAX_RESULT_LIMIT, get(values, MAX_RESULT_LIMIT, Integer::parseInt), 1L, Long.MAX_VALUE),
        get(values, UPLOAD_SECRET, s -> s),
        inRange(UPLOAD_EXPIRY_SECONDS, get(values, UPLOAD_EXPIRY_SECONDS, Long::parseLong), 1L, Long.MAX_VALUE),
        inRange(UPLOAD_MAX_BYTES, get(values, UPLOAD_MAX_BYTES, Long::parseLong), 1L, Long.MAX_VALUE),
        inRange(IMPORT_MAX_DECOMPRESSED_BYTES, get(values, IMPORT_MAX_DECOMPRESSED_BYTES, Long::parseLong), 1L, Long.MAX_VALUE),
        inRange(IMPORT_MAX_RATIO, get(values, IMPORT_MAX_RATIO, Long::parseLong), 1L, Long.MAX_VALUE),
        (int) inRange(IMPORT_MAX_LINE_BYTES, get(values, IMPORT_MAX_LINE_BYTES, Integer::parseInt), 1L, Long.MAX_VALUE),
        (int) inRange(IMPORT_BATCH_ROWS, get(values, IMPORT_BATCH_ROWS, Integer::parseInt), 1L, Long.MAX_VALUE),
        (int) inRange(IMPORT_BATCH_BYTES, get(values, IMPORT_BATCH_BYTES, Integer::parseInt), 1L, Long.MAX_VALUE),
        importWindow(values, storeType),
        inRange(IMPORT_COMMIT_INTERVAL_MS, get(values, IMPORT_COMMIT_INTERVAL_MS, Long::parseLong), 0L, Long.MAX_VALUE),
        (int) inRange(IMPORT_MAX_JOBS, get(values, IMPORT_MAX_JOBS, Integer::parseInt), 1L, Long.MAX_VALUE),
        inRange(STREAM_MAX_BYTES, get(values, STREAM_MAX_BYTES, Long::parseLong), 1L, Long.MAX_VALUE),
        inRange(IMPORT_KEEP_SECONDS, get(values, IMPORT_KEEP_SECONDS, Long::parseLong), 1L, Long.MAX_VALUE),
        inflightBudget(nonNegative(MAX_INFLIGHT_BYTES, get(values, MAX_INFLIGHT_BYTES, Long::parseLong))),
        (int) inRange(MAX_CONNECTIONS, get(values, MAX_CONNECTIONS, Integer::parseInt), 1L, Long.MAX_VALUE),
        (int) inRange(REQUEST_TIMEOUT_SECONDS, get(values, REQUEST_TIMEOUT_SECONDS, Integer::parseInt), 0L, Long.MAX_VALUE),
        (int) inRange(IMPORT_MAX_QUEUED, get(values, IMPORT_MAX_QUEUED, Integer::parseInt), 0L, Long.MAX_VALUE),
        get(values, METRICS_ENABLED, SluiceConfig::parseBoolean),
        get(values, LOG_FORMAT, SluiceConfig::parseLogFormat),
        positive(STORE_COMMIT_INTERVAL_MS, get(values, STORE_COMMIT_INTERVAL_MS, Long::parseLong)),
        positive(STORE_WAL_MAX_BYTES, get(values, STORE_WAL_MAX_BYTES, Long::parseLong)),
        (int) positive(IMPORT_MAX_HISTORY, get(values, IMPORT_MAX_HISTORY, Integer::parseInt)),
        (int) positive(STREAM_IDLE_TIMEOUT_SECONDS, get(values, STREAM_IDLE_TIMEOUT_SECONDS, Integer::parseInt)),
        nonNegative(STREAM_MIN_BYTES_PER_SECOND, get(values, STREAM_MIN_BYTES_PER_SECOND, Long::parseLong)),
        tls(get(values, HTTP_TLS_CERT, s -> s), get(values, HTTP_TLS_KEY, s -> s)),
        (int) inRange(SHUTDOWN_TIMEOUT_SECONDS, get(values, SHUTDOWN_TIMEOUT_SECONDS, Integer::parseInt), 0L, 3600L),
        storeType,
        STORE_POSTGRES.equals(storeType) ? postgres(values, env, lanes) : null,
        lanes,
        get(values, BACKUP_DIR, s -> Path.of(s).toAbsolutePath().normalize()),
        inRange(IMPORT_ERRORS_MAX, get(values, IMPORT_ERRORS_MAX, Long::parseLong), 0L, 100_000_000L),
        positive(IDEMPOTENCY_RETENTION_SECONDS, get(values, IDEMPOTENCY_RETENTION_SECONDS, Long::parseLong)),
        new Monitoring(inRange(METRICS_REFRESH_MS, get(values, METRICS_REFRESH_MS, Long::parseLong), 100L, 3_600_000L),
            (int) inRange(METRICS_TABLES_MAX, get(values, METRICS_TABLES_MAX, Integer::parseInt), 0L, 10_000L)),
        Boolean.TRUE.equals(get(values, CLUSTER_ENABLED, SluiceConfig::parseBoolean))
            ? cluster(values, env, storeType) : null);
  }

  private static int importWindow(Map<String, Object> values, String storeType) {
    int window = (int) inRange(IMPORT_WINDOW, get(values, IMPORT_WINDOW, Integer::parseInt), 0L, Integer.MAX_VALUE);
    if (window > 0) {
      return window;
    }
    boolean cluster = Boolean.TRUE.equals(get(values, CLUSTER_ENABLED, SluiceConfig::parseBoolean));
    return STORE_POSTGRES.equals(storeType) && !cluster ? POSTGRES_IMPORT_WINDOW : DEFAULT_IMPORT_WINDOW;
  }

  /** The cluster.* settings, checked only in cluster mode. */
  private static Cluster cluster(Map<String, Object> values, Map<String, String> env, String storeType) {
    if (!STORE_POSTGRES.equals(storeType)) {
      throw new IllegalArgumentException("cluster mode (" + CLUSTER_ENABLED.name() + ", serve --cluster) needs "
          + STORE_TYPE.name() + "=postgres: the nodes share their tables and schema through PostgreSQL; "
          + STORE_TYPE.name() + " is " + storeType);
    }
    String name = get(values, CLUSTER_NAME, s -> s);
    if (name == null) {
      throw new IllegalArgumentException("config '" + CLUSTER_NAME.name() + "' must not be empty");
    }
    String host = get(values, CLUSTER_HOST, s -> s);
    if (host == null) {
      throw new IllegalArgumentException("config '" + CLUSTER_HOST.name() + "' (env " + CLUSTER_HOST.env()
          + ") must name this node's address");
    }
    int port = (int) inRange(CLUSTER_PORT, get(values, CLUSTER_PORT, Integer::parseInt), 1L, 65535L);
    List<String> members = new java.util.ArrayList<>();
    String listed = get(values, CLUSTER_MEMBERS, s -> s);
    for (String member : listed == null ? new String[] {host + ":" + port} : listed.split(",")) {
      members.add(member(member.trim()));
    }
    String busHost = get(values, CLUSTER_BUS_HOST, s -> s);
    int busPort = (int) inRange(CLUSTER_BUS_PORT, get(values, CLUSTER_BUS_PORT, Integer::parseInt), 0L, 65535L);
    if (busPort == port) {
      throw new IllegalArgumentException("config '" + CLUSTER_BUS_PORT.name() + "' and '" + CLUSTER_PORT.name()
          + "' are both " + port + "; the event bus and Hazelcast need a port each");
    }
    long heartbeat = inRange(CLUSTER_LEASE_HEARTBEAT_MS, get(values, CLUSTER_LEASE_HEARTBEAT_MS, Long::parseLong),
        100L, 600_000L);
    long timeout = inRange(CLUSTER_LEASE_TIMEOUT_MS, get(values, CLUSTER_LEASE_TIMEOUT_MS, Long::parseLong),
        200L, 3_600_000L);
    if (timeout < 2 * heartbeat) {
      // one late heartbeat (a GC pause, a slow statement) must not hand a healthy node's import to another
      throw new IllegalArgumentException("config '" + CLUSTER_LEASE_TIMEOUT_MS.name() + "' (" + timeout
          + ") must be at least twice '" + CLUSTER_LEASE_HEARTBEAT_MS.name() + "' (" + heartbeat + ")");
    }
    return new Cluster(name, host, port, List.copyOf(members), busHost == null ? host : busHost, busPort,
        busTls(values, env), heartbeat, timeout);
  }

  /** host:port (or host, for port 5701), as Hazelcast's TCP-IP join takes it. */
  private static String member(String member) {
    int colon = member.lastIndexOf(':');
    String host = colon < 0 ? member : member.substring(0, colon);
    String port = colon < 0 ? "5701" : member.substring(colon + 1);
    boolean portOk;
    try {
      int n = Integer.parseInt(port);
      portOk = n >= 1 && n <= 65535;
    } catch (NumberFormatException e) {
      portOk = false;
    }
    if (host.isEmpty() || host.contains(" ") || !portOk) {
      throw new IllegalArgumentException("config '" + CLUSTER_MEMBERS.name() + "' (env " + CLUSTER_MEMBERS.env()
          + "): '" + member + "' is not host or host:port (port 1-65535)");
    }
    return host + ":" + port;
  }

  private static BusTls busTls(Map<String, Object> values, Map<String, String> env) {
    String keyStore = get(values, CLUSTER_BUS_TLS_KEYSTORE, s -> s);
    String trustStore = get(values, CLUSTER_BUS_TLS_TRUSTSTORE, s -> s);
    if (keyStore == null && trustStore == null) {
      return null;
    }
    if (keyStore == null || trustStore == null) {
      throw new IllegalArgumentException("event-bus TLS needs both " + CLUSTER_BUS_TLS_KEYSTORE.name() + " and "
          + CLUSTER_BUS_TLS_TRUSTSTORE.name() + " (every node proves itself to the others); only "
          + (keyStore == null ? CLUSTER_BUS_TLS_TRUSTSTORE.name() : CLUSTER_BUS_TLS_KEYSTORE.name()) + " is set");
    }
    return new BusTls(readableFile(CLUSTER_BUS_TLS_KEYSTORE, keyStore), storeType(CLUSTER_BUS_TLS_KEYSTORE, keyStore),
        secret(values, env, CLUSTER_BUS_TLS_KEYSTORE_PASSWORD_ENV, CLUSTER_BUS_TLS_KEYSTORE_PASSWORD_FILE, true),
        readableFile(CLUSTER_BUS_TLS_TRUSTSTORE, trustStore), storeType(CLUSTER_BUS_TLS_TRUSTSTORE, trustStore),
        secret(values, env, CLUSTER_BUS_TLS_TRUSTSTORE_PASSWORD_ENV, CLUSTER_BUS_TLS_TRUSTSTORE_PASSWORD_FILE, true));
  }

  private static String storeType(Key key, String file) {
    String lower = file.toLowerCase(java.util.Locale.ROOT);
    if (lower.endsWith(".p12") || lower.endsWith(".pfx")) {
      return "PKCS12";
    }
    if (lower.endsWith(".jks")) {
      return "JKS";
    }
    throw new IllegalArgumentException("config '" + key.name() + "': " + file + " must be a PKCS12 (.p12, .pfx) or"
        + " JKS (.jks) file");
  }

  /**
   * A password from the environment variable that {@code envKey} names or the file {@code fileKey} names (one of
   * them; required: exactly one). The value itself never appears in a message.
   */
  private static String secret(Map<String, Object> values, Map<String, String> env, Key envKey, Key fileKey,
      boolean required) {
    String variable = get(values, envKey, s -> s);
    String file = get(values, fileKey, s -> s);
    if (variable != null && file != null) {
      throw new IllegalArgumentException("set one of '" + envKey.name() + "' and '" + fileKey.name() + "', not both");
    }
    if (variable != null) {
      String value = env.get(variable);
      if (value == null) {
        throw new IllegalArgumentException(envKey.name() + " names the environment variable " + variable
            + ", which is not set");
      }
      return value;
    }
    if (file != null) {
      try {
        return Files.readString(Path.of(file)).replaceFirst("\\r?\\n$", "");
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException("cannot read the password file " + file + " (" + fileKey.name() + "): "
            + e.getClass().getSimpleName());
      }
    }
    if (required) {
      throw new IllegalArgumentException("set '" + envKey.name() + "' or '" + fileKey.name() + "'");
    }
    return null;
  }

  /** Both files or neither; each must be a readable file now, not at the first connection. */
  private static Tls tls(String cert, String key) {
    if (cert == null && key == null) {
      return null;
    }
    if (cert == null || key == null) {
      throw new IllegalArgumentException("HTTPS needs both " + HTTP_TLS_CERT.name() + " and " + HTTP_TLS_KEY.name()
          + "; only " + (cert == null ? HTTP_TLS_KEY.name() : HTTP_TLS_CERT.name()) + " is set");
    }
    return new Tls(readableFile(HTTP_TLS_CERT, cert), readableFile(HTTP_TLS_KEY, key));
  }

  private static Path readableFile(Key key, String file) {
    Path path = Path.of(file);
    if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
      throw new IllegalArgumentException("config '" + key.name() + "': " + path + " is not a readable file");
    }
    return path;
  }

  /** A number in [min, max], else a start-up error that names the key and the range. */
  private static long inRange(Key key, Number value, long min, long max) {
    if (value == null) {
      throw new IllegalArgumentException("config '" + key.name() + "' (env " + key.env() + ") needs a value: "
          + key.description());
    }
    long n = value.longValue();
    if (n < min || n > max) {
      throw new IllegalArgumentException("config '" + key.name() + "' (env " + key.env() + ") must be "
          + (max == Long.MAX_VALUE ? "at least " + min : "between " + min + " and " + max) + ", got " + n + ": "
          + key.description());
    }
    return n;

  }

  private static String parseStoreType(String value) {
    String type = value.toLowerCase(java.util.Locale.ROOT);
    if (!type.equals(STORE_LUCENE) && !type.equals(STORE_POSTGRES)) {
      throw new IllegalArgumentException("not a store type: " + value);
    }
    return type;
  }

  /** The store.postgres.* settings, checked only when store.type is postgres. */
  private static Postgres postgres(Map<String, Object> values, Map<String, String> env, Lanes lanes) {
    // never echoed in an error: the URL may carry a password
    Object rawUrl = values.get(STORE_POSTGRES_URL.name());
    String url = rawUrl == null || rawUrl.toString().isBlank() ? null : rawUrl.toString().trim();
    if (url != null && !url.startsWith("postgresql://") && !url.startsWith("postgres://")) {
      throw new IllegalArgumentException("config '" + STORE_POSTGRES_URL.name() + "' (env " + STORE_POSTGRES_URL.env()
          + ") must start with postgresql://");
    }
    String host = get(values, STORE_POSTGRES_HOST, s -> s);
    if (url == null && host == null) {
      throw new IllegalArgumentException("store.type postgres needs '" + STORE_POSTGRES_URL.name() + "' or '"
          + STORE_POSTGRES_HOST.name() + "'");
    }
    Integer port = get(values, STORE_POSTGRES_PORT, Integer::parseInt);
    if (port != null && (port < 1 || port > 65535)) {
      throw new IllegalArgumentException(STORE_POSTGRES_PORT.name() + " must be a port (1-65535), got " + port);
    }
    String passwordEnv = get(values, STORE_POSTGRES_PASSWORD_ENV, s -> s);
    String passwordFile = get(values, STORE_POSTGRES_PASSWORD_FILE, s -> s);
    if (passwordEnv != null && passwordFile != null) {
      throw new IllegalArgumentException("set one of '" + STORE_POSTGRES_PASSWORD_ENV.name() + "' and '"
          + STORE_POSTGRES_PASSWORD_FILE.name() + "', not both");
    }
    String password = null;
    if (passwordEnv != null) {
      password = env.get(passwordEnv);
      if (password == null) {
        throw new IllegalArgumentException(STORE_POSTGRES_PASSWORD_ENV.name() + " names the environment variable "
            + passwordEnv + ", which is not set");
      }
    }
    if (passwordFile != null) {
      try {
        password = Files.readString(Path.of(passwordFile)).replaceFirst("\\r?\\n$", "");
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException("cannot read the PostgreSQL password file " + passwordFile + " ("
            + STORE_POSTGRES_PASSWORD_FILE.name() + "): " + e.getClass().getSimpleName());
      }
    }
    String schema = get(values, STORE_POSTGRES_SCHEMA, s -> s);
    if (schema == null || schema.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 63) {
      throw new IllegalArgumentException(STORE_POSTGRES_SCHEMA.name() + " must be 1-63 bytes");
    }
    int readPool = (int) inRange(STORE_POSTGRES_READ_POOL_SIZE,
        get(values, STORE_POSTGRES_READ_POOL_SIZE, Integer::parseInt), 0L, 1024L);
    int pool = (int) inRange(STORE_POSTGRES_POOL_SIZE, get(values, STORE_POSTGRES_POOL_SIZE, Integer::parseInt), 1L,
        1024L);
    int tableConnections = (int) inRange(STORE_POSTGRES_TABLE_CONNECTIONS,
        get(values, STORE_POSTGRES_TABLE_CONNECTIONS, Integer::parseInt), 0L, 1024L);
    // PostgreSQL's own limit of backend_flush_after: 2 MB
    int flushAfterKb = (int) inRange(STORE_POSTGRES_FLUSH_AFTER_KB,
        get(values, STORE_POSTGRES_FLUSH_AFTER_KB, Integer::parseInt), 0L, 2048L);
    return new Postgres(url, host, port == null ? 0 : port, get(values, STORE_POSTGRES_DATABASE, s -> s),
        get(values, STORE_POSTGRES_USER, s -> s), password, pool,
        readPool > 0 ? readPool : lanes.readThreads() + 1, tableConnections(tableConnections, pool), flushAfterKb,
        schema,
        Boolean.TRUE.equals(get(values, STORE_POSTGRES_INDEX_COLUMNS, SluiceConfig::parseBoolean)));
  }

  /**
   * One table's share of {@code poolSize} write connections: {@code configured}, or the machine's cores when 0;
   * at most poolSize - 1 (a write to another table finds one), at least 1.
   */
  public static int tableConnections(int configured, int poolSize) {
    int wanted = configured > 0 ? configured : Runtime.getRuntime().availableProcessors();
    return Math.max(1, Math.min(wanted, poolSize - 1));
  }

  private static long positive(Key key, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(key.name() + " must be positive, got " + value);
    }
    return value;
  }

  private static long nonNegative(Key key, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(key.name() + " must not be negative, got " + value);
    }
    return value;
  }

  private static boolean parseBoolean(String value) {
    return switch (value.toLowerCase(java.util.Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException("not a boolean: " + value);
    };
  }

  private static String parseLogFormat(String value) {
    String format = value.toLowerCase(java.util.Locale.ROOT);
    if (!format.equals("text") && !format.equals("json")) {
      throw new IllegalArgumentException("not a log format: " + value);
    }
    return format;
  }

  private static <T> T get(Map<String, Object> values, Key key, Function<String, T> parse) {
    Object raw = values.get(key.name());
    if (raw == null || raw.toString().isBlank()) {
      return null;
    }
    try {
      return parse.apply(raw.toString().trim());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("config '" + key.name() + "' (env " + key.env() + ") has invalid value '"
          + raw + "': " + key.description());
    }
  }

  private static long inflightBudget(long configured) {
    return configured > 0 ? configured : Runtime.getRuntime().maxMemory() / 10;
  }

  private static String stripTrailingSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  /**
   * This configuration with its data directory at {@code dir}, which may be a {@code Path} of any file system:
   * tests run the server on a simulated one (e.g. one that forgets unsynced writes at a power loss), which a
   * {@code data.dir} string cannot name. The server reaches every file of its own through this {@code Path}.
   */
  public SluiceConfig withDataDir(Path dir) {
    return new SluiceConfig(
        httpHost,
        httpPort,
        dir,
        apiKeyRw,
        apiKeyRo,
        publicUrl,
        maxBatchBytes,
        httpInstances,
        storeInstances,
        maxResultLimit,
        uploadSecret,
        uploadExpirySeconds,
        uploadMaxBytes,
        importMaxDecompressedBytes,
        importMaxRatio,
        importMaxLineBytes,
        importBatchRows,
        importBatchBytes,
        importWindow,
        importCommitIntervalMs,
        importMaxJobs,
        streamMaxBytes,
        importKeepSeconds,
        maxInflightBytes,
        maxConnections,
        requestTimeoutSeconds,
        importMaxQueued,
        metricsEnabled,
        logFormat,
        storeCommitIntervalMs,
        storeWalMaxBytes,
        importMaxHistory,
        streamIdleTimeoutSeconds,
        streamMinBytesPerSecond,
        tls,
        shutdownTimeoutSeconds,
        storeType,
        postgres,
        lanes,
        backupDir,
        importErrorsMax,
        idempotencyRetentionSeconds,
        monitoring,
        cluster);
  }

  /** The base URL clients should use to reach this server. */
  public String publicBaseUrl(int actualPort) {
    return publicUrl != null ? publicUrl : (tls != null ? "https://" : "http://") + httpHost + ":" + actualPort;
  }
}
