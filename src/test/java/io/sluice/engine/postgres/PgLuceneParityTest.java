package io.sluice.engine.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.TestPostgres;
import io.sluice.TestSeeds;
import io.sluice.engine.Order;
import io.sluice.engine.Predicate;
import io.sluice.engine.Row;
import io.sluice.engine.TableDef;
import io.sluice.engine.Utf8;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.SchemaParser;
import io.sluice.schema.TableSchema;
import io.sluice.schema.analysis.TextTokens;
import io.sluice.store.LuceneStore;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same random rows in the Lucene store (through its API, JSON where-clauses) and in the PostgreSQL engine
 * (the predicate trees the core compiles those clauses to): every pair must find the same rows in the same order.
 * Pins the semantics that differ by nature between the two — SQL's NULLs under "not", -0.0, byte order of
 * strings, nulls last in both directions, ties by insertion order, analyzed tokens.
 */
@ExtendWith(TestSeeds.class)
class PgLuceneParityTest {
  private static final JsonObject SCHEMA_JSON = new JsonObject("""
      {"type":"table","columns":{"id":{"type":"Int"},"n":{"type":"Long","nullable":true},
        "d":{"type":"Decimal","nullable":true},"s":{"type":"String","nullable":true},
        "t":{"type":"Text","analyzer":"english","nullable":true},"b":{"type":"Boolean","nullable":true}}}""");
  private static final String[] STRINGS = {"a", "B", "b", "ab", "abc", "\u00e4", "\u00e9t\u00e9", "z", "50%", "5_0",
      "", "\ud83d\ude00", "A b"};
  private static final String[] WORDS = {"quick", "foxes", "fox", "dogs", "the", "running", "ran", "brown", "lazy"};
  private static final double[] DECIMALS = {0.0, -0.0, 1.5, -1.5, 2.0, 1e-9, 3.25};

  @TempDir
  static Path dir;
  private static Vertx vertx;
  private static PgEngine engine;
  private static LuceneStore lucene;
  private static TableDef table;

