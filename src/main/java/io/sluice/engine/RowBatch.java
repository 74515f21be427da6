package io.sluice.engine;

/**
 * The valid rows of one write, already validated by the core (all or nothing for the row API, good lines of an
 * import batch). {@link #rows} may decode lazily while the engine stores them, so a large body is never held as
 * rows all at once; it is iterated once.
 */
public interface RowBatch {
  int count();

  Iterable<Row> rows();

  /**
   * What a write-ahead log records to redo this write after a crash: {@link RowDecoder#decode} of it gives the
   * same rows. Null for import batches: they are not logged but durable once committed (their checkpoint is
   * stored with them, and a resumed import writes them again). Engines that commit each write (PostgreSQL)
   * ignore it.
   */
  Redo redo();

  /** A request body and how to read it again: one row object, or a JSON array of rows. */
  record Redo(boolean batch, byte[] body) {
  }
}
