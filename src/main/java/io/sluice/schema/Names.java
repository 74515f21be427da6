package io.sluice.schema;

import io.sluice.errors.ApiError;
import java.util.regex.Pattern;

/** Table and column names as docs/api.md §0 allows them. Names are never used as file paths. */
public final class Names {
  public static final int MAX_LENGTH = 128;
  private static final Pattern VALID = Pattern.compile("[^/\".$\\r\\n\\s]+");

  private Names() {
  }

  public static boolean isValid(String name) {
    return name != null && name.length() <= MAX_LENGTH && VALID.matcher(name).matches();
  }

  public static String requireTable(String name) {
    if (!isValid(name)) {
      throw ApiError.badRequest("invalid table name '" + name + "': names are 1-" + MAX_LENGTH
          + " characters without '/', '\"', '.', '$' or whitespace");
    }
    return name;
  }

  public static String requireColumn(String table, String name) {
    if (!isValid(name)) {
      throw ApiError.badRequest("invalid column name '" + name + "' in table '" + table + "': names are 1-"
          + MAX_LENGTH + " characters without '/', '\"', '.', '$' or whitespace");
    }
    return name;
  }
}
