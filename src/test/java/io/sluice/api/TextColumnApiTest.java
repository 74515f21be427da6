package io.sluice.api;

import static io.sluice.api.ApiAssertions.column;
import static io.sluice.api.ApiAssertions.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.sluice.TestPostgres;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The exact value of a Text column (kept as binary doc values, not as an indexed term; see Fields) through
 * HTTP: equality, prefixes, ranges, order, definedness and delete, compared byte by byte as String columns are.
 */
class TextColumnApiTest extends ServerTest {
  /** "x " + "lorem " × 6000: 36,002 bytes, whose first 32,766 end inside a word ("… lorem lore"). */
  static final String LONG = "x " + "lorem ".repeat(6000);
  /** LONG as the index keeps it: its first 32,766 bytes. */
  static final String LONG_KEPT = "x " + "lorem ".repeat(5460) + "lore";

  /** Three requests, so three segments. In byte order: "" < "Cat hat" < "The Cat…" < "The. …" < "Zebra…" <
   * "apple pie" < "the cat…" < "the the the" < "Émile" (0xC3 is above every ASCII byte). */
  @BeforeEach
  void loadNotes() {
    ok(server.put("/api/v1/schema", new JsonObject("""
        {"schema":{
          "notes":{"type":"table","columns":{"id":{"type":"Int"},
            "body":{"type":"Text","analyzer":"english","nullable":true}}},
          "long":{"type":"table","columns":{"id":{"type":"Int"},"body":{"type":"Text","analyzer":"english"}}}}}""")));
    ok(server.post("/api/v1/data/notes/batch", new JsonArray("""
        [{"id":1,"body":"The Cat, the Hat!"},{"id":2,"body":"the cat the hat"},{"id":3,"body":"Cat hat"}]""")));
    ok(server.post("/api/v1/data/notes/batch", new JsonArray("""
        [{"id":4,"body":"The. The? The!"},{"id":5,"body":"the the the"},{"id":6,"body":null},
         {"id":7,"body":""}]""")));
    ok(server.post("/api/v1/data/notes/batch", new JsonArray("""
        [{"id":8,"body":"Zebra crossing"},{"id":9,"body":"apple pie"},{"id":10},{"id":11,"body":"Cat hat"},
         {"id":12,"body":"Émile"}]""")));
  }

  private List<Object> ids(String table, JsonObject where, Object orderBy) {
    JsonObject query = new JsonObject().put("from", table).put("where", where).put("limit", 50);
    if (orderBy != null) {
      query.put("orderBy", orderBy);
    }
    return column(server.search(query), "id");
  }

  private List<Object> notes(String where) {
    return ids("notes", new JsonObject(where), null);
  }

  private List<Object> bodyIs(String table, Object value) {
    return ids(table, new JsonObject().put("body", value), null);
  }

  private List<Object> ordered(Object orderBy) {
    return ids("notes", new JsonObject(), orderBy);
  }

  @Test
  void exactEqualityComparesTheWholeValueNotItsTokens() {
    // 1, 2 and 3 analyze to the same tokens (cat, hat): only the exact value tells them apart.
    assertThat(bodyIs("notes", "The Cat, the Hat!")).containsExactly(1);
    assertThat(bodyIs("notes", "the cat the hat")).containsExactly(2);
    assertThat(bodyIs("notes", "Cat hat")).containsExactly(3, 11);
    assertThat(bodyIs("notes", "The Cat, the Hat")).isEmpty();
    assertThat(bodyIs("notes", "cat")).isEmpty();
    assertThat(bodyIs("notes", "hat Cat")).isEmpty();
    // Only stop words and punctuation: no token to narrow with, still an exact match.
    assertThat(bodyIs("notes", "The. The? The!")).containsExactly(4);
    assertThat(bodyIs("notes", "the the the")).containsExactly(5);
    assertThat(bodyIs("notes", "the")).isEmpty();
    assertThat(bodyIs("notes", "")).containsExactly(7);
    assertThat(bodyIs("notes", "Émile")).containsExactly(12);
    assertThat(notes("{\"body\":{\"$is\":\"Cat hat\"}}")).containsExactly(3, 11);
    assertThat(notes("{\"body\":null}")).containsExactly(6, 10);
    assertThat(notes("{\"body\":{\"$not\":\"Cat hat\"}}")).containsExactly(1, 2, 4, 5, 6, 7, 8, 9, 10, 12);
    assertThat(notes("{\"$or\":[{\"body\":\"the the the\"},{\"body\":\"The. The? The!\"}]}")).containsExactly(4, 5);
    assertThat(notes("{\"body\":\"Cat hat\",\"id\":{\"$gt\":5}}")).containsExactly(11);
    // A match for the tokens is not an exact match, and the reverse.
    assertThat(notes("{\"body\":{\"$has\":\"cat hat\"}}")).containsExactly(1, 2, 3, 11);
  }

