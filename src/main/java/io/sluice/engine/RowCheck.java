package io.sluice.engine;

import io.sluice.schema.TableSchema;

/**
 * Valid values an engine cannot store (PostgreSQL text cannot hold U+0000), asked of a row before it is written,
 * so an import skips and reports that line like any bad row instead of failing its batch.
 */
@FunctionalInterface
public interface RowCheck {

  /** Null when the engine can store the row, else why not. */
  Refusal refusal(TableSchema schema, Row row);

  record Refusal(String column, String message) {
  }
}
