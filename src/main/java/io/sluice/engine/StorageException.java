package io.sluice.engine;

/**
 * A storage failure, in an engine's words; the core turns it into the API's error (503 with an x-error-cause).
 * The message never holds a secret (no password, no connection string with credentials).
 */
public final class StorageException extends RuntimeException {

  public enum Kind {
    /** The store cannot be reached (PostgreSQL down): retry later; nothing was acknowledged. */
    UNAVAILABLE,
    /** The disk is full. */
    DISK_FULL,
    /** The table's storage failed; the engine refuses writes to it until restart. */
    FAILED,
    /** The table was dropped or replaced while the write ran. */
    TABLE_GONE,
    /** A query needs more than the engine allows (Lucene's clause count): the client's to make smaller. */
    QUERY_TOO_LARGE,
    /** The engine does not do what was asked (an online backup of PostgreSQL, which its own tools do). */
    UNSUPPORTED,
    /**
     * A valid value this engine cannot store (PostgreSQL text cannot hold U+0000): the client's to change;
     * {@link #row()} and {@link #column()} say where.
     */
    UNSUPPORTED_VALUE,
    /**
     * Another node changed the shared catalog since this engine read it ({@link StorageEngine.SharedCatalog}):
     * nothing was written; the core reads the catalog again and retries.
     */
    STALE_CATALOG,
    /**
     * A file import's batch whose lease this node no longer holds ({@link ImportLeases}): another node runs the
     * import now; nothing was written.
     */
    LEASE_LOST
  }

  private final Kind kind;
  private final int row;
  private final String column;

  public StorageException(Kind kind, String message, Throwable cause) {
    this(kind, message, cause, -1, null);
  }

  /** row: the value's index in the batch handed to the engine (-1: none); column: its column (null: none). */
  public StorageException(Kind kind, String message, Throwable cause, int row, String column) {
    super(message, cause);
    this.kind = kind;
    this.row = row;
    this.column = column;
  }

  public Kind kind() {
    return kind;
  }

  public int row() {
    return row;
  }

  public String column() {
    return column;
  }
}
