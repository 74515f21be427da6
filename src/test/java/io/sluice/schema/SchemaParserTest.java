package io.sluice.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.errors.ApiError;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The schema parser and names on their own (fast, for mutation testing); SchemaApiTest covers the same rules
 * through the API. Every refusal is a 400 whose message names what is wrong.
 */
class SchemaParserTest {
  private static JsonObject json(String text) {
    return new JsonObject(text);
  }

  private static void refused(Runnable parse, String... fragments) {
    assertThatThrownBy(parse::run).isInstanceOfSatisfying(ApiError.class, e -> {
      assertThat(e.status()).as(e.getMessage()).isEqualTo(400);
      assertThat(e.getMessage()).contains(fragments);
    });
  }

  @Test
  void namesAreOneToMaxLengthCharactersWithoutSeparatorsOrWhitespace() {
    assertThat(Names.isValid("a")).isTrue();
    assertThat(Names.isValid("x".repeat(Names.MAX_LENGTH))).as("MAX_LENGTH characters").isTrue();
    assertThat(Names.isValid("x".repeat(Names.MAX_LENGTH + 1))).as("MAX_LENGTH + 1 characters").isFalse();
    assertThat(Names.MAX_LENGTH).as("docs/api.md §0").isEqualTo(128);
    assertThat(Names.isValid("")).isFalse();
    assertThat(Names.isValid(null)).isFalse();
    for (String bad : new String[] {"a/b", "a\"b", "a.b", "a$b", "a b", "a\tb", "a\nb", "a\rb"}) {
      assertThat(Names.isValid(bad)).as(bad).isFalse();
    }
    assertThat(Names.isValid("ünï-cödé_1")).isTrue();
    assertThat(Names.requireTable("t")).isEqualTo("t");
    assertThat(Names.requireColumn("t", "c")).isEqualTo("c");
    refused(() -> Names.requireTable("a.b"), "invalid table name 'a.b'", "1-128");
    refused(() -> Names.requireColumn("t", "a b"), "invalid column name 'a b'", "in table 't'", "1-128");
  }

  @Test
  void aTableParsesWithItsColumnsInOrder() {
    TableSchema table = SchemaParser.parseTable("t", json("""
        {"type":"table","columns":{"b":{"type":"int"},"a":{"type":"String","nullable":true},
         "x":{"type":"Text","analyzer":"English"},"l":{"type":"Long","link":"other.id"}}}"""));
    assertThat(table.columns().keySet()).containsExactly("b", "a", "x", "l");
    assertThat(table.column("b")).isEqualTo(new ColumnSchema(ColumnType.INT, false, null, null));
    assertThat(table.column("a").nullable()).isTrue();
    assertThat(table.column("x").analyzer()).as("canonical spelling").isEqualTo("english");
    assertThat(table.column("l").linkTable()).isEqualTo("other");
    assertThat(table.column("l").linkColumn()).isEqualTo("id");
    assertThat(table.toJson()).isEqualTo(json("""
        {"type":"table","columns":{"b":{"type":"Int","nullable":false},"a":{"type":"String","nullable":true},
         "x":{"type":"Text","nullable":false,"analyzer":"english"},
         "l":{"type":"Long","nullable":false,"link":"other.id"}}}"""));
    // "type" may be left out
    assertThat(SchemaParser.parseTable("t", json("{\"columns\":{\"a\":{\"type\":\"Boolean\"}}}")).column("a").type())
        .isEqualTo(ColumnType.BOOLEAN);
  }

