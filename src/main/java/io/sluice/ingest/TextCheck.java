package io.sluice.ingest;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Row input must be well-formed Unicode text, or it would be stored altered: Jackson decodes an overlong
 * encoding ({@code C0 AF}) or an encoded surrogate ({@code ED A0 80}) without complaint, the stored source keeps
 * the bytes, and search reads them back as U+FFFD; a lone escaped surrogate ({@code "\uD800"}) is valid JSON
 * syntax but no character, and Lucene indexes it as U+FFFD. One pass over the raw bytes refuses both, before
 * either reader (the fast {@link RowReader} and the tree path) sees them, so the two always agree:
 *
 * <ul>
 *   <li>strict UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800..DFFF), nothing above U+10FFFF, no
 *       truncated or stray continuation bytes;
 *   <li>every {@code \uD800..\uDBFF} escape immediately followed by a {@code \uDC00..\uDFFF} escape, and no low
 *       one alone. Backslashes are only legal inside JSON strings, where each starts an escape of known length,
 *       so no string tracking is needed: elsewhere the JSON parser refuses the input anyway.
 * </ul>
 *
 * ASCII without backslashes, the bulk of typical rows, is skipped eight bytes at a time.
 */
public final class TextCheck {
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long HIGH_BITS = 0x8080808080808080L;
  private static final long ONES = 0x0101010101010101L;
  private static final long BACKSLASHES = 0x5C5C5C5C5C5C5C5CL;

  private TextCheck() {
  }

  /** Where the input stops being text: the byte offset (from the start of the array) and what is wrong there. */
  public record Problem(int offset, String message) {
    /**
     * "… at line L, column C", lines counted from {@code firstLine} at {@code bytes[from]} and columns from 1 (in
     * bytes).
     */
    public String describe(byte[] bytes, int from, long firstLine) {
      long line = firstLine;
      int lineStart = from;
      for (int i = from; i < offset; i++) {
        if (bytes[i] == '\n') {
          line++;
          lineStart = i + 1;
        }
      }
      return message + " at line " + line + ", column " + (offset - lineStart + 1);
    }

    /** "… at column C" of a line starting at {@code from}. */
    public String describeInLine(int from) {
      return message + " at column " + (offset - from + 1);
    }
  }

  /** The first problem in JSON text {@code bytes[off..off+len)} (UTF-8 and surrogate escapes), or null. */
  public static Problem check(byte[] bytes, int off, int len) {
    return check(bytes, off, len, true);
  }

  /** The first malformed UTF-8 in {@code bytes[off..off+len)}, or null; backslashes are plain text (CSV). */
  public static Problem checkUtf8(byte[] bytes, int off, int len) {
    return check(bytes, off, len, false);
  }

