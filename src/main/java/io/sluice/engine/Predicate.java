package io.sluice.engine;

import java.util.List;
import java.util.Set;

/**
 * A where-clause over one table's rows, parsed, validated and typed once by the core; each engine translates it
 * (Lucene {@code Query}, SQL with bind parameters). Columns are the table's own column names; a value that is null
 * is absent ({@link Defined} tests presence). Link paths are resolved by the core before an engine sees the tree:
 * {@link LinkPath} never reaches {@link StorageEngine}, it becomes {@link In}.
 *
 * <p>Adding a node is a compile error in every translator (exhaustive switches, no default branch).
 */
public sealed interface Predicate {

  /** {} — every row. */
  record All() implements Predicate {
  }

  /** No row (an empty range, a value outside the column's type, a text without tokens); why is for logs. */
  record None(String why) implements Predicate {
  }

  record And(List<Predicate> parts) implements Predicate {
  }

  record Or(List<Predicate> parts) implements Predicate {
  }

  record Not(Predicate inner) implements Predicate {
  }

  /** The column holds a value (is not null). */
  record Defined(String column) implements Predicate {
  }

  /** Int/Long column within [low, high], both inclusive (equality: low == high). */
  record LongRange(String column, long low, long high) implements Predicate {
  }

  /**
   * Decimal column within [low, high], both inclusive; equality is low == high. The bounds are already the
   * nearest doubles ({@code $gt 2} is {@code Math.nextUp(2.0)}); 0.0 and -0.0 are equal, as in JSON.
   */
  record DoubleRange(String column, double low, double high) implements Predicate {
  }

  record BooleanEquals(String column, boolean value) implements Predicate {
  }

  /** String/Text column equal to value, compared as the exact (unanalyzed) string. */
  record StringEquals(String column, String value) implements Predicate {
  }

  /** String/Text column in a range of exact values, ordered by their UTF-8 bytes; a null bound is open. */
  record StringRange(String column, String low, boolean lowInclusive, String high, boolean highInclusive)
      implements Predicate {
  }

  /** String/Text column whose exact value starts with prefix. */
  record StartsWith(String column, String prefix) implements Predicate {
  }

  /**
   * Text column holding any ({@code $match}) or all ({@code $has}) of these tokens, as Sluice's analyzer for the
   * column made them of the query words; never empty (no token is {@link None}).
   */
  record Tokens(String column, List<String> tokens, boolean all) implements Predicate {
  }

  /**
   * The column holds one of these values, typed by the column as {@link Row} says (Long, Double, Boolean,
   * String); never empty. What a link path becomes once the core has looked the keys up.
   */
  record In(String column, Set<Object> values) implements Predicate {
  }

  /**
   * {@code "link.column": inner} before resolution: rows whose link column holds the key ({@code targetColumn})
   * of a row of {@code targetTable} that matches {@code inner}. Only the core sees it.
   */
  record LinkPath(String column, String targetTable, String targetColumn, Predicate inner) implements Predicate {
  }
}
