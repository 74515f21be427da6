package io.sluice.store;

import io.sluice.config.SluiceConfig;
import io.sluice.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures what the gauges of tables and of the data disk show — row counts, file sizes, PostgreSQL's relation
 * sizes, statvfs — on a worker thread of its own every {@code metrics.refresh.ms}, so a scrape (on an event loop)
 * only reads the last figures and never waits for the store or the disk. One measurement at a time: a slow one
 * makes the next tick skip, not pile up.
 */
public final class StoreGauges {
  private static final Logger LOG = LoggerFactory.getLogger(StoreGauges.class);

  private final Vertx vertx;
  private final TableStore store;
  private final Metrics metrics;
  private final SluiceConfig.Monitoring settings;
  private final AtomicBoolean measuring = new AtomicBoolean();
  private WorkerExecutor worker;
  private long timer = -1;
  private volatile Future<Void> current = Future.succeededFuture();

  public StoreGauges(Vertx vertx, TableStore store, Metrics metrics, SluiceConfig.Monitoring settings) {
    this.vertx = vertx;
    this.store = store;
    this.metrics = metrics;
    this.settings = settings;
  }

  /**
   * Completes once the disk is measured, so the first scrape has its gauges; the tables' first measurement runs
   * meanwhile, not before the port opens (on PostgreSQL each count is a scan: a large store would start late).
   */
  public Future<Void> start() {
    worker = vertx.createSharedWorkerExecutor("sluice-gauges", 1, 10, TimeUnit.MINUTES);
    return worker.<Void>executeBlocking(() -> {
      metrics.refreshDataDisk();
      return null;
    }, false).onComplete(measured -> {
      measure();
      timer = vertx.setPeriodic(settings.refreshMs(), id -> measure());
    });
  }

  /** Completes once no measurement runs any more, so the store can be closed under none. */
  public Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return current.eventually(() -> worker == null ? Future.succeededFuture() : worker.close());
  }

  private Future<Void> measure() {
    if (!measuring.compareAndSet(false, true)) {
      return Future.succeededFuture();
    }
    current = worker.<Void>executeBlocking(() -> {
      metrics.refreshDataDisk();
      metrics.tables(store.tableStats(), settings.tablesMax());
      return null;
    }, false).onComplete(done -> measuring.set(false))
        .onFailure(e -> LOG.warn("measuring the tables for metrics failed: {}", e.toString()))
        .recover(e -> Future.succeededFuture());
    return current;
  }
}
