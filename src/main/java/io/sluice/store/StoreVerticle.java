package io.sluice.store;

import io.sluice.bus.Addresses;
import io.sluice.bus.StoreRequest;
import io.sluice.errors.ApiError;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.io.UncheckedIOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker verticle serving one lane, {@link Addresses#STORE} (writes) or {@link Addresses#STORE_READ} (reads):
 * the only code that calls the {@link TableStore}. Several instances per lane share one store so that parsing
 * and indexing run on several threads; each replies when its write is durable, never blocking on the commit.
 * The store is safe for concurrent reads and writes (Lucene's near-real-time readers beside the writer).
 */
public final class StoreVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(StoreVerticle.class);

  private final TableStore store;
  private final String address;
  private MessageConsumer<StoreRequest> consumer;

  /** address: the lane served, {@link Addresses#STORE} or {@link Addresses#STORE_READ}. */
  public StoreVerticle(TableStore store, String address) {
    this.store = store;
    this.address = address;
  }

  @Override
  public Future<?> start() {
    consumer = vertx.eventBus().consumer(address, this::handle);
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  private void handle(Message<StoreRequest> message) {
    Future<JsonObject> result;
    try {
      result = dispatch(message.body());
    } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
      // Always answer: a sender waiting for a reply that never comes would hang until its timeout.
      result = Future.failedFuture(e);
    }
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        message.reply(ar.result());
      } else {
        ApiError error = toApiError(message.body(), ar.cause());
        message.fail(error.status(), error.toJson().encode());
      }
    });
  }

  private Future<JsonObject> dispatch(StoreRequest r) {
    return switch (r.op()) {
      case GET_SCHEMA -> done(store.schema());
      case PUT_SCHEMA -> done(store.putSchema(r.body()));
      case DELETE_SCHEMA -> done(store.deleteSchema());
      case GET_TABLE -> done(store.table(r.table()));
      case PUT_TABLE -> done(store.putTable(r.table(), r.body()));
      case DELETE_TABLE -> done(store.deleteTable(r.table()));
      case GET_COLUMN -> done(store.column(r.table(), r.column()));
      case PUT_COLUMN -> done(store.putColumn(r.table(), r.column(), r.body()));
      case DELETE_COLUMN -> done(store.deleteColumn(r.table(), r.column()));
      case RENAME -> done(store.rename(r.body()));
      case COPY -> done(store.copy(r.body()));
      case INSERT_ONE -> store.insertOne(r.table(), r.payload().getBytes());
      case INSERT_BATCH -> store.insertBatch(r.table(), r.payload().getBytes());
      case APPEND_LINES -> store.appendLines(r.table(), r.body(), r.payload().getBytes());
      case SYNC -> store.sync(r.table());
      case IMPORTED_BATCHES -> done(store.importedBatches(r.table(), r.body().getString("job")));
      case DELETE_ROWS -> store.delete(r.body());
      case SEARCH -> done(store.search(r.body()));
      case OPTIMIZE -> store.optimize(r.table());
      case HEALTH -> done(health());
    };
  }

  private JsonObject health() {
    String failure = store.failure();
    return failure == null ? new JsonObject().put("status", "ok")
        : new JsonObject().put("status", "degraded").put("message", failure);
  }

  private static Future<JsonObject> done(JsonObject value) {
    return Future.succeededFuture(value);
  }

  private static ApiError toApiError(StoreRequest request, Throwable failure) {
    if (failure instanceof ApiError error) {
      if (error.status() >= 500) {
        LOG.error("{} on table {} failed: {}", request.op(), request.table(), error.getMessage());
      }
      return error;
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
