package io.sluice.bus;

/**
 * Every event-bus address, in one place. All are node-local: their consumers are {@code localConsumer}s and
 * {@link StoreClient} sends with {@code localOnly}, so on a clustered bus a node's requests stay on that node.
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

  private Addresses() {
  }
}
