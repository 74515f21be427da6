package io.sluice.query;

import io.sluice.errors.ApiError;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;
import io.sluice.schema.TableSchema;
import io.sluice.engine.lucene.DocumentBuilder;
import io.sluice.engine.lucene.Fields;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.TermToBytesRefAttribute;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.FieldExistsQuery;
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
import org.apache.lucene.util.automaton.ByteRunAutomaton;

/**
 * Compiles an Aito proposition (docs/api.md §4) over one table into a Lucene query following the {@link Fields}
 * layout, and an {@code orderBy} into a Lucene sort. Every mistake in the proposition is an {@link ApiError}
 * 400 naming the table, the column, the operator and what was expected. It holds no mutable state: an
 * instance may be shared by threads when the lookups, analyzers and link resolver it is given may be.
 */
public final class PropositionCompiler {
  private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);
  private static final BytesRef TRUE = new BytesRef("true");
  private static final BytesRef FALSE = new BytesRef("false");
  private static final int SHOWN_VALUE_CHARS = 120;
  /** At most this many analyzed tokens narrow an exact match on a Text column: enough to be selective. */
  private static final int MAX_EQUALITY_TOKENS = 8;
  /**
   * Deepest nesting of objects and arrays inside a where-clause. Compiling (and Lucene's rewriting and visiting of
   * the result) recurses once per level, so the bound keeps every walk far from the end of the stack; it is
   * below the request parser's own limit ({@code Json.MAX_NESTING}) so that it holds for every caller.
   */
  public static final int MAX_DEPTH = 32;
  /** Most JSON values (objects, arrays, keys with their values, array elements) in one where-clause. */
  public static final int MAX_NODES = 4096;
  /** Most link paths in one where-clause: each runs a search of the linked table before the query exists. */
  public static final int MAX_LINK_PATHS = 64;

  private final String table;
  private final TableSchema schema;
  private final Function<String, TableSchema> tableLookup;
  private final Function<ColumnSchema, Analyzer> analyzerFor;
  private final LinkResolver links;

  public PropositionCompiler(String table, TableSchema schema, Function<String, TableSchema> tableLookup,
      Function<ColumnSchema, Analyzer> analyzerFor, LinkResolver links) {
    this.table = table;
    this.schema = schema;
    this.tableLookup = tableLookup;
    this.analyzerFor = analyzerFor;
    this.links = links;
  }

  // ---------------------------------------------------------------------------------------------------------
  // where

  /**
   * where: null, a JsonObject (decoded by Vert.x: numbers are Integer/Long/Double/BigInteger/BigDecimal,
   * nested JsonObject/JsonArray) or a Map. null or {} → MatchAllDocsQuery.
   */
  public Query compile(Object where) {
    if (where == null) {
      return new MatchAllDocsQuery();
    }
    checkShape(where);
    Query query;
    try {
      query = proposition(where);
    } catch (IndexSearcher.TooManyClauses e) {
      throw tooLarge();
    }
    checkClauseCount(query);
    return query;
  }

  /**
   * Bounds the size of a where-clause before anything walks it recursively: its nesting depth, its number of
   * values and of link paths. An iterative walk, so that a clause of any shape gets a 400 rather than a
   * StackOverflowError.
   */
  private void checkShape(Object where) {
    java.util.ArrayDeque<Object> values = new java.util.ArrayDeque<>();
    java.util.ArrayDeque<Integer> depths = new java.util.ArrayDeque<>();
    values.push(where);
    depths.push(1);
    int nodes = 0;
    int linkPaths = 0;
    while (!values.isEmpty()) {
      Object value = values.pop();
      int depth = depths.pop();
      if (++nodes > MAX_NODES) {
        throw bad("the where-clause on table '" + table + "' is too large: it holds more than " + MAX_NODES
            + " values");
      }
      Iterable<?> children;
      JsonObject obj = asObject(value);
      if (obj != null) {
        for (Map.Entry<String, Object> entry : obj) {
          String key = entry.getKey();
          if (key.indexOf('.') >= 0 || ("$exists".equals(key) && entry.getValue() instanceof String name
              && name.indexOf('.') >= 0)) {
            if (++linkPaths > MAX_LINK_PATHS) {
              throw bad("the where-clause on table '" + table + "' follows more than " + MAX_LINK_PATHS
                  + " link paths");
            }
          }
        }
        children = obj.getMap().values();
      } else if (value instanceof JsonArray array) {
        children = array.getList();
      } else if (value instanceof List<?> list) {
        children = list;
      } else {
        continue;
      }
      if (depth > MAX_DEPTH) {
        throw bad("the where-clause on table '" + table + "' is nested too deeply: at most " + MAX_DEPTH
            + " levels of objects and arrays are allowed");
      }
      for (Object child : children) {
        if (asObject(child) != null || child instanceof JsonArray || child instanceof List<?>) {
          values.push(child);
          depths.push(depth + 1);
        } else if (++nodes > MAX_NODES) {
          throw bad("the where-clause on table '" + table + "' is too large: it holds more than " + MAX_NODES
              + " values");
        }
      }
    }
  }

  private Query proposition(Object value) {
    JsonObject obj = asObject(value);
    if (obj == null) {
      throw bad("a proposition on table '" + table + "' must be a JSON object, got " + show(value));
    }
    if (obj.isEmpty()) {
      return new MatchAllDocsQuery();
    }
    List<Query> parts = new ArrayList<>(obj.size());
    for (Map.Entry<String, Object> entry : obj) {
      String key = entry.getKey();
      Object arg = entry.getValue();
      if (key.startsWith("$")) {
        parts.add(switch (key) {
          case "$and" -> and(elements(key, null, arg, this::proposition));
          case "$or" -> or(elements(key, null, arg, this::proposition));
          case "$not" -> not(proposition(arg));
          case "$exists" -> exists(arg);
          default -> throw bad("unknown operator '" + key + "' in a proposition on table '" + table
              + "' (expected a column name, '$and', '$or', '$not' or '$exists')");
        });
      } else if (key.indexOf('.') >= 0) {
        parts.add(linkPath(key, arg, false));
      } else {
        parts.add(columnValue(column(key), arg));
      }
    }
    return and(parts);
  }

  private Query exists(Object arg) {
    if (!(arg instanceof String name)) {
      throw bad("'$exists' on table '" + table + "' needs a column name, got " + show(arg));
    }
    if (name.indexOf('.') >= 0) {
      return linkPath(name, null, true);
    }
    Col col = column(name);
    return new FieldExistsQuery(Fields.existsField(col.name, col.schema));
  }

  /** {"link.col": arg}: the rows whose link column holds a key of a linked row matching {"col": arg}. */
  private Query linkPath(String path, Object arg, boolean existence) {
    int dot = path.indexOf('.');
    String linkName = path.substring(0, dot);
    String rest = path.substring(dot + 1);
    Col link = column(linkName);
    if (link.schema.link() == null) {
      throw bad("column '" + linkName + "' of table '" + table + "' is not a link, so '" + path
          + "' cannot be followed");
    }
    if (rest.isEmpty() || rest.indexOf('.') >= 0) {
      throw bad("'" + path + "' on table '" + table + "': link paths go one level deep, as in 'link.column'");
    }
    // "this.id" links a table to itself.
    String otherTable = "this".equals(link.schema.linkTable()) ? table : link.schema.linkTable();
    String keyColumn = link.schema.linkColumn();
    TableSchema other = tableLookup.apply(otherTable);
    if (other == null) {
      throw bad("table '" + otherTable + "' linked from column '" + linkName + "' of table '" + table
          + "' does not exist");
    }
    if (other.column(rest) == null) {
      throw bad("unknown column '" + rest + "' in table '" + otherTable + "' (reached through link '" + linkName
          + "' of table '" + table + "')");
    }
    Object innerArg = existence ? new JsonObject().put("$defined", true) : arg;
    JsonObject inner = new JsonObject().put(rest, innerArg);
    Set<Object> keys = links.values(otherTable, keyColumn, inner);
    return oneOf(link, keys == null ? Set.of() : keys);
  }

  /** The rows whose column holds one of the given values (as a LinkResolver returns them). */
  private Query oneOf(Col col, Collection<Object> values) {
    if (values.isEmpty()) {
      return new MatchNoDocsQuery();
    }
    switch (col.schema.type()) {
      case INT, LONG -> {
        long[] longs = new long[values.size()];
        int n = 0;
        for (Object v : values) {
          Long l = integralValue(v);
          if (l != null) {
            longs[n++] = l;
          }
        }
        return n == 0 ? new MatchNoDocsQuery() : LongPoint.newSetQuery(col.name, Arrays.copyOf(longs, n));
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
        return n == 0 ? new MatchNoDocsQuery()
            : DoublePoint.newSetQuery(col.name, Arrays.copyOf(doubles, n));
      }
      case BOOLEAN -> {
        List<BytesRef> terms = new ArrayList<>(2);
        if (values.contains(Boolean.TRUE)) {
          terms.add(TRUE);
        }
        if (values.contains(Boolean.FALSE)) {
          terms.add(FALSE);
        }
        return terms.isEmpty() ? new MatchNoDocsQuery() : new TermInSetQuery(col.name, terms);
      }
      default -> {
        List<BytesRef> terms = new ArrayList<>(values.size());
        for (Object v : values) {
          if (v != null) {
            terms.add(DocumentBuilder.keyword(v.toString()));
          }
        }
        if (terms.isEmpty()) {
          return new MatchNoDocsQuery();
        }
        String field = Fields.keywordField(col.name, col.schema);
        return Fields.hasBinaryRaw(col.schema) ? BinaryValueQuery.oneOf(field, terms)
            : new TermInSetQuery(field, terms);
      }
    }
  }

  private static Long integralValue(Object v) {
    if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof Number num) {
      BigDecimal exact = exact(num);
      if (exact != null && exact.signum() == 0) {
        return 0L;
      }
      if (exact != null && exact.stripTrailingZeros().scale() <= 0) {
        BigInteger big = exact.toBigInteger();
        if (big.bitLength() <= 63) {
          return big.longValue();
        }
      }
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------------------------
  // column level

  /** The value of {"col": value}: a plain value (equality) or an object of operators. */
  private Query columnValue(Col col, Object value) {
    JsonObject ops = asObject(value);
    if (ops == null) {
      if (value instanceof JsonArray || value instanceof List) {
        throw bad(col.describe("$is") + " needs " + expected(col.schema.type()) + ", got " + show(value)
            + " (use {\"$or\": [...]} to match one of several values)");
      }
      return equality(col, "$is", value);
    }
    if (ops.isEmpty()) {
      throw bad("the proposition on column '" + col.name + "' of table '" + table
          + "' is an empty object; give a value or an operator such as {\"$gt\": 1}");
    }
    List<Query> parts = new ArrayList<>(ops.size());
    Bounds bounds = null;
    for (Map.Entry<String, Object> entry : ops) {
      String op = entry.getKey();
      Object arg = entry.getValue();
      switch (op) {
        case "$is" -> parts.add(columnEquality(col, op, arg));
        case "$gt", "$gte", "$lt", "$lte" -> {
          if (col.schema.type().isNumeric()) {
            if (bounds == null) {
              bounds = new Bounds();
            }
            numericBound(col, op, arg, bounds);
          } else {
            parts.add(stringRange(col, op, arg));
          }
        }
        case "$match" -> parts.add(match(col, op, arg, false));
        case "$has" -> parts.add(match(col, op, arg, true));
        case "$startsWith" -> parts.add(startsWith(col, op, arg));
        case "$defined" -> {
          if (!(arg instanceof Boolean defined)) {
            throw bad(col.describe(op) + " needs true or false, got " + show(arg));
          }
          Query exists = new FieldExistsQuery(Fields.existsField(col.name, col.schema));
          parts.add(defined ? exists : not(exists));
        }
        case "$and" -> parts.add(and(elements(op, col, arg, v -> columnValue(col, v))));
        case "$or" -> parts.add(or(elements(op, col, arg, v -> columnValue(col, v))));
        case "$not" -> parts.add(not(columnValue(col, arg)));
        default -> {
          if (op.startsWith("$")) {
            throw bad("unknown operator '" + op + "' on column '" + col.name + "' (" + col.typeName()
                + ") of table '" + table + "'; expected one of $is, $gt, $gte, $lt, $lte, $match, $has, "
                + "$startsWith, $defined, $and, $or, $not");
          }
          throw bad("'" + op + "' in the proposition on column '" + col.name + "' of table '" + table
              + "' is not an operator (operators start with '$'; link paths are written \"link.column\" at "
              + "the top level)");
        }
      }
    }
    if (bounds != null) {
      parts.add(bounds.query(col));
    }
    return and(parts);
  }

  /** $is: a plain value; an operator object is not a value. */
  private Query columnEquality(Col col, String op, Object arg) {
    if (asObject(arg) != null || arg instanceof JsonArray || arg instanceof List) {
      throw bad(col.describe(op) + " needs " + expected(col.schema.type()) + ", got " + show(arg));
    }
    return equality(col, op, arg);
  }

  private Query equality(Col col, String op, Object value) {
    if (value == null) {
      return not(new FieldExistsQuery(Fields.existsField(col.name, col.schema)));
    }
    ColumnType type = col.schema.type();
    switch (type) {
      case INT, LONG -> {
        if (!(value instanceof Number num)) {
          throw bad(col.describe(op) + " needs an integer, got " + show(value));
        }
        checkRange(col, op, num);
        BigDecimal exact = exact(num);
        if (exact == null || (exact.signum() != 0 && exact.stripTrailingZeros().scale() > 0)) {
          throw bad(col.describe(op) + " needs an integer, got " + show(value));
        }
        BigInteger big = exact.toBigInteger();
        if (big.bitLength() > 63) {
          if (type == ColumnType.INT) {
            return new MatchNoDocsQuery("outside the Int range");
          }
          throw bad(col.describe(op) + " needs a 64-bit integer, got " + show(value));
        }
        return LongPoint.newExactQuery(col.name, big.longValue());
      }
      case DECIMAL -> {
        if (!(value instanceof Number num)) {
          throw bad(col.describe(op) + " needs a number, got " + show(value));
        }
        checkRange(col, op, num);
        double d = num.doubleValue();
        if (Double.isNaN(d)) {
          throw bad(col.describe(op) + " needs a number, got " + show(value));
        }
        return d == 0.0 ? DoublePoint.newRangeQuery(col.name, -0.0, 0.0) : DoublePoint.newExactQuery(col.name, d);
      }
      case BOOLEAN -> {
        if (!(value instanceof Boolean b)) {
          throw bad(col.describe(op) + " needs true or false, got " + show(value));
        }
        return new TermQuery(new Term(col.name, b ? TRUE : FALSE));
      }
      default -> {
        if (!(value instanceof String s)) {
          throw bad(col.describe(op) + " needs a string, got " + show(value));
        }
        if (Fields.hasBinaryRaw(col.schema)) {
          return textEquality(col, s);
        }
        return new TermQuery(new Term(Fields.keywordField(col.name, col.schema), DocumentBuilder.keyword(s)));
      }
    }
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
  private Query textEquality(Col col, String value) {
    BytesRef raw = DocumentBuilder.keyword(value);
    BinaryValueQuery exact = BinaryValueQuery.exact(Fields.keywordField(col.name, col.schema), raw);
    if (raw.length > Fields.MAX_TERM_BYTES - 4 || analyzerFor.apply(col.schema) == null) {
      return exact;
    }
    Set<BytesRef> tokens = analyze(col, value);
    if (tokens.isEmpty()) {
      return exact;
    }
    BooleanQuery.Builder candidates = new BooleanQuery.Builder();
    int n = 0;
    for (BytesRef token : tokens) {
      if (n++ == MAX_EQUALITY_TOKENS) {
        break;
      }
      candidates.add(new TermQuery(new Term(col.name, token)), BooleanClause.Occur.FILTER);
    }
    return exact.narrowedBy(candidates.build());
  }

  /** Accumulated numeric bounds of one operator object, merged into a single point range query. */
  private static final class Bounds {
    BigInteger lowInt; // integral columns: inclusive, null = open
    BigInteger highInt;
    double low = Double.NEGATIVE_INFINITY; // Decimal columns: inclusive
    double high = Double.POSITIVE_INFINITY;

    Query query(Col col) {
      if (col.schema.type().isIntegral()) {
        long lo = Long.MIN_VALUE;
        long hi = Long.MAX_VALUE;
        if (lowInt != null) {
          if (lowInt.compareTo(LONG_MAX) > 0) {
            return new MatchNoDocsQuery("empty range");
          }
          lo = lowInt.max(LONG_MIN).longValue();
        }
        if (highInt != null) {
          if (highInt.compareTo(LONG_MIN) < 0) {
            return new MatchNoDocsQuery("empty range");
          }
          hi = highInt.min(LONG_MAX).longValue();
        }
        return lo > hi ? new MatchNoDocsQuery("empty range") : LongPoint.newRangeQuery(col.name, lo, hi);
      }
      double lo = low == 0.0 ? -0.0 : low; // both zeros are equal in JSON; points order -0.0 below 0.0
      double hi = high == 0.0 ? 0.0 : high;
      return Double.compare(lo, hi) > 0 ? new MatchNoDocsQuery("empty range")
          : DoublePoint.newRangeQuery(col.name, lo, hi);
    }
  }

  /**
   * A number beyond the range of a double (1e400, or an integer of 400 digits) is refused as a batch refuses it:
   * JSON has no infinity, so a bound or value that overflowed to one is a mistake, not "everything" or "nothing".
   */
  private void checkRange(Col col, String op, Number num) {
    if (Double.isInfinite(num.doubleValue())) {
      throw bad(col.describe(op) + " needs a number within ±" + Double.MAX_VALUE + ", got "
          + (num instanceof Double || num instanceof Float ? "a number out of range (it overflows a double)"
              : show(num) + ", which is out of range"));
    }
  }

  private void numericBound(Col col, String op, Object arg, Bounds bounds) {
    if (!(arg instanceof Number num)) {
      throw bad(col.describe(op) + " needs a number, got " + show(arg));
    }
    checkRange(col, op, num);
    double d = num.doubleValue();
    if (Double.isNaN(d)) {
      throw bad(col.describe(op) + " needs a number, got " + show(arg));
    }
    boolean lower = op.equals("$gt") || op.equals("$gte");
    boolean strict = op.equals("$gt") || op.equals("$lt");
    if (col.schema.type() == ColumnType.DECIMAL) {
      // Stored Decimals are the nearest doubles of the ingested numbers; compare with the nearest double of
      // the bound too, so a row always satisfies {"$gte": its own value}.
      if (lower) {
        bounds.low = Math.max(bounds.low, strict ? Math.nextUp(d) : d);
      } else {
        bounds.high = Math.min(bounds.high, strict ? Math.nextDown(d) : d);
      }
      return;
    }
    // Integral columns: exact arithmetic; fractional bounds round inwards ($gt 2.5 → ≥ 3, $lt 2.5 → ≤ 2).
    BigDecimal x = exact(num);
    BigInteger bound;
    if (lower) {
      bound = strict ? x.setScale(0, RoundingMode.FLOOR).toBigInteger().add(BigInteger.ONE)
          : x.setScale(0, RoundingMode.CEILING).toBigInteger();
      bounds.lowInt = bounds.lowInt == null ? bound : bounds.lowInt.max(bound);
    } else {
      bound = strict ? x.setScale(0, RoundingMode.CEILING).toBigInteger().subtract(BigInteger.ONE)
          : x.setScale(0, RoundingMode.FLOOR).toBigInteger();
      bounds.highInt = bounds.highInt == null ? bound : bounds.highInt.min(bound);
    }
  }

  private Query stringRange(Col col, String op, Object arg) {
    ColumnType type = col.schema.type();
    if (type != ColumnType.STRING && type != ColumnType.TEXT) {
      throw bad(col.describe(op) + " is not supported: ranges need an Int, Long, Decimal, String or Text column");
    }
    if (!(arg instanceof String s)) {
      throw bad(col.describe(op) + " needs a string, got " + show(arg));
    }
    BytesRef bound = DocumentBuilder.keyword(s);
    String field = Fields.keywordField(col.name, col.schema);
    if (Fields.hasBinaryRaw(col.schema)) {
      return switch (op) {
        case "$gt" -> BinaryValueQuery.range(field, bound, null, false, true);
        case "$gte" -> BinaryValueQuery.range(field, bound, null, true, true);
        case "$lt" -> BinaryValueQuery.range(field, null, bound, true, false);
        default -> BinaryValueQuery.range(field, null, bound, true, true);
      };
    }
    return switch (op) {
      case "$gt" -> new TermRangeQuery(field, bound, null, false, true);
      case "$gte" -> new TermRangeQuery(field, bound, null, true, true);
      case "$lt" -> new TermRangeQuery(field, null, bound, true, false);
      default -> new TermRangeQuery(field, null, bound, true, true);
    };
  }

  /** $match (any analyzed token occurs) and $has (all of them occur); exact equality on a String column. */
  private Query match(Col col, String op, Object arg, boolean all) {
    ColumnType type = col.schema.type();
    if (type != ColumnType.TEXT && type != ColumnType.STRING) {
      throw bad(col.describe(op) + " is not supported: it needs a Text or String column");
    }
    if (!(arg instanceof String words)) {
      throw bad(col.describe(op) + " needs a string, got " + show(arg));
    }
    if (type == ColumnType.STRING) {
      return equality(col, op, words);
    }
    Set<BytesRef> tokens = analyze(col, words);
    if (tokens.isEmpty()) {
      return new MatchNoDocsQuery("no tokens in " + op);
    }
    if (tokens.size() == 1) {
      return new TermQuery(new Term(col.name, tokens.iterator().next()));
    }
    if (!all && tokens.size() > IndexSearcher.getMaxClauseCount() / 2) {
      return new TermInSetQuery(col.name, tokens);
    }
    BooleanQuery.Builder builder = new BooleanQuery.Builder();
    BooleanClause.Occur occur = all ? BooleanClause.Occur.MUST : BooleanClause.Occur.SHOULD;
    for (BytesRef token : tokens) {
      builder.add(new TermQuery(new Term(col.name, token)), occur);
    }
    return builder.build();
  }

  private Set<BytesRef> analyze(Col col, String words) {
    Analyzer analyzer = analyzerFor.apply(col.schema);
    if (analyzer == null) {
      throw new IllegalStateException("no analyzer for Text column '" + col.name + "' of table '" + table + "'");
    }
    Set<BytesRef> tokens = new LinkedHashSet<>();
    try (TokenStream stream = analyzer.tokenStream(col.name, words)) {
      TermToBytesRefAttribute term = stream.addAttribute(TermToBytesRefAttribute.class);
      stream.reset();
      while (stream.incrementToken()) {
        BytesRef bytes = term.getBytesRef();
        if (bytes.length > 0) {
          tokens.add(BytesRef.deepCopyOf(bytes));
        }
      }
      stream.end();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return tokens;
  }

  private Query startsWith(Col col, String op, Object arg) {
    ColumnType type = col.schema.type();
    if (type != ColumnType.TEXT && type != ColumnType.STRING) {
      throw bad(col.describe(op) + " is not supported: it needs a String or Text column");
    }
    if (!(arg instanceof String prefix)) {
      throw bad(col.describe(op) + " needs a string, got " + show(arg));
    }
    String field = Fields.keywordField(col.name, col.schema);
    BytesRef bytes = DocumentBuilder.keyword(prefix);
    return Fields.hasBinaryRaw(col.schema) ? BinaryValueQuery.prefix(field, bytes)
        : new PrefixQuery(new Term(field, bytes));
  }

  // ---------------------------------------------------------------------------------------------------------
  // logic

  private List<Query> elements(String op, Col col, Object arg, Function<Object, Query> each) {
    Iterable<?> items;
    if (arg instanceof JsonArray array) {
      items = array;
    } else if (arg instanceof List<?> list) {
      items = new JsonArray(list);
    } else {
      String where = col == null ? "in a proposition on table '" + table + "'" : "on column '" + col.name
          + "' (" + col.typeName() + ") of table '" + table + "'";
      throw bad("'" + op + "' " + where + " needs an array of propositions, got " + show(arg));
    }
    List<Query> queries = new ArrayList<>();
    for (Object item : items) {
      queries.add(each.apply(item));
    }
    return queries;
  }

  private static Query and(List<Query> parts) {
    List<Query> kept = new ArrayList<>(parts.size());
    for (Query q : parts) {
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
    if (kept.size() == 1) {
      return kept.get(0);
    }
    BooleanQuery.Builder builder = new BooleanQuery.Builder();
    for (Query q : kept) {
      builder.add(q, BooleanClause.Occur.MUST);
    }
    return builder.build();
  }

  private static Query or(List<Query> parts) {
    List<Query> kept = new ArrayList<>(parts.size());
    for (Query q : parts) {
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
    if (kept.size() == 1) {
      return kept.get(0);
    }
    BooleanQuery.Builder builder = new BooleanQuery.Builder();
    for (Query q : kept) {
      builder.add(q, BooleanClause.Occur.SHOULD);
    }
    return builder.build();
  }

  private static Query not(Query q) {
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

  /** The same count IndexSearcher applies when it rewrites, reported as a 400 rather than a 500. */
  private void checkClauseCount(Query query) {
    int max = IndexSearcher.getMaxClauseCount();
    int[] count = {0};
    Supplier<Void> bump = () -> {
      if (++count[0] > max) {
        throw tooLarge();
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

  private ApiError tooLarge() {
    return bad("the proposition on table '" + table + "' is too large: it needs more than "
        + IndexSearcher.getMaxClauseCount() + " clauses");
  }

  // ---------------------------------------------------------------------------------------------------------
  // orderBy

  /**
   * orderBy: null | "col" | {"$asc": "col"} | {"$desc": "col"}. null → insertion order ({@link Fields#SEQ}
   * ascending); otherwise the column, then insertion order as the tie breaker. Rows where the column is null
   * come last in both directions.
   */
  public Sort sort(Object orderBy) {
    SortField seq = new SortField(Fields.SEQ, SortField.Type.LONG);
    if (orderBy == null) {
      return new Sort(seq);
    }
    String name;
    boolean desc = false;
    JsonObject obj = asObject(orderBy);
    if (orderBy instanceof String s) {
      name = s;
    } else if (obj != null && obj.size() == 1
        && (obj.containsKey("$asc") || obj.containsKey("$desc"))) {
      desc = obj.containsKey("$desc");
      Object target = obj.getValue(desc ? "$desc" : "$asc");
      if (!(target instanceof String s)) {
        throw bad("orderBy " + (desc ? "'$desc'" : "'$asc'") + " on table '" + table
            + "' needs a column name, got " + show(target));
      }
      name = s;
    } else {
      throw bad("orderBy on table '" + table + "' must be a column name, {\"$asc\": column} or "
          + "{\"$desc\": column}, got " + show(orderBy));
    }
    ColumnSchema column = schema.column(name);
    if (column == null) {
      if (name.indexOf('.') >= 0) {
        throw bad("orderBy on table '" + table + "': ordering by the link path '" + name + "' is not supported");
      }
      throw bad("unknown column '" + name + "' in table '" + table + "' (in orderBy)");
    }
    String field = Fields.sortField(name, column);
    SortField sortField;
    switch (column.type()) {
      case INT, LONG, BOOLEAN, DECIMAL -> {
        // Decimal doc values hold NumericUtils.doubleToSortableLong, which orders as a long; SortField.Type.DOUBLE
        // would read them as raw double bits (DoubleDocValuesField's encoding) and misorder them.
        sortField = new SortField(field, SortField.Type.LONG, desc);
        sortField.setMissingValue(desc ? Long.MIN_VALUE : Long.MAX_VALUE);
      }
      default -> {
        // Text keeps its exact value as binary doc values (no ordinals): STRING_VAL compares the bytes, the
        // order of STRING's ordinals. Both map missing values alike: STRING_LAST ascending, and STRING_FIRST
        // reversed by a descending sort, put nulls last in both directions.
        sortField = new SortField(field, Fields.hasBinaryRaw(column) ? SortField.Type.STRING_VAL
            : SortField.Type.STRING, desc);
        sortField.setMissingValue(desc ? SortField.STRING_FIRST : SortField.STRING_LAST);
      }
    }
    return new Sort(sortField, seq);
  }

  // ---------------------------------------------------------------------------------------------------------
  // helpers

  /** A column of this table. */
  private record Col(String table, String name, ColumnSchema schema) {
    String typeName() {
      return schema.type().aitoName();
    }

    String describe(String op) {
      return "'" + op + "' on column '" + name + "' (" + typeName() + ") of table '" + table + "'";
    }
  }

  private Col column(String name) {
    ColumnSchema column = schema.column(name);
    if (column == null) {
      throw bad("unknown column '" + name + "' in table '" + table + "'");
    }
    return new Col(table, name, column);
  }

  @SuppressWarnings("unchecked")
  private static JsonObject asObject(Object value) {
    if (value instanceof JsonObject obj) {
      return obj;
    }
    if (value instanceof Map<?, ?> map) {
      return new JsonObject((Map<String, Object>) map);
    }
    return null;
  }

  /** The exact value of a finite number, or null for NaN and infinities. */
  private static BigDecimal exact(Number num) {
    if (num instanceof BigDecimal big) {
      return big;
    }
    if (num instanceof BigInteger big) {
      return new BigDecimal(big);
    }
    if (num instanceof Long || num instanceof Integer || num instanceof Short || num instanceof Byte) {
      return BigDecimal.valueOf(num.longValue());
    }
    double d = num.doubleValue();
    return Double.isFinite(d) ? new BigDecimal(d) : null;
  }

  private static String expected(ColumnType type) {
    return switch (type) {
      case INT, LONG -> "an integer";
      case DECIMAL -> "a number";
      case BOOLEAN -> "true or false";
      default -> "a string";
    };
  }

  private static String show(Object value) {
    String text;
    try {
      text = value instanceof Map<?, ?> || value instanceof List<?> || value instanceof JsonObject
          || value instanceof JsonArray || value instanceof String || value == null ? Json.encode(value)
          : String.valueOf(value);
    } catch (RuntimeException e) {
      text = String.valueOf(value);
    }
    return text.length() > SHOWN_VALUE_CHARS ? text.substring(0, SHOWN_VALUE_CHARS) + "…" : text;
  }

  private static ApiError bad(String message) {
    return ApiError.badRequest(message);
  }
}
