package io.sluice.store;

import java.io.IOException;
import java.util.Arrays;
import java.util.Collection;
import java.util.Objects;
import java.util.TreeSet;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.DocValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.ConstantScoreScorer;
import org.apache.lucene.search.ConstantScoreWeight;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.QueryVisitor;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.TwoPhaseIterator;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.StringHelper;

/**
 * The documents whose binary doc value of a field is one of a set of values, starts with a prefix, or lies in
 * a range (bytes compared unsigned, the order of a terms dictionary). It scans the field's doc values: a
 * {@link TwoPhaseIterator} whose approximation is every document with a value, so in a conjunction with a
 * more selective clause it only checks that clause's candidates. Documents without a value never match.
 *
 * <p>{@link #narrowedBy} makes the approximation another query's matches instead (e.g. the analyzed tokens of
 * the value sought): the result is their intersection, and the query still counts as a single clause towards
 * {@link IndexSearcher#getMaxClauseCount()}. Immutable; it copies the bytes it is given.
 */
public final class BinaryValueQuery extends Query {
  private enum Kind { SET, PREFIX, RANGE }

  private final String field;
  private final Kind kind;
  /** SET: the values, sorted and distinct; PREFIX: {prefix}; RANGE: {lower, upper}, null = open. */
  private final BytesRef[] values;
  private final boolean includeLower;
  private final boolean includeUpper;
  /** null: every document with a value is a candidate. */
  private final Query candidates;

  private BinaryValueQuery(String field, Kind kind, BytesRef[] values, boolean includeLower, boolean includeUpper,
      Query candidates) {
    this.field = Objects.requireNonNull(field, "field");
    this.kind = kind;
    this.values = values;
    this.includeLower = includeLower;
    this.includeUpper = includeUpper;
    this.candidates = candidates;
  }

  private BinaryValueQuery(String field, Kind kind, BytesRef[] values, boolean includeLower, boolean includeUpper) {
    this(field, kind, values, includeLower, includeUpper, null);
  }

  /**
   * The documents that match both this query and {@code candidates}, which is iterated first: only its
   * matches have their value checked. Worth it when candidates is selective and cheap (term postings).
   */
  public BinaryValueQuery narrowedBy(Query candidates) {
    return new BinaryValueQuery(field, kind, values, includeLower, includeUpper,
        Objects.requireNonNull(candidates, "candidates"));
  }

  /** Documents whose value equals {@code value}. */
  public static BinaryValueQuery exact(String field, BytesRef value) {
    return new BinaryValueQuery(field, Kind.SET, new BytesRef[] {BytesRef.deepCopyOf(value)}, true, true);
  }

  /** Documents whose value equals one of {@code values} (none: no document). */
  public static BinaryValueQuery oneOf(String field, Collection<BytesRef> values) {
    TreeSet<BytesRef> sorted = new TreeSet<>();
    for (BytesRef value : values) {
      sorted.add(BytesRef.deepCopyOf(value));
    }
    return new BinaryValueQuery(field, Kind.SET, sorted.toArray(new BytesRef[0]), true, true);
  }

  /** Documents whose value starts with {@code prefix} (the empty prefix: every document with a value). */
  public static BinaryValueQuery prefix(String field, BytesRef prefix) {
    return new BinaryValueQuery(field, Kind.PREFIX, new BytesRef[] {BytesRef.deepCopyOf(prefix)}, true, true);
  }

  /** Documents whose value lies between the bounds; a null bound is open (and its inclusion flag ignored). */
  public static BinaryValueQuery range(String field, BytesRef lower, BytesRef upper, boolean includeLower,
      boolean includeUpper) {
    return new BinaryValueQuery(field, Kind.RANGE, new BytesRef[] {
        lower == null ? null : BytesRef.deepCopyOf(lower), upper == null ? null : BytesRef.deepCopyOf(upper)},
        lower == null || includeLower, upper == null || includeUpper);
  }

  public String getField() {
    return field;
  }

  /** Whether a document's value satisfies this query. */
  boolean matches(BytesRef value) {
    switch (kind) {
      case SET -> {
        return values.length == 1 ? values[0].bytesEquals(value) : Arrays.binarySearch(values, value) >= 0;
      }
      case PREFIX -> {
        return StringHelper.startsWith(value, values[0]);
      }
      default -> {
        BytesRef lower = values[0];
        if (lower != null) {
          int cmp = value.compareTo(lower);
          if (cmp < 0 || (cmp == 0 && !includeLower)) {
            return false;
          }
        }
        BytesRef upper = values[1];
        if (upper != null) {
          int cmp = value.compareTo(upper);
          return cmp < 0 || (cmp == 0 && includeUpper);
        }
        return true;
      }
    }
  }

  /** True when no value can match, so the query rewrites to no document at all. */
  private boolean empty() {
    if (kind == Kind.SET) {
      return values.length == 0;
    }
    if (kind == Kind.RANGE && values[0] != null && values[1] != null) {
      int cmp = values[0].compareTo(values[1]);
      return cmp > 0 || (cmp == 0 && !(includeLower && includeUpper));
    }
    return false;
  }

