package io.sluice.api;

import static io.sluice.api.ApiAssertions.column;
import static io.sluice.api.ApiAssertions.error;
import static io.sluice.api.ApiAssertions.hits;
import static io.sluice.api.ApiAssertions.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** docs/api.md §4: _search, _query and _delete with every proposition form, through HTTP against the real store. */
class SearchApiTest extends ServerTest {
  /** Users in insertion order 3, 1, 5, 2, 4 (three requests), so that insertion order is not id order. */
  @BeforeEach
  void loadUsersAndOrders() {
    ok(server.put("/api/v1/schema", new JsonObject("""
        {"schema":{
          "users":{"type":"table","columns":{"id":{"type":"Int"},"name":{"type":"String"},
            "bio":{"type":"Text","analyzer":"english"},"age":{"type":"Int","nullable":true},
            "score":{"type":"Decimal"},"big":{"type":"Long"},"active":{"type":"Boolean"},
            "nick":{"type":"String","nullable":true}}},
          "orders":{"type":"table","columns":{"id":{"type":"Int"},"user":{"type":"Int","link":"users.id"},
            "amount":{"type":"Decimal"},"note":{"type":"Text","nullable":true}}}}}""")));
    ok(server.post("/api/v1/data/users/batch", new JsonArray("""
        [{"id":3,"name":"carol","bio":"Runs marathons in London","age":35,"score":7.5,"big":3000000000,
          "active":true,"nick":"cc"},
         {"id":1,"name":"alice","bio":"Paints portraits","age":28,"score":9.25,"big":-5,"active":false}]""")));
    ok(server.post("/api/v1/data/users/batch", new JsonArray("""
        [{"id":5,"name":"eve","bio":"Running a bakery in Paris","age":null,"score":-1.5,"big":9000000000000,
          "active":true,"nick":"evie"},
         {"id":2,"name":"bob","bio":"london cab driver","age":42,"score":0,"big":0,"active":false,"nick":null}]""")));
    ok(server.post("/api/v1/data/users", new JsonObject("""
        {"id":4,"name":"dave","bio":"Paris runner and painter","age":28,"score":3.0,"big":3000000001,
         "active":true,"nick":"d"}""")));
    ok(server.post("/api/v1/data/orders/batch", new JsonArray("""
        [{"id":10,"user":1,"amount":5.5,"note":"gift"},{"id":11,"user":3,"amount":20},
         {"id":12,"user":3,"amount":7.25,"note":"express gift"},{"id":13,"user":4,"amount":1},
         {"id":14,"user":2,"amount":100}]""")));
  }

  private List<Object> ids(String table, String where) {
    var response = server.search(new JsonObject().put("from", table).put("where", new JsonObject(where)));
    return column(response, "id");
  }

  private List<Object> users(String where) {
    return ids("users", where);
  }

  @Test
  void withoutWhereAllRowsInInsertionOrder() {
    var all = server.search(new JsonObject().put("from", "users"));
    JsonObject body = ok(all);
    assertThat(body.fieldNames()).containsExactlyInAnyOrder("offset", "total", "hits");
    assertThat(body.getInteger("offset")).isZero();
    assertThat(body.getLong("total")).isEqualTo(5);
    assertThat(column(all, "id")).containsExactly(3, 1, 5, 2, 4);
    // Hits are the rows as they were written, absent and null fields included.
    assertThat(hits(all).getJsonObject(1)).isEqualTo(new JsonObject("""
        {"id":1,"name":"alice","bio":"Paints portraits","age":28,"score":9.25,"big":-5,"active":false}"""));
    assertThat(users("{}")).containsExactly(3, 1, 5, 2, 4);
  }