  private static Problem check(byte[] bytes, int off, int len, boolean escapes) {
    long stop = escapes ? BACKSLASHES : 0; // without escapes, look for zero bytes instead: harmless, rare
    int end = off + len;
    int i = off;
    while (i < end) {
      if (i + 8 <= end) {
        long word = (long) LONGS.get(bytes, i);
        long x = word ^ stop;
        if (((word | ((x - ONES) & ~x)) & HIGH_BITS) == 0) {
          i += 8; // eight ASCII bytes, none a backslash
          continue;
        }
      }
      int b = bytes[i];
      if (b >= 0) {
        if (b != '\\' || !escapes) {
          i++;
          continue;
        }
        int unit = unicodeEscape(bytes, i, end);
        if (unit >= 0xD800 && unit <= 0xDBFF) {
          int next = unicodeEscape(bytes, i + 6, end);
          if (next < 0xDC00 || next > 0xDFFF) {
            return new Problem(i, "unpaired surrogate escape \\u" + hex4(unit)
                + " (a high surrogate must be followed by a \\uDC00..\\uDFFF escape)");
          }
          i += 12;
        } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
          return new Problem(i, "unpaired surrogate escape \\u" + hex4(unit)
              + " (a low surrogate without a high one before it)");
        } else {
          i += unit >= 0 ? 6 : 2; // another escape; a malformed one is the JSON parser's to report
        }
        continue;
      }
      int n = sequence(bytes, i, end);
      if (n < 0) {
        return new Problem(i, invalidUtf8(bytes, i, end));
      }
      i += n;
    }
    return null;
  }

  /** The length of the well-formed UTF-8 sequence at {@code i} (a non-ASCII lead byte), or -1. */
  private static int sequence(byte[] bytes, int i, int end) {
    int b0 = bytes[i] & 0xFF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      return i + 1 < end && continuation(bytes[i + 1]) ? 2 : -1;
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
      if (i + 2 >= end) {
        return -1;
      }
      int b1 = bytes[i + 1] & 0xFF;
      // E0 needs A0..BF (else overlong), ED needs 80..9F (else a surrogate).
      int lo = b0 == 0xE0 ? 0xA0 : 0x80;
      int hi = b0 == 0xED ? 0x9F : 0xBF;
      return b1 >= lo && b1 <= hi && continuation(bytes[i + 2]) ? 3 : -1;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
      if (i + 3 >= end) {
        return -1;
      }
      int b1 = bytes[i + 1] & 0xFF;
      // F0 needs 90..BF (else overlong), F4 needs 80..8F (else above U+10FFFF).
      int lo = b0 == 0xF0 ? 0x90 : 0x80;
      int hi = b0 == 0xF4 ? 0x8F : 0xBF;
      return b1 >= lo && b1 <= hi && continuation(bytes[i + 2]) && continuation(bytes[i + 3]) ? 4 : -1;
    }
    return -1; // a stray continuation byte, C0/C1 (always overlong) or F5..FF
  }

  private static boolean continuation(byte b) {
    return (b & 0xC0) == 0x80;
  }

  private static String invalidUtf8(byte[] bytes, int i, int end) {
    int b0 = bytes[i] & 0xFF;
    int b1 = i + 1 < end ? bytes[i + 1] & 0xFF : -1;
    String kind;
    if (b0 == 0xC0 || b0 == 0xC1 || (b0 == 0xE0 && b1 >= 0x80 && b1 < 0xA0) || (b0 == 0xF0 && b1 >= 0x80 && b1 < 0x90)) {
      kind = "an overlong encoding";
    } else if (b0 == 0xED && b1 >= 0xA0 && b1 <= 0xBF) {
      kind = "an encoded surrogate (U+D800..U+DFFF is not a character)";
    } else if (b0 >= 0xF5 || (b0 == 0xF4 && b1 >= 0x90 && b1 <= 0xBF)) {
      kind = "a code point above U+10FFFF";
    } else if (b0 < 0xC0) {
      kind = "a continuation byte without a lead byte";
    } else {
      kind = "a truncated multi-byte sequence";
    }
    StringBuilder hex = new StringBuilder();
    for (int k = i; k < Math.min(end, i + 4); k++) {
      hex.append(hex.length() == 0 ? "" : " ").append(String.format("%02X", bytes[k] & 0xFF));
      if (k > i && !continuation(bytes[k])) {
        break;
      }
    }
    return "invalid UTF-8 (" + kind + ": bytes " + hex + ")";
  }

  private static String hex4(int unit) {
    return String.format("%04X", unit);
  }

  /** The code unit of a {@code \\uXXXX} escape at {@code i}, or -1 if there is none. */
  private static int unicodeEscape(byte[] bytes, int i, int end) {
    if (i + 6 > end || bytes[i] != '\\' || bytes[i + 1] != 'u') {
      return -1;
    }
    int value = 0;
    for (int k = i + 2; k < i + 6; k++) {
      int digit = Character.digit(bytes[k], 16);
      if (digit < 0) {
        return -1;
      }
      value = value << 4 | digit;
    }
    return value;
  }
}
