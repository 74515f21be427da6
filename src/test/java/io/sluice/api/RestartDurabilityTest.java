package io.sluice.api;

import static io.sluice.api.ApiAssertions.column;
import static io.sluice.api.ApiAssertions.error;
import static io.sluice.api.ApiAssertions.hits;
import static io.sluice.api.ApiAssertions.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.sluice.TestSeeds;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Everything acknowledged survives a restart on the same data directory: schemas (every type, links,
 * analyzers), exactly the rows left after deletes, column drops, renames and copies, in insertion order; and
 * writes continue after the old rows.
 */
@ExtendWith(TestSeeds.class)
class RestartDurabilityTest extends ServerTest {
  private static final String[] WORDS = {"running", "runs", "london", "paris", "bakery", "cab", "painter", "sea"};

  /** Every row of a table in default order. */
  private JsonArray rows(String table) {
    var response = server.search(new JsonObject().put("from", table).put("limit", 10_000));
    JsonObject body = ok(response);
    assertThat(body.getJsonArray("hits").size()).as(table).isEqualTo(body.getInteger("total"));
    return body.getJsonArray("hits");
  }

  @Test
  void schemasAndExactlyTheRemainingRowsSurviveARestartAndWritesContinue() {
    long seed = TestSeeds.seed("RestartDurabilityTest");
    Random random = new Random(seed);

    ok(server.put("/api/v1/schema", new JsonObject("""
        {"schema":{
          "users":{"type":"table","columns":{"id":{"type":"Int"},"name":{"type":"String"},
            "bio":{"type":"Text","analyzer":"english"},"age":{"type":"Int","nullable":true},
            "score":{"type":"Decimal"},"big":{"type":"Long"},"active":{"type":"Boolean"},
            "tmp":{"type":"String","nullable":true}}},
          "orders":{"type":"table","columns":{"id":{"type":"Int"},"user":{"type":"Int","link":"users.id"},
            "tags":{"type":"Text","nullable":true,"analyzer":{"type":"delimiter","delimiter":";"}}}},
          "tree":{"type":"table","columns":{"id":{"type":"Int"},"parent":{"type":"Int","nullable":true,
            "link":"this.id"}}},
          "old":{"type":"table","columns":{"n":{"type":"Long"}}}}}""")));

    // Users in several batches and single inserts; the model keeps them in insertion order.
    List<JsonObject> users = new ArrayList<>();
    int id = 0;
    for (int batch = 0; batch < 6; batch++) {
      JsonArray rows = new JsonArray();
      int size = 20 + random.nextInt(40);
      for (int k = 0; k < size; k++) {
        rows.add(user(random, id++));
      }
      assertThat(ok(server.post("/api/v1/data/users/batch", rows)).getInteger("total")).isEqualTo(size);
      rows.forEach(row -> users.add((JsonObject) row));
      JsonObject single = user(random, id++);
      assertThat(ok(server.post("/api/v1/data/users", single))).isEqualTo(single);
      users.add(single);
    }
    JsonArray orders = new JsonArray();
    for (int k = 0; k < 50; k++) {
      JsonObject order = new JsonObject().put("id", k).put("user", random.nextInt(id));
      if (k % 3 != 0) {
        order.put("tags", k % 2 == 0 ? "gift;express" : "bulk");
      }
      orders.add(order);
    }
    ok(server.post("/api/v1/data/orders/batch", orders));
    ok(server.post("/api/v1/data/tree/batch", new JsonArray("""
        [{"id":1},{"id":2,"parent":1},{"id":3,"parent":2},{"id":4,"parent":1}]""")));
    ok(server.post("/api/v1/data/old/batch", new JsonArray("[{\"n\":5000000000},{\"n\":-1},{\"n\":7}]")));

    // Deletes, a dropped column, a rename (links follow) and a copy.
    long young = users.stream().filter(u -> u.getInteger("age") != null && u.getInteger("age") < 30).count();
    var deleted = server.post("/api/v1/data/_delete", new JsonObject("{\"from\":\"users\",\"where\":{\"age\":{\"$lt\":30}}}"));
    assertThat(ok(deleted).getLong("total")).as("seed " + seed).isEqualTo(young);
    users.removeIf(u -> u.getInteger("age") != null && u.getInteger("age") < 30);
    ok(server.post("/api/v1/data/_delete", new JsonObject("{\"from\":\"users\",\"where\":{\"$or\":[{\"id\":0},{\"id\":5},{\"id\":17}]}}")));
    users.removeIf(u -> List.of(0, 5, 17).contains(u.getInteger("id")));
    ok(server.post("/api/v1/data/_delete", new JsonObject("{\"from\":\"orders\",\"where\":{\"id\":{\"$gte\":40}}}")));
    for (int k = orders.size() - 1; k >= 0; k--) {
      if (orders.getJsonObject(k).getInteger("id") >= 40) {
        orders.remove(k);
      }
    }
    ok(server.delete("/api/v1/schema/users/tmp"));
    users.forEach(u -> u.remove("tmp"));
    ok(server.post("/api/v1/schema/_rename", new JsonObject("{\"from\":\"users\",\"rename\":\"people\"}")));
    ok(server.post("/api/v1/schema/_rename", new JsonObject("{\"from\":\"old\",\"rename\":\"renamed\"}")));
    ok(server.post("/api/v1/schema/_copy", new JsonObject("{\"from\":\"renamed\",\"copy\":\"copied\"}")));
    ok(server.post("/api/v1/data/copied", new JsonObject("{\"n\":8}")));

    JsonObject schemaBefore = ok(server.get("/api/v1/schema"));
    assertThat(schemaBefore.getJsonObject("schema").fieldNames())
        .containsExactlyInAnyOrder("people", "orders", "tree", "renamed", "copied");
    assertThat(schemaBefore.getJsonObject("schema").getJsonObject("people").getJsonObject("columns").fieldNames())
        .containsExactly("id", "name", "bio", "age", "score", "big", "active");
    Map<String, JsonArray> expected = new LinkedHashMap<>();
    expected.put("people", new JsonArray(new ArrayList<>(users)));
    expected.put("orders", orders);
    expected.put("tree", new JsonArray("[{\"id\":1},{\"id\":2,\"parent\":1},{\"id\":3,\"parent\":2},{\"id\":4,\"parent\":1}]"));
    expected.put("renamed", new JsonArray("[{\"n\":5000000000},{\"n\":-1},{\"n\":7}]"));
    expected.put("copied", new JsonArray("[{\"n\":5000000000},{\"n\":-1},{\"n\":7},{\"n\":8}]"));
    expected.forEach((table, rows) -> assertThat(rows(table)).as("before restart, seed " + seed + ": " + table)
        .isEqualTo(rows));

    server.restart();

    assertThat(ok(server.get("/api/v1/schema"))).isEqualTo(schemaBefore);
    expected.forEach((table, rows) -> assertThat(rows(table)).as("after restart, seed " + seed + ": " + table)
        .isEqualTo(rows));
    error(server.get("/api/v1/schema/users"), 404, "users");
    error(server.get("/api/v1/schema/old"), 404, "old");

    // Indexes, analyzers and links work as before.
    JsonObject someone = users.get(users.size() / 2);
    assertThat(column(server.search(new JsonObject().put("from", "people")
        .put("where", new JsonObject().put("name", someone.getString("name")))), "id"))
        .containsExactly(someone.getInteger("id"));
    long runners = users.stream().filter(u -> u.getString("bio").matches(".*\\bruns?\\b.*|.*\\brunning\\b.*")).count();
    var matched = server.search(new JsonObject("{\"from\":\"people\",\"where\":{\"bio\":{\"$match\":\"run\"}},\"limit\":0}"));
    assertThat(matched.total()).as("seed " + seed).isEqualTo(runners);
    long expressOrders = orders.stream().filter(o -> "gift;express".equals(((JsonObject) o).getString("tags"))).count();
    assertThat(server.search(new JsonObject("{\"from\":\"orders\",\"where\":{\"tags\":{\"$has\":\"express\"}},\"limit\":0}"))
        .total()).isEqualTo(expressOrders);
    assertThat(ok(server.get("/api/v1/schema/orders/user")).getString("link")).isEqualTo("people.id");
    var withNames = server.search(new JsonObject("{\"from\":\"orders\",\"select\":[\"id\",\"user.name\"],\"limit\":100}"));
    for (Object hit : hits(withNames)) {
      JsonObject row = (JsonObject) hit;
      JsonObject order = orders.stream().map(o -> (JsonObject) o).filter(o -> o.getInteger("id").equals(row.getInteger("id")))
          .findFirst().orElseThrow();
      String name = users.stream().filter(u -> u.getInteger("id").equals(order.getInteger("user")))
          .map(u -> u.getString("name")).findFirst().orElse(null);
      assertThat(row.getString("user.name")).as(row.encode()).isEqualTo(name);
    }
    assertThat(column(server.search(new JsonObject("{\"from\":\"tree\",\"select\":[\"parent.parent\"]}")),
        "parent.parent")).containsExactly(null, null, 1, null);
    assertThat(column(server.search(new JsonObject("{\"from\":\"renamed\",\"where\":{\"n\":{\"$gt\":7}}}")), "n"))
        .containsExactly(5000000000L);

    // Writes continue, after the old rows: in the rewritten, renamed and copied tables too.
    JsonObject late = new JsonObject().put("id", 100_000).put("name", "late").put("bio", "arrives late")
        .put("score", 1.25).put("big", 1L).put("active", true);
    ok(server.post("/api/v1/data/people/batch", new JsonArray().add(late)));
    error(server.post("/api/v1/data/people", late.copy().put("tmp", "x")), 400, "tmp");
    ok(server.post("/api/v1/data/renamed", new JsonObject("{\"n\":9}")));
    ok(server.post("/api/v1/data/copied", new JsonObject("{\"n\":10}")));
    ok(server.post("/api/v1/data/tree", new JsonObject("{\"id\":5,\"parent\":4}")));
    expected.get("people").add(late);
    expected.get("renamed").add(new JsonObject("{\"n\":9}"));
    expected.get("copied").add(new JsonObject("{\"n\":10}"));
    expected.get("tree").add(new JsonObject("{\"id\":5,\"parent\":4}"));
    expected.forEach((table, rows) -> assertThat(rows(table)).as("after new writes: " + table).isEqualTo(rows));

    // And once more, to see that what was written after the first restart is kept as well.
    server.restart();
    expected.forEach((table, rows) -> assertThat(rows(table)).as("after second restart: " + table).isEqualTo(rows));
  }