  @Test
  void equalityOnEveryType() {
    assertThat(users("{\"id\":3}")).containsExactly(3);
    assertThat(users("{\"id\":{\"$is\":3}}")).containsExactly(3);
    assertThat(users("{\"id\":3000000000}")).isEmpty();
    assertThat(users("{\"name\":\"bob\"}")).containsExactly(2);
    assertThat(users("{\"name\":{\"$is\":\"bob\"}}")).containsExactly(2);
    assertThat(users("{\"name\":\"Bob\"}")).isEmpty();
    assertThat(users("{\"big\":9000000000000}")).containsExactly(5);
    assertThat(users("{\"big\":{\"$is\":-5}}")).containsExactly(1);
    assertThat(users("{\"score\":7.5}")).containsExactly(3);
    assertThat(users("{\"score\":0}")).containsExactly(2);
    assertThat(users("{\"score\":3}")).containsExactly(4);
    assertThat(users("{\"active\":false}")).containsExactly(1, 2);
    assertThat(users("{\"active\":{\"$is\":true}}")).containsExactly(3, 5, 4);
    assertThat(users("{\"bio\":\"london cab driver\"}")).containsExactly(2);
    assertThat(users("{\"active\":true,\"age\":28}")).containsExactly(4);
    assertThat(users("{\"active\":true,\"age\":42}")).isEmpty();
    assertThat(users("{\"age\":null}")).containsExactly(5);
    assertThat(users("{\"nick\":null}")).containsExactly(1, 2);
  }

  @Test
  void numericRangesOnIntLongAndDecimal() {
    assertThat(users("{\"age\":{\"$gt\":28}}")).containsExactly(3, 2);
    assertThat(users("{\"age\":{\"$gte\":28}}")).containsExactly(3, 1, 2, 4);
    assertThat(users("{\"age\":{\"$lt\":35}}")).containsExactly(1, 4);
    assertThat(users("{\"age\":{\"$lte\":35}}")).containsExactly(3, 1, 4);
    assertThat(users("{\"age\":{\"$gt\":28,\"$lt\":42}}")).containsExactly(3);
    assertThat(users("{\"age\":{\"$gt\":42,\"$lt\":28}}")).isEmpty();

    assertThat(users("{\"big\":{\"$gt\":3000000000}}")).containsExactly(5, 4);
    assertThat(users("{\"big\":{\"$gte\":3000000000}}")).containsExactly(3, 5, 4);
    assertThat(users("{\"big\":{\"$lt\":0}}")).containsExactly(1);
    assertThat(users("{\"big\":{\"$lte\":0}}")).containsExactly(1, 2);

    assertThat(users("{\"score\":{\"$gt\":0}}")).containsExactly(3, 1, 4);
    assertThat(users("{\"score\":{\"$gte\":0}}")).containsExactly(3, 1, 2, 4);
    assertThat(users("{\"score\":{\"$lt\":3.0}}")).containsExactly(5, 2);
    assertThat(users("{\"score\":{\"$lte\":3}}")).containsExactly(5, 2, 4);
    assertThat(users("{\"score\":{\"$gte\":-1.5,\"$lt\":0}}")).containsExactly(5);
    assertThat(users("{\"score\":{\"$gt\":9.25}}")).isEmpty();
  }

  @Test
  void textMatchHasAndStartsWith() {
    assertThat(users("{\"bio\":{\"$match\":\"running\"}}")).containsExactly(3, 5);
    assertThat(users("{\"bio\":{\"$match\":\"LONDON paris\"}}")).containsExactly(3, 5, 2, 4);
    assertThat(users("{\"bio\":{\"$match\":\"zebra\"}}")).isEmpty();
    assertThat(users("{\"bio\":{\"$has\":\"london\"}}")).containsExactly(3, 2);
    assertThat(users("{\"bio\":{\"$has\":\"painter\"}}")).containsExactly(4);
    assertThat(users("{\"name\":{\"$match\":\"bob\"}}")).containsExactly(2);

    assertThat(users("{\"name\":{\"$startsWith\":\"c\"}}")).containsExactly(3);
    assertThat(users("{\"nick\":{\"$startsWith\":\"ev\"}}")).containsExactly(5);
    assertThat(users("{\"name\":{\"$startsWith\":\"x\"}}")).isEmpty();
    assertThat(users("{\"bio\":{\"$startsWith\":\"Run\"}}")).containsExactly(3, 5);
    assertThat(users("{\"bio\":{\"$startsWith\":\"Paris runner\"}}")).containsExactly(4);
  }

  @Test
  void definedAndExists() {
    assertThat(users("{\"age\":{\"$defined\":true}}")).containsExactly(3, 1, 2, 4);
    assertThat(users("{\"age\":{\"$defined\":false}}")).containsExactly(5);
    assertThat(users("{\"nick\":{\"$defined\":true}}")).containsExactly(3, 5, 4);
    assertThat(users("{\"$exists\":\"nick\"}")).containsExactly(3, 5, 4);
    assertThat(users("{\"$exists\":\"age\"}")).containsExactly(3, 1, 2, 4);
    assertThat(users("{\"$exists\":\"name\"}")).containsExactly(3, 1, 5, 2, 4);
    assertThat(ids("orders", "{\"$exists\":\"note\"}")).containsExactly(10, 12);
  }

