package io.sluice.engine;

import java.nio.charset.StandardCharsets;

/**
 * A String or Text value as UTF-8 bytes, often a slice of the request body (no copy on the ingestion hot path),
 * with its decoded text made once, when first asked for (or given by the parser that already had it).
 */
public final class Utf8 {
  private final byte[] bytes;
  private final int offset;
  private final int length;
  private String text;

  public Utf8(byte[] bytes, int offset, int length, String text) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
    this.text = text;
  }

  public static Utf8 of(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    return new Utf8(bytes, 0, bytes.length, text);
  }

  public byte[] bytes() {
    return bytes;
  }

  public int offset() {
    return offset;
  }

  public int length() {
    return length;
  }

  /** Equal when the bytes are (wherever they lie). */
  @Override
  public boolean equals(Object other) {
    return other instanceof Utf8 that && java.util.Arrays.equals(bytes, offset, offset + length,
        that.bytes, that.offset, that.offset + that.length);
  }

  @Override
  public int hashCode() {
    int hash = 1;
    for (int i = offset; i < offset + length; i++) {
      hash = 31 * hash + bytes[i];
    }
    return hash;
  }

  @Override
  public String toString() {
    String decoded = text;
    if (decoded == null) {
      decoded = new String(bytes, offset, length, StandardCharsets.UTF_8);
      text = decoded;
    }
    return decoded;
  }
}
