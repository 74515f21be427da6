package io.sluice;

import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;
import io.sluice.schema.SchemaParser;
import io.sluice.schema.TableSchema;
import io.sluice.schema.analysis.Analyzers;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.core.KeywordAnalyzer;
import org.apache.lucene.analysis.miscellaneous.PerFieldAnalyzerWrapper;

/**
 * Fixed schemas for the fuzz tests: every column type, nullable columns, every kind of analyzer, and links
 * (to another table, to a String key, to the table itself, to a table that does not exist).
 */
public final class FuzzSchemas {
  public static final String ITEMS = "items";
  public static final String USERS = "users";

  /** items: every type, nullable columns, several analyzers, links. */
  public static final TableSchema ITEMS_SCHEMA = SchemaParser.parseTable(ITEMS, new JsonObject("""
      {"type": "table", "columns": {
        "id":     {"type": "Int"},
        "big":    {"type": "Long"},
        "price":  {"type": "Decimal"},
        "name":   {"type": "String"},
        "title":  {"type": "Text"},
        "tags":   {"type": "Text", "analyzer": "Whitespace"},
        "words":  {"type": "Text", "analyzer": "english"},
        "csv":    {"type": "Text", "nullable": true, "analyzer": {"type": "delimiter", "delimiter": ","}},
        "grams":  {"type": "Text", "nullable": true, "analyzer": {"type": "char-ngram", "minGram": 2, "maxGram": 3}},
        "shingle":{"type": "Text", "nullable": true,
                   "analyzer": {"type": "token-ngram", "source": "whitespace", "minGram": 1, "maxGram": 2}},
        "active": {"type": "Boolean"},
        "note":   {"type": "String", "nullable": true},
        "rank":   {"type": "Int", "nullable": true},
        "score":  {"type": "Decimal", "nullable": true},
        "flag":   {"type": "Boolean", "nullable": true},
        "user":   {"type": "Int", "nullable": true, "link": "users.id"},
        "owner":  {"type": "String", "nullable": true, "link": "users.name"},
        "parent": {"type": "Int", "nullable": true, "link": "this.id"},
        "ghost":  {"type": "Long", "nullable": true, "link": "ghosts.id"}
      }}"""));

  /** users: the target of items' links. */
  public static final TableSchema USERS_SCHEMA = SchemaParser.parseTable(USERS, new JsonObject("""
      {"type": "table", "columns": {
        "id":    {"type": "Int"},
        "name":  {"type": "String"},
        "tags":  {"type": "Text", "analyzer": "whitespace"},
        "score": {"type": "Decimal", "nullable": true},
        "vip":   {"type": "Boolean", "nullable": true}
      }}"""));

  public static final String[] ITEM_ROWS = {
      "{\"id\":0,\"big\":10000000000,\"price\":1.5,\"name\":\"apple\",\"title\":\"Red Apple pie\",\"tags\":\"red fruit\","
          + "\"words\":\"running apples\",\"csv\":\"a,b\",\"grams\":\"abc\",\"shingle\":\"x y z\",\"active\":true,"
          + "\"note\":\"x\",\"rank\":3,\"score\":0.5,\"flag\":true,\"user\":0,\"owner\":\"anne\",\"parent\":null}",
      "{\"id\":1,\"big\":-5,\"price\":-0.0,\"name\":\"banana\",\"title\":\"Yellow banana\",\"tags\":\"yellow\","
          + "\"words\":\"bananas\",\"active\":false,\"user\":1,\"parent\":0,\"ghost\":7}",
      "{\"id\":2,\"big\":9223372036854775807,\"price\":1e300,\"name\":\"\",\"title\":\"\",\"tags\":\"\",\"words\":\"\","
          + "\"active\":true,\"note\":null,\"rank\":-2147483648,\"score\":-1e-300,\"owner\":\"bob\",\"parent\":1}",
      "{\"id\":-1,\"big\":-9223372036854775808,\"price\":0,\"name\":\"\u00e4\u00f6 \u65e5\u672c\",\"title\":\"\u65e5\u672c\u8a9e\","
          + "\"tags\":\"a b c\",\"words\":\"the\",\"active\":false,\"flag\":false,\"user\":3,\"parent\":-1}",
  };

  public static final String[] USER_ROWS = {
      "{\"id\":0,\"name\":\"anne\",\"tags\":\"london 20s\",\"score\":1.0,\"vip\":true}",
      "{\"id\":1,\"name\":\"bob\",\"tags\":\"helsinki 30s\"}",
      "{\"id\":3,\"name\":\"dan\",\"tags\":\"paris test\",\"score\":-2.5,\"vip\":false}",
  };

  private FuzzSchemas() {
  }

  public static TableSchema lookup(String table) {
    return switch (table) {
      case ITEMS -> ITEMS_SCHEMA;
      case USERS -> USERS_SCHEMA;
      default -> null;
    };
  }

  /** The analyzer a column is searched with, as the store builds it. */
  public static Analyzer analyzer(ColumnSchema column) {
    return Analyzers.build(column.analyzer() == null ? Analyzers.DEFAULT : column.analyzer());
  }

  /** The analyzer an index of {@code schema} is written with, as the store's TableAnalyzer does. */
  public static Analyzer indexAnalyzer(TableSchema schema) {
    Map<String, Analyzer> perField = new HashMap<>();
    schema.columns().forEach((name, column) -> {
      if (column.type() == ColumnType.TEXT) {
        perField.put(name, analyzer(column));
      }
    });
    return new PerFieldAnalyzerWrapper(new KeywordAnalyzer(), perField);
  }
}
