package io.sluice.engine;

import java.util.List;

/** A page of a search: how many rows matched in all, and the JSON source of each row of the page, in order. */
public record Page(long total, List<byte[]> sources) {
}
