package io.sluice.ingest;

/**
 * The import input is not in an acceptable format (not gzip nor NDJSON, corrupt or truncated gzip data, a
 * suspected gzip bomb, ...). The message is meant for the client; there is no stack trace and no cause.
 */
public class ImportFormatException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public ImportFormatException(String message) {
    super(message, null, false, false);
  }
}
