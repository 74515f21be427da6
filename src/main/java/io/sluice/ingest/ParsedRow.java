package io.sluice.ingest;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A valid row: its JSON bytes as stored and returned by search, and either its parsed tree or, when it was read
 * by the fast path ({@link RowReader}), its typed values in schema column order (then {@code row} is null).
 */
public record ParsedRow(JsonNode row, byte[] source, Object[] values) {
  public ParsedRow(JsonNode row, byte[] source) {
    this(row, source, null);
  }
}
