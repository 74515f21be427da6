package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** The bounded history of an import's stored rows: a job of any length keeps evenly spaced points from its start. */
class ProgressHistoryTest {
  @Test
  void samplesOncePerIntervalAndKeepsMarks() {
    ProgressHistory history = new ProgressHistory();
    history.mark(1_000, 0);
    history.sample(1_500, 10); // within the interval: skipped
    history.sample(2_000, 20);
    history.sample(3_000, 30);
    history.mark(3_200, 35); // the end is always kept
    assertThat(history.toJson()).isEqualTo(new JsonArray()
        .add(point(1_000, 0)).add(point(2_000, 20)).add(point(3_000, 30)).add(point(3_200, 35)));
  }

  @Test
  void aLongRunIsHalvedNeverLosingItsStartOrEnd() {
    ProgressHistory history = new ProgressHistory();
    history.mark(0, 0);
    long at = 0;
    for (int i = 1; i <= 3600; i++) { // an hour, one sample a second
      at = i * 1000L;
      history.sample(at, i * 100L);
    }
    history.mark(at + 1, 360_000);
    JsonArray points = history.toJson();
    assertThat(points.size()).isBetween(ProgressHistory.MAX_POINTS / 4, ProgressHistory.MAX_POINTS);
    assertThat(points.getJsonObject(0)).isEqualTo(point(0, 0));
    assertThat(points.getJsonObject(points.size() - 1)).isEqualTo(point(at + 1, 360_000));
    long gap = points.getJsonObject(2).getLong("at") - points.getJsonObject(1).getLong("at");
    for (int i = 2; i < points.size() - 1; i++) {
      assertThat(points.getJsonObject(i).getLong("at") - points.getJsonObject(i - 1).getLong("at"))
          .as("evenly spaced: " + points.encode()).isEqualTo(gap);
    }

    ProgressHistory reloaded = ProgressHistory.fromPersisted(history.persisted());
    assertThat(reloaded.toJson()).isEqualTo(points);
    assertThat(ProgressHistory.fromPersisted(null).toJson()).isEmpty();
  }

  private static JsonObject point(long at, long rows) {
    return new JsonObject().put("at", at).put("rows", rows);
  }
}
