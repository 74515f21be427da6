package io.sluice.engine;

/**
 * Marks rows as batch {@code batch} of import job {@code job}: stored atomically with the rows (same commit or
 * transaction), so that a resumed job can ask which batches are already stored ({@link
 * StorageEngine#importedBatches}) and write each good row exactly once. {@code leased}: a file import's batch, which
 * an engine shared by a cluster stores only while {@code holder} holds the import's lease ({@link ImportLeases}),
 * and at most once (a batch resent after a lost reply is stored by whichever copy comes first).
 * {@code holder}: the lease holder's id ({@link ImportLeases#holder()}), null for this node: a cluster node
 * storing a batch of another node's import checks that node's lease, not its own.
 */
public record Checkpoint(String job, long batch, boolean leased, String holder) {

  /** A checkpoint no lease guards (an idempotency key's record). */
  public Checkpoint(String job, long batch) {
    this(job, batch, false, null);
  }

  public Checkpoint(String job, long batch, boolean leased) {
    this(job, batch, leased, null);
  }
}
