package io.sluice.bus;

import io.vertx.core.json.JsonObject;

/**
 * The reply to a write that may carry an Idempotency-Key: {@code replayed} when it was answered from the key's
 * record of an earlier request and nothing was written (the API sends {@code Idempotent-Replayed: true}).
 */
public record Written(JsonObject reply, boolean replayed) {
  /** The event-bus header that carries {@link #replayed} beside the reply. */
  public static final String REPLAYED_HEADER = "sluice-replayed";

  public static Written fresh(JsonObject reply) {
    return new Written(reply, false);
  }
}
