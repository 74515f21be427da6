package io.sluice.engine;

/**
 * Marks rows as batch {@code batch} of import job {@code job}: stored atomically with the rows (same commit or
 * transaction), so that a resumed job can ask which batches are already stored ({@link
 * StorageEngine#importedBatches}) and write each good row exactly once.
 */
public record Checkpoint(String job, long batch) {
}
