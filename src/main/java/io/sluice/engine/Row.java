package io.sluice.engine;

/**
 * One valid row of a table: its values in the schema's column order and its JSON as it is returned by search
 * (byte for byte what was sent, or what the core made of it).
 *
 * <p>Values by column type, null for a null or absent value: Int and Long {@link Long}; Decimal {@link Double};
 * Boolean {@link Boolean}; String and Text {@link Utf8}. {@link io.sluice.schema.ColumnType} switches that
 * convert values are exhaustive, so a new type fails to compile until every engine handles it.
 */
public record Row(Object[] values, byte[] source) {
}
