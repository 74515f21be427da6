package io.sluice.bus;

/** What a {@link StoreRequest} asks of the store. */
public enum StoreOp {
  GET_SCHEMA, PUT_SCHEMA, DELETE_SCHEMA,
  GET_TABLE, PUT_TABLE, DELETE_TABLE,
  GET_COLUMN, PUT_COLUMN, DELETE_COLUMN,
  RENAME, COPY,
  INSERT_ONE, INSERT_BATCH, APPEND_LINES, SYNC, IMPORTED_BATCHES, DELETE_ROWS, SEARCH, OPTIMIZE, HEALTH,
  BACKUP, STREAM_BEGIN, STREAM_END, IMPORT_STARTING, IMPORT_ENDED;

  /**
   * Whether the op only reads, and so is served by the read lane ({@link Addresses#STORE_READ}), never queued
   * behind writes. A new op must choose: the switch has no default.
   */
  public boolean reads() {
    return switch (this) {
      case GET_SCHEMA, GET_TABLE, GET_COLUMN, IMPORTED_BATCHES, SEARCH, HEALTH -> true;
      case PUT_SCHEMA, DELETE_SCHEMA, PUT_TABLE, DELETE_TABLE, PUT_COLUMN, DELETE_COLUMN, RENAME, COPY, INSERT_ONE,
          INSERT_BATCH, APPEND_LINES, SYNC, DELETE_ROWS, OPTIMIZE, BACKUP, STREAM_BEGIN, STREAM_END, IMPORT_STARTING,
          IMPORT_ENDED -> false;
    };
  }
}
