package io.sluice.loadtest;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Request bodies for {@code POST /api/v1/data/{t}/batch}: JSON arrays of {@code rowsPerBatch} rows of the
 * benchmark table. A pool of {@code poolRows} rows is generated once (the first rows of gen_ndjson.py) and
 * cycled through; every batch gets fresh, increasing ids, so no two requests of a run carry the same row id.
 * Thread-safe.
 */
public final class BatchBodies {
  private final String[] tails;
  private final int rowsPerBatch;
  private final AtomicLong nextBatch = new AtomicLong();

  public BatchBodies(int rowsPerBatch, int poolRows) {
    if (rowsPerBatch <= 0 || poolRows <= 0) {
      throw new IllegalArgumentException("rowsPerBatch and poolRows must be positive");
    }
    this.rowsPerBatch = rowsPerBatch;
    BenchRows rows = new BenchRows();
    tails = new String[poolRows];
    for (int i = 0; i < poolRows; i++) {
      tails[i] = rows.nextTail();
    }
  }

  public int rowsPerBatch() {
    return rowsPerBatch;
  }

  /** The next batch: rows {@code b*rowsPerBatch ...} of the run, as a JSON array. */
  public String next() {
    long batch = nextBatch.getAndIncrement();
    long firstId = batch * rowsPerBatch;
    StringBuilder sb = new StringBuilder(rowsPerBatch * 190);
    sb.append('[');
    for (int i = 0; i < rowsPerBatch; i++) {
      long id = firstId + i;
      if (i > 0) {
        sb.append(',');
      }
      // ids stay inside Int (the schema's type): wrap long runs instead of failing them
      sb.append("{\"id\":").append(id % Integer.MAX_VALUE).append(',').append(tails[(int) (id % tails.length)]);
    }
    return sb.append(']').toString();
  }

  /** Batches handed out so far. */
  public long handedOut() {
    return nextBatch.get();
  }
}
