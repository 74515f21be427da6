package io.sluice.engine;

/**
 * An Idempotency-Key's record for a write that stores no rows to carry a {@link Checkpoint} (a delete): stored
 * in the same commit or transaction as the write, with the reply's count ({@code total}: the engine stores the
 * number of rows the delete removed, whatever the caller passes), and kept until
 * {@code expires} (epoch seconds), after which an engine may drop it. {@code batch} is the core's own
 * encoding (when and which request), opaque to the engine.
 */
public record KeyRecord(String job, long batch, long total, long expires) {
}
