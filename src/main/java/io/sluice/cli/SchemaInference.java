package io.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Guesses an Aito table schema from sample rows (the heuristics are listed in {@link #HEURISTICS}, which is also the
 * help text of {@code infer-schema}). Not thread-safe; feed it rows with {@link #add}, then read {@link #tableSchema}.
 */
public final class SchemaInference {
  /** A string column with at most this many distinct values ... */
  static final int CATEGORY_MAX_DISTINCT = 50;
  /** ... each repeated on average at least this many times is a category (String), even with spaces. */
  static final int CATEGORY_MIN_REPEATS = 5;
  /** Share of English stop words among a Text column's words from which its analyzer is "english". */
  static final double ENGLISH_MIN_STOP_WORD_SHARE = 0.15;
  static final int ENGLISH_MIN_WORDS = 20;

  static final String HEURISTICS = """
      Per field, from its non-null values in the sampled rows (blank lines
      skipped; lines that are not JSON objects skipped and counted):
        Boolean   true and false.
        Int       integers, all in -2^31..2^31-1.
        Long      integers, some outside the Int range (up to 64 bits).
        Decimal   numbers, some not integers (1.5, 1.0, 1e3) or beyond
                  64 bits.
        String    strings, none containing whitespace (ids, codes,
                  labels), or categories: at most 50 distinct values, each
                  seen 5 times on average ("New York", "Paris", ...).
        Text      strings, some containing whitespace, not categories.
                  Analyzer "english" when at least 15% of their words (of
                  20 or more) are English stop words (the, and, of, ...),
                  else "standard"; --analyzer sets the analyzer of every
                  Text column.
        nullable  true when the field is missing or null in at least one
                  sampled row, else false.
      A field whose values are of several kinds (numbers and strings, ...)
      gets the type of the kind most of its values have, with a warning:
      Sluice never converts values, so rows holding the other kinds are
      rejected. A field holding mostly nested objects or arrays (Aito
      columns cannot), or null in every sampled row, becomes a String.
      The guess only sees the sample: check it, edit it, then PUT it to
      /api/v1/schema/{table}.""";

  private static final Set<String> ENGLISH_STOP_WORDS = Set.of("a", "an", "and", "are", "as", "at", "be", "but",
      "by", "for", "if", "in", "into", "is", "it", "no", "not", "of", "on", "or", "such", "that", "the", "their",
      "then", "there", "these", "they", "this", "to", "was", "will", "with", "i", "you", "he", "she", "we", "my",
      "have", "has", "had", "from", "were", "been", "which", "what", "all", "can", "do", "so", "our", "your");

  private final Map<String, FieldStats> fields = new LinkedHashMap<>();
  private long rows;
  private long skipped;
  private long firstSkippedLine;
  private String damage;
  private String skippedWhat = "are not JSON objects";

  /** Adds one sampled row; a non-object is counted as skipped (with its 1-based line number). */
  public void add(JsonNode row, long line) {
    if (row == null || !row.isObject()) {
      if (skipped++ == 0) {
        firstSkippedLine = line;
      }
      return;
    }
    rows++;
    Iterator<Map.Entry<String, JsonNode>> it = row.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> field = it.next();
      fields.computeIfAbsent(field.getKey(), k -> new FieldStats()).add(field.getValue());
    }
  }

  /** Counts a line that is not JSON at all. */
  public void addUnparseable(long line) {
    add(null, line);
  }

  /** How skipped lines are described in the warning (e.g. CSV records whose field count is wrong). */
  public void describeSkipped(String what) {
    skippedWhat = what;
  }

  /** The file could not be read past this line (a truncated or corrupt gzip): the guess is from the rows before. */
  public void damaged(long line, String reason) {
    damage = "the file is unreadable from line " + line + " (" + reason + "); guessed from the " + rows
        + " row(s) before";
  }

  public long rows() {
    return rows;
  }

  public long skipped() {
    return skipped;
  }

  /** {@code {"type":"table","columns":{…}}}; analyzer: for every Text column, or null to guess per column. */
  public ObjectNode tableSchema(String analyzer) {
    ObjectNode columns = JsonNodeFactory.instance.objectNode();
    fields.forEach((name, stats) -> columns.set(name, stats.column(analyzer, rows)));
    ObjectNode table = JsonNodeFactory.instance.objectNode();
    table.put("type", "table");
    table.set("columns", columns);
    return table;
  }

  /** Human-readable doubts about the guess: mixed kinds, nested values, all-null fields, skipped lines. */
  public List<String> warnings() {
    List<String> warnings = new ArrayList<>();
    if (damage != null) {
      warnings.add(damage);
    }
    if (skipped > 0) {
      warnings.add(skipped + " sampled line(s) " + skippedWhat + " and were skipped (first: line "
          + firstSkippedLine + ")");
    }
    fields.forEach((name, stats) -> {
      String warning = stats.warning();
      if (warning != null) {
        warnings.add("field '" + name + "': " + warning);
      }
    });
    return warnings;
  }

  private static final class FieldStats {
    long present;
    long nulls;
    long booleans;
    long ints;
    long longs;
    long decimals;
    long strings;
    long nested;
    long withWhitespace;
    long words;
    long stopWords;
    final Set<String> distinct = new HashSet<>();
    boolean distinctOverflow;

    void add(JsonNode value) {
      present++;
      if (value.isNull()) {
        nulls++;
      } else if (value.isBoolean()) {
        booleans++;
      } else if (value.isIntegralNumber()) {
        if (value.canConvertToInt()) {
          ints++;
        } else if (value.canConvertToLong()) {
          longs++;
        } else {
          decimals++;
        }
      } else if (value.isNumber()) {
        decimals++;
      } else if (value.isTextual()) {
        addString(value.textValue());
      } else {
        nested++;
      }
    }

    private void addString(String s) {
      strings++;
      if (!distinctOverflow) {
        distinct.add(s);
        if (distinct.size() > CATEGORY_MAX_DISTINCT) {
          distinctOverflow = true;
          distinct.clear();
        }
      }
      for (String word : s.split("\\s+")) {
        if (word.isEmpty()) {
          continue;
        }
        words++;
        if (ENGLISH_STOP_WORDS.contains(word.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}]", ""))) {
          stopWords++;
        }
      }
      if (s.chars().anyMatch(Character::isWhitespace)) {
        withWhitespace++;
      }
    }

    private long nonNull() {
      return present - nulls;
    }

    /** The kind most non-null values have: "boolean", "number", "string" or "nested" (null if none). */
    private String majority() {
      long numbers = ints + longs + decimals;
      long best = Math.max(Math.max(booleans, numbers), Math.max(strings, nested));
      if (best == 0) {
        return null;
      }
      return strings == best ? "string" : numbers == best ? "number" : booleans == best ? "boolean" : "nested";
    }

    private long minority() {
      String kind = majority();
      long numbers = ints + longs + decimals;
      long majorityCount = kind == null ? 0 : switch (kind) {
        case "string" -> strings;
        case "number" -> numbers;
        case "boolean" -> booleans;
        default -> nested;
      };
      return nonNull() - majorityCount;
    }

    private String type() {
      String kind = majority();
      if (kind == null || kind.equals("nested")) {
        return "String";
      }
      if (kind.equals("boolean")) {
        return "Boolean";
      }
      if (kind.equals("number")) {
        return decimals > 0 ? "Decimal" : longs > 0 ? "Long" : "Int";
      }
      boolean category = !distinctOverflow && distinct.size() * (long) CATEGORY_MIN_REPEATS <= strings;
      return withWhitespace == 0 || category ? "String" : "Text";
    }

    ObjectNode column(String analyzer, long rows) {
      ObjectNode column = JsonNodeFactory.instance.objectNode();
      String type = type();
      column.put("type", type);
      column.put("nullable", present < rows || nulls > 0);
      if (type.equals("Text")) {
        column.put("analyzer", analyzer != null ? analyzer
            : words >= ENGLISH_MIN_WORDS && stopWords >= ENGLISH_MIN_STOP_WORD_SHARE * words ? "english" : "standard");
      }
      return column;
    }

    String warning() {
      String kind = majority();
      if (kind == null) {
        return "null or missing in every sampled row; guessed String";
      }
      if (kind.equals("nested")) {
        return "holds nested objects or arrays, which Aito columns cannot; guessed String (flatten the field)";
      }
      long others = minority();
      if (others > 0) {
        return "mostly " + kind + "s, but " + others + " sampled value(s) of another kind (" + kinds()
            + "); guessed " + type() + ": rows with such values will be rejected";
      }
      return null;
    }

    private String kinds() {
      List<String> seen = new ArrayList<>();
      if (booleans > 0) {
        seen.add("booleans");
      }
      if (ints + longs + decimals > 0) {
        seen.add("numbers");
      }
      if (strings > 0) {
        seen.add("strings");
      }
      if (nested > 0) {
        seen.add("objects/arrays");
      }
      return String.join(", ", seen);
    }
  }
}
