package io.sluice.api;

import static io.sluice.api.ApiAssertions.column;
import static io.sluice.api.ApiAssertions.error;
import static io.sluice.api.ApiAssertions.hits;
import static io.sluice.api.ApiAssertions.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.sluice.TestSeeds;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** docs/api.md §2: inserting rows one at a time and in batches, through HTTP against the real store. */
@ExtendWith(TestSeeds.class)
class RowsApiTest extends ServerTest {
  /** One column of every type, and a nullable one. */
  private static final JsonObject TYPES = new JsonObject("""
      {"type":"table","columns":{"i":{"type":"Int"},"l":{"type":"Long"},"d":{"type":"Decimal"},
       "s":{"type":"String"},"x":{"type":"Text"},"b":{"type":"Boolean"},"n":{"type":"Int","nullable":true}}}""");

  @BeforeEach
  void createTable() {
    ok(server.put("/api/v1/schema/t", TYPES));
  }

  /** A valid row of table t as raw JSON values, so that tests can put in any JSON text. */
  private static Map<String, String> goodRow() {
    Map<String, String> row = new LinkedHashMap<>();
    row.put("i", "1");
    row.put("l", "2");
    row.put("d", "1.5");
    row.put("s", "\"a\"");
    row.put("x", "\"some text\"");
    row.put("b", "true");
    return row;
  }

  private static String json(Map<String, String> row) {
    return row.entrySet().stream().map(e -> "\"" + e.getKey() + "\":" + e.getValue())
        .collect(Collectors.joining(",", "{", "}"));
  }

  private long count(String table) {
    var response = server.search(new JsonObject().put("from", table).put("limit", 0));
    return ok(response).getLong("total");
  }

  @Test
  void aSingleInsertReturnsTheRowAndStoresIt() {
    JsonObject row = new JsonObject("{\"i\":7,\"l\":8,\"d\":0.25,\"s\":\"str\",\"x\":\"Some Text\",\"b\":false,\"n\":null}");
    JsonObject withoutNull = row.copy(); // rows come back without null-valued fields (docs/api.md §4)
    withoutNull.remove("n");
    assertThat(ok(server.post("/api/v1/data/t", row))).isEqualTo(withoutNull);
    assertThat(hits(server.search(new JsonObject().put("from", "t")))).containsExactly(withoutNull);
  }

  @Test
  void aBatchReturnsItsTotalAndAnEmptyBatchIsZero() {
    JsonArray rows = new JsonArray();
    for (int k = 0; k < 25; k++) {
      rows.add(new JsonObject().put("i", k).put("l", k).put("d", k / 4.0).put("s", "s" + k).put("x", "t " + k)
          .put("b", k % 2 == 0));
    }
    assertThat(ok(server.post("/api/v1/data/t/batch", rows))).isEqualTo(new JsonObject().put("total", 25));
    assertThat(ok(server.post("/api/v1/data/t/batch", new JsonArray()))).isEqualTo(new JsonObject().put("total", 0));
    assertThat(count("t")).isEqualTo(25);
    var all = server.search(new JsonObject().put("from", "t").put("limit", 100));
    assertThat(hits(all)).isEqualTo(rows);
  }

  @Test
  void aBatchWithBadRowsStoresNothingAndListsTheFirstFifty() {
    long seed = TestSeeds.seed("RowsApiTest.aBatchWithBadRows");
    Random random = new Random(seed);
    List<String> rows = new ArrayList<>();
    TreeSet<Integer> bad = new TreeSet<>();
    while (bad.size() < 120) {
      bad.add(random.nextInt(300));
    }
    Map<Integer, String> badColumn = new HashMap<>();
    for (int k = 0; k < 300; k++) {
      Map<String, String> row = goodRow();
      if (bad.contains(k)) {
        String col = List.of("i", "l", "d", "s", "b").get(random.nextInt(5));
        row.put(col, col.equals("s") ? "1" : "\"1\"");
        badColumn.put(k, col);
      }
      rows.add(json(row));
    }
    var response = server.post("/api/v1/data/t/batch", "[" + String.join(",", rows) + "]");
    JsonObject body = error(response, 400, "120", "'t'");
    JsonArray errors = body.getJsonArray("errors");
    assertThat(errors).as("seed " + seed).hasSize(50);
    List<Integer> expectedRows = bad.stream().limit(50).toList();
    for (int e = 0; e < 50; e++) {
      JsonObject err = errors.getJsonObject(e);
      int row = expectedRows.get(e);
      assertThat(err.getInteger("row")).as("seed " + seed + ": " + err).isEqualTo(row);
      assertThat(err.getString("column")).as("seed " + seed + ": " + err).isEqualTo(badColumn.get(row));
      assertThat(err.getString("message")).as("seed " + seed + ": " + err).contains(badColumn.get(row));
    }
    assertThat(count("t")).as("seed " + seed).isZero();
  }

