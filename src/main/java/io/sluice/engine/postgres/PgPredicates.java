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

  // Java 17 has no pattern switch: the chain ends in an error rather than a compile error for a new node.
  String sql(Predicate predicate) {
    if (predicate instanceof Predicate.All) {
      return "TRUE";
    } else if (predicate instanceof Predicate.None) {
      return "FALSE";
    } else if (predicate instanceof Predicate.And and) {
      return join(and.parts(), " AND ", "TRUE");
    } else if (predicate instanceof Predicate.Or or) {
      return join(or.parts(), " OR ", "FALSE");
    } else if (predicate instanceof Predicate.Not not) {
      return "((" + sql(not.inner()) + ") IS NOT TRUE)";
    } else if (predicate instanceof Predicate.Defined defined) {
      return column(defined.column()) + " IS NOT NULL";
    } else if (predicate instanceof Predicate.LongRange range) {
      String column = column(range.column());
      return "(" + column + " >= " + param(range.low(), "bigint") + " AND " + column + " <= "
          + param(range.high(), "bigint") + ")";
    } else if (predicate instanceof Predicate.DoubleRange range) {
      // PostgreSQL's float8 comparison has -0.0 = 0.0, as the predicate wants
      String column = column(range.column());
      return "(" + column + " >= " + param(range.low(), "float8") + " AND " + column + " <= "
          + param(range.high(), "float8") + ")";
    } else if (predicate instanceof Predicate.BooleanEquals equals) {
      return column(equals.column()) + " = " + param(equals.value(), "boolean");
    } else if (predicate instanceof Predicate.StringEquals equals) {
      return column(equals.column()) + " = " + param(equals.value(), "text");
    } else if (predicate instanceof Predicate.StringRange range) {
      return stringRange(range);
    } else if (predicate instanceof Predicate.StartsWith starts) {
      return "starts_with(" + column(starts.column()) + ", " + param(starts.prefix(), "text") + ")";
    } else if (predicate instanceof Predicate.Tokens tokens) {
      requireColumn(tokens.column());
      return PgNames.tokens(tokens.column()) + (tokens.all() ? " @> " : " && ")
          + param(tokens.tokens().toArray(new String[0]), "text[]");
    } else if (predicate instanceof Predicate.In in) {
      return in(in);
    } else if (predicate instanceof Predicate.LinkPath) {
      throw new IllegalStateException("a link path reached the PostgreSQL engine: the core resolves links");
    }
    throw new IllegalStateException("unknown predicate " + predicate.getClass().getName());
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
      case INT, LONG -> in.values().stream().map(v -> ((Number) v).longValue()).toArray(Long[]::new);
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
}
