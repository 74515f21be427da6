package io.sluice.engine;

import io.sluice.schema.TableSchema;

/**
 * A table as an engine knows it: an internal id (never a user string: storage names are built from it) and its
 * schema. The id changes when a table is dropped and created again, or its rows are rebuilt.
 */
public record TableDef(String id, TableSchema schema) {
}