  @Test
  void logicAtTopLevelAndUnderAColumn() {
    assertThat(users("{\"$or\":[{\"id\":1},{\"id\":2}]}")).containsExactly(1, 2);
    assertThat(users("{\"$and\":[{\"active\":true},{\"age\":{\"$gte\":30}}]}")).containsExactly(3);
    assertThat(users("{\"$not\":{\"active\":true}}")).containsExactly(1, 2);
    assertThat(users("{\"$or\":[{\"$and\":[{\"active\":true},{\"age\":28}]},{\"name\":\"alice\"}]}"))
        .containsExactly(1, 4);
    assertThat(users("{\"$not\":{\"$or\":[{\"id\":1},{\"id\":2}]}}")).containsExactly(3, 5, 4);
    assertThat(users("{\"$or\":[]}")).isEmpty();

    assertThat(users("{\"age\":{\"$or\":[28,42]}}")).containsExactly(1, 2, 4);
    assertThat(users("{\"id\":{\"$and\":[{\"$gt\":1},{\"$lt\":4}]}}")).containsExactly(3, 2);
    assertThat(users("{\"score\":{\"$not\":{\"$lt\":3}}}")).containsExactly(3, 1, 4);
    assertThat(users("{\"name\":{\"$or\":[{\"$startsWith\":\"a\"},{\"$startsWith\":\"e\"}]}}")).containsExactly(1, 5);
    assertThat(users("{\"bio\":{\"$not\":{\"$match\":\"london\"}}}")).containsExactly(1, 5, 4);
  }

  @Test
  void linkPathsInWhereAndSelect() {
    assertThat(ids("orders", "{\"user.name\":\"carol\"}")).containsExactly(11, 12);
    assertThat(ids("orders", "{\"user.age\":{\"$gte\":35}}")).containsExactly(11, 12, 14);
    assertThat(ids("orders", "{\"user.bio\":{\"$match\":\"paris\"}}")).containsExactly(13);
    assertThat(ids("orders", "{\"user.name\":\"nobody\"}")).isEmpty();
    assertThat(ids("orders", "{\"$exists\":\"user.nick\"}")).containsExactly(11, 12, 13);
    assertThat(ids("orders", "{\"user.active\":true,\"amount\":{\"$lt\":10}}")).containsExactly(12, 13);
    assertThat(ids("orders", "{\"$or\":[{\"user.name\":\"alice\"},{\"note\":{\"$match\":\"express\"}}]}"))
        .containsExactly(10, 12);

    var selected = server.search(new JsonObject("""
        {"from":"orders","select":["id","user.name","user.nick","amount"],"where":{"amount":{"$gte":5}}}"""));
    assertThat(hits(selected)).containsExactly(
        new JsonObject("{\"id\":10,\"user.name\":\"alice\",\"amount\":5.5}"),
        new JsonObject("{\"id\":11,\"user.name\":\"carol\",\"user.nick\":\"cc\",\"amount\":20}"),
        new JsonObject("{\"id\":12,\"user.name\":\"carol\",\"user.nick\":\"cc\",\"amount\":7.25}"),
        new JsonObject("{\"id\":14,\"user.name\":\"bob\",\"amount\":100}"));
    var everything = server.search(new JsonObject("{\"from\":\"orders\",\"select\":null,\"limit\":1}"));
    assertThat(hits(everything)).containsExactly(new JsonObject("{\"id\":10,\"user\":1,\"amount\":5.5,\"note\":\"gift\"}"));
    var plain = server.search(new JsonObject("{\"from\":\"users\",\"select\":[\"name\"],\"limit\":2}"));
    assertThat(hits(plain)).containsExactly(new JsonObject("{\"name\":\"carol\"}"), new JsonObject("{\"name\":\"alice\"}"));
  }

