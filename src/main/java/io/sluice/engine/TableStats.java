package io.sluice.engine;

/**
 * How big a table is: its rows (-1: not counted this time), the bytes its storage takes on disk (everything: index or heap, indexes, its log),
 * and of those the bytes of its write-ahead log, or {@link #NO_LOG} where the engine keeps no log of its own per
 * table (PostgreSQL's WAL is the server's, shared by every table).
 */
public record TableStats(long rows, long bytes, long walBytes) {
  public static final long NO_LOG = -1;
}
