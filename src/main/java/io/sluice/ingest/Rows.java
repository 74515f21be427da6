package io.sluice.ingest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Rows as Aito returns them (docs/api.md §4): a field whose value is null is left out, whether the row was stored
 * with it (a nullable column sent as null, an empty CSV field) or a {@code select} named it. Applied where rows
 * leave the server, so rows stored before this rule are answered the same way; the other fields keep their
 * order and values. Backend-neutral: works on the JSON every store answers with.
 */
public final class Rows {
  private Rows() {
  }

  /** The row without its null-valued fields: {@code row} itself when it has none (or is null). */
  public static JsonObject withoutNulls(JsonObject row) {
    if (row == null || !row.getMap().containsValue(null)) {
      return row;
    }
    Map<String, Object> kept = new LinkedHashMap<>();
    row.getMap().forEach((field, value) -> {
      if (value != null) {
        kept.put(field, value);
      }
    });
    return new JsonObject(kept);
  }

  /** A search answer ({@code {"offset", "total", "hits"}}) with every hit {@link #withoutNulls without nulls}. */
  public static JsonObject hitsWithoutNulls(JsonObject result) {
    JsonArray hits = result == null ? null : result.getJsonArray("hits");
    if (hits != null) {
      for (int i = 0; i < hits.size(); i++) {
        JsonObject hit = hits.getJsonObject(i);
        JsonObject stripped = withoutNulls(hit);
        if (stripped != hit) {
          hits.set(i, stripped);
        }
      }
    }
    return result;
  }
}
