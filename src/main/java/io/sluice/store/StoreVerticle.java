package io.sluice.store;

import io.sluice.bus.Addresses;
import io.sluice.bus.StoreOp;
import io.sluice.bus.StoreRequest;
import io.sluice.bus.Written;
import io.sluice.bus.FairScheduler;
import io.sluice.engine.BackgroundPriority;
import io.sluice.engine.StorageException;
import io.sluice.errors.ApiError;
import io.sluice.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one lane, {@link Addresses#STORE} (writes) or {@link Addresses#STORE_READ} (reads): the only code that
 * calls the {@link TableStore}. The verticle's event loop only queues each request in the lane's
 * {@link FairScheduler} (by table, or by import job for import batches); the work runs on the lane's own worker
 * pool, fairly across those keys: one key's tasks on at most {@code threads} threads, and one thread more, so a
 * request to another key never waits for a busy key's task to end. A write's reply is sent when it is durable, without
 * holding a thread for the commit. The store is safe for concurrent reads and writes (Lucene's near-real-time
 * readers beside the writer), so the lanes never wait for each other.
 */
public final class StoreVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(StoreVerticle.class);
  /** Long enough for an optimize or a large delete (see {@link io.sluice.bus.StoreClient}). */
  private static final long MAX_TASK_MINUTES = 10;
  private static final String JOB = "job ";

  private final TableStore store;
  private final String address;
  private final String lane;
  private final int threads;
  private final int importTurns;
  private final Metrics metrics;
  private WorkerExecutor workers;
  /** Threads of lowered priority for import batches ({@link BackgroundPriority}). */
  private ExecutorService background;
  private FairScheduler scheduler;
  private MessageConsumer<StoreRequest> consumer;

  /**
   * address: the lane served, {@link Addresses#STORE} or {@link Addresses#STORE_READ}; lane: its name in
   * metrics and thread names; threads: how many requests of one key (a table, an import job) run at once, the
   * lane running one more for other keys; importTurns: how many tasks
   * an import job starts in a row while other keys wait ({@code store.write.import.turns}).
   */
  public StoreVerticle(TableStore store, String address, String lane, int threads, int importTurns,
      Metrics metrics) {
    this.store = store;
    this.address = address;
    this.lane = lane;
    this.threads = threads;
    this.importTurns = importTurns;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    // One thread more than a key may hold: a request to another table or job starts at once beside a busy one
    // (an import's batches take every thread they may, each for its parse and analysis).
    workers = vertx.createSharedWorkerExecutor("sluice-store-" + lane, threads + 1, MAX_TASK_MINUTES,
        TimeUnit.MINUTES);
    scheduler = new FairScheduler(lane + " lane", threads + 1, threads,
        task -> workers.executeBlocking(() -> {
          task.run();
          return null;
        }, false),
        metrics.lane(lane, () -> scheduler == null ? 0 : scheduler.queued()),
        key -> key.startsWith(JOB) ? importTurns : 1);
    AtomicInteger backgroundThreads = new AtomicInteger();
    background = Executors.newFixedThreadPool(threads + 1, body -> {
      Thread thread = new Thread(BackgroundPriority.lowered(body),
          "sluice-background-" + backgroundThreads.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    // Node-local: on a clustered bus a plain consumer would take requests round-robin from every node.
    consumer = vertx.eventBus().localConsumer(address, message -> {
      String key = key(message.body());
      scheduler.submit(key, key.startsWith(JOB) ? () -> inBackground(message) : () -> handle(message));
    });
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
    return unregistered.eventually(() -> {
      background.shutdown();
      return workers.close();
    });
  }

  /** Whose turn a request waits for: its import job, else its table. */
  static String key(StoreRequest request) {
    String job = request.op() == StoreOp.APPEND_LINES && request.body() != null
        ? request.body().getString("job") : null;
    return job != null ? JOB + job : request.table() != null ? "table " + request.table() : "";
  }

  /**
   * An import's batch on a thread of lowered priority: a lane thread serves small writes next, so it cannot be
   * lowered itself. It waits for the batch, so the lane still counts the batch as its own.
   */
  private void inBackground(Message<StoreRequest> message) {
    CompletableFuture.runAsync(() -> handle(message), background).join();
  }

  private void handle(Message<StoreRequest> message) {
    Future<Written> result;
    try {
      result = dispatch(message.body());
    } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
      // Always answer: a sender waiting for a reply that never comes would hang until its timeout.
      result = Future.failedFuture(e);
    }
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        DeliveryOptions options = new DeliveryOptions();
        if (ar.result().replayed()) {
          options.addHeader(Written.REPLAYED_HEADER, "true");
        }
        message.reply(ar.result().reply(), options);
      } else {
        ApiError error = toApiError(message.body(), ar.cause());
        message.fail(error.status(), error.toJson().encode());
      }
    });
  }

  private Future<Written> dispatch(StoreRequest r) {
    return switch (r.op()) {
      case GET_SCHEMA -> done(store.schema());
      case PUT_SCHEMA -> schemaChange(r, () -> store.putSchema(changeBody(r)));
      case DELETE_SCHEMA -> schemaChange(r, store::deleteSchema);
      case GET_TABLE -> done(r.body() != null && r.body().getBoolean("withId", false)
          ? new JsonObject().put("schema", store.table(r.table())).put("id", store.tableId(r.table()))
          : store.table(r.table()));
      case PUT_TABLE -> schemaChange(r, () -> store.putTable(r.table(), changeBody(r)));
      case DELETE_TABLE -> schemaChange(r, () -> store.deleteTable(r.table()));
      case GET_COLUMN -> done(store.column(r.table(), r.column()));
      case PUT_COLUMN -> schemaChange(r, () -> store.putColumn(r.table(), r.column(), changeBody(r)));
      case DELETE_COLUMN -> schemaChange(r, () -> store.deleteColumn(r.table(), r.column()));
      case RENAME -> schemaChange(r, () -> store.rename(changeBody(r)));
      case COPY -> schemaChange(r, () -> store.copy(changeBody(r)));
      case INSERT_ONE -> (store.insertOne(r.table(), r.payload().getBytes(),
          Idempotency.fromJson(r.body())));
      case INSERT_BATCH -> (store.insertBatch(r.table(), r.payload().getBytes(),
          Idempotency.fromJson(r.body())));
      case APPEND_LINES -> store.appendLines(r.table(), r.body(), r.payload().getBytes()).map(Written::fresh);
      case SYNC -> store.sync(r.table(), r.body() == null ? null : r.body().getString("tableId"))
          .map(Written::fresh);
      case IMPORTED_BATCHES -> done(store.importedBatches(r.table(), r.body().getString("job")));
      case DELETE_ROWS -> (store.delete(r.body().getJsonObject("delete"),
          Idempotency.fromJson(r.body())));
      case SEARCH -> done(store.search(r.body()));
      case OPTIMIZE -> store.optimize(r.table()).map(Written::fresh);
      case HEALTH -> done(health());
      case BACKUP -> done(store.backup(java.nio.file.Path.of(r.body().getString("dir"))));
      case STREAM_BEGIN -> done(store.beginStream(r.table(), Idempotency.fromJson(r.body())));
      case STREAM_END -> done(store.endStream(r.body().getString("tableId"), Idempotency.fromJson(r.body())));
      case IMPORT_STARTING -> store.importStarting(r.table(), r.body().getString("tableId"), r.body().getString("job"))
          .map(Written::fresh);
      case IMPORT_ENDED -> store.importEnded(r.table(), r.body().getString("tableId"), r.body().getString("job"))
          .map(Written::fresh);
    };
  }

  private JsonObject health() {
    String failure = store.failure();
    return failure == null ? new JsonObject().put("status", "ok")
        : new JsonObject().put("status", "degraded").put("message", failure);
  }

  /** A schema change's request: {@code {"body"?, "idempotency"?}} (see {@link TableStore#schemaChange}). */
  private static JsonObject changeBody(StoreRequest r) {
    return r.body() == null ? null : r.body().getJsonObject("body");
  }

  private Future<Written> schemaChange(StoreRequest r, java.util.function.Supplier<JsonObject> change) {
    return Future.succeededFuture(store.schemaChange(r.op().name(), r.table(), r.column(), changeBody(r),
        Idempotency.fromJson(r.body()), change));
  }

  private static Future<Written> done(JsonObject value) {
    return Future.succeededFuture(Written.fresh(value));
  }

  private static ApiError toApiError(StoreRequest request, Throwable failure) {
    if (failure instanceof ApiError error) {
      if (error.status() >= 500) {
        LOG.error("{} on table {} failed: {}", request.op(), request.table(), error.getMessage());
      }
      return error;
    }
    if (failure instanceof StorageException storage) {
      LOG.error("{} on table {} failed", request.op(), request.table(), storage);
      return new ApiError(503, "storage failed: " + storage.getMessage(), null,
          storage.kind() == StorageException.Kind.DISK_FULL ? "DiskFull" : "StorageFailure");
    }
    if (failure instanceof UncheckedIOException io) {
      LOG.error("{} on table {} failed", request.op(), request.table(), io);
      return new ApiError(503, "storage failed: " + io.getCause().getMessage());
    }
    LOG.error("{} on table {} failed", request.op(), request.table(), failure);
    if (failure instanceof OutOfMemoryError) {
      return new ApiError(503, "the server is out of memory; retry with smaller requests");
    }
    return new ApiError(500, "internal error: " + failure);
  }
}
