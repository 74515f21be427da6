package io.sluice.engine.postgres;

import java.util.HashMap;
import java.util.Map;

/**
 * When a table growing by this engine's appends wants fresh planner statistics. PostgreSQL's autovacuum looks at
 * a table once a minute: an import stores a few million rows in that minute, and plans made from the statistics of
 * its first thousand rows (a selective-looking filter: a parallel scan and a sort of the whole table for a page of
 * ten in insertion order) took 0.4-1.4 s a search on the benchmark. An ANALYZE each time the rows appended since
 * the engine started double, from {@link #FIRST}: a handful per import, each sampling a fixed number of rows.
 */
final class GrowthStatistics {
  static final long FIRST = 10_000;

  private final Map<String, long[]> tables = new HashMap<>();

  /** {@code rows} were appended to {@code table}: whether its statistics are due now. */
  synchronized boolean appended(String table, long rows) {
    long[] grown = tables.computeIfAbsent(table, t -> new long[] {0, FIRST});
    grown[0] += rows;
    if (grown[0] < grown[1]) {
      return false;
    }
    grown[1] = grown[0] * 2;
    return true;
  }

  synchronized void dropped(String table) {
    tables.remove(table);
  }
}
