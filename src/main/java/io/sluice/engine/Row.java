package io.sluice.engine;

import java.util.Arrays;

/**
 * One valid row of a table: its values in the schema's column order and its JSON as it is returned by search
 * (byte for byte what was sent, or what the core made of it).
 *
 * <p>Values by column type, null for a null or absent value: Int and Long {@link Long}; Decimal {@link Double};
 * Boolean {@link Boolean}; String and Text {@link Utf8}. {@link io.sluice.schema.ColumnType} switches that
 * convert values are exhaustive, so a new type fails to compile until every engine handles it.
 *
 * <p>The source is {@code sourceLength} bytes of {@code sourceBytes} from {@code sourceOffset}: the parsers leave
 * it where it lies in the request body or import batch (as they do String values), so an engine that sends the
 * body on (PostgreSQL) or copies the bytes itself (Lucene's stored field) needs no copy per row.
 */
public record Row(Object[] values, byte[] sourceBytes, int sourceOffset, int sourceLength) {
  public Row(Object[] values, byte[] source) {
    this(values, source, 0, source.length);
  }

  /** The source's bytes: the array itself when the row has it all, else a copy of the slice. */
  public byte[] source() {
    return sourceOffset == 0 && sourceLength == sourceBytes.length ? sourceBytes
        : Arrays.copyOfRange(sourceBytes, sourceOffset, sourceOffset + sourceLength);
  }
}