  @Test
  void manyTextEqualitiesCountOneClauseEach() {
    // 600 values of three tokens each: within the 1024-clause limit as 600 equalities, not as 2400 clauses.
    JsonArray or = new JsonArray();
    for (int i = 0; i < 600; i++) {
      or.add(new JsonObject().put("body", "alpha" + i + " beta" + i + " gamma" + i));
    }
    or.add(new JsonObject().put("body", "Cat hat"));
    assertThat(ids("notes", new JsonObject().put("$or", or), null)).containsExactly(3, 11);
  }

  @Test
  void startsWithIsCaseSensitiveOnTheRawValue() {
    assertThat(notes("{\"body\":{\"$startsWith\":\"The\"}}")).containsExactly(1, 4);
    assertThat(notes("{\"body\":{\"$startsWith\":\"the \"}}")).containsExactly(2, 5);
    assertThat(notes("{\"body\":{\"$startsWith\":\"Cat hat\"}}")).containsExactly(3, 11);
    assertThat(notes("{\"body\":{\"$startsWith\":\"Cat hats\"}}")).isEmpty();
    assertThat(notes("{\"body\":{\"$startsWith\":\"cat\"}}")).isEmpty();
    assertThat(notes("{\"body\":{\"$startsWith\":\"É\"}}")).containsExactly(12);
    // The empty prefix: every row with a value, the empty string included.
    assertThat(notes("{\"body\":{\"$startsWith\":\"\"}}")).containsExactly(1, 2, 3, 4, 5, 7, 8, 9, 11, 12);
    assertThat(notes("{\"body\":{\"$not\":{\"$startsWith\":\"The\"}}}")).containsExactly(2, 3, 5, 6, 7, 8, 9, 10, 11, 12);
  }

  @Test
  void rangesCompareUtf8BytesUnsigned() {
    assertThat(notes("{\"body\":{\"$gt\":\"Cat hat\"}}")).containsExactly(1, 2, 4, 5, 8, 9, 12);
    assertThat(notes("{\"body\":{\"$gte\":\"Cat hat\"}}")).containsExactly(1, 2, 3, 4, 5, 8, 9, 11, 12);
    assertThat(notes("{\"body\":{\"$lt\":\"Cat hat\"}}")).containsExactly(7);
    assertThat(notes("{\"body\":{\"$lte\":\"Cat hat\"}}")).containsExactly(3, 7, 11);
    assertThat(notes("{\"body\":{\"$gte\":\"The\",\"$lt\":\"a\"}}")).containsExactly(1, 4, 8);
    assertThat(notes("{\"body\":{\"$gt\":\"apple pie\",\"$lte\":\"the the the\"}}")).containsExactly(2, 5);
    assertThat(notes("{\"body\":{\"$gt\":\"the the the\"}}")).containsExactly(12);
    assertThat(notes("{\"body\":{\"$gt\":\"Émile\"}}")).isEmpty();
    assertThat(notes("{\"body\":{\"$gt\":\"Zebra\",\"$lt\":\"Zebra\"}}")).isEmpty();
    assertThat(notes("{\"body\":{\"$lt\":\"\"}}")).isEmpty();
    assertThat(notes("{\"body\":{\"$gte\":\"\"}}")).containsExactly(1, 2, 3, 4, 5, 7, 8, 9, 11, 12);
  }

