package io.sluice.engine.postgres;

import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.util.Arrays;

/**
 * The bytes of one append, sent as a single {@code bytea} parameter: the body the rows were parsed from (their
 * sources and most String/Text values are slices of it), then whatever is not in it — values the parser decoded,
 * and the token arrays as {@code text[]} literals. The statement cuts each value out with {@code substring}, by
 * a reference ({@link #ref}: offset and length in one long). Sending the body once instead of an array element
 * per value spares a buffer object per value here and the driver's per-element encoding on the event loop,
 * which together were the larger part of an import's Java CPU outside parsing and analysis.
 */
final class RowBlob {
  /** The array most values are slices of (the first row's source's): referenced where it lies. */
  private final byte[] base;
  /** Whether the base holds a NUL byte anywhere: only then are its values searched for one. */
  private final boolean baseHasNul;
  private byte[] bytes;
  private int size;

  // the token literal being written: where each distinct token's quoted bytes start and end
  private int[] starts = new int[32];
  private int[] ends = new int[32];
  private int tokens;
  private int[] table;

  /** Up to this many distinct tokens a duplicate is found by comparing with each; beyond it, by a hash table. */
  private static final int LINEAR_LIMIT = 64;

  RowBlob(byte[] base, int extraHint) {
    this.base = base;
    this.bytes = new byte[base.length + Math.max(extraHint, 64)];
    System.arraycopy(base, 0, bytes, 0, base.length);
    this.size = base.length;
    this.baseHasNul = indexOfNul(base, 0, base.length) >= 0;
  }

  static long pack(int offset, int length) {
    return (long) offset << 32 | (length & 0xFFFFFFFFL);
  }

  /** The reference of bytes: in place when they are a slice of the base, else copied to the end first. */
  long ref(byte[] array, int offset, int length) {
    if (array == base) {
      return pack(offset, length);
    }
    int at = size;
    ensure(length);
    System.arraycopy(array, offset, bytes, size, length);
    size += length;
    return pack(at, length);
  }

  /** Whether the referenced bytes hold a NUL (PostgreSQL text cannot). */
  boolean hasNul(long ref) {
    int offset = (int) (ref >>> 32);
    if (offset < base.length && !baseHasNul) {
      return false;
    }
    return indexOfNul(bytes, offset, offset + (int) ref) >= 0;
  }

  private static int indexOfNul(byte[] array, int from, int to) {
    for (int i = from; i < to; i++) {
      if (array[i] == 0) {
        return i;
      }
    }
    return -1;
  }

  /** Starts a {@code text[]} literal; {@link #token} adds each token, {@link #endTokens} gives its reference. */
  void beginTokens() {
    ensure(1);
    bytes[size++] = '{';
    tokens = 0;
    table = null;
  }

  /**
   * Adds a token unless the literal already holds it (the distinct tokens in the order they first occur, as
   * {@link io.sluice.schema.analysis.TextTokens#of} gives them): double-quoted UTF-8, {@code "} and {@code \}
   * escaped, so no token (commas, braces, NULL) is misread.
   */
  void token(char[] chars, int length) {
    int mark = size;
    ensure(length * 3 + 3);
    if (tokens > 0) {
      bytes[size++] = ',';
    }
    int start = size;
    bytes[size++] = '"';
    for (int i = 0; i < length; i++) {
      char c = chars[i];
      if (c < 0x80) {
        if (c == '"' || c == '\\') {
          bytes[size++] = '\\';
        }
        bytes[size++] = (byte) c;
      } else if (c < 0x800) {
        bytes[size++] = (byte) (0xC0 | c >> 6);
        bytes[size++] = (byte) (0x80 | c & 0x3F);
      } else if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(chars[i + 1])) {
        int cp = Character.toCodePoint(c, chars[++i]);
        bytes[size++] = (byte) (0xF0 | cp >> 18);
        bytes[size++] = (byte) (0x80 | cp >> 12 & 0x3F);
        bytes[size++] = (byte) (0x80 | cp >> 6 & 0x3F);
        bytes[size++] = (byte) (0x80 | cp & 0x3F);
      } else if (Character.isSurrogate(c)) {
        bytes[size++] = '?'; // a lone surrogate, as String.getBytes encodes it
      } else {
        bytes[size++] = (byte) (0xE0 | c >> 12);
        bytes[size++] = (byte) (0x80 | c >> 6 & 0x3F);
        bytes[size++] = (byte) (0x80 | c & 0x3F);
      }
    }
    bytes[size++] = '"';
    if (seen(start, size)) {
      size = mark;
      return;
    }
    if (tokens == starts.length) {
      starts = Arrays.copyOf(starts, tokens * 2);
      ends = Arrays.copyOf(ends, tokens * 2);
    }
    starts[tokens] = start;
    ends[tokens] = size;
    tokens++;
    if (table != null) {
      put(tokens - 1);
    } else if (tokens > LINEAR_LIMIT) {
      table = new int[Integer.highestOneBit(tokens * 4) * 2];
      for (int t = 0; t < tokens; t++) {
        put(t);
      }
    }
  }

  /** Ends the literal begun by {@link #beginTokens}: its reference. */
  long endTokens(int start) {
    ensure(1);
    bytes[size++] = '}';
    table = null;
    return pack(start, size - start);
  }

  /** Where the next bytes go: the start of a literal {@link #beginTokens} is about to write. */
  int position() {
    return size;
  }

  private boolean seen(int start, int end) {
    if (table == null) {
      for (int t = 0; t < tokens; t++) {
        if (Arrays.equals(bytes, starts[t], ends[t], bytes, start, end)) {
          return true;
        }
      }
      return false;
    }
    int mask = table.length - 1;
    for (int slot = hash(start, end) & mask; table[slot] != 0; slot = (slot + 1) & mask) {
      int t = table[slot] - 1;
      if (Arrays.equals(bytes, starts[t], ends[t], bytes, start, end)) {
        return true;
      }
    }
    return false;
  }

  private void put(int t) {
    if (tokens * 2 > table.length) {
      int[] old = table;
      table = new int[old.length * 2];
      for (int entry : old) {
        if (entry != 0) {
          put(entry - 1);
        }
      }
    }
    int mask = table.length - 1;
    int slot = hash(starts[t], ends[t]) & mask;
    while (table[slot] != 0) {
      slot = (slot + 1) & mask;
    }
    table[slot] = t + 1;
  }

  private int hash(int start, int end) {
    int h = 1;
    for (int i = start; i < end; i++) {
      h = 31 * h + bytes[i];
    }
    return h ^ h >>> 16;
  }

  private void ensure(int more) {
    if (size + more > bytes.length) {
      long grown = Math.max((long) bytes.length * 2, (long) size + more);
      if (grown > MAX_BYTES) {
        throw new IllegalArgumentException("a write of more than " + MAX_BYTES + " bytes cannot be sent to"
            + " PostgreSQL at once");
      }
      bytes = Arrays.copyOf(bytes, (int) grown);
    }
  }

  /** PostgreSQL's largest bytea value is 1 GB. */
  private static final long MAX_BYTES = (1L << 30) - 64;

  /** The blob as the parameter: a view of its bytes, not a copy (Buffer.buffer(byte[]) copies). */
  Buffer buffer() {
    return BufferInternal.buffer(Unpooled.wrappedBuffer(bytes, 0, size));
  }

  int size() {
    return size;
  }
}
