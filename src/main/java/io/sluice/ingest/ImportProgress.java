package io.sluice.ingest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;

/**
 * The counters of one import, fed only by store replies (so {@link #completed()} counts durable rows) and by
 * lines rejected before they reach the store. Keeps the last {@value #KEPT_FAILURES} failing lines.
 * Confined to the import's context (one thread at a time).
 */
public final class ImportProgress {
  public static final int KEPT_FAILURES = 50;

  private long completed;
  private long failed;
  private final TreeMap<Long, JsonObject> failures = new TreeMap<>();
  private JsonObject lastSuccessful;
  private long lastSuccessfulBatch = -1;
  /** Every failure, beyond the last 50 (a file import's list on disk); null: none. */
  private java.util.function.Consumer<java.util.List<JsonObject>> everyFailure;

  /** Also hands every failure, in the order reported, to {@code log}. */
  public void logEveryFailure(java.util.function.Consumer<java.util.List<JsonObject>> log) {
    this.everyFailure = log;
  }

  public void stored(long batch, long appended, JsonObject lastRow) {
    completed += appended;
    if (lastRow != null && batch >= lastSuccessfulBatch) {
      lastSuccessful = lastRow;
      lastSuccessfulBatch = batch;
    }
  }

  public void failed(JsonObject failure) {
    failed++;
    if (everyFailure != null) {
      everyFailure.accept(java.util.List.of(failure));
    }
    failures.put(failure.getLong("line"), failure);
    if (failures.size() > KEPT_FAILURES) {
      failures.pollFirstEntry();
    }
  }

  /** Failures the store reported for a batch: counted all, the last ones kept. */
  public void failed(long count, JsonArray reported) {
    failed += count;
    if (everyFailure != null && !reported.isEmpty()) {
      java.util.List<JsonObject> all = new java.util.ArrayList<>(reported.size());
      for (int i = 0; i < reported.size(); i++) {
        all.add(reported.getJsonObject(i));
      }
      everyFailure.accept(all);
    }
    for (int i = 0; i < reported.size(); i++) {
      JsonObject failure = reported.getJsonObject(i);
      failures.put(failure.getLong("line"), failure);
      if (failures.size() > KEPT_FAILURES) {
        failures.pollFirstEntry();
      }
    }
  }

  /** The rows counted so far went with a dropped table: none of them is stored. Returns how many they were. */
  public long lost() {
    long lost = completed;
    completed = 0;
    lastSuccessful = null;
    lastSuccessfulBatch = -1;
    return lost;
  }

  public long completed() {
    return completed;
  }

  public long failedCount() {
    return failed;
  }

  public JsonObject lastSuccessfulElement() {
    return lastSuccessful;
  }

  /** Aito's {@code errors} object; {@code message} is always present because clients poll on it. */
  public JsonObject errorsJson() {
    JsonArray rows = new JsonArray();
    for (Map.Entry<Long, JsonObject> entry : failures.entrySet()) {
      rows.add(entry.getValue());
    }
    return new JsonObject()
        .put("message", "Last " + rows.size() + " failing rows")
        .put("rows", rows.isEmpty() ? null : rows);
  }

  public static ImportProgress fromJson(JsonObject json) {
    ImportProgress progress = new ImportProgress();
    if (json == null) {
      return progress;
    }
    progress.completed = json.getLong("completed", 0L);
    progress.failed = json.getLong("failed", 0L);
    JsonArray kept = json.getJsonArray("failures", new JsonArray());
    for (int i = 0; i < kept.size(); i++) {
      progress.failures.put(kept.getJsonObject(i).getLong("line"), kept.getJsonObject(i));
    }
    progress.lastSuccessful = json.getJsonObject("lastSuccessfulElement");
    return progress;
  }

  public JsonObject toJson() {
    return new JsonObject().put("completed", completed).put("failed", failed)
        .put("failures", new JsonArray(new java.util.ArrayList<>(failures.values())))
        .put("lastSuccessfulElement", lastSuccessful);
  }
}
