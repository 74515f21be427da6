package io.sluice.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.bus.FairScheduler;
import io.sluice.engine.TableStats;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * Sluice's own meters, by name, in one place. One instance per server, shared by the store, the import
 * verticle and the HTTP verticles; every method is thread-safe and cheap. The store records into it whether
 * or not Vert.x metrics are enabled: with {@code metrics.enabled=false} it records into a registry with no
 * backend ({@link #noop()}), which costs next to nothing.
 *
 * <p>Prometheus names: dots become underscores, counters get {@code _total}, timers {@code _seconds}.
 */
public final class Metrics {
  /** Counter, tag {@value #TAG_TABLE}: rows made durable by batches, single rows, imports and streams. */
  public static final String ROWS_INGESTED = "sluice.rows.ingested";
  /**
   * Counter, tag {@value #TAG_TABLE}: rows refused by validation — lines an import or stream skipped, and the
   * rows a refused batch listed as invalid (at most the first 50 of one batch).
   */
  public static final String ROWS_REJECTED = "sluice.rows.rejected";
  /** Gauge, tag {@value #TAG_PHASE}: file-import jobs this node knows, by phase. */
  public static final String IMPORT_JOBS = "sluice.import.jobs";
  /** Counter: bytes received by the upload URL ({@code PUT /uploads/{id}}). */
  public static final String UPLOAD_BYTES = "sluice.upload.bytes";
  /** Timer: duration of each durable (fsync'd) Lucene commit, one per group of writers. */
  public static final String COMMIT_LATENCY = "sluice.commit.latency";
  /**
   * Gauge: request bytes held by the HTTP layer's budget ({@code max.inflight.bytes}) plus bytes of import and
   * stream batches sent to the store and not yet acknowledged.
   */
  public static final String INFLIGHT_BYTES = "sluice.inflight.bytes";
  /** Counter: responses with status 429 (overloaded). */
  public static final String THROTTLED = "sluice.http.throttled";

  /** Gauge, tag {@value #TAG_LANE}: store tasks waiting for a thread of their lane ({@code read}, {@code write}). */
  public static final String LANE_QUEUED = "sluice.lane.queued";
  /** Timer with histogram, tag {@value #TAG_LANE}: how long a store task waited for a thread of its lane. */
  public static final String LANE_WAIT = "sluice.lane.wait";
  /**
   * Timer with histogram, tag {@value #TAG_LANE}: how long a store task held its thread (parse, validate, index;
   * a write's shared fsync happens after and is not counted).
   */
  public static final String LANE_SERVICE = "sluice.lane.service";

  /**
   * Histogram, tag {@value #TAG_LANE}: the lane's queue length as each task joined it, itself included (1: no
   * task waited before it), so a p99 shows bursts a scrape of {@link #LANE_QUEUED} misses.
   */
  public static final String LANE_QUEUE_LENGTH = "sluice.lane.queue.length";

  /**
   * Gauges, tag {@value #TAG_TABLE}: a table's rows, the bytes its storage takes on disk, and of those its
   * write-ahead log's (Lucene engine only: PostgreSQL's WAL is the server's). Refreshed on a worker every
   * {@code metrics.refresh.ms}; at most {@code metrics.tables.max} tables, the largest, have series of their own,
   * the rest are summed under {@value #OTHER_TABLES}. A table's series go when it is dropped or renamed.
   */
  public static final String TABLE_ROWS = "sluice.table.rows";
  public static final String TABLE_BYTES = "sluice.table.bytes";
  public static final String TABLE_WAL_BYTES = "sluice.table.wal.bytes";
  /** The {@value #TAG_TABLE} of the tables past {@code metrics.tables.max}, summed ({@code $} is in no table name). */
  public static final String OTHER_TABLES = "$other";
  /**
   * Gauge, tags {@value #TAG_JOB} and {@value #TAG_TABLE}: a running file import's stored rows per second over
   * about the last {@value #IMPORT_RATE_WINDOW_SECONDS} s; removed when the job ends (at most
   * {@code import.max.jobs} series).
   */
  public static final String IMPORT_RATE = "sluice.import.rows.per.second";
  public static final int IMPORT_RATE_WINDOW_SECONDS = 5;
  public static final String TAG_JOB = "job";

  /** Gauge: 1 while the store refuses writes after a storage failure (latched until restart), else 0. */
  public static final String STORE_FAILED = "sluice.store.failed";
  /** Gauges: free and total bytes of the file system holding the data directory. */
  public static final String DATA_DISK_FREE = "sluice.data.disk.free.bytes";
  public static final String DATA_DISK_TOTAL = "sluice.data.disk.total.bytes";
  /**
   * Counter, tag {@value #TAG_OUTCOME}: writes with an {@code Idempotency-Key} — recorded (written with its key),
   * replayed (answered from the record), mismatch (422: the key was used for another request), in_flight (409).
   */
  public static final String IDEMPOTENCY = "sluice.idempotency";
  public static final String TAG_OUTCOME = "outcome";
  /**
   * Counters, tag {@value #TAG_ORIGIN} ({@code local}: an import this node holds; {@code remote}: another node's):
   * import batches, and their rows, this node stored (cluster mode only).
   */
  public static final String IMPORT_BATCHES_STORED = "sluice.import.batches.stored";
  public static final String IMPORT_BATCH_ROWS_STORED = "sluice.import.batch.rows.stored";
  /** Counter: import batches sent again after no reply from the node they went to (cluster mode only). */
  public static final String IMPORT_BATCHES_RESENT = "sluice.import.batches.resent";
  public static final String TAG_ORIGIN = "origin";
  public static final String TAG_TABLE = "table";
  public static final String TAG_LANE = "lane";
  public static final String TAG_PHASE = "phase";

  private final MeterRegistry registry;
  private final PrometheusMeterRegistry prometheus;
  private final Timer commitLatency;
  private final Counter uploadBytes;
  private final Counter throttled;
  private final AtomicLong inflightBytes = new AtomicLong();
  private final List<LongSupplier> inflightSources = new CopyOnWriteArrayList<>();
  /** Strong references to the lanes' queue lengths: a gauge only holds its value object weakly. */
  private final List<LongSupplier> laneQueues = new CopyOnWriteArrayList<>();
  /** Strong references: a gauge only holds its value object weakly. */
  private final Map<String, AtomicLong> importPhases = new ConcurrentHashMap<>();
  private final List<Object> gaugeSources = new CopyOnWriteArrayList<>();
  /** The data directory's disk as last measured on a worker ({@link #refreshDataDisk}); NaN before. */
  private volatile java.nio.file.Path dataDir;
  private final AtomicReference<double[]> dataDisk =
      new AtomicReference<>(new double[] {Double.NaN, Double.NaN});
  /** Series of each labelled table (and {@link #OTHER_TABLES}); guarded by itself. */
  private final Map<String, TableMeters> tableMeters = new HashMap<>();
  /** Series of each running import; guarded by itself. */
  private final Map<String, ImportRate> importRates = new HashMap<>();

  /** A table's gauges and the values they read (held strongly here: a gauge holds its value weakly). */
  private record TableMeters(AtomicLong rows, AtomicLong bytes, AtomicLong walBytes,
      List<Meter> meters) {
  }

  /** Rows per second in thousandths (an AtomicLong, read by the gauge). */
  private record ImportRate(String table, AtomicLong milliRowsPerSecond, Gauge gauge) {
  }

  public Metrics(MeterRegistry registry) {
    this.registry = registry;
    this.prometheus = registry instanceof PrometheusMeterRegistry p ? p : null;
    this.commitLatency = Timer.builder(COMMIT_LATENCY)
        .description("duration of a durable commit (one per group of writers)")
        .publishPercentileHistogram()
        .register(registry);
    this.uploadBytes = Counter.builder(UPLOAD_BYTES).description("bytes received by upload URLs").register(registry);
    this.throttled = Counter.builder(THROTTLED).description("responses with status 429").register(registry);
    Gauge.builder(INFLIGHT_BYTES, this, Metrics::inflightTotal)
        .description("request bytes in the budget plus import batches sent to the store, not yet acknowledged")
        .register(registry);
  }

  /** A new Prometheus registry, scraped at {@code GET /metrics}. */
  public static Metrics prometheus() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // Vert.x Web names a request's route by every route it passed ("/api/v1/>/api/v1/>/api/v1/data/:table/batch>
    // …"): keep the last, the template of the route that answered.
    registry.config().meterFilter(io.micrometer.core.instrument.config.MeterFilter.replaceTagValues("route",
        route -> route.substring(route.lastIndexOf('>') + 1)));
    registry.config().meterFilter(FEW_BUCKETS);
    return new Metrics(registry);
  }

  /** Latency bucket bounds, 1 ms to 60 s: enough for p50/p99 alerts, a dozen series per timer, not seventy. */
  private static final double[] LATENCY_BUCKETS_NANOS = java.util.stream.DoubleStream.of(
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60).map(s -> s * 1e9).toArray();

  /**
   * Latency histograms for what alerts read — the HTTP server's response time and Sluice's own timers — on the
   * fixed {@link #LATENCY_BUCKETS_NANOS} rather than Micrometer's ~70 default buckets; no other histogram (per
   * route, method and code, Vert.x's own quantile histograms made a scrape of a megabyte).
   */
  private static final io.micrometer.core.instrument.config.MeterFilter FEW_BUCKETS =
      new io.micrometer.core.instrument.config.MeterFilter() {
        @Override
        public io.micrometer.core.instrument.distribution.DistributionStatisticConfig configure(
            io.micrometer.core.instrument.Meter.Id id,
            io.micrometer.core.instrument.distribution.DistributionStatisticConfig config) {
          String name = id.getName();
          if (id.getType() != io.micrometer.core.instrument.Meter.Type.TIMER
              || !(name.startsWith("sluice.") || name.equals("vertx.http.server.response.time"))) {
            return config;
          }
          return io.micrometer.core.instrument.distribution.DistributionStatisticConfig.builder()
              .percentilesHistogram(false).serviceLevelObjectives(LATENCY_BUCKETS_NANOS).build().merge(config);
        }
      };

  /** Records into nothing (metrics.enabled=false, unit tests of the store). */
  public static Metrics noop() {
    return new Metrics(new CompositeMeterRegistry());
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The registry to scrape, or null when these meters go nowhere. */
  public PrometheusMeterRegistry prometheusRegistry() {
    return prometheus;
  }

  public void rowsIngested(String table, long rows) {
    if (rows > 0) {
      registry.counter(ROWS_INGESTED, TAG_TABLE, table).increment(rows);
    }
  }

  public void rowsRejected(String table, long rows) {
    if (rows > 0) {
      registry.counter(ROWS_REJECTED, TAG_TABLE, table).increment(rows);
    }
  }

  /** An import batch stored by this node; local: for an import this node holds (see {@link #IMPORT_BATCHES_STORED}). */
  public void importBatchStored(boolean local, long rows) {
    String origin = local ? "local" : "remote";
    registry.counter(IMPORT_BATCHES_STORED, TAG_ORIGIN, origin).increment();
    registry.counter(IMPORT_BATCH_ROWS_STORED, TAG_ORIGIN, origin).increment(rows);
  }

  public void importBatchResent() {
    registry.counter(IMPORT_BATCHES_RESENT).increment();
  }

  /** outcome: recorded, replayed, mismatch or in_flight (see {@link #IDEMPOTENCY}). */
  public void idempotency(String outcome) {
    registry.counter(IDEMPOTENCY, TAG_OUTCOME, outcome).increment();
  }

  public void uploaded(long bytes) {
    uploadBytes.increment(bytes);
  }

  public void throttled() {
    throttled.increment();
  }

  public Timer commitLatency() {
    return commitLatency;
  }

  /** Add (positive) or release (negative) in-flight batch bytes. */
  public void inflight(long bytes) {
    inflightBytes.addAndGet(bytes);
  }

  /** Adds a further count of in-flight bytes to {@link #INFLIGHT_BYTES} (the HTTP request budget). */
  /** The store's health ({@code failed}: true while writes are refused) and the data directory's disk. */
  public void storeSources(java.util.function.BooleanSupplier failed, java.nio.file.Path dataDir) {
    gaugeSources.add(failed);
    this.dataDir = dataDir;
    Gauge.builder(STORE_FAILED, failed, f -> f.getAsBoolean() ? 1 : 0)
        .description("1 while the store refuses writes after a storage failure (until restart)").register(registry);
    // A scrape runs on an event loop: it reads what a worker measured (statvfs may block on a sick disk).
    Gauge.builder(DATA_DISK_FREE, dataDisk, d -> d.get()[0]).baseUnit("bytes")
        .description("usable bytes left on the file system of the data directory").register(registry);
    Gauge.builder(DATA_DISK_TOTAL, dataDisk, d -> d.get()[1]).baseUnit("bytes")
        .description("size of the file system of the data directory").register(registry);
  }

  /** Measures the data directory's disk for its gauges. Blocking (statvfs): call it on a worker. */
  public void refreshDataDisk() {
    java.nio.file.Path dir = dataDir;
    if (dir == null) {
      return;
    }
    try {
      java.nio.file.FileStore store = java.nio.file.Files.getFileStore(dir);
      dataDisk.set(new double[] {store.getUsableSpace(), store.getTotalSpace()});
    } catch (java.io.IOException e) {
      dataDisk.set(new double[] {Double.NaN, Double.NaN});
    }
  }

  /**
   * Sets the per-table gauges to {@code stats} (by table name): the {@code max} largest tables by bytes get
   * series of their own, the others are summed under {@link #OTHER_TABLES}; series of tables no longer there
   * (dropped, renamed, or fallen past {@code max}) are removed, so a scrape holds at most {@code max + 1} tables.
   */
  public void tables(Map<String, TableStats> stats, int max) {
    List<Map.Entry<String, TableStats>> bySize = new ArrayList<>(stats.entrySet());
    bySize.sort(Map.Entry.<String, TableStats>comparingByValue(
        Comparator.comparingLong(TableStats::bytes).reversed())
        .thenComparing(Map.Entry.comparingByKey()));
    Map<String, TableStats> shown = new HashMap<>();
    long[] other = new long[3];
    boolean otherLog = false;
    for (int i = 0; i < bySize.size(); i++) {
      TableStats table = bySize.get(i).getValue();
      if (i < max) {
        shown.put(bySize.get(i).getKey(), table);
      } else {
        other[0] += table.rows();
        other[1] += table.bytes();
        if (table.walBytes() != TableStats.NO_LOG) {
          other[2] += table.walBytes();
          otherLog = true;
        }
      }
    }
    if (bySize.size() > max) {
      shown.put(OTHER_TABLES, new TableStats(other[0], other[1],
          otherLog ? other[2] : TableStats.NO_LOG));
    }
    synchronized (tableMeters) {
      tableMeters.entrySet().removeIf(e -> {
        TableStats now = shown.get(e.getKey());
        boolean gone = now == null
            || (now.walBytes() == TableStats.NO_LOG) != (e.getValue().walBytes() == null);
        if (gone) {
          e.getValue().meters().forEach(registry::remove);
        }
        return gone;
      });
      shown.forEach((name, table) -> {
        TableMeters meters = tableMeters.computeIfAbsent(name, n -> tableMeters(n,
            table.walBytes() != TableStats.NO_LOG));
        meters.rows().set(table.rows());
        meters.bytes().set(table.bytes());
        if (meters.walBytes() != null) {
          meters.walBytes().set(table.walBytes());
        }
      });
    }
  }

  private TableMeters tableMeters(String table, boolean withLog) {
    AtomicLong rows = new AtomicLong();
    AtomicLong bytes = new AtomicLong();
    AtomicLong walBytes = withLog ? new AtomicLong() : null;
    List<Meter> meters = new ArrayList<>();
    meters.add(Gauge.builder(TABLE_ROWS, rows, AtomicLong::get).tag(TAG_TABLE, table)
        .description("rows of the table").register(registry));
    meters.add(Gauge.builder(TABLE_BYTES, bytes, AtomicLong::get).tag(TAG_TABLE, table).baseUnit("bytes")
        .description("bytes the table's storage takes on disk (index or heap, indexes, log)").register(registry));
    if (withLog) {
      meters.add(Gauge.builder(TABLE_WAL_BYTES, walBytes, AtomicLong::get).tag(TAG_TABLE, table).baseUnit("bytes")
          .description("bytes of the table's write-ahead log (not yet in a Lucene commit)").register(registry));
    }
    return new TableMeters(rows, bytes, walBytes, meters);
  }

  /** Sets a running import's rows per second ({@link #IMPORT_RATE}), creating its series at the first call. */
  public void importRate(String job, String table, double rowsPerSecond) {
    synchronized (importRates) {
      ImportRate rate = importRates.get(job);
      if (rate != null && !rate.table().equals(table)) { // renamed while it runs
        registry.remove(rate.gauge());
        rate = null;
      }
      if (rate == null) {
        AtomicLong value = new AtomicLong();
        Gauge gauge = Gauge.builder(IMPORT_RATE, value, v -> v.get() / 1000.0).tags(TAG_JOB, job, TAG_TABLE, table)
            .description("a running file import's stored rows per second over the last seconds").register(registry);
        rate = new ImportRate(table, value, gauge);
        importRates.put(job, rate);
      }
      rate.milliRowsPerSecond().set(Math.round(rowsPerSecond * 1000));
    }
  }

  /** The import ended (or stopped with the server): its rate series goes. */
  public void importEnded(String job) {
    synchronized (importRates) {
      ImportRate rate = importRates.remove(job);
      if (rate != null) {
        registry.remove(rate.gauge());
      }
    }
  }

  /** Gauge: the members of the cluster this node is in (only when clustered). */
  public static final String CLUSTER_NODES = "sluice.cluster.nodes";
  private volatile java.util.function.IntSupplier clusterNodes;

  /** This node is clustered: {@code nodes} says how many members its cluster has now. */
  public void clusterSource(java.util.function.IntSupplier nodes) {
    clusterNodes = nodes;
    gaugeSources.add(nodes);
    Gauge.builder(CLUSTER_NODES, nodes, n -> n.getAsInt())
        .description("members of the cluster this node is in, itself included").register(registry);
  }

  /** The members of this node's cluster, or -1 when it is not clustered. */
  public int clusterNodes() {
    java.util.function.IntSupplier nodes = clusterNodes;
    return nodes == null ? -1 : nodes.getAsInt();
  }

  public void inflightSource(LongSupplier bytes) {
    inflightSources.add(bytes);
  }

  private double inflightTotal() {
    long total = inflightBytes.get();
    for (LongSupplier source : inflightSources) {
      total += source.getAsLong();
    }
    return total;
  }

  /** The meters of one store lane; {@code queued} is read at each scrape. */
  public FairScheduler.Meters lane(String lane, LongSupplier queued) {
    laneQueues.add(queued);
    Gauge.builder(LANE_QUEUED, queued, LongSupplier::getAsLong).tag(TAG_LANE, lane)
        .description("store tasks waiting for a thread of their lane").register(registry);
    Timer wait = Timer.builder(LANE_WAIT).tag(TAG_LANE, lane).publishPercentileHistogram()
        .description("time a store task waited for a thread of its lane").register(registry);
    Timer service = Timer.builder(LANE_SERVICE).tag(TAG_LANE, lane).publishPercentileHistogram()
        .description("time a store task held its thread").register(registry);
    DistributionSummary queueLength =
        DistributionSummary.builder(LANE_QUEUE_LENGTH).tag(TAG_LANE, lane)
            .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 1024)
            .description("queue length of the lane as a task joined it, itself included").register(registry);
    return new FairScheduler.Meters() {
      @Override
      public void arrived(long ahead) {
        queueLength.record(ahead + 1);
      }

      @Override
      public void waited(long nanos) {
        wait.record(nanos, TimeUnit.NANOSECONDS);
      }

      @Override
      public void served(long nanos) {
        service.record(nanos, TimeUnit.NANOSECONDS);
      }
    };
  }

  /** Sets the number of import jobs in each phase; phases not named are left as they are. */
  public void importJobs(Map<String, Long> byPhase) {
    byPhase.forEach((phase, count) -> importPhases.computeIfAbsent(phase, p -> {
      AtomicLong value = new AtomicLong();
      Gauge.builder(IMPORT_JOBS, value, AtomicLong::get).tag(TAG_PHASE, p)
          .description("file-import jobs by phase").register(registry);
      return value;
    }).set(count));
  }
}
