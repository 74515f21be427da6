package io.sluice.engine.lucene;

import io.sluice.engine.Numbers;
import io.sluice.engine.Order;
import io.sluice.engine.Predicate;
import io.sluice.engine.StorageException;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.TableSchema;
import io.sluice.schema.analysis.TextTokens;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.FieldExistsQuery;
import org.apache.lucene.search.IndexOrDocValuesQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.PrefixQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.QueryVisitor;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TermRangeQuery;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.NumericUtils;
import org.apache.lucene.util.automaton.ByteRunAutomaton;

/**
 * Translates a {@link Predicate} over one table into a Lucene query following the {@link Fields} layout, and
 * {@link Order}s into a Lucene sort. The predicate is valid for the table (the parser checked it) and its link
 * paths are resolved. The one error left to report is Lucene's own: a query of more than
 * {@link IndexSearcher#getMaxClauseCount()} clauses, a 400 rather than the 500 a search would fail with.
 */
public final class LuceneQueries {
  private static final BytesRef TRUE = new BytesRef("true");
  private static final BytesRef FALSE = new BytesRef("false");
  /** At most this many analyzed tokens narrow an exact match on a Text column: enough to be selective. */
  private static final int MAX_EQUALITY_TOKENS = 8;

  private LuceneQueries() {
  }

  /**
   * The query of {@code where} on table {@code table} (named in the failure; may be null). A query over Lucene's clause count
   * is a {@link StorageException.Kind#QUERY_TOO_LARGE}, which the core answers with a 400.
   */
  public static Query translate(Predicate where, String table, TableSchema schema) {
    Query query;
    try {
      query = where.accept(new Translator(schema));
    } catch (IndexSearcher.TooManyClauses e) {
      throw tooLarge(table);
    }
    checkClauseCount(query, table);
    return query;
  }

  private static final class Translator implements Predicate.Visitor<Query> {
    private final TableSchema schema;

    Translator(TableSchema schema) {
      this.schema = schema;
    }

    private ColumnSchema column(String name) {
      ColumnSchema column = schema.column(name);
      if (column == null) {
        throw new IllegalStateException("a predicate names column '" + name + "', which is not in the table");
      }
      return column;
    }

    @Override
    public Query all(Predicate.All p) {
      return new MatchAllDocsQuery();
    }

    @Override
    public Query none(Predicate.None p) {
      return new MatchNoDocsQuery(p.why());
    }

    @Override
    public Query and(Predicate.And p) {
      List<Query> kept = new ArrayList<>(p.parts().size());
      for (Predicate part : p.parts()) {
        Query q = part.accept(this);
        if (q instanceof MatchNoDocsQuery) {
          return q;
        }
        if (!(q instanceof MatchAllDocsQuery)) {
          kept.add(q);
        }
      }
      if (kept.isEmpty()) {
        return new MatchAllDocsQuery();
      }
      return kept.size() == 1 ? kept.get(0) : bool(kept, BooleanClause.Occur.MUST);
    }

    @Override
    public Query or(Predicate.Or p) {
      List<Query> kept = new ArrayList<>(p.parts().size());
      for (Predicate part : p.parts()) {
        Query q = part.accept(this);
        if (q instanceof MatchAllDocsQuery) {
          return q;
        }
        if (!(q instanceof MatchNoDocsQuery)) {
          kept.add(q);
        }
      }
      if (kept.isEmpty()) {
        return new MatchNoDocsQuery("empty $or");
      }
      return kept.size() == 1 ? kept.get(0) : bool(kept, BooleanClause.Occur.SHOULD);
    }

    @Override
    public Query not(Predicate.Not p) {
      Query q = p.inner().accept(this);
      if (q instanceof MatchAllDocsQuery) {
        return new MatchNoDocsQuery("negation of everything");
      }
      if (q instanceof MatchNoDocsQuery) {
        return new MatchAllDocsQuery();
      }
      return new BooleanQuery.Builder()
          .add(new MatchAllDocsQuery(), BooleanClause.Occur.MUST)
          .add(q, BooleanClause.Occur.MUST_NOT)
          .build();
    }