  @Override
  public Query rewrite(IndexSearcher searcher) throws IOException {
    if (empty()) {
      return new MatchNoDocsQuery("no binary value can match");
    }
    if (candidates != null) {
      Query rewritten = candidates.rewrite(searcher);
      if (rewritten instanceof MatchNoDocsQuery) {
        return rewritten;
      }
      if (rewritten != candidates) {
        return new BinaryValueQuery(field, kind, values, includeLower, includeUpper, rewritten);
      }
    }
    return this;
  }

  @Override
  public Weight createWeight(IndexSearcher searcher, ScoreMode scoreMode, float boost) throws IOException {
    Weight candidateWeight = candidates == null ? null
        : searcher.createWeight(candidates, ScoreMode.COMPLETE_NO_SCORES, 1f);
    return new ConstantScoreWeight(this, boost) {
      @Override
      public Scorer scorer(LeafReaderContext context) throws IOException {
        BinaryDocValues docValues = context.reader().getBinaryDocValues(field);
        if (docValues == null) {
          return null;
        }
        if (candidateWeight == null) {
          TwoPhaseIterator twoPhase = new TwoPhaseIterator(docValues) {
            @Override
            public boolean matches() throws IOException {
              return BinaryValueQuery.this.matches(docValues.binaryValue());
            }

            @Override
            public float matchCost() {
              return valueCost();
            }
          };
          return new ConstantScoreScorer(this, score(), scoreMode, twoPhase);
        }
        Scorer candidateScorer = candidateWeight.scorer(context);
        if (candidateScorer == null) {
          return null;
        }
        TwoPhaseIterator candidateTwoPhase = candidateScorer.twoPhaseIterator();
        DocIdSetIterator approximation =
            candidateTwoPhase == null ? candidateScorer.iterator() : candidateTwoPhase.approximation();
        TwoPhaseIterator twoPhase = new TwoPhaseIterator(approximation) {
          @Override
          public boolean matches() throws IOException {
            return (candidateTwoPhase == null || candidateTwoPhase.matches())
                && docValues.advanceExact(approximation.docID())
                && BinaryValueQuery.this.matches(docValues.binaryValue());
          }

          @Override
          public float matchCost() {
            return (candidateTwoPhase == null ? 0 : candidateTwoPhase.matchCost()) + 2 + valueCost();
          }
        };
        return new ConstantScoreScorer(this, score(), scoreMode, twoPhase);
      }

      @Override
      public boolean isCacheable(LeafReaderContext ctx) {
        return DocValues.isCacheable(ctx, field) && (candidateWeight == null || candidateWeight.isCacheable(ctx));
      }
    };
  }

  /** A rough cost of checking one value: comparisons of a few bytes. */
  private float valueCost() {
    return kind == Kind.SET && values.length > 1 ? 4 + 2 * (32 - Integer.numberOfLeadingZeros(values.length)) : 4;
  }

  /**
   * One leaf, candidates included: they only narrow the scan, and so a proposition of many Text equalities
   * is not counted as several clauses each.
   */
  @Override
  public void visit(QueryVisitor visitor) {
    if (visitor.acceptField(field)) {
      visitor.visitLeaf(this);
    }
  }

  @Override
  public String toString(String defaultField) {
    StringBuilder out = new StringBuilder();
    if (!field.equals(defaultField)) {
      out.append(field).append(':');
    }
    switch (kind) {
      case SET -> {
        out.append("binary{");
        for (int i = 0; i < values.length; i++) {
          out.append(i == 0 ? "" : " ").append(Term.toString(values[i]));
        }
        out.append('}');
      }
      case PREFIX -> out.append("binary(").append(Term.toString(values[0])).append("*)");
      default -> out.append("binary").append(includeLower ? '[' : '{')
          .append(values[0] == null ? "*" : Term.toString(values[0])).append(" TO ")
          .append(values[1] == null ? "*" : Term.toString(values[1])).append(includeUpper ? ']' : '}');
    }
    if (candidates != null) {
      out.append(" within (").append(candidates.toString(defaultField)).append(')');
    }
    return out.toString();
  }

  @Override
  public boolean equals(Object other) {
    if (!sameClassAs(other)) {
      return false;
    }
    BinaryValueQuery that = (BinaryValueQuery) other;
    return field.equals(that.field) && kind == that.kind && includeLower == that.includeLower
        && includeUpper == that.includeUpper && Arrays.equals(values, that.values)
        && Objects.equals(candidates, that.candidates);
  }

  @Override
  public int hashCode() {
    int h = classHash();
    h = 31 * h + field.hashCode();
    h = 31 * h + kind.ordinal();
    h = 31 * h + Arrays.hashCode(values);
    h = 31 * h + (includeLower ? 1 : 0);
    h = 31 * h + (includeUpper ? 2 : 0);
    return 31 * h + Objects.hashCode(candidates);
  }
}
