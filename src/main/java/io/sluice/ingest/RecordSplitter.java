package io.sluice.ingest;

import io.vertx.core.buffer.Buffer;

/** Cuts decompressed input into records (NDJSON lines, CSV records, JSON array elements), push style. */
public interface RecordSplitter {
  void feed(Buffer chunk);

  /** End of input: delivers a last unterminated record, or throws {@link ImportFormatException} if truncated. */
  void finish();
}