    @Override
    public Query defined(Predicate.Defined p) {
      return new FieldExistsQuery(Fields.existsField(p.column(), column(p.column())));
    }

    @Override
    public Query longRange(Predicate.LongRange p) {
      return p.low() > p.high() ? new MatchNoDocsQuery("empty range")
          : indexOrDocValues(p.column(), LongPoint.newRangeQuery(p.column(), p.low(), p.high()), p.low(), p.high());
    }

    @Override
    public Query doubleRange(Predicate.DoubleRange p) {
      double lo = p.low() == 0.0 ? -0.0 : p.low(); // both zeros are equal in JSON; points order -0.0 below 0.0
      double hi = p.high() == 0.0 ? 0.0 : p.high();
      return Double.compare(lo, hi) > 0 ? new MatchNoDocsQuery("empty range")
          : indexOrDocValues(p.column(), DoublePoint.newRangeQuery(p.column(), lo, hi),
              NumericUtils.doubleToSortableLong(lo), NumericUtils.doubleToSortableLong(hi));
    }

    /**
     * A range as Lucene's points, or checked row by row against doc values (which hold the same order: the value,
     * or a Decimal's sortable long) when another clause leads with far fewer rows: the points would visit every
     * row in range, the doc values only the lead's.
     */
    private Query indexOrDocValues(String column, Query points, long low, long high) {
      return new IndexOrDocValuesQuery(points, NumericDocValuesField.newSlowRangeQuery(column, low, high));
    }

    @Override
    public Query booleanEquals(Predicate.BooleanEquals p) {
      return new TermQuery(new Term(p.column(), p.value() ? TRUE : FALSE));
    }

    @Override
    public Query stringEquals(Predicate.StringEquals p) {
      ColumnSchema column = column(p.column());
      if (Fields.hasBinaryRaw(column)) {
        return textEquality(p.column(), column, p.value());
      }
      return new TermQuery(new Term(Fields.keywordField(p.column(), column), DocumentBuilder.keyword(p.value())));
    }

    @Override
    public Query stringRange(Predicate.StringRange p) {
      ColumnSchema column = column(p.column());
      String field = Fields.keywordField(p.column(), column);
      BytesRef low = p.low() == null ? null : DocumentBuilder.keyword(p.low());
      BytesRef high = p.high() == null ? null : DocumentBuilder.keyword(p.high());
      return Fields.hasBinaryRaw(column)
          ? BinaryValueQuery.range(field, low, high, p.lowInclusive(), p.highInclusive())
          : new TermRangeQuery(field, low, high, p.lowInclusive(), p.highInclusive());
    }

    @Override
    public Query startsWith(Predicate.StartsWith p) {
      ColumnSchema column = column(p.column());
      String field = Fields.keywordField(p.column(), column);
      BytesRef bytes = DocumentBuilder.keyword(p.prefix());
      return Fields.hasBinaryRaw(column) ? BinaryValueQuery.prefix(field, bytes)
          : new PrefixQuery(new Term(field, bytes));
    }

    @Override
    public Query tokens(Predicate.Tokens p) {
      Set<BytesRef> tokens = bytes(p.tokens());
      if (tokens.isEmpty()) {
        return new MatchNoDocsQuery("no tokens");
      }
      if (tokens.size() == 1) {
        return new TermQuery(new Term(p.column(), tokens.iterator().next()));
      }
      if (!p.all() && tokens.size() > IndexSearcher.getMaxClauseCount() / 2) {
        return new TermInSetQuery(p.column(), tokens);
      }
      BooleanQuery.Builder builder = new BooleanQuery.Builder();
      BooleanClause.Occur occur = p.all() ? BooleanClause.Occur.MUST : BooleanClause.Occur.SHOULD;
      for (BytesRef token : tokens) {
        builder.add(new TermQuery(new Term(p.column(), token)), occur);
      }
      return builder.build();
    }