  @Test
  void everyTypeErrorIsA400NamingTheRowAndColumn() {
    record Case(String column, String value, String expectedColumn, String fragment) {
    }
    Case[] cases = {
        new Case("i", "2147483648", "i", "range"),
        new Case("i", "-2147483649", "i", "range"),
        new Case("i", "1.5", "i", "Int"),
        new Case("i", "1.0", "i", "Int"),
        new Case("i", "\"1\"", "i", "Int"),
        new Case("i", "true", "i", "Int"),
        new Case("l", "9223372036854775808", "l", "range"),
        new Case("l", "-9223372036854775809", "l", "range"),
        new Case("l", "2.5", "l", "Long"),
        new Case("l", "\"2\"", "l", "Long"),
        new Case("d", "\"1.5\"", "d", "Decimal"),
        new Case("d", "1e400", "d", "range"),
        new Case("d", "false", "d", "Decimal"),
        new Case("s", "5", "s", "String"),
        new Case("s", "{\"a\":1}", "s", "String"),
        new Case("x", "5", "x", "Text"),
        new Case("x", "[\"a\"]", "x", "Text"),
        new Case("b", "1", "b", "Boolean"),
        new Case("b", "\"true\"", "b", "Boolean"),
        new Case("b", "0", "b", "Boolean"),
        new Case("i", null, "i", "missing"),
        new Case("s", null, "s", "missing"),
        new Case("i", "null", "i", "null"),
        new Case("b", "null", "b", "null"),
        new Case("zzz", "1", "zzz", "zzz"),
        new Case("n", "\"1\"", "n", "Int"),
        new Case("n", "1.5", "n", "Int"),
    };
    for (Case c : cases) {
      Map<String, String> bad = goodRow();
      if (c.value() == null) {
        bad.remove(c.column());
      } else {
        bad.put(c.column(), c.value());
      }
      String good = json(goodRow());
      String description = c.column() + "=" + c.value();

      var batch = server.post("/api/v1/data/t/batch", "[" + good + "," + json(bad) + "," + good + "]");
      JsonObject body = error(batch, 400, c.expectedColumn());
      assertThat(body.getJsonArray("errors")).as(description + ": " + batch).hasSize(1);
      JsonObject err = body.getJsonArray("errors").getJsonObject(0);
      assertThat(err.getInteger("row")).as(description + ": " + batch).isEqualTo(1);
      assertThat(err.getString("column")).as(description + ": " + batch).isEqualTo(c.expectedColumn());
      assertThat(err.getString("message")).as(description + ": " + batch).contains(c.fragment());

      var single = server.post("/api/v1/data/t", json(bad));
      error(single, 400, c.expectedColumn(), c.fragment());
    }
    assertThat(count("t")).isZero();
  }

