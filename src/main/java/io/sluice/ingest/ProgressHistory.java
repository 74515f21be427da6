package io.sluice.ingest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * An import's stored-row count over its run (the status's {@code progress}, a Sluice extension), so a chart of
 * its throughput can show the whole job, whenever it is looked at. Sampled about every second while the job
 * runs; when more than {@value #MAX_POINTS} points are held, every second one goes and the interval doubles,
 * so a job of any length keeps evenly spaced points from its start, in bounded memory and job-file size.
 * Confined to the import verticle's thread.
 */
final class ProgressHistory {
  static final int MAX_POINTS = 300;
  static final long FIRST_INTERVAL_MS = 1000;

  private record Point(long at, long rows) {
  }

  private final List<Point> points = new ArrayList<>();
  private long intervalMs = FIRST_INTERVAL_MS;

  /** A periodic sample: taken only when the interval has passed since the last point. */
  void sample(long at, long rows) {
    if (!points.isEmpty() && at - points.get(points.size() - 1).at < intervalMs) {
      return;
    }
    add(at, rows);
  }

  /** A point that must be kept whatever the interval (the start and the end of a run). */
  void mark(long at, long rows) {
    if (!points.isEmpty() && points.get(points.size() - 1).at >= at) {
      points.set(points.size() - 1, new Point(Math.max(at, points.get(points.size() - 1).at), rows));
      return;
    }
    add(at, rows);
  }

  private void add(long at, long rows) {
    points.add(new Point(at, rows));
    if (points.size() > MAX_POINTS) {
      List<Point> kept = new ArrayList<>(MAX_POINTS / 2 + 2);
      for (int i = 0; i < points.size() - 1; i += 2) {
        kept.add(points.get(i));
      }
      kept.add(points.get(points.size() - 1));
      points.clear();
      points.addAll(kept);
      intervalMs *= 2;
    }
  }

  int size() {
    return points.size();
  }

  /** {@code [{"at": epochMillis, "rows": storedRows}, …]}, oldest first. */
  JsonArray toJson() {
    JsonArray json = new JsonArray();
    for (Point point : points) {
      json.add(new JsonObject().put("at", point.at).put("rows", point.rows));
    }
    return json;
  }

  JsonObject persisted() {
    return new JsonObject().put("intervalMs", intervalMs).put("points", toJson());
  }

  static ProgressHistory fromPersisted(JsonObject json) {
    ProgressHistory history = new ProgressHistory();
    if (json == null) {
      return history; // a job file written before the history existed
    }
    history.intervalMs = Math.max(FIRST_INTERVAL_MS, json.getLong("intervalMs", FIRST_INTERVAL_MS));
    JsonArray points = json.getJsonArray("points", new JsonArray());
    for (int i = 0; i < points.size() && i < MAX_POINTS; i++) {
      JsonObject point = points.getJsonObject(i);
      history.points.add(new Point(point.getLong("at", 0L), point.getLong("rows", 0L)));
    }
    return history;
  }
}