    @Override
    public Query in(Predicate.In p) {
      return oneOf(p.column(), column(p.column()), p.values());
    }

    @Override
    public Query linkPath(Predicate.LinkPath p) {
      throw new IllegalStateException("link path '" + p.column() + "' was not resolved before translation");
    }

    /**
     * Exact equality on a Text column, whose exact value is only a binary doc value ({@link Fields}): a scan of
     * it, narrowed when possible by the analyzed field. A row whose value equals the given one holds every
     * token the column's analyzer makes of it, so those tokens (a conjunction of TermQuery filters) select a
     * superset of the matches cheaply and the doc-values check only confirms their candidates. Not narrowed:
     * values that analyze to no token (only stop words or punctuation), and values near {@link
     * Fields#MAX_TERM_BYTES}, where a longer stored value truncated to the given one would lack the tokens of
     * the word cut in two. The candidates live inside the {@link BinaryValueQuery}, so the equality still
     * counts as one clause (as the TermQuery of a String column does).
     */
    private static Query textEquality(String name, ColumnSchema column, String value) {
      BytesRef raw = DocumentBuilder.keyword(value);
      BinaryValueQuery exact = BinaryValueQuery.exact(Fields.keywordField(name, column), raw);
      if (raw.length > Fields.MAX_TERM_BYTES - 4) {
        return exact;
      }
      Set<BytesRef> tokens = bytes(TextTokens.of(column, value));
      if (tokens.isEmpty()) {
        return exact;
      }
      BooleanQuery.Builder candidates = new BooleanQuery.Builder();
      int n = 0;
      for (BytesRef token : tokens) {
        if (n++ == MAX_EQUALITY_TOKENS) {
          break;
        }
        candidates.add(new TermQuery(new Term(name, token)), BooleanClause.Occur.FILTER);
      }
      return exact.narrowedBy(candidates.build());
    }

    /** The rows whose column holds one of the given values (Long, Double, Boolean or String). */
    private static Query oneOf(String name, ColumnSchema column, Collection<Object> values) {
      if (values.isEmpty()) {
        return new MatchNoDocsQuery();
      }
      return switch (column.type()) {
        case INT, LONG -> {
          long[] longs = new long[values.size()];
          int n = 0;
          for (Object v : values) {
            Long l = Numbers.integralValue(v);
            if (l != null) {
              longs[n++] = l;
            }
          }
          yield n == 0 ? new MatchNoDocsQuery() : LongPoint.newSetQuery(name, Arrays.copyOf(longs, n));
        }
        case DECIMAL -> {
          double[] doubles = new double[values.size() + 2];
          int n = 0;
          boolean zero = false;
          for (Object v : values) {
            if (v instanceof Number num) {
              double d = num.doubleValue();
              if (!Double.isNaN(d)) {
                doubles[n++] = d;
                zero |= d == 0.0;
              }
            }
          }
          if (zero) {
            doubles[n++] = 0.0;
            doubles[n++] = -0.0;
          }
          yield n == 0 ? new MatchNoDocsQuery() : DoublePoint.newSetQuery(name, Arrays.copyOf(doubles, n));
        }
        case BOOLEAN -> {
          List<BytesRef> terms = new ArrayList<>(2);
          if (values.contains(Boolean.TRUE)) {
            terms.add(TRUE);
          }
          if (values.contains(Boolean.FALSE)) {
            terms.add(FALSE);
          }
          yield terms.isEmpty() ? new MatchNoDocsQuery() : new TermInSetQuery(name, terms);
        }
        case STRING, TEXT -> {
          List<BytesRef> terms = new ArrayList<>(values.size());
          for (Object v : values) {
            if (v != null) {
              terms.add(DocumentBuilder.keyword(v.toString()));
            }
          }
          if (terms.isEmpty()) {
            yield new MatchNoDocsQuery();
          }
          String field = Fields.keywordField(name, column);
          yield Fields.hasBinaryRaw(column) ? BinaryValueQuery.oneOf(field, terms)
              : new TermInSetQuery(field, terms);
        }
      };
    }
  }