  @Test
  void aLinkToThisTableIsStoredUnderTheTablesName() {
    TableSchema table = SchemaParser.parseTable("people", json(
        "{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"},\"boss\":{\"type\":\"Int\",\"link\":\"this.id\"}}}"));
    assertThat(table.column("boss").link()).isEqualTo("people.id");
    assertThat(table.column("id").link()).isNull();
    assertThat(table.column("id").linkTable()).isNull();
    assertThat(table.column("id").linkColumn()).isNull();
  }

  @Test
  void malformedTablesAreRefusedNamingTheProblem() {
    refused(() -> SchemaParser.parseTable("a.b", json("{\"columns\":{\"a\":{\"type\":\"Int\"}}}")), "a.b");
    refused(() -> SchemaParser.parseTable("t", null), "expected a table schema", "'t'");
    refused(() -> SchemaParser.parseTable("t", json("{\"type\":\"table\",\"columns\":{},\"extra\":1}")),
        "unknown field 'extra'", "table 't'");
    refused(() -> SchemaParser.parseTable("t", json("{\"type\":\"view\",\"columns\":{\"a\":{\"type\":\"Int\"}}}")),
        "has type view", "expected \"table\"");
    refused(() -> SchemaParser.parseTable("t", json("{\"type\":\"table\"}")), "needs 'columns'");
    refused(() -> SchemaParser.parseTable("t", json("{\"type\":\"table\",\"columns\":[]}")), "needs 'columns'");
    refused(() -> SchemaParser.parseTable("t", json("{\"type\":\"table\",\"columns\":{}}")), "at least one column");
    refused(() -> SchemaParser.parseTable("t", json("{\"type\":\"table\",\"columns\":{\"a\":1}}")),
        "column 'a'", "must be an object");
  }

  @Test
  void malformedColumnsAreRefusedNamingTheProblem() {
    refused(() -> SchemaParser.parseColumn("t", "a b", json("{\"type\":\"Int\"}")), "invalid column name");
    refused(() -> SchemaParser.parseColumn("t", "c", null), "expected a column schema", "column 'c' of table 't'");
    refused(() -> SchemaParser.parseColumn("t", "c", json("{\"type\":\"Int\",\"size\":3}")), "unknown field 'size'");
    refused(() -> SchemaParser.parseColumn("t", "c", json("{}")), "has type missing", "Int, Long, Decimal");
    refused(() -> SchemaParser.parseColumn("t", "c", json("{\"type\":\"Float\"}")), "has type 'Float'");
    refused(() -> SchemaParser.parseColumn("t", "c", json("{\"type\":7}")), "has type '7'");
    refused(() -> SchemaParser.parseColumn("t", "c", json("{\"type\":\"Int\",\"nullable\":\"yes\"}")),
        "'nullable'", "true or false");
    for (String link : new String[] {"\"other\"", "\".id\"", "\"a.b.c\"", "\"other.\"", "5"}) {
      refused(() -> SchemaParser.parseColumn("t", "c", json("{\"type\":\"Int\",\"link\":" + link + "}")),
          "'link'", "<table>.<column>");
    }
    refused(() -> SchemaParser.parseColumn("t", "c", json("{\"type\":\"Text\",\"link\":\"o.id\"}")),
        "is Text and cannot be a link");
    refused(() -> SchemaParser.parseColumn("t", "c", json("{\"type\":\"String\",\"analyzer\":\"english\"}")),
        "has an analyzer but is String");
    refused(() -> SchemaParser.parseColumn("t", "c", json("{\"type\":\"Text\",\"analyzer\":\"no-such\"}")), "no-such");
  }

  @Test
  void aDatabaseIsTheSchemaObjectOrLenientlyItsInside() {
    String tables = "{\"a\":{\"type\":\"table\",\"columns\":{\"x\":{\"type\":\"Int\"}}},"
        + "\"b\":{\"type\":\"table\",\"columns\":{\"y\":{\"type\":\"String\"}}}}";
    Map<String, TableSchema> wrapped = SchemaParser.parseDatabase(json("{\"schema\":" + tables + "}"));
    assertThat(wrapped.keySet()).containsExactly("a", "b");
    assertThat(SchemaParser.parseDatabase(json(tables))).isEqualTo(wrapped);
    assertThat(SchemaParser.parseDatabase(json("{\"schema\":{}}"))).isEmpty();
    refused(() -> SchemaParser.parseDatabase(null), "expected a JSON object");
    refused(() -> SchemaParser.parseDatabase(json("{\"schema\":[]}")), "'schema' must be an object");
    refused(() -> SchemaParser.parseDatabase(json("{\"a\":1}")), "table 'a' must be an object");
    // "schema" next to other keys is a table named schema, not the wrapper
    refused(() -> SchemaParser.parseDatabase(json("{\"schema\":1,\"b\":{}}")), "table 'schema' must be an object");
  }

  @Test
  void tableSchemasAreImmutableCopies() {
    TableSchema table = SchemaParser.parseTable("t", json("{\"columns\":{\"a\":{\"type\":\"Int\"}}}"));
    TableSchema wider = table.withColumn("b", new ColumnSchema(ColumnType.DECIMAL, true, null, null));
    assertThat(table.columns().keySet()).containsExactly("a");
    assertThat(wider.columns().keySet()).containsExactly("a", "b");
    assertThat(wider.withoutColumn("a").columns().keySet()).containsExactly("b");
    assertThat(wider.columns().keySet()).containsExactly("a", "b");
    assertThatThrownBy(() -> wider.columns().put("c", null)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void columnTypesParseCaseInsensitivelyAndKnowTheirKind() {
    assertThat(ColumnType.parse("DECIMAL")).isEqualTo(ColumnType.DECIMAL);
    assertThat(ColumnType.parse("text")).isEqualTo(ColumnType.TEXT);
    assertThat(ColumnType.parse("Json")).isNull();
    assertThat(ColumnType.parse(null)).isNull();
    for (ColumnType type : ColumnType.values()) {
      assertThat(ColumnType.parse(type.aitoName())).isEqualTo(type);
      boolean numeric = type == ColumnType.INT || type == ColumnType.LONG || type == ColumnType.DECIMAL;
      assertThat(type.isNumeric()).as(type.name()).isEqualTo(numeric);
      assertThat(type.isIntegral()).as(type.name()).isEqualTo(type == ColumnType.INT || type == ColumnType.LONG);
    }
  }

  @Test
  void columnJsonCopiesAnAnalyzerObject() {
    JsonObject analyzer = new JsonObject().put("type", "delimiter").put("delimiter", ",");
    ColumnSchema column = new ColumnSchema(ColumnType.TEXT, false, null, analyzer);
    JsonObject json = column.toJson();
    assertThat(json.getJsonObject("analyzer")).isEqualTo(analyzer).isNotSameAs(analyzer);
    assertThat(json.containsKey("link")).isFalse();
  }
}
