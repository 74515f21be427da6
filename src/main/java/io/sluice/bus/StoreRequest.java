package io.sluice.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * One request to the store. {@code body} is a parsed JSON argument (schema, where-clause...), {@code payload}
 * raw bytes the store parses itself (row bodies), so large batches are parsed on a worker, never on the
 * event loop. Fields that an operation does not use are null.
 */
public record StoreRequest(StoreOp op, String table, String column, JsonObject body, Buffer payload) {

  public static StoreRequest of(StoreOp op) {
    return new StoreRequest(op, null, null, null, null);
  }

  public static StoreRequest table(StoreOp op, String table) {
    return new StoreRequest(op, table, null, null, null);
  }

  public static StoreRequest withBody(StoreOp op, String table, JsonObject body) {
    return new StoreRequest(op, table, null, body, null);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("op", op.name());
    if (table != null) {
      json.put("table", table);
    }
    if (column != null) {
      json.put("column", column);
    }
    if (body != null) {
      json.put("body", body);
    }
    if (payload != null) {
      json.put("payload", payload.getBytes());
    }
    return json;
  }

  public static StoreRequest fromJson(JsonObject json) {
    byte[] payload = json.getBinary("payload");
    return new StoreRequest(StoreOp.valueOf(json.getString("op")), json.getString("table"),
        json.getString("column"), json.getJsonObject("body"), payload == null ? null : Buffer.buffer(payload));
  }
}
