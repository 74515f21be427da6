package io.sluice.engine.postgres;

import io.sluice.schema.ColumnType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * SQL identifiers of the PostgreSQL layout. User strings (column names) only ever reach SQL double-quoted; table
 * names come from internal ids. A column's SQL name is {@code c:<name>} (its tokens {@code t:<name>}) so it never
 * meets the engine's own columns ({@code _seq}, {@code _source}, ...) whatever the user calls it, and names
 * longer than PostgreSQL's 63 bytes (which it would silently cut, merging columns) end in a hash instead.
 */
final class PgNames {
  /** PostgreSQL's NAMEDATALEN - 1. */
  static final int MAX_IDENTIFIER_BYTES = 63;
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_]{1,60}");

  private PgNames() {
  }

  /** Any string as a double-quoted SQL identifier. */
  static String quote(String identifier) {
    if (identifier.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("an SQL identifier cannot hold a NUL character");
    }
    return '"' + identifier.replace("\"", "\"\"") + '"';
  }

  static String table(String schema, String id) {
    return quote(schema) + "." + quote(tableName(id));
  }

  static String tableName(String id) {
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException("not an internal table id: " + id);
    }
    return "t_" + id;
  }

  static String column(String name) {
    return quote(fit("c:", name));
  }

  static String tokens(String name) {
    return quote(fit("t:", name));
  }

  /** The bare (unquoted) SQL name of a column, as the catalog (pg_attribute) spells it. */
  static String columnName(String name) {
    return fit("c:", name);
  }

  static String tokensName(String name) {
    return fit("t:", name);
  }

  static String sqlType(ColumnType type) {
    return switch (type) {
      case INT -> "integer";
      case LONG -> "bigint";
      case DECIMAL -> "double precision";
      // byte order, as Lucene compares terms: ranges, $startsWith and orderBy agree on both engines
      case STRING, TEXT -> "text COLLATE \"C\"";
      case BOOLEAN -> "boolean";
    };
  }

  /** The type of a bind parameter holding one value of the column, for casts ({@code $1::bigint}). */
  static String paramType(ColumnType type) {
    return switch (type) {
      case INT, LONG -> "bigint";
      case DECIMAL -> "float8";
      case STRING, TEXT -> "text";
      case BOOLEAN -> "boolean";
    };
  }

  private static String fit(String prefix, String name) {
    String full = prefix + name;
    if (full.getBytes(StandardCharsets.UTF_8).length <= MAX_IDENTIFIER_BYTES) {
      return full;
    }
    // '$' cannot be in a column name (docs/api.md), so a hashed name never equals a short one
    String hash = "$" + sha256(name).substring(0, 16);
    int budget = MAX_IDENTIFIER_BYTES - hash.length();
    StringBuilder cut = new StringBuilder();
    int bytes = 0;
    for (int i = 0; i < full.length(); ) {
      int cp = full.codePointAt(i);
      int size = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
      if (bytes + size > budget) {
        break;
      }
      cut.appendCodePoint(cp);
      bytes += size;
      i += Character.charCount(cp);
    }
    return cut + hash;
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