  @Test
  void orderByAscendingDescendingAndByName() {
    assertThat(column(server.search(new JsonObject("{\"from\":\"users\",\"orderBy\":\"name\"}")), "id"))
        .containsExactly(1, 2, 3, 4, 5);
    assertThat(column(server.search(new JsonObject("{\"from\":\"users\",\"orderBy\":{\"$asc\":\"name\"}}")), "id"))
        .containsExactly(1, 2, 3, 4, 5);
    assertThat(column(server.search(new JsonObject("{\"from\":\"users\",\"orderBy\":{\"$desc\":\"name\"}}")), "id"))
        .containsExactly(5, 4, 3, 2, 1);
    assertThat(column(server.search(new JsonObject("{\"from\":\"users\",\"orderBy\":{\"$desc\":\"score\"}}")), "id"))
        .containsExactly(1, 3, 4, 2, 5);
    assertThat(column(server.search(new JsonObject("{\"from\":\"users\",\"orderBy\":\"score\"}")), "id"))
        .containsExactly(5, 2, 4, 3, 1);
    assertThat(column(server.search(new JsonObject("{\"from\":\"users\",\"orderBy\":{\"$desc\":\"big\"}}")), "id"))
        .containsExactly(5, 4, 3, 2, 1);
    assertThat(column(server.search(new JsonObject("{\"from\":\"users\",\"orderBy\":\"active\"}")), "id"))
        .containsExactly(1, 2, 3, 5, 4);
    // Ties keep insertion order; a null sorts after every value in ascending order.
    assertThat(column(server.search(new JsonObject("{\"from\":\"users\",\"orderBy\":\"age\"}")), "id"))
        .containsExactly(1, 4, 3, 2, 5);
    assertThat(column(server.search(new JsonObject("""
        {"from":"users","where":{"$exists":"age"},"orderBy":{"$desc":"age"}}""")), "id"))
        .containsExactly(2, 3, 1, 4);
    // orderBy with where, offset and limit together.
    assertThat(column(server.search(new JsonObject("""
        {"from":"users","where":{"active":true},"orderBy":{"$desc":"id"},"offset":1,"limit":1}""")), "id"))
        .containsExactly(4);
  }

  @Test
  void offsetLimitAndTotal() {
    JsonObject page = ok(server.search(new JsonObject("{\"from\":\"users\",\"limit\":2}")));
    assertThat(page.getLong("total")).isEqualTo(5);
    assertThat(page.getInteger("offset")).isZero();
    assertThat(page.getJsonArray("hits")).hasSize(2);

    var second = server.search(new JsonObject("{\"from\":\"users\",\"offset\":2,\"limit\":2}"));
    assertThat(ok(second).getInteger("offset")).isEqualTo(2);
    assertThat(ok(second).getLong("total")).isEqualTo(5);
    assertThat(column(second, "id")).containsExactly(5, 2);
    assertThat(column(server.search(new JsonObject("{\"from\":\"users\",\"offset\":4,\"limit\":10}")), "id"))
        .containsExactly(4);
    var beyond = server.search(new JsonObject("{\"from\":\"users\",\"offset\":10}"));
    assertThat(hits(beyond)).isEmpty();
    assertThat(ok(beyond).getLong("total")).isEqualTo(5);
    var none = server.search(new JsonObject("{\"from\":\"users\",\"limit\":0,\"where\":{\"active\":true}}"));
    assertThat(hits(none)).isEmpty();
    assertThat(ok(none).getLong("total")).isEqualTo(3);
    var filtered = server.search(new JsonObject("{\"from\":\"users\",\"limit\":1,\"where\":{\"active\":true}}"));
    assertThat(ok(filtered).getLong("total")).isEqualTo(3);
  }

  @Test
  @Timeout(30)
  void aHugeOffsetIsAnEmptyPageNotAnOutOfMemoryError() {
    for (String orderBy : new String[] {null, "id"}) {
      JsonObject query = new JsonObject().put("from", "users").put("offset", 2_000_000_000).put("orderBy", orderBy);
      var page = server.search(query);
      assertThat(hits(page)).isEmpty();
      assertThat(ok(page).getLong("total")).isEqualTo(5);
      assertThat(ok(page).getInteger("offset")).isEqualTo(2_000_000_000);
    }
    var nearTheEnd = server.search(new JsonObject("{\"from\":\"users\",\"offset\":3,\"limit\":10000}"));
    assertThat(column(nearTheEnd, "id")).containsExactly(2, 4);
    assertThat(ok(server.get("/api/v1/health"))).isEqualTo(new JsonObject().put("status", "ok"));
  }

