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
    UNSUPPORTED
  }

  private final Kind kind;

  public StorageException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