  @Test
  void edgeValuesOfEveryTypeAreStoredExactly() {
    String[] rows = {
        "{\"i\":2147483647,\"l\":9223372036854775807,\"d\":1,\"s\":\"\",\"x\":\"\",\"b\":true}",
        "{\"i\":-2147483648,\"l\":-9223372036854775808,\"d\":-0.001,\"s\":\"ä ✓ \\\"q\\\"\",\"x\":\"x\",\"b\":false,"
            + "\"n\":null}",
        "{\"i\":0,\"l\":0,\"d\":1e300,\"s\":\"s\",\"x\":\"x\",\"b\":false,\"n\":-5}",
    };
    assertThat(ok(server.post("/api/v1/data/t/batch", "[" + String.join(",", rows) + "]")).getLong("total"))
        .isEqualTo(3);
    JsonArray hits = hits(server.search(new JsonObject().put("from", "t")));
    assertThat(hits.getJsonObject(0).getLong("l")).isEqualTo(Long.MAX_VALUE);
    assertThat(hits.getJsonObject(1).getLong("l")).isEqualTo(Long.MIN_VALUE);
    assertThat(hits.getJsonObject(0).getInteger("i")).isEqualTo(Integer.MAX_VALUE);
    assertThat(hits.getJsonObject(1).getInteger("i")).isEqualTo(Integer.MIN_VALUE);
    assertThat(hits.getJsonObject(1).getString("s")).isEqualTo("ä ✓ \"q\"");
    assertThat(hits.getJsonObject(1).containsKey("n")).as("null fields are left out").isFalse();
    assertThat(hits.getJsonObject(0).containsKey("n")).isFalse();
    assertThat(hits.getJsonObject(2).getDouble("d")).isEqualTo(1e300);

    assertThat(column(server.search(new JsonObject("{\"from\":\"t\",\"where\":{\"l\":9223372036854775807}}")), "i"))
        .containsExactly(Integer.MAX_VALUE);
    assertThat(column(server.search(new JsonObject("{\"from\":\"t\",\"where\":{\"l\":{\"$lt\":-9223372036854775807}}}")),
        "i")).containsExactly(Integer.MIN_VALUE);
    assertThat(column(server.search(new JsonObject("{\"from\":\"t\",\"where\":{\"d\":{\"$gte\":1e299}}}")), "i"))
        .containsExactly(0);
    assertThat(column(server.search(new JsonObject("{\"from\":\"t\",\"where\":{\"d\":-0.001}}")), "i"))
        .containsExactly(Integer.MIN_VALUE);
    assertThat(column(server.search(new JsonObject("{\"from\":\"t\",\"where\":{\"n\":null}}")), "i"))
        .containsExactly(Integer.MAX_VALUE, Integer.MIN_VALUE);
  }

  @Test
  void badBodiesAre400() {
    String[][] cases = {
        {"/api/v1/data/t/batch", "{\"i\":1}", "array"},
        {"/api/v1/data/t/batch", "\"rows\"", "array"},
        {"/api/v1/data/t/batch", "5", "array"},
        {"/api/v1/data/t/batch", "null", "array"},
        {"/api/v1/data/t/batch", "[" + json(goodRow()) + ",", "JSON"},
        {"/api/v1/data/t/batch", "[" + json(goodRow()), "JSON"},
        {"/api/v1/data/t/batch", "[{\"i\":1,", "JSON"},
        {"/api/v1/data/t/batch", "[" + json(goodRow()) + "] []", "after"},
        {"/api/v1/data/t/batch", "[{\"i\":1,\"i\":2}]", "i"},
        {"/api/v1/data/t/batch", "[5]", "object"},
        {"/api/v1/data/t/batch", "[[]]", "object"},
        {"/api/v1/data/t/batch", "", "body"},
        {"/api/v1/data/t", "{\"i\":1,", "JSON"},
        {"/api/v1/data/t", "[" + json(goodRow()) + "]", "object"},
        {"/api/v1/data/t", "", "body"},
    };
    for (String[] c : cases) {
      var response = server.post(c[0], c[1]);
      error(response, 400, c[2]);
    }
    assertThat(count("t")).isZero();
  }

  @Test
  void unknownTablesAre404() {
    error(server.post("/api/v1/data/nope/batch", "[" + json(goodRow()) + "]"), 404, "nope");
    error(server.post("/api/v1/data/nope", json(goodRow())), 404, "nope");
    error(server.post("/api/v1/data/nope/optimize", new JsonObject()), 404, "nope");
  }