  @Test
  void orderByTextIsByteOrderWithNullsLastBothWays() {
    List<Object> ascending = List.of(7, 3, 11, 1, 4, 8, 9, 2, 5, 12, 6, 10);
    // Descending reverses the values; ties (3, 11) and nulls (6, 10) keep insertion order.
    List<Object> descending = List.of(12, 5, 2, 9, 8, 4, 1, 3, 11, 7, 6, 10);
    assertThat(ordered("body")).isEqualTo(ascending);
    assertThat(ordered(new JsonObject().put("$asc", "body"))).isEqualTo(ascending);
    assertThat(ordered(new JsonObject().put("$desc", "body"))).isEqualTo(descending);
    assertThat(ids("notes", new JsonObject("{\"body\":{\"$startsWith\":\"The\"}}"),
        new JsonObject().put("$desc", "body"))).containsExactly(4, 1);
    JsonObject page = ok(server.search(new JsonObject()
        .put("from", "notes").put("orderBy", new JsonObject().put("$desc", "body")).put("offset", 8).put("limit", 3)));
    assertThat(page.getLong("total")).isEqualTo(12);
    assertThat(page.getJsonArray("hits").stream().map(h -> ((JsonObject) h).getInteger("id")))
        .containsExactly(11, 7, 6);

    // The same from the committed segments after a restart.
    server.restart();
    assertThat(ordered("body")).isEqualTo(ascending);
    assertThat(ordered(new JsonObject().put("$desc", "body"))).isEqualTo(descending);
    assertThat(bodyIs("notes", "Cat hat")).containsExactly(3, 11);
  }

  @Test
  void definedAndExists() {
    assertThat(notes("{\"body\":{\"$defined\":true}}")).containsExactly(1, 2, 3, 4, 5, 7, 8, 9, 11, 12);
    assertThat(notes("{\"body\":{\"$defined\":false}}")).containsExactly(6, 10);
    assertThat(notes("{\"$exists\":\"body\"}")).containsExactly(1, 2, 3, 4, 5, 7, 8, 9, 11, 12);
    assertThat(notes("{\"$not\":{\"$exists\":\"body\"}}")).containsExactly(6, 10);
  }

  @Test
  void deleteByTextValue() {
    assertThat(ok(server.post("/api/v1/data/_delete", new JsonObject("""
        {"from":"notes","where":{"body":"the cat the hat"}}""")))).isEqualTo(new JsonObject().put("total", 1));
    assertThat(ok(server.post("/api/v1/data/_delete", new JsonObject("""
        {"from":"notes","where":{"body":{"$startsWith":"Cat"}}}""")))).isEqualTo(new JsonObject().put("total", 2));
    assertThat(notes("{\"body\":{\"$has\":\"cat\"}}")).containsExactly(1);
    assertThat(notes("{\"body\":{\"$startsWith\":\"the\"}}")).containsExactly(5);
  }

  @Test
  void valuesLongerThanTheKeywordLimitCompareOnTheirFirst32766Bytes() {
    Assumptions.assumeFalse(TestPostgres.chosen(),
        "the 32766-byte prefix is Lucene's term limit; PostgreSQL compares whole values");
    String otherTail = LONG_KEPT + "m ipsum, another ending";
    ok(server.post("/api/v1/data/long/batch", new JsonArray()
        .add(new JsonObject().put("id", 1).put("body", LONG))
        .add(new JsonObject().put("id", 2).put("body", otherTail))
        .add(new JsonObject().put("id", 3).put("body", "x lorem"))));
    assertThat(bodyIs("long", LONG)).containsExactly(1, 2);
    assertThat(bodyIs("long", otherTail)).containsExactly(1, 2);
    // The kept bytes end in "lore", a token neither row has: equality must not require the value's tokens here.
    assertThat(bodyIs("long", LONG_KEPT)).containsExactly(1, 2);
    assertThat(bodyIs("long", "x " + "lorem ".repeat(5460))).isEmpty();
    assertThat(bodyIs("long", "x lorem")).containsExactly(3);
    assertThat(ids("long", new JsonObject().put("body", new JsonObject().put("$startsWith", LONG)), null))
        .containsExactly(1, 2);
    assertThat(ids("long", new JsonObject().put("body", new JsonObject().put("$startsWith", "x lorem lorem")), null))
        .containsExactly(1, 2);
    assertThat(ids("long", new JsonObject().put("body", new JsonObject().put("$gt", "x lorem")), null))
        .containsExactly(1, 2);
  }
}
