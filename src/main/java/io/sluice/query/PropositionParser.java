package io.sluice.query;

import io.sluice.engine.Numbers;
import io.sluice.engine.Order;
import io.sluice.engine.Predicate;
import io.sluice.errors.ApiError;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;
import io.sluice.schema.TableSchema;
import io.sluice.schema.analysis.TextTokens;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Parses an Aito proposition (docs/api.md §4) over one table into a {@link Predicate}, and an {@code orderBy}
 * into {@link Order}s: every check happens here, once for every engine. Every mistake is an {@link ApiError} 400
 * naming the table, the column, the operator and what was expected; what the parser accepts, an engine can
 * run. Link paths become {@link Predicate.LinkPath}s whose inner predicate is parsed against the linked
 * table's schema, so parsing needs no data. Holds no mutable state: an instance may be shared by threads when
 * its table lookup may be.
 */
public final class PropositionParser {
  private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);
  private static final int SHOWN_VALUE_CHARS = 120;
  /**
   * Deepest nesting of objects and arrays inside a where-clause. Parsing (and an engine's walks of the result)
   * recurses once per level, so the bound keeps every walk far from the end of the stack; it is below the request
   * parser's own limit ({@code Json.MAX_NESTING}) so that it holds for every caller.
   */
  public static final int MAX_DEPTH = 32;
  /** Most JSON values (objects, arrays, keys with their values, array elements) in one where-clause. */
  public static final int MAX_NODES = 4096;
  /** Most link paths in one where-clause: each runs a search of the linked table before the query exists. */
  public static final int MAX_LINK_PATHS = 64;

  private final String table;
  private final TableSchema schema;
  private final Function<String, TableSchema> tableLookup;

  /** tableLookup: a table's schema by name, null when there is no such table (for link paths). */
  public PropositionParser(String table, TableSchema schema, Function<String, TableSchema> tableLookup) {
    this.table = table;
    this.schema = schema;
    this.tableLookup = tableLookup;
  }

  // ---------------------------------------------------------------------------------------------------------
  // where

  /**
   * where: null, a JsonObject (decoded by Vert.x: numbers are Integer/Long/Double/BigInteger/BigDecimal,
   * nested JsonObject/JsonArray) or a Map. null or {} → {@link Predicate.All}.
   */
  public Predicate where(Object where) {
    if (where == null) {
      return new Predicate.All();
    }
    checkShape(where);
    return proposition(where);
  }

  /**
   * Replaces every {@link Predicate.LinkPath} by the rows whose link column holds one of the keys {@code keys}
   * finds for it ({@link Predicate.In}), or by {@link Predicate.None} when it finds none. {@code keys} runs the
   * link's inner predicate on the linked table (resolving its own link paths first) and returns the distinct
   * non-null values of the link's target column.
   */
  public static Predicate resolveLinks(Predicate where, Function<Predicate.LinkPath, Set<Object>> keys) {
    return where.accept(new Predicate.Visitor<>() {
      @Override
      public Predicate all(Predicate.All p) {
        return p;
      }

      @Override
      public Predicate none(Predicate.None p) {
        return p;
      }

      @Override
      public Predicate and(Predicate.And p) {
        return PropositionParser.and(each(p.parts()));
      }

      @Override
      public Predicate or(Predicate.Or p) {
        return PropositionParser.or(each(p.parts()));
      }

      @Override
      public Predicate not(Predicate.Not p) {
        return PropositionParser.not(p.inner().accept(this));
      }

      @Override
      public Predicate defined(Predicate.Defined p) {
        return p;
      }

      @Override
      public Predicate longRange(Predicate.LongRange p) {
        return p;
      }

      @Override
      public Predicate doubleRange(Predicate.DoubleRange p) {
        return p;
      }

      @Override
      public Predicate booleanEquals(Predicate.BooleanEquals p) {
        return p;
      }

      @Override
      public Predicate stringEquals(Predicate.StringEquals p) {
        return p;
      }

      @Override
      public Predicate stringRange(Predicate.StringRange p) {
        return p;
      }

      @Override
      public Predicate startsWith(Predicate.StartsWith p) {
        return p;
      }

      @Override
      public Predicate tokens(Predicate.Tokens p) {
        return p;
      }

      @Override
      public Predicate in(Predicate.In p) {
        return p;
      }

      @Override
      public Predicate linkPath(Predicate.LinkPath p) {
        Set<Object> found = keys.apply(p);
        return found == null || found.isEmpty() ? new Predicate.None("no linked row matches '" + p.column() + "'")
            : new Predicate.In(p.column(), found);
      }

      private List<Predicate> each(List<Predicate> parts) {
        List<Predicate> resolved = new ArrayList<>(parts.size());
        for (Predicate part : parts) {
          resolved.add(part.accept(this));
        }
        return resolved;
      }
    });
  }

  /**
   * Bounds the size of a where-clause before anything walks it recursively: its nesting depth, its number of
   * values and of link paths. An iterative walk, so that a clause of any shape gets a 400 rather than a
   * StackOverflowError.
   */
  private void checkShape(Object where) {
    ArrayDeque<Object> values = new ArrayDeque<>();
    ArrayDeque<Integer> depths = new ArrayDeque<>();
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

  private Predicate proposition(Object value) {
    JsonObject obj = asObject(value);
    if (obj == null) {
      throw bad("a proposition on table '" + table + "' must be a JSON object, got " + show(value));
    }
    if (obj.isEmpty()) {
      return new Predicate.All();
    }
    List<Predicate> parts = new ArrayList<>(obj.size());
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

  private Predicate exists(Object arg) {
    if (!(arg instanceof String name)) {
      throw bad("'$exists' on table '" + table + "' needs a column name, got " + show(arg));
    }
    if (name.indexOf('.') >= 0) {
      return linkPath(name, null, true);
    }
    return new Predicate.Defined(column(name).name);
  }

  /** {"link.col": arg}: the rows whose link column holds a key of a linked row matching {"col": arg}. */
  private Predicate linkPath(String path, Object arg, boolean existence) {
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
    Predicate inner = new PropositionParser(otherTable, other, tableLookup)
        .where(new JsonObject().put(rest, innerArg));
    return new Predicate.LinkPath(linkName, otherTable, link.schema.linkColumn(), inner);
  }

  // ---------------------------------------------------------------------------------------------------------
  // column level

  /** The value of {"col": value}: a plain value (equality) or an object of operators. */
  private Predicate columnValue(Col col, Object value) {
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
    List<Predicate> parts = new ArrayList<>(ops.size());
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
          Predicate exists = new Predicate.Defined(col.name);
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
      parts.add(bounds.predicate(col));
    }
    return and(parts);
  }

  /** $is: a plain value; an operator object is not a value. */
  private Predicate columnEquality(Col col, String op, Object arg) {
    if (asObject(arg) != null || arg instanceof JsonArray || arg instanceof List) {
      throw bad(col.describe(op) + " needs " + expected(col.schema.type()) + ", got " + show(arg));
    }
    return equality(col, op, arg);
  }

  private Predicate equality(Col col, String op, Object value) {
    if (value == null) {
      return not(new Predicate.Defined(col.name));
    }
    ColumnType type = col.schema.type();
    return switch (type) {
      case INT, LONG -> {
        if (!(value instanceof Number num)) {
          throw bad(col.describe(op) + " needs an integer, got " + show(value));
        }
        checkRange(col, op, num);
        BigDecimal exact = Numbers.exact(num);
        if (exact == null || (exact.signum() != 0 && exact.stripTrailingZeros().scale() > 0)) {
          throw bad(col.describe(op) + " needs an integer, got " + show(value));
        }
        BigInteger big = exact.toBigInteger();
        if (big.bitLength() > 63) {
          if (type == ColumnType.INT) {
            yield new Predicate.None("outside the Int range");
          }
          throw bad(col.describe(op) + " needs a 64-bit integer, got " + show(value));
        }
        yield new Predicate.LongRange(col.name, big.longValue(), big.longValue());
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
        yield d == 0.0 ? new Predicate.DoubleRange(col.name, -0.0, 0.0) : new Predicate.DoubleRange(col.name, d, d);
      }
      case BOOLEAN -> {
        if (!(value instanceof Boolean b)) {
          throw bad(col.describe(op) + " needs true or false, got " + show(value));
        }
        yield new Predicate.BooleanEquals(col.name, b);
      }
      case STRING, TEXT -> {
        if (!(value instanceof String s)) {
          throw bad(col.describe(op) + " needs a string, got " + show(value));
        }
        yield new Predicate.StringEquals(col.name, s);
      }
    };
  }

  /** Accumulated numeric bounds of one operator object, merged into a single range. */
  private static final class Bounds {
    BigInteger lowInt; // integral columns: inclusive, null = open
    BigInteger highInt;
    double low = Double.NEGATIVE_INFINITY; // Decimal columns: inclusive
    double high = Double.POSITIVE_INFINITY;

    Predicate predicate(Col col) {
      if (col.schema.type().isIntegral()) {
        long lo = Long.MIN_VALUE;
        long hi = Long.MAX_VALUE;
        if (lowInt != null) {
          if (lowInt.compareTo(LONG_MAX) > 0) {
            return new Predicate.None("empty range");
          }
          lo = lowInt.max(LONG_MIN).longValue();
        }
        if (highInt != null) {
          if (highInt.compareTo(LONG_MIN) < 0) {
            return new Predicate.None("empty range");
          }
          hi = highInt.min(LONG_MAX).longValue();
        }
        return lo > hi ? new Predicate.None("empty range") : new Predicate.LongRange(col.name, lo, hi);
      }
      double lo = low == 0.0 ? -0.0 : low; // both zeros are equal in JSON; -0.0 orders below 0.0 in Lucene
      double hi = high == 0.0 ? 0.0 : high;
      return Double.compare(lo, hi) > 0 ? new Predicate.None("empty range")
          : new Predicate.DoubleRange(col.name, lo, hi);
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
    BigDecimal x = Numbers.exact(num);
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

  private Predicate stringRange(Col col, String op, Object arg) {
    ColumnType type = col.schema.type();
    if (type != ColumnType.STRING && type != ColumnType.TEXT) {
      throw bad(col.describe(op) + " is not supported: ranges need an Int, Long, Decimal, String or Text column");
    }
    if (!(arg instanceof String s)) {
      throw bad(col.describe(op) + " needs a string, got " + show(arg));
    }
    return switch (op) {
      case "$gt" -> new Predicate.StringRange(col.name, s, false, null, true);
      case "$gte" -> new Predicate.StringRange(col.name, s, true, null, true);
      case "$lt" -> new Predicate.StringRange(col.name, null, true, s, false);
      default -> new Predicate.StringRange(col.name, null, true, s, true);
    };
  }

  /** $match (any analyzed token occurs) and $has (all of them occur); exact equality on a String column. */
  private Predicate match(Col col, String op, Object arg, boolean all) {
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
    List<String> tokens = TextTokens.of(col.schema, words);
    if (tokens.isEmpty()) {
      return new Predicate.None("no tokens in " + op);
    }
    return new Predicate.Tokens(col.name, tokens, all);
  }

  private Predicate startsWith(Col col, String op, Object arg) {
    ColumnType type = col.schema.type();
    if (type != ColumnType.TEXT && type != ColumnType.STRING) {
      throw bad(col.describe(op) + " is not supported: it needs a String or Text column");
    }
    if (!(arg instanceof String prefix)) {
      throw bad(col.describe(op) + " needs a string, got " + show(arg));
    }
    return new Predicate.StartsWith(col.name, prefix);
  }

  // ---------------------------------------------------------------------------------------------------------
  // logic

  private List<Predicate> elements(String op, Col col, Object arg, Function<Object, Predicate> each) {
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
    List<Predicate> predicates = new ArrayList<>();
    for (Object item : items) {
      predicates.add(each.apply(item));
    }
    return predicates;
  }

  /** The conjunction, without its {@link Predicate.All} parts; {@link Predicate.None} if one part is. */
  static Predicate and(List<Predicate> parts) {
    List<Predicate> kept = new ArrayList<>(parts.size());
    for (Predicate p : parts) {
      if (p instanceof Predicate.None) {
        return p;
      }
      if (!(p instanceof Predicate.All)) {
        kept.add(p);
      }
    }
    if (kept.isEmpty()) {
      return new Predicate.All();
    }
    return kept.size() == 1 ? kept.get(0) : new Predicate.And(List.copyOf(kept));
  }

  /** The disjunction, without its {@link Predicate.None} parts; {@link Predicate.All} if one part is. */
  static Predicate or(List<Predicate> parts) {
    List<Predicate> kept = new ArrayList<>(parts.size());
    for (Predicate p : parts) {
      if (p instanceof Predicate.All) {
        return p;
      }
      if (!(p instanceof Predicate.None)) {
        kept.add(p);
      }
    }
    if (kept.isEmpty()) {
      return new Predicate.None("empty $or");
    }
    return kept.size() == 1 ? kept.get(0) : new Predicate.Or(List.copyOf(kept));
  }

  static Predicate not(Predicate p) {
    if (p instanceof Predicate.All) {
      return new Predicate.None("negation of everything");
    }
    if (p instanceof Predicate.None) {
      return new Predicate.All();
    }
    return new Predicate.Not(p);
  }

  // ---------------------------------------------------------------------------------------------------------
  // orderBy

  /**
   * orderBy: null | "col" | {"$asc": "col"} | {"$desc": "col"}. null → no key (insertion order); otherwise the
   * column (insertion order breaks ties, and null values come last in both directions: {@link Order}).
   */
  public List<Order> orderBy(Object orderBy) {
    if (orderBy == null) {
      return List.of();
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
    if (schema.column(name) == null) {
      if (name.indexOf('.') >= 0) {
        throw bad("orderBy on table '" + table + "': ordering by the link path '" + name + "' is not supported");
      }
      throw bad("unknown column '" + name + "' in table '" + table + "' (in orderBy)");
    }
    return List.of(new Order(name, desc));
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

  private static String expected(ColumnType type) {
    return switch (type) {
      case INT, LONG -> "an integer";
      case DECIMAL -> "a number";
      case BOOLEAN -> "true or false";
      case STRING, TEXT -> "a string";
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
