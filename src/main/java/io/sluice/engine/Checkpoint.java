package io.sluice.engine;

/**
 * Marks rows as batch {@code batch} of import job {@code job}: stored atomically with the rows (same commit or
 * transaction), so that a resumed job can ask which batches are already stored ({@link
 * StorageEngine#importedBatches}) and write each good row exactly once. {@code leased}: a file import's batch, which
 * an engine shared by a cluster stores only while this node holds the import's lease ({@link ImportLeases}).
 */
public record Checkpoint(String job, long batch, boolean leased) {

  /** A checkpoint no lease guards (an idempotency key's record). */
  public Checkpoint(String job, long batch) {
    this(job, batch, false);
  }
}