  @Test
  void aBodyOverTheLimitIs413PointingToTheFileApi(@TempDir Path smallDir) {
    // A Vert.x of its own: two servers in one Vert.x would share the store's event-bus address.
    Vertx vertx = Vertx.vertx();
    TestServer small = new TestServer(vertx, smallDir, Map.of("max.batch.bytes", 1000)).start();
    try {
      ok(small.put("/api/v1/schema/t", TYPES));
      List<String> rows = new ArrayList<>();
      while (String.join(",", rows).length() < 2000) {
        rows.add(json(goodRow()));
      }
      var tooLarge = small.post("/api/v1/data/t/batch", "[" + String.join(",", rows) + "]");
      JsonObject body = error(tooLarge, 413);
      assertThat(body.getString("message")).as(tooLarge.toString()).containsIgnoringCase("file");

      Map<String, String> huge = goodRow();
      huge.put("x", "\"" + "w ".repeat(600) + "\"");
      error(small.post("/api/v1/data/t", json(huge)), 413);

      assertThat(ok(small.post("/api/v1/data/t/batch", "[" + json(goodRow()) + "]")).getLong("total")).isEqualTo(1);
      var count = small.search(new JsonObject().put("from", "t").put("limit", 0));
      assertThat(ok(count).getLong("total")).isEqualTo(1);
    } finally {
      small.stop();
      TestServer.await(vertx.close());
    }
  }

  @Test
  void manyConcurrentBatchesAreAllAcknowledgedAndCountedExactly() {
    int clients = 8;
    int batches = 20;
    int rowsPerBatch = 100;
    ok(server.put("/api/v1/schema/load", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},"client":{"type":"Int"},"batch":{"type":"Int"},
         "row":{"type":"Int"},"text":{"type":"Text"}}}""")));
    List<WebClient> webClients = new ArrayList<>();
    List<Future<HttpResponse<Buffer>>> responses = new ArrayList<>();
    try {
      for (int c = 0; c < clients; c++) {
        WebClient client = server.newClient(4);
        webClients.add(client);
        for (int b = 0; b < batches; b++) {
          JsonArray rows = new JsonArray();
          for (int r = 0; r < rowsPerBatch; r++) {
            rows.add(new JsonObject().put("id", (c * batches + b) * rowsPerBatch + r).put("client", c).put("batch", b)
                .put("row", r).put("text", "client " + c + " batch " + b));
          }
          responses.add(client.post("/api/v1/data/load/batch").putHeader("x-api-key", TestServer.RW_KEY)
              .putHeader("content-type", "application/json").sendBuffer(rows.toBuffer()));
        }
      }
      TestServer.await(Future.join(responses));
    } finally {
      webClients.forEach(WebClient::close);
    }
    for (Future<HttpResponse<Buffer>> future : responses) {
      assertThat(future.succeeded()).as(String.valueOf(future.cause())).isTrue();
      Response response = new Response(future.result());
      assertThat(ok(response)).isEqualTo(new JsonObject().put("total", rowsPerBatch));
    }
    int expected = clients * batches * rowsPerBatch;
    assertThat(count("load")).isEqualTo(expected);

    // Every row exactly once, and within each batch in the order sent.
    Set<Integer> ids = new HashSet<>();
    Map<String, Integer> lastRow = new HashMap<>();
    for (int offset = 0; offset < expected; offset += 10_000) {
      JsonArray page = hits(server.search(new JsonObject().put("from", "load").put("offset", offset)
          .put("limit", 10_000)));
      for (int k = 0; k < page.size(); k++) {
        JsonObject row = page.getJsonObject(k);
        assertThat(ids.add(row.getInteger("id"))).as("duplicate " + row).isTrue();
        String key = row.getInteger("client") + "/" + row.getInteger("batch");
        int previous = lastRow.getOrDefault(key, -1);
        assertThat(row.getInteger("row")).as("order within batch " + key).isEqualTo(previous + 1);
        lastRow.put(key, row.getInteger("row"));
      }
    }
    assertThat(ids).hasSize(expected);
    for (int c = 0; c < clients; c++) {
      var perClient = server.search(new JsonObject().put("from", "load").put("limit", 0)
          .put("where", new JsonObject().put("client", c)));
      assertThat(ok(perClient).getLong("total")).isEqualTo((long) batches * rowsPerBatch);
    }
  }
}
