package io.sluice.bus;

import io.sluice.errors.ApiError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/**
 * Sends {@link StoreRequest}s to the store verticles of their lane (reads or writes) and turns failed replies back
 * into {@link ApiError}s.
 */
public final class StoreClient {
  /** Long enough for an optimize or a large delete; a request that takes longer has a job endpoint. */
  private static final long TIMEOUT_MS = 10 * 60 * 1000L;

  private final Vertx vertx;
  /**
   * Local only: the store lanes and the import verticle serve the node they run on (their consumers are local
   * too); on a clustered bus a send would otherwise go to any node's consumer of the address.
   */
  private final DeliveryOptions options = new DeliveryOptions()
      .setCodecName(StoreRequestCodec.NAME)
      .setSendTimeout(TIMEOUT_MS)
      .setLocalOnly(true);

  public StoreClient(Vertx vertx) {
    this.vertx = vertx;
  }

  public Future<JsonObject> call(StoreRequest request) {
    String lane = request.op().reads() ? Addresses.STORE_READ : Addresses.STORE;
    return vertx.eventBus().<JsonObject>request(lane, request, options)
        .map(message -> message.body())
        .recover(StoreClient::toApiError);
  }

  /**
   * {@link #call} for a write that may carry an Idempotency-Key: the reply and whether the store answered it from
   * the key's record (the reply's {@code sluice-replayed} header).
   */
  public Future<Written> callWrite(StoreRequest request) {
    return vertx.eventBus().<JsonObject>request(Addresses.STORE, request, options)
        .map(message -> new Written(message.body(),
            "true".equals(message.headers().get(Written.REPLAYED_HEADER))))
        .recover(StoreClient::toApiError);
  }

  /** Sends an import-control message to the import verticle. */
  public Future<JsonObject> callImport(JsonObject message) {
    return vertx.eventBus().<JsonObject>request(Addresses.IMPORT, message, new DeliveryOptions().setSendTimeout(60_000)
        .setLocalOnly(true))
        .map(reply -> reply.body())
        .recover(StoreClient::toApiError);
  }

  /** A failed reply's {@link ApiError}, as the replying verticle meant it. */
  public static <T> Future<T> toApiError(Throwable failure) {
    if (failure instanceof ReplyException reply) {
      switch (reply.failureType()) {
        case RECIPIENT_FAILURE:
          try {
            return Future.failedFuture(ApiError.fromJson(new JsonObject(reply.getMessage())));
          } catch (DecodeException | NullPointerException e) {
            return Future.failedFuture(new ApiError(reply.failureCode(), String.valueOf(reply.getMessage())));
          }
        case TIMEOUT:
          return Future.failedFuture(new ApiError(503, "the store did not answer in time; use the jobs API"
              + " (POST /api/v1/jobs/...) for long requests"));
        default:
          return Future.failedFuture(new ApiError(503, "the store is not available"));
      }
    }
    return Future.failedFuture(failure);
  }
}