  @Test
  void aDroppedTableAndADeletedDatabaseStayGone() {
    ok(server.put("/api/v1/schema/a", new JsonObject("{\"type\":\"table\",\"columns\":{\"n\":{\"type\":\"Int\"}}}")));
    ok(server.put("/api/v1/schema/b", new JsonObject("{\"type\":\"table\",\"columns\":{\"n\":{\"type\":\"Int\"}}}")));
    ok(server.post("/api/v1/data/a/batch", new JsonArray("[{\"n\":1},{\"n\":2}]")));
    ok(server.post("/api/v1/data/b/batch", new JsonArray("[{\"n\":3}]")));
    ok(server.delete("/api/v1/schema/a"));
    server.restart();
    assertThat(ok(server.get("/api/v1/schema")).getJsonObject("schema").fieldNames()).containsExactly("b");
    ok(server.put("/api/v1/schema/a", new JsonObject("{\"type\":\"table\",\"columns\":{\"n\":{\"type\":\"Int\"}}}")));
    assertThat(rows("a")).isEmpty();
    assertThat(rows("b")).isEqualTo(new JsonArray("[{\"n\":3}]"));

    ok(server.delete("/api/v1/schema"));
    server.restart();
    assertThat(ok(server.get("/api/v1/schema"))).isEqualTo(new JsonObject().put("schema", new JsonObject()));
    ok(server.put("/api/v1/schema/b", new JsonObject("{\"type\":\"table\",\"columns\":{\"n\":{\"type\":\"Int\"}}}")));
    assertThat(rows("b")).isEmpty();
  }

  private static JsonObject user(Random random, int id) {
    JsonObject user = new JsonObject().put("id", id).put("name", "user-" + id + "-" + random.nextInt(1000))
        .put("bio", WORDS[random.nextInt(WORDS.length)] + " " + WORDS[random.nextInt(WORDS.length)])
        .put("score", random.nextInt(10_000) / 100.0)
        .put("big", random.nextLong())
        .put("active", random.nextBoolean());
    if (random.nextInt(4) != 0) {
      user.put("age", 18 + random.nextInt(60));
    }
    if (random.nextBoolean()) {
      user.put("tmp", "t" + id);
    }
    return user;
  }
}
