package io.sluice.schema;

import io.sluice.errors.ApiError;
import java.util.regex.Pattern;

/**
 * Table and column names as docs/api.md §0 allows them ({@code [^/".$\r\n\s]+}, at most 128 characters), and Unicode
 * text: no control characters (C0, DEL, C1), no line or paragraph separators and no lone surrogates. Names are
 * never used as file paths.
 */
public final class Names {
  public static final int MAX_LENGTH = 128;
  private static final Pattern VALID = Pattern.compile("[^/\".$\\s\\p{Cc}\\p{Cs}\\p{Zl}\\p{Zp}]+");
  private static final String RULE = " characters without '/', '\"', '.', '$', whitespace or control characters";

  private Names() {
  }

  public static boolean isValid(String name) {
    return name != null && !name.isEmpty() && name.length() <= MAX_LENGTH && VALID.matcher(name).matches();
  }

  public static String requireTable(String name) {
    if (!isValid(name)) {
      throw ApiError.badRequest("invalid table name " + quote(name) + ": names are 1-" + MAX_LENGTH + RULE);
    }
    return name;
  }

  public static String requireColumn(String table, String name) {
    if (!isValid(name)) {
      throw ApiError.badRequest("invalid column name " + quote(name) + " in table " + quote(table)
          + ": names are 1-" + MAX_LENGTH + RULE);
    }
    return name;
  }

  /**
   * A name as it can be shown in a message: quoted, with control characters and lone surrogates escaped as
   * Java escapes them, so that the message itself stays printable text, and cut after {@link #MAX_LENGTH}.
   */
  public static String quote(String name) {
    if (name == null) {
      return "null";
    }
    StringBuilder out = new StringBuilder("'");
    int end = Math.min(name.length(), MAX_LENGTH + 1);
    for (int i = 0; i < end; i++) {
      char c = name.charAt(i);
      boolean lone = Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < name.length()
          && Character.isLowSurrogate(name.charAt(i + 1))) && !(Character.isLowSurrogate(c) && i > 0
          && Character.isHighSurrogate(name.charAt(i - 1)));
      int type = Character.getType(c);
      if (lone || type == Character.CONTROL || type == Character.LINE_SEPARATOR
          || type == Character.PARAGRAPH_SEPARATOR) {
        out.append(String.format("\\u%04X", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append(name.length() > end ? "…'" : "'").toString();
  }
}
