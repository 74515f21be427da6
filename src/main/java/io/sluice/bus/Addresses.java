package io.sluice.bus;

/**
 * Every event-bus address, in one place. All but {@link #IMPORT_BATCH} are node-local: their consumers are
 * {@code localConsumer}s and {@link StoreClient} sends with {@code localOnly}, so on a clustered bus a node's
 * requests stay on that node.
 */
public final class Addresses {
  /** Schema changes, row writes, deletes, import batches: the store verticles of the write lane. */
  public static final String STORE = "sluice.store";
  /**
   * Searches, schema reads, health ({@link StoreOp#reads()}): the read lane, its own store verticles on their own
   * worker pool, so a read never waits in line behind import batches.
   */
  public static final String STORE_READ = "sluice.store.read";
  /** File import jobs: initiate, upload hand-off, trigger, status. Handled by the import verticle. */
  public static final String IMPORT = "sluice.import";

  /**
   * Cluster mode only, cluster-wide: one batch of a file import (an {@code APPEND_LINES} request), sent by the
   * import's lease holder and served round-robin by every node's consumer, which stores it through its own
   * write lane ({@link io.sluice.ingest.ImportBatches}).
   */
  public static final String IMPORT_BATCH = "sluice.import.batch";

  private Addresses() {
  }
}
