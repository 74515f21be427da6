package io.sluice.engine.postgres;

import io.sluice.engine.Predicate;
import io.sluice.engine.Utf8;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;
import io.sluice.schema.TableSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * A {@link Predicate} as an SQL condition over one table of the PostgreSQL layout. Every value is a bind
 * parameter ({@code $n}, collected in {@link #params}); column names reach the SQL only quoted
 * ({@link PgNames}).
 *
 * <p>SQL's three-valued logic differs from Lucene's sets: a comparison with a null column is NULL, not false, so
 * {@code NOT} is written {@code (x) IS NOT TRUE} — every row minus the matches, as Lucene's "not" is.
 */
final class PgPredicates {
  private final TableSchema schema;
  private final List<Object> params;

  /** Appends parameters to {@code params} after those already there ($1.. are the caller's). */
  PgPredicates(TableSchema schema, List<Object> params) {
    this.schema = schema;
    this.params = params;
  }

  List<Object> params() {
    return params;
  }

  /** A visitor: a new kind of predicate is a compile error here until PostgreSQL can answer it. */
  String sql(Predicate predicate) {
    return predicate.accept(new Predicate.Visitor<>() {
      @Override
      public String all(Predicate.All p) {
        return "TRUE";
      }

      @Override
      public String none(Predicate.None p) {
        return "FALSE";
      }

      @Override
      public String and(Predicate.And p) {
        return join(p.parts(), " AND ", "TRUE");
      }

      @Override
      public String or(Predicate.Or p) {
        return join(p.parts(), " OR ", "FALSE");
      }

      @Override
      public String not(Predicate.Not p) {
        return "((" + sql(p.inner()) + ") IS NOT TRUE)";
      }

      @Override
      public String defined(Predicate.Defined p) {
        return column(p.column()) + " IS NOT NULL";
      }

      @Override
      public String longRange(Predicate.LongRange p) {
        String column = column(p.column());
        return "(" + column + " >= " + param(p.low(), "bigint") + " AND " + column + " <= "
            + param(p.high(), "bigint") + ")";
      }

      @Override
      public String doubleRange(Predicate.DoubleRange p) {
        // PostgreSQL's float8 comparison has -0.0 = 0.0, as the predicate wants
        String column = column(p.column());
        return "(" + column + " >= " + param(p.low(), "float8") + " AND " + column + " <= "
            + param(p.high(), "float8") + ")";
      }

      @Override
      public String booleanEquals(Predicate.BooleanEquals p) {
        return column(p.column()) + " = " + param(p.value(), "boolean");
      }

      @Override
      public String stringEquals(Predicate.StringEquals p) {
        return column(p.column()) + " = " + param(p.value(), "text");
      }

      @Override
      public String stringRange(Predicate.StringRange p) {
        return PgPredicates.this.stringRange(p);
      }

      @Override
      public String startsWith(Predicate.StartsWith p) {
        return "starts_with(" + column(p.column()) + ", " + param(p.prefix(), "text") + ")";
      }

      @Override
      public String tokens(Predicate.Tokens p) {
        requireColumn(p.column());
        return PgNames.tokens(p.column()) + (p.all() ? " @> " : " && ")
            + param(p.tokens().toArray(new String[0]), "text[]");
      }

      @Override
      public String in(Predicate.In p) {
        return PgPredicates.this.in(p);
      }

      @Override
      public String linkPath(Predicate.LinkPath p) {
        throw new IllegalStateException("a link path reached the PostgreSQL engine: the core resolves links");
      }
    });
  }

  private String join(List<Predicate> parts, String operator, String empty) {
    if (parts.isEmpty()) {
      return empty;
    }
    StringJoiner joined = new StringJoiner(operator, "(", ")");
    parts.forEach(part -> joined.add(sql(part)));
    return joined.toString();
  }

  private String stringRange(Predicate.StringRange range) {
    String column = column(range.column());
    List<String> bounds = new ArrayList<>(2);
    if (range.low() != null) {
      bounds.add(column + (range.lowInclusive() ? " >= " : " > ") + param(range.low(), "text") + " COLLATE \"C\"");
    }
    if (range.high() != null) {
      bounds.add(column + (range.highInclusive() ? " <= " : " < ") + param(range.high(), "text")
          + " COLLATE \"C\"");
    }
    return bounds.isEmpty() ? column + " IS NOT NULL" : "(" + String.join(" AND ", bounds) + ")";
  }

  private String in(Predicate.In in) {
    ColumnType type = requireColumn(in.column()).type();
    Object array = switch (type) {
      case INT, LONG -> in.values().stream().map(io.sluice.engine.Numbers::integralValue)
          .filter(java.util.Objects::nonNull).toArray(Long[]::new);
      case DECIMAL -> in.values().stream().map(v -> ((Number) v).doubleValue()).toArray(Double[]::new);
      case BOOLEAN -> in.values().stream().map(v -> (Boolean) v).toArray(Boolean[]::new);
      case STRING, TEXT -> in.values().stream().map(PgPredicates::text).toArray(String[]::new);
    };
    return column(in.column()) + " = ANY(" + param(array, PgNames.paramType(type) + "[]") + ")";
  }

  private static String text(Object value) {
    return value instanceof Utf8 || value instanceof String ? value.toString() : String.valueOf(value);
  }

  private String column(String name) {
    requireColumn(name);
    return PgNames.column(name);
  }

  private ColumnSchema requireColumn(String name) {
    ColumnSchema column = schema.column(name);
    if (column == null) {
      throw new IllegalArgumentException("no column " + name + " in the table's schema");
    }
    return column;
  }

  private String param(Object value, String type) {
    params.add(value);
    return "$" + params.size() + "::" + type;
  }

  /**
   * The condition {@code sql} with its placeholders moved up by {@code by} ($1 becomes ${@code by}+1), to sit in a
   * statement that has {@code by} parameters of its own. Quoted identifiers and literals are left as they are.
   */
  static String shifted(String sql, int by) {
    StringBuilder out = new StringBuilder(sql.length() + 8);
    char quote = 0;
    for (int i = 0; i < sql.length(); i++) {
      char c = sql.charAt(i);
      if (quote != 0) {
        quote = c == quote ? 0 : quote; // a doubled quote closes and opens again: the same text either way
        out.append(c);
      } else if (c == '"' || c == '\'') {
        quote = c;
        out.append(c);
      } else if (c == '$' && i + 1 < sql.length() && Character.isDigit(sql.charAt(i + 1))) {
        int end = i + 1;
        while (end < sql.length() && Character.isDigit(sql.charAt(end))) {
          end++;
        }
        out.append('$').append(Integer.parseInt(sql, i + 1, end, 10) + by);
        i = end - 1;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