  @BeforeAll
  static void load() throws Exception {
    Random random = TestSeeds.random("PgLuceneParityTest");
    vertx = Vertx.vertx();
    engine = new PgEngine(vertx, TestPostgres.freshDatabase(), 2, "sluice");
    lucene = new LuceneStore(dir, 10_000);
    lucene.putTable("rows", SCHEMA_JSON);
    TableSchema schema = SchemaParser.parseTable("rows", SCHEMA_JSON);
    table = new TableDef(UUID.randomUUID().toString().replace("-", ""), schema);
    engine.createTable(table);
    for (int batch = 0; batch < 3; batch++) {
      JsonArray rows = new JsonArray();
      List<Row> typed = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        JsonObject row = row(random, batch * 100 + i);
        rows.add(row);
        typed.add(typed(schema, row));
      }
      lucene.insertBatch("rows", rows.encode().getBytes(StandardCharsets.UTF_8)).toCompletionStage()
          .toCompletableFuture().get();
      PgEngineTest.await(engine.append(table, PgEngineTest.batch(typed.toArray(new Row[0])), null, false));
    }
    JsonObject deleted = lucene.delete(new JsonObject().put("from", "rows").put("where",
        new JsonObject().put("id", new JsonObject().put("$lt", 20)))).toCompletionStage().toCompletableFuture().get();
    assertThat(PgEngineTest.await(engine.delete(table, new Predicate.LongRange("id", Long.MIN_VALUE, 19))))
        .isEqualTo(deleted.getLong("total"));
  }

  @AfterAll
  static void close() {
    engine.close();
    lucene.close();
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  @Test
  void wheresFindTheSameRows() {
    ColumnSchema t = table.schema().column("t");
    Map<String, Predicate> pairs = new java.util.LinkedHashMap<>();
    pairs.put("{}", new Predicate.All());
    pairs.put("{\"n\":3}", new Predicate.LongRange("n", 3, 3));
    pairs.put("{\"n\":{\"$gte\":-2,\"$lt\":4}}", new Predicate.LongRange("n", -2, 3));
    pairs.put("{\"id\":{\"$gt\":250}}", new Predicate.LongRange("id", 251, Long.MAX_VALUE));
    pairs.put("{\"d\":0}", new Predicate.DoubleRange("d", 0.0, 0.0));
    pairs.put("{\"d\":-0.0}", new Predicate.DoubleRange("d", -0.0, -0.0));
    pairs.put("{\"d\":{\"$gt\":0}}", new Predicate.DoubleRange("d", Math.nextUp(0.0), Double.POSITIVE_INFINITY));
    pairs.put("{\"d\":{\"$lte\":1.5}}", new Predicate.DoubleRange("d", Double.NEGATIVE_INFINITY, 1.5));
    pairs.put("{\"b\":false}", new Predicate.BooleanEquals("b", false));
    pairs.put("{\"s\":\"b\"}", new Predicate.StringEquals("s", "b"));
    pairs.put("{\"s\":\"\"}", new Predicate.StringEquals("s", ""));
    pairs.put("{\"s\":{\"$startsWith\":\"a\"}}", new Predicate.StartsWith("s", "a"));
    pairs.put("{\"s\":{\"$startsWith\":\"5%\"}}", new Predicate.StartsWith("s", "5%"));
    pairs.put("{\"t\":{\"$startsWith\":\"the\"}}", new Predicate.StartsWith("t", "the"));
    pairs.put("{\"t\":\"quick fox\"}", new Predicate.StringEquals("t", "quick fox"));
    pairs.put("{\"t\":{\"$match\":\"fox running\"}}",
        new Predicate.Tokens("t", TextTokens.of(t, "fox running"), false));
    pairs.put("{\"t\":{\"$has\":\"dog\"}}", new Predicate.Tokens("t", TextTokens.of(t, "dog"), true));
    pairs.put("{\"$exists\":\"s\"}", new Predicate.Defined("s"));
    pairs.put("{\"$not\":{\"b\":true}}", new Predicate.Not(new Predicate.BooleanEquals("b", true)));
    pairs.put("{\"$not\":{\"n\":{\"$gt\":2}}}", new Predicate.Not(new Predicate.LongRange("n", 3, Long.MAX_VALUE)));
    pairs.put("{\"$not\":{\"t\":{\"$match\":\"fox\"}}}",
        new Predicate.Not(new Predicate.Tokens("t", TextTokens.of(t, "fox"), false)));
    pairs.put("{\"$or\":[{\"b\":true},{\"s\":{\"$startsWith\":\"\u00e9\"}}]}", new Predicate.Or(List.of(
        new Predicate.BooleanEquals("b", true), new Predicate.StartsWith("s", "\u00e9"))));
    pairs.put("{\"$and\":[{\"$not\":{\"b\":false}},{\"d\":{\"$gte\":0}}]}", new Predicate.And(List.of(
        new Predicate.Not(new Predicate.BooleanEquals("b", false)),
        new Predicate.DoubleRange("d", 0.0, Double.POSITIVE_INFINITY))));
    pairs.forEach((where, predicate) -> assertThat(pgIds(predicate, List.of()))
        .as(where).containsExactlyElementsOf(luceneIds(new JsonObject(where), null)));
  }

  @Test
  void ordersAgree() {
    for (String column : List.of("n", "d", "s", "t", "b", "id")) {
      for (boolean descending : List.of(false, true)) {
        JsonObject orderBy = new JsonObject().put(descending ? "$desc" : "$asc", column);
        assertThat(pgIds(new Predicate.All(), List.of(new Order(column, descending))))
            .as(orderBy.encode()).containsExactlyElementsOf(luceneIds(new JsonObject(), orderBy));
      }
    }
  }

  private static List<Integer> pgIds(Predicate where, List<Order> order) {
    return engine.search(table, where, order, 0, 10_000).sources().stream()
        .map(b -> new JsonObject(new String(b, StandardCharsets.UTF_8)).getInteger("id")).toList();
  }

  private static List<Integer> luceneIds(JsonObject where, JsonObject orderBy) {
    JsonObject query = new JsonObject().put("from", "rows").put("where", where).put("limit", 10_000);
    if (orderBy != null) {
      query.put("orderBy", orderBy);
    }
    return lucene.search(query).getJsonArray("hits").stream().map(h -> ((JsonObject) h).getInteger("id")).toList();
  }

  private static JsonObject row(Random random, int id) {
    JsonObject row = new JsonObject().put("id", id);
    if (random.nextInt(4) > 0) {
      row.put("n", (long) random.nextInt(9) - 3);
    }
    if (random.nextInt(4) > 0) {
      row.put("d", DECIMALS[random.nextInt(DECIMALS.length)]);
    }
    if (random.nextInt(4) > 0) {
      row.put("s", STRINGS[random.nextInt(STRINGS.length)]);
    }
    if (random.nextInt(4) > 0) {
      StringBuilder text = new StringBuilder();
      for (int i = random.nextInt(4); i > 0; i--) {
        text.append(text.length() == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
      }
      row.put("t", text.toString());
    }
    if (random.nextInt(4) > 0) {
      row.put("b", random.nextBoolean());
    }
    return row;
  }

  private static Row typed(TableSchema schema, JsonObject row) {
    Object[] values = new Object[schema.columns().size()];
    int i = 0;
    for (Map.Entry<String, ColumnSchema> e : schema.columns().entrySet()) {
      Object v = row.getValue(e.getKey());
      values[i++] = v == null ? null : switch (e.getValue().type()) {
        case INT, LONG -> ((Number) v).longValue();
        case DECIMAL -> ((Number) v).doubleValue();
        case BOOLEAN -> v;
        case STRING, TEXT -> Utf8.of((String) v);
      };
    }
    return new Row(values, row.encode().getBytes(StandardCharsets.UTF_8));
  }
}
