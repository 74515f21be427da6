package io.sluice.engine;

import java.util.List;
import java.util.Set;

/**
 * A where-clause over one table's rows, parsed, validated and typed once by the core; each engine translates it
 * (Lucene {@code Query}, SQL with bind parameters). Columns are the table's own column names; a value that is null
 * is absent ({@link Defined} tests presence). Link paths are resolved by the core before an engine sees the tree:
 * {@link LinkPath} never reaches {@link StorageEngine}, it becomes {@link In}.
 *
 * <p>Adding a node is a compile error in every translator: Java 17 has no exhaustive switch over a sealed type
 * (pattern matching in switch is a preview there), so translators implement {@link Visitor}, one method per node,
 * and every node must implement {@link #accept}.
 */
public sealed interface Predicate {

  <R> R accept(Visitor<R> visitor);

  /** What a translator implements: a new node adds a method here, which every translator then lacks. */
  interface Visitor<R> {
    R all(All p);

    R none(None p);

    R and(And p);

    R or(Or p);

    R not(Not p);

    R defined(Defined p);

    R longRange(LongRange p);

    R doubleRange(DoubleRange p);

    R booleanEquals(BooleanEquals p);

    R stringEquals(StringEquals p);

    R stringRange(StringRange p);

    R startsWith(StartsWith p);

    R tokens(Tokens p);

    R in(In p);

    R linkPath(LinkPath p);
  }

  /** {} — every row. */
  record All() implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.all(this);
    }
  }

  /** No row (an empty range, a value outside the column's type, a text without tokens); why is for logs. */
  record None(String why) implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.none(this);
    }
  }

  record And(List<Predicate> parts) implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.and(this);
    }
  }

  record Or(List<Predicate> parts) implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.or(this);
    }
  }

  record Not(Predicate inner) implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.not(this);
    }
  }

  /** The column holds a value (is not null). */
  record Defined(String column) implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.defined(this);
    }
  }

  /** Int/Long column within [low, high], both inclusive (equality: low == high). */
  record LongRange(String column, long low, long high) implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.longRange(this);
    }
  }

  /**
   * Decimal column within [low, high], both inclusive; equality is low == high. The bounds are already the
   * nearest doubles ({@code $gt 2} is {@code Math.nextUp(2.0)}); 0.0 and -0.0 are equal, as in JSON.
   */
  record DoubleRange(String column, double low, double high) implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.doubleRange(this);
    }
  }

  record BooleanEquals(String column, boolean value) implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.booleanEquals(this);
    }
  }

  /** String/Text column equal to value, compared as the exact (unanalyzed) string. */
  record StringEquals(String column, String value) implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.stringEquals(this);
    }
  }

  /** String/Text column in a range of exact values, ordered by their UTF-8 bytes; a null bound is open. */
  record StringRange(String column, String low, boolean lowInclusive, String high, boolean highInclusive)
      implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.stringRange(this);
    }
  }

  /** String/Text column whose exact value starts with prefix. */
  record StartsWith(String column, String prefix) implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.startsWith(this);
    }
  }

  /**
   * Text column holding any ({@code $match}) or all ({@code $has}) of these tokens, as Sluice's analyzer for the
   * column made them of the query words; never empty (no token is {@link None}).
   */
  record Tokens(String column, List<String> tokens, boolean all) implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.tokens(this);
    }
  }

  /**
   * The column holds one of these values, typed by the column as {@link Row} says (Long, Double, Boolean,
   * String); never empty. What a link path becomes once the core has looked the keys up.
   */
  record In(String column, Set<Object> values) implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.in(this);
    }
  }

  /**
   * {@code "link.column": inner} before resolution: rows whose link column holds the key ({@code targetColumn})
   * of a row of {@code targetTable} that matches {@code inner}. Only the core sees it.
   */
  record LinkPath(String column, String targetTable, String targetColumn, Predicate inner) implements Predicate {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.linkPath(this);
    }
  }
}