  @Test
  void defaultLimitIsTenAndInsertionOrderHoldsAcrossBatches() {
    ok(server.put("/api/v1/schema/seq", new JsonObject("{\"type\":\"table\",\"columns\":{\"n\":{\"type\":\"Int\"}}}")));
    int n = 0;
    for (int batch = 0; batch < 6; batch++) {
      JsonArray rows = new JsonArray();
      for (int k = 0; k < 7; k++) {
        // Descending values so that no index order could pass for insertion order.
        rows.add(new JsonObject().put("n", 1000 - n++));
      }
      ok(server.post("/api/v1/data/seq/batch", rows));
      ok(server.post("/api/v1/data/seq", new JsonObject().put("n", 1000 - n++)));
    }
    var first = server.search(new JsonObject().put("from", "seq"));
    assertThat(ok(first).getLong("total")).isEqualTo(48);
    assertThat(hits(first)).hasSize(10);
    var all = server.search(new JsonObject().put("from", "seq").put("limit", 100));
    List<Object> values = column(all, "n");
    for (int k = 0; k < 48; k++) {
      assertThat(values.get(k)).as("position " + k).isEqualTo(1000 - k);
    }
  }

  @Test
  void mistakesInQueriesAre400NamingThem() {
    String[][] cases = {
        {"users", "{\"age\":\"28\"}", "age"},
        {"users", "{\"name\":5}", "name"},
        {"users", "{\"active\":\"true\"}", "active"},
        {"users", "{\"score\":\"1.5\"}", "score"},
        {"users", "{\"age\":{\"$gt\":\"x\"}}", "age"},
        {"users", "{\"age\":{\"$match\":\"x\"}}", "age"},
        {"users", "{\"active\":{\"$startsWith\":\"t\"}}", "active"},
        {"users", "{\"nope\":1}", "nope"},
        {"users", "{\"age\":{\"$foo\":1}}", "$foo"},
        {"users", "{\"$foo\":[]}", "$foo"},
        {"users", "{\"$and\":{\"id\":1}}", "$and"},
        {"users", "{\"$exists\":\"nope\"}", "nope"},
        {"users", "{\"age\":{\"$defined\":\"yes\"}}", "age"},
        {"users", "{\"name.first\":\"x\"}", "name"},
        {"orders", "{\"user.nope\":1}", "nope"},
        {"orders", "{\"user.age\":\"x\"}", "age"},
    };
    for (String[] c : cases) {
      var search = server.search(new JsonObject().put("from", c[0]).put("where", new JsonObject(c[1])));
      error(search, 400, c[2]);
      var query = server.post("/api/v1/_query", new JsonObject().put("from", c[0]).put("where", new JsonObject(c[1])));
      error(query, 400, c[2]);
      var delete = server.post("/api/v1/data/_delete", new JsonObject().put("from", c[0])
          .put("where", new JsonObject(c[1])));
      error(delete, 400, c[2]);
    }
    error(server.search(new JsonObject("{\"from\":\"users\",\"orderBy\":\"nope\"}")), 400, "nope");
    error(server.search(new JsonObject("{\"from\":\"users\",\"orderBy\":{\"$up\":\"id\"}}")), 400, "orderBy");
    error(server.search(new JsonObject("{\"from\":\"users\",\"limit\":-1}")), 400, "limit");
    error(server.search(new JsonObject("{\"from\":\"users\",\"limit\":\"ten\"}")), 400, "limit");
    error(server.search(new JsonObject("{\"from\":\"users\",\"offset\":-5}")), 400, "offset");
    error(server.search(new JsonObject("{\"from\":\"users\",\"limit\":10001}")), 400, "limit");
    error(server.search(new JsonObject("{\"from\":\"users\",\"select\":\"name\"}")), 400, "select");
    error(server.search(new JsonObject("{\"where\":{}}")), 400, "from");
    error(server.search(new JsonObject("{\"from\":\"users\",\"where\":\"id = 1\"}")), 400, "users");
    error(server.search(new JsonObject("{\"from\":\"users\",\"where\":{\"id\":[1,2]}}")), 400, "id");
    error(server.search(new JsonObject("{\"from\":\"nope\"}")), 404, "nope");
    error(server.post("/api/v1/_query", new JsonObject("{\"from\":\"nope\"}")), 404, "nope");
    var unknownSelect = server.search(new JsonObject("{\"from\":\"users\",\"select\":[\"nope\"]}"));
    assertThat(unknownSelect.status()).as(unknownSelect.toString()).isIn(400, 404);
    error(unknownSelect, unknownSelect.status(), "nope");
    // Nothing was deleted by the rejected deletes.
    assertThat(server.search(new JsonObject("{\"from\":\"users\",\"limit\":0}")).total()).isEqualTo(5);
    assertThat(server.search(new JsonObject("{\"from\":\"orders\",\"limit\":0}")).total()).isEqualTo(5);
  }

