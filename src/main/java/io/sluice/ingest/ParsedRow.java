package io.sluice.ingest;

import com.fasterxml.jackson.databind.JsonNode;

/** A valid row: its parsed tree and its JSON bytes as stored and returned by search. */
public record ParsedRow(JsonNode row, byte[] source) {
}
