package io.sluice;

import io.sluice.api.ApiKeys;
import io.sluice.api.HttpVerticle;
import io.sluice.api.Jobs;
import io.sluice.api.RequestBudget;
import io.sluice.bus.Addresses;
import io.sluice.bus.StoreRequest;
import io.sluice.bus.StoreRequestCodec;
import io.sluice.engine.BackgroundPriority;
import io.sluice.config.SluiceConfig;
import io.sluice.engine.NodeState;
import io.sluice.ingest.ImportVerticle;
import io.sluice.ingest.UploadSigner;
import io.sluice.metrics.Metrics;
import io.sluice.engine.lucene.DirectoryFactory;
import io.sluice.store.StoreVerticle;
import io.sluice.store.TableStore;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deploys the store workers, then the import verticle, then the HTTP verticles: the port opens only when the store is ready.
 * Undeploying it closes the store after the verticles that use it have stopped.
 */
public final class MainVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(MainVerticle.class);

  private final SluiceConfig config;
  private final DirectoryFactory directories;
  private final Metrics metrics;
  private final AtomicReference<HttpVerticle> firstHttp = new AtomicReference<>();
  private final List<HttpVerticle> httpVerticles = new java.util.concurrent.CopyOnWriteArrayList<>();
  private TableStore store;
  private io.sluice.store.StoreGauges gauges;
  private NodeState state;
  private io.sluice.engine.UploadStore uploads;
  /** The cluster's registry of live nodes (cluster mode), renewed every cluster.lease.heartbeat.ms. */
  private io.sluice.engine.ClusterMembers members;
  private long heartbeat = -1;
  private final java.util.concurrent.atomic.AtomicBoolean beating = new java.util.concurrent.atomic.AtomicBoolean();

  /** With metrics enabled, Sluice's meters go to a Prometheus registry of this server's own. */
  public MainVerticle(SluiceConfig config) {
    this(config, DirectoryFactory.FILE_SYSTEM);
  }

  /** With the given way to open table directories (tests inject I/O failures). */
  public MainVerticle(SluiceConfig config, DirectoryFactory directories) {
    this(config, directories, config.metricsEnabled() ? Metrics.prometheus() : Metrics.noop());
  }

  /**
   * {@code metrics}: where Sluice's meters go; {@code GET /metrics} serves its Prometheus registry, which
   * {@link io.sluice.cli.Main} also hands to Vert.x for the HTTP, event-bus and JVM meters.
   */
  public MainVerticle(SluiceConfig config, Metrics metrics) {
    this(config, DirectoryFactory.FILE_SYSTEM, metrics);
  }

  public MainVerticle(SluiceConfig config, DirectoryFactory directories, Metrics metrics) {
    this.config = config;
    this.directories = directories;
    this.metrics = metrics;
  }

  public Metrics metrics() {
    return metrics;
  }

  @Override
  public Future<?> start() {
    BackgroundPriority.configure(config.lanes().backgroundNice());
    try {
      vertx.eventBus().registerDefaultCodec(StoreRequest.class, new StoreRequestCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // A second Sluice in the same Vert.x instance (tests) shares the codec.
    }
    RequestBudget budget = new RequestBudget(config.maxInflightBytes());
    metrics.inflightSource(budget::inFlight);
    // The store first (with PostgreSQL, key hashes, the upload secret and jobs are in it), then what its node
    // state holds; all of it blocks, so never on the event loop.
    ApiKeys[] keys = new ApiKeys[1];
    UploadSigner[] signer = new UploadSigner[1];
    Jobs[] jobs = new Jobs[1];
    return vertx.executeBlocking(() -> {
          Stores.Opened opened = Stores.open(vertx, config, directories, metrics);
          try {
            if (config.cluster() != null && opened.state().members() != null) {
              // registered before it saves anything a node owns (its jobs), renewed while it runs
              opened.state().members().beat(config.cluster().leaseTimeoutMs(), config.importMaxJobs());
            }
            keys[0] = ApiKeys.load(opened.state(), config.apiKeyRw(), config.apiKeyRo());
            signer[0] = UploadSigner.load(opened.state(), config.uploadSecret());
            jobs[0] = Jobs.load(vertx, opened.state(),
                config.cluster() == null ? null : opened.state().members());
          } catch (RuntimeException e) {
            opened.store().close();
            throw e;
          }
          return opened;
        })
        .compose(opened -> {
          store = opened.store();
          state = opened.state();
          members = config.cluster() == null ? null : state.members();
          if (members != null) {
            heartbeat = vertx.setPeriodic(config.cluster().leaseHeartbeatMs(), id -> beat());
          }
          uploads = state.uploads() != null ? state.uploads()
              : new io.sluice.engine.FileUploadStore(vertx, config.dataDir());
          metrics.storeSources(store::failed, config.dataDir());
          if (metrics.prometheusRegistry() == null) {
            return Future.succeededFuture(); // nothing scrapes them: no counting either
          }
          gauges = new io.sluice.store.StoreGauges(vertx, store, metrics, config.monitoring());
          return gauges.start();
        })
        .compose(measured -> vertx.deployVerticle(new StoreVerticle(store, Addresses.STORE, "write",
            config.lanes().writeThreads(), config.lanes().importTurns(), metrics)))
        .compose(id -> vertx.deployVerticle(new StoreVerticle(store, Addresses.STORE_READ, "read",
            config.lanes().readThreads(), 1, metrics)))
        .compose(id -> vertx.deployVerticle(new ImportVerticle(config, metrics, state, uploads), new DeploymentOptions()
            .setThreadingModel(ThreadingModel.WORKER)
            .setWorkerPoolName("sluice-import")
            .setWorkerPoolSize(1)))
        .compose(id -> vertx.deployVerticle(() -> {
          HttpVerticle http = new HttpVerticle(config, keys[0], jobs[0], signer[0], budget, metrics, uploads);
          firstHttp.compareAndSet(null, http);
          httpVerticles.add(http);
          return http;
        }, new DeploymentOptions().setInstances(config.httpInstances())))
        .onSuccess(id -> LOG.info("Sluice {} listening on {}", Version.VERSION,
            config.publicBaseUrl(actualPort())));
  }

  /**
   * The first half of a graceful stop (SIGTERM): no new connections, requests in flight finish (at most
   * shutdown.timeout.seconds). Undeploying afterwards stops the imports, leaving running ones to resume at the
   * next start, and commits every table.
   */
  public Future<Void> drain() {
    int open = httpVerticles.stream().mapToInt(HttpVerticle::openConnections).sum();
    LOG.info("shutting down: no new connections; waiting up to {} s for {} open connection(s) to finish their"
        + " requests", config.shutdownTimeoutSeconds(), open);
    long start = System.nanoTime();
    List<Future<Void>> drains = httpVerticles.stream().map(h -> h.drain(config.shutdownTimeoutSeconds())).toList();
    return Future.join(drains).<Void>mapEmpty().recover(failure -> Future.succeededFuture()).onComplete(v -> {
      int left = httpVerticles.stream().mapToInt(HttpVerticle::openConnections).sum();
      LOG.info("requests drained in {} ms ({} connection(s) cut at the deadline); stopping imports (running ones"
          + " resume at the next start) and committing tables", (System.nanoTime() - start) / 1_000_000, left);
    });
  }

  /** The port the HTTP server bound (useful with port 0). */
  public int actualPort() {
    return firstHttp.get().actualPort();
  }

  /** Renews this node's registration; a beat still running (a slow store) is not doubled. */
  private void beat() {
    if (!beating.compareAndSet(false, true)) {
      return;
    }
    vertx.<Void>executeBlocking(() -> {
      members.beat(config.cluster().leaseTimeoutMs(), config.importMaxJobs());
      return null;
    }, false).onComplete(done -> {
      beating.set(false);
      if (done.failed()) { // past the timeout the others take this node for gone, until a beat succeeds
        LOG.warn("cannot renew this node's cluster registration: {}", done.cause().getMessage());
      }
    });
  }

  @Override
  public Future<?> stop() {
    // Child deployments are undeployed before this runs.
    Future<Void> left = Future.succeededFuture();
    if (members != null) {
      vertx.cancelTimer(heartbeat);
      // this node's unfinished jobs are the others' to report as cut off now, not after the timeout
      left = vertx.<Void>executeBlocking(() -> {
        members.leave();
        return null;
      }, false).recover(e -> {
        LOG.warn("cannot leave the cluster's registry (the others drop this node after the timeout): {}",
            e.getMessage());
        return Future.succeededFuture();
      });
    }
    Future<Void> measured = left.compose(v -> gauges == null ? Future.<Void>succeededFuture() : gauges.stop());
    if (store != null) {
      return measured.compose(v -> vertx.executeBlocking(() -> {
        store.close();
        return null;
      }));
    }
    return Future.succeededFuture();
  }
}
