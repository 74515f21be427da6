package io.sluice.ingest;

import io.sluice.bus.Addresses;
import io.sluice.bus.StoreClient;
import io.sluice.bus.StoreRequest;
import io.sluice.bus.StoreRequestCodec;
import io.sluice.errors.ApiError;
import io.sluice.metrics.Metrics;
import io.sluice.store.TableStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster mode: spreads an import's batches over every node. The lease holder's {@link ImportSink} sends each
 * batch to {@link Addresses#IMPORT_BATCH}, which every node consumes (the clustered bus delivers point-to-point
 * sends round-robin over the nodes); a node stores it through its own write lane and replies once it is durable,
 * so the sink's one credit window counts batches in flight wherever they are.
 *
 * <p>A batch carries the holder's id ({@code holder}): the store's fence checks the import's lease holder, not
 * the storing node. A batch with no reply within {@code timeoutMs} (its node died, or is too slow) is stored
 * here, through this node's own lane; the store stores a batch at most once, so a late first copy is harmless and
 * the sink counts the batch once (it sees one reply per batch). The per-node metrics count a batch on the node
 * whose copy stored it only (a copy that found it stored replies {@link TableStore#ALREADY_STORED}). A refusal
 * by the store (validation, lost lease, replaced table) is the import's answer and is not resent.
 */
public final class ImportBatches {
  private static final Logger LOG = LoggerFactory.getLogger(ImportBatches.class);
  /** The sending holder's id: the receiver counts the batch as its own import's ("local") or another's. */
  static final String ORIGIN = "sluice-origin";

  private final Vertx vertx;
  private final StoreClient store;
  private final String holder;
  private final Metrics metrics;
  private final DeliveryOptions options;
  private MessageConsumer<StoreRequest> consumer;

  public ImportBatches(Vertx vertx, StoreClient store, String holder, long timeoutMs, Metrics metrics) {
    this.vertx = vertx;
    this.store = store;
    this.holder = holder;
    this.metrics = metrics;
    this.options = new DeliveryOptions().setCodecName(StoreRequestCodec.NAME).setSendTimeout(timeoutMs)
        .addHeader(ORIGIN, holder);
  }

  /** Serves this node's share of every node's batches; a plain (cluster-wide) consumer on purpose. */
  public Future<Void> start() {
    consumer = vertx.eventBus().consumer(Addresses.IMPORT_BATCH, this::serve);
    return consumer.completion();
  }

  public Future<Void> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  /** Sends one APPEND_LINES batch of an import this node holds; the reply once the batch is durable. */
  public Future<JsonObject> send(StoreRequest batch) {
    JsonObject args = batch.body().copy().put("holder", holder);
    StoreRequest request = new StoreRequest(batch.op(), batch.table(), batch.column(), args, batch.payload());
    return vertx.eventBus().<JsonObject>request(Addresses.IMPORT_BATCH, request, options)
        .map(Message::body)
        .recover(failure -> {
          if (failure instanceof ReplyException reply && reply.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
            return StoreClient.toApiError(failure);
          }
          LOG.warn("import {}: batch {} got no reply from the node it went to ({}); storing it here",
              args.getString("job"), args.getLong("batch"), failure.getMessage());
          metrics.importBatchResent();
          return store.call(request).onSuccess(reply -> counted(true, reply));
        });
  }

  private void serve(Message<StoreRequest> message) {
    boolean local = holder.equals(message.headers().get(ORIGIN));
    store.call(message.body()).onComplete(ar -> {
      if (ar.succeeded()) {
        counted(local, ar.result());
        message.reply(ar.result());
      } else {
        ApiError error = ar.cause() instanceof ApiError e ? e : new ApiError(500, String.valueOf(ar.cause()));
        message.fail(error.status(), error.toJson().encode());
      }
    });
  }

  /** Only a copy that stored the batch counts it: a resent copy that found it stored does not. */
  private void counted(boolean local, JsonObject reply) {
    if (!reply.getBoolean(TableStore.ALREADY_STORED, false)) {
      metrics.importBatchStored(local, reply.getLong("appended", 0L));
    }
  }
}
