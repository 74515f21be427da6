package io.sluice.engine;

import io.sluice.schema.TableSchema;

/**
 * Reads a logged write again on replay ({@link RowBatch#redo}). Given to an engine by the core, so an engine
 * needs no parser of its own and never imports the ingestion code.
 */
@FunctionalInterface
public interface RowDecoder {
  Iterable<Row> decode(TableSchema schema, RowBatch.Redo redo);
}