  @Test
  void queryAnswersLikeSearch() {
    String[] queries = {
        "{\"from\":\"users\"}",
        "{\"from\":\"users\",\"where\":{\"bio\":{\"$match\":\"run\"}},\"orderBy\":{\"$desc\":\"age\"}}",
        "{\"from\":\"orders\",\"where\":{\"user.name\":\"carol\"},\"select\":[\"id\",\"user.name\"]}",
        "{\"from\":\"users\",\"offset\":1,\"limit\":2}",
    };
    for (String q : queries) {
      var search = ok(server.search(new JsonObject(q)));
      var query = ok(server.post("/api/v1/_query", new JsonObject(q)));
      assertThat(query).as(q).isEqualTo(search);
    }
  }

  @Test
  void deleteWithEveryKindOfWhere() {
    assertDeleted("users", "{\"id\":3}", 1);
    assertThat(users("{}")).containsExactly(1, 5, 2, 4);
    assertDeleted("users", "{\"age\":{\"$gte\":40}}", 1);
    assertThat(users("{}")).containsExactly(1, 5, 4);
    assertDeleted("users", "{\"bio\":{\"$match\":\"paints\"}}", 1);
    assertThat(users("{}")).containsExactly(5, 4);
    assertDeleted("users", "{\"name\":{\"$startsWith\":\"e\"}}", 1);
    assertThat(users("{}")).containsExactly(4);
    assertDeleted("users", "{\"$not\":{\"id\":4}}", 0);
    assertDeleted("users", "{\"id\":999}", 0);
    assertThat(users("{}")).containsExactly(4);

    // Link paths run against what is left of the linked table.
    assertDeleted("orders", "{\"user.name\":\"carol\"}", 0);
    assertDeleted("orders", "{\"user.name\":\"dave\"}", 1);
    assertThat(ids("orders", "{}")).containsExactly(10, 11, 12, 14);
    assertDeleted("orders", "{\"$or\":[{\"id\":10},{\"amount\":{\"$gt\":50}}]}", 2);
    assertThat(ids("orders", "{}")).containsExactly(11, 12);
    assertDeleted("orders", "{\"$exists\":\"note\"}", 1);
    assertThat(ids("orders", "{}")).containsExactly(11);

    // {} and an absent where delete every row.
    assertDeleted("orders", "{}", 1);
    assertThat(ids("orders", "{}")).isEmpty();
    var absent = server.post("/api/v1/data/_delete", new JsonObject().put("from", "users"));
    assertThat(ok(absent)).isEqualTo(new JsonObject().put("total", 1));
    assertThat(server.search(new JsonObject().put("from", "users")).total()).isZero();

    // The tables still take rows, after what was there before.
    ok(server.post("/api/v1/data/users", new JsonObject("""
        {"id":9,"name":"zed","bio":"new","score":1,"big":1,"active":true}""")));
    assertThat(users("{}")).containsExactly(9);
  }

  @Test
  void deleteMistakes() {
    error(server.post("/api/v1/data/_delete", new JsonObject("{\"from\":\"nope\",\"where\":{}}")), 404, "nope");
    error(server.post("/api/v1/data/_delete", new JsonObject("{\"where\":{}}")), 400, "from");
    error(server.post("/api/v1/data/_delete", "[]"), 400);
    error(server.post("/api/v1/data/_delete", "{\"from\":"), 400);
    assertThat(server.search(new JsonObject("{\"from\":\"users\",\"limit\":0}")).total()).isEqualTo(5);
  }

  private void assertDeleted(String table, String where, long expected) {
    var response = server.post("/api/v1/data/_delete", new JsonObject().put("from", table)
        .put("where", new JsonObject(where)));
    assertThat(ok(response)).as(where).isEqualTo(new JsonObject().put("total", expected));
    assertThat(server.search(new JsonObject().put("from", table).put("where", new JsonObject(where))
        .put("limit", 0)).total()).as(where + " after delete").isZero();
  }
}
