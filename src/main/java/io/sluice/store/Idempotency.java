package io.sluice.store;

import io.vertx.core.json.JsonObject;

/**
 * A write's {@code Idempotency-Key}: {@code key} as the client sent it (named in error messages), {@code scope} a
 * hash of the API key and the key (never the API key itself), under which the store records the write in the
 * table it writes to.
 */
public record Idempotency(String key, String scope) {

  public JsonObject toJson() {
    return new JsonObject().put("key", key).put("scope", scope);
  }

  /** Null when the request carried no key. */
  public static Idempotency fromJson(JsonObject body) {
    JsonObject json = body == null ? null : body.getJsonObject("idempotency");
    return json == null ? null : new Idempotency(json.getString("key"), json.getString("scope"));
  }
}
