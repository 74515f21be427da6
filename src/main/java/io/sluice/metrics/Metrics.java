package io.sluice.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.bus.FairScheduler;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
    gaugeSources.add(dataDir);
    Gauge.builder(STORE_FAILED, failed, f -> f.getAsBoolean() ? 1 : 0)
        .description("1 while the store refuses writes after a storage failure (until restart)").register(registry);
    Gauge.builder(DATA_DISK_FREE, dataDir, dir -> diskSpace(dir, true)).baseUnit("bytes")
        .description("usable bytes left on the file system of the data directory").register(registry);
    Gauge.builder(DATA_DISK_TOTAL, dataDir, dir -> diskSpace(dir, false)).baseUnit("bytes")
        .description("size of the file system of the data directory").register(registry);
  }

  private static double diskSpace(java.nio.file.Path dir, boolean free) {
    try {
      java.nio.file.FileStore store = java.nio.file.Files.getFileStore(dir);
      return free ? store.getUsableSpace() : store.getTotalSpace();
    } catch (java.io.IOException e) {
      return Double.NaN;
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
    return new FairScheduler.Meters() {
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
