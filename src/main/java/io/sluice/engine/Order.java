package io.sluice.engine;

/**
 * One sort key of a search. Rows whose column is null come last in both directions; ties (and a search without
 * an order) go by insertion order, ascending. Strings compare by their UTF-8 bytes; Booleans false before true.
 */
public record Order(String column, boolean descending) {
}
