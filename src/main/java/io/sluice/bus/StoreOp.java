package io.sluice.bus;

/** What a {@link StoreRequest} asks of the store. */
public enum StoreOp {
  GET_SCHEMA, PUT_SCHEMA, DELETE_SCHEMA,
  GET_TABLE, PUT_TABLE, DELETE_TABLE,
  GET_COLUMN, PUT_COLUMN, DELETE_COLUMN,
  RENAME, COPY,
  INSERT_ONE, INSERT_BATCH, DELETE_ROWS, SEARCH, OPTIMIZE, HEALTH
}