  private static Query bool(List<Query> parts, BooleanClause.Occur occur) {
    BooleanQuery.Builder builder = new BooleanQuery.Builder();
    for (Query q : parts) {
      builder.add(q, occur);
    }
    return builder.build();
  }

  /** Tokens as index terms, distinct (two strings may have the same UTF-8 form: unpaired surrogates). */
  private static Set<BytesRef> bytes(List<String> tokens) {
    Set<BytesRef> terms = new LinkedHashSet<>();
    for (String token : tokens) {
      terms.add(new BytesRef(token));
    }
    return terms;
  }

  /** The same count IndexSearcher applies when it rewrites, reported as a 400 rather than a 500. */
  private static void checkClauseCount(Query query, String table) {
    int max = IndexSearcher.getMaxClauseCount();
    int[] count = {0};
    Supplier<Void> bump = () -> {
      if (++count[0] > max) {
        throw tooLarge(table);
      }
      return null;
    };
    query.visit(new QueryVisitor() {
      @Override
      public QueryVisitor getSubVisitor(BooleanClause.Occur occur, Query parent) {
        return this;
      }

      @Override
      public void visitLeaf(Query q) {
        bump.get();
      }

      @Override
      public void consumeTerms(Query q, Term... terms) {
        bump.get();
      }

      @Override
      public void consumeTermsMatching(Query q, String field, Supplier<ByteRunAutomaton> automaton) {
        bump.get();
      }
    });
  }

  private static StorageException tooLarge(String table) {
    return new StorageException(StorageException.Kind.QUERY_TOO_LARGE, (table == null ? "" : "table '" + table
        + "': ") + "it needs more than " + IndexSearcher.getMaxClauseCount() + " clauses", null);
  }

  // ---------------------------------------------------------------------------------------------------------
  // order

  /**
   * The sort of {@code order}: no key → insertion order ({@link Fields#SEQ} ascending); otherwise the keys, then
   * insertion order as the tie breaker. Rows where a key's column is null come last in both directions.
   */
  public static Sort sort(List<Order> order, TableSchema schema) {
    SortField[] fields = new SortField[order.size() + 1];
    int i = 0;
    for (Order key : order) {
      fields[i++] = sortField(key, schema);
    }
    fields[i] = new SortField(Fields.SEQ, SortField.Type.LONG);
    return new Sort(fields);
  }

  private static SortField sortField(Order key, TableSchema schema) {
    ColumnSchema column = schema.column(key.column());
    if (column == null) {
      throw new IllegalStateException("orderBy names column '" + key.column() + "', which is not in the table");
    }
    boolean desc = key.descending();
    String field = Fields.sortField(key.column(), column);
    return switch (column.type()) {
      case INT, LONG, BOOLEAN, DECIMAL -> {
        // Decimal doc values hold NumericUtils.doubleToSortableLong, which orders as a long; SortField.Type.DOUBLE
        // would read them as raw double bits (DoubleDocValuesField's encoding) and misorder them.
        SortField sortField = new SortField(field, SortField.Type.LONG, desc);
        sortField.setMissingValue(desc ? Long.MIN_VALUE : Long.MAX_VALUE);
        yield sortField;
      }
      case STRING, TEXT -> {
        // Text keeps its exact value as binary doc values (no ordinals): STRING_VAL compares the bytes, the
        // order of STRING's ordinals. Both map missing values alike: STRING_LAST ascending, and STRING_FIRST
        // reversed by a descending sort, put nulls last in both directions.
        SortField sortField = new SortField(field, Fields.hasBinaryRaw(column) ? SortField.Type.STRING_VAL
            : SortField.Type.STRING, desc);
        sortField.setMissingValue(desc ? SortField.STRING_FIRST : SortField.STRING_LAST);
        yield sortField;
      }
    };
  }
}
