package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Bad input is a clear 4xx and changes nothing. */
class BadInputTest extends ServerTest {
  @BeforeEach
  void createTable() {
    server.put("/api/v1/schema/t", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},"price":{"type":"Decimal","nullable":true},
         "name":{"type":"String","nullable":true}}}"""));
  }

  private void assertRejected(String body, int status, String fragment) {
    var response = server.send(HttpMethod.POST, "/api/v1/data/t/batch", Buffer.buffer(body), TestServer.RW_KEY);
    assertThat(response.status()).as(response.toString()).isEqualTo(status);
    assertThat(response.json().getString("message")).as(response.toString()).containsIgnoringCase(fragment);
    assertThat(server.search(new JsonObject().put("from", "t").put("limit", 0)).json().getLong("total"))
        .as("nothing stored after " + body).isZero();
  }

  @Test
  void malformedJsonShapesAreRejected() {
    assertRejected("[{\"id\":1,\"id\":2}]", 400, "duplicate");
    assertRejected("[{\"id\":1,\"name\":" + "[".repeat(200) + "]".repeat(200) + "}]", 400, "nesting");
    assertRejected("[{\"id\":1}, {\"id\":99999999999999999999999999}]", 400, "out of range");
    assertRejected("[{\"id\":1,\"price\":1e400}]", 400, "price");
    assertRejected("[{\"id\":1,\"price\":" + "9".repeat(1000) + "}]", 400, "number");
    assertRejected("[{\"id\":1}", 400, "JSON");
    assertRejected("{\"id\":1}", 400, "array");
  }

  @Test
  void invalidUtf8IsRejected() {
    byte[] body = "[{\"id\":1,\"name\":\"xx\"}]".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    body[17] = (byte) 0xC3;
    body[18] = (byte) 0x28;
    var response = server.send(HttpMethod.POST, "/api/v1/data/t/batch", Buffer.buffer(body), TestServer.RW_KEY);
    assertThat(response.status()).as(response.toString()).isEqualTo(400);
    assertThat(response.json().getString("message")).containsIgnoringCase("UTF-8");
  }

  @Test
  void tableAndColumnNamesNeverBecomePaths() throws Exception {
    for (String name : new String[] {"..", "..%2F..%2Fetc", "a.b", "%2E%2E", "a%20b", "x$y"}) {
      var response = server.put("/api/v1/schema/" + name, new JsonObject("{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"}}}"));
      assertThat(response.status()).as(name + ": " + response).isIn(400, 404);
    }
    var badColumn = server.put("/api/v1/schema/ok", new JsonObject("{\"type\":\"table\",\"columns\":{\"../x\":{\"type\":\"Int\"}}}"));
    assertThat(badColumn.status()).isEqualTo(400);
    try (Stream<Path> files = Files.walk(dataDir)) {
      assertThat(files.map(p -> p.getFileName().toString())).noneMatch(f -> f.contains("..") || f.equals("etc"));
    }
    assertThat(server.get("/api/v1/schema").json().getJsonObject("schema").fieldNames()).containsExactly("t");
  }

  @Test
  void multipartAndUnknownContentTypesAre415() {
    for (String type : new String[] {"multipart/form-data; boundary=x", "application/xml", "image/png"}) {
      var response = server.client().post("/api/v1/data/t/batch").putHeader("x-api-key", TestServer.RW_KEY)
          .putHeader("content-type", type).sendBuffer(Buffer.buffer("[{\"id\":1}]"));
      var result = TestServer.await(response);
      assertThat(result.statusCode()).as(type).isEqualTo(415);
      assertThat(result.bodyAsJsonObject().getString("message")).contains("content type");
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // queries (issue 12)

  private static final String[] READ_PATHS = {"/api/v1/_search", "/api/v1/_query"};
  private static final String DELETE_PATH = "/api/v1/data/_delete";

  private void loadRows() {
    var loaded = server.post("/api/v1/data/t/batch", new JsonArray(
        "[{\"id\":1,\"price\":1.5,\"name\":\"a\"},{\"id\":2,\"price\":2.5,\"name\":\"b\"},{\"id\":3}]"));
    assertThat(loaded.status()).as(loaded.toString()).isEqualTo(200);
  }

  private long rows(String table) {
    return server.search(new JsonObject().put("from", table).put("limit", 0)).json().getLong("total");
  }

  private static void assertError(TestServer.Response response, int status, String... fragments) {
    assertThat(response.status()).as(response.toString()).isEqualTo(status);
    JsonObject body = response.json();
    assertThat(body.getInteger("status")).as(response.toString()).isEqualTo(status);
    assertThat(body.getString("message")).as(response.toString()).isNotBlank();
    if (fragments.length > 0) {
      assertThat(body.getString("message")).as(response.toString()).contains(fragments);
    }
  }

  /**
   * The body through every endpoint that takes a where-clause: _search and _query with the read-only key, _delete,
   * and the same three as jobs (whose result is the endpoint's own answer). Each is the given 4xx; nothing is
   * deleted.
   */
  private void assertRefusedEverywhere(String table, String body, int status, String... fragments) {
    long before = rows(table);
    for (String path : READ_PATHS) {
      assertError(server.send(HttpMethod.POST, path, Buffer.buffer(body), TestServer.RO_KEY), status, fragments);
    }
    assertError(server.send(HttpMethod.POST, DELETE_PATH, Buffer.buffer(body), TestServer.RW_KEY), status, fragments);
    for (String path : new String[] {"/api/v1/jobs/_search", "/api/v1/jobs/_query", "/api/v1/jobs/data/_delete"}) {
      String key = path.endsWith("_delete") ? TestServer.RW_KEY : TestServer.RO_KEY;
      var started = server.send(HttpMethod.POST, path, Buffer.buffer(body), key);
      assertThat(started.status()).as(path + ": " + started).isEqualTo(201);
      assertError(jobResult(started.json().getString("id")), status, fragments);
    }
    assertThat(rows(table)).as("rows after " + body).isEqualTo(before);
  }

  /** The job's result once it has one: polled through the API, which answers 409 until the job has finished. */
  private TestServer.Response jobResult(String id) {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (true) {
      var result = server.get("/api/v1/jobs/" + id + "/result");
      if (result.status() != 409 || System.nanoTime() > deadline) {
        return result;
      }
    }
  }

  private static String nested(String operator, int levels, String inner) {
    String where = inner;
    for (int i = 0; i < levels; i++) {
      where = "{\"" + operator + "\":" + where + "}";
    }
    return where;
  }

  @Test
  void deepOrHugePropositionsAre400OnEveryEndpoint() {
    loadRows();
    // 800 levels: refused by the JSON parser's nesting limit (it overflowed the stack of the compiler: 500).
    assertRefusedEverywhere("t", "{\"from\":\"t\",\"where\":" + nested("$not", 800, "{\"id\":1}") + "}", 400,
        "nesting depth");
    // Within the parser's limit but past the where-clause's own: at the top level, under a column, in arrays.
    assertRefusedEverywhere("t", "{\"from\":\"t\",\"where\":" + nested("$not", 40, "{\"id\":1}") + "}", 400,
        "nested too deeply", "'t'");
    assertRefusedEverywhere("t", "{\"from\":\"t\",\"where\":{\"id\":" + nested("$not", 40, "1") + "}}", 400,
        "nested too deeply");
    String ands = "{\"id\":1}";
    for (int i = 0; i < 20; i++) {
      ands = "{\"$and\":[" + ands + "]}";
    }
    assertRefusedEverywhere("t", "{\"from\":\"t\",\"where\":" + ands + "}", 400, "nested too deeply");
    // Just within the limits it works.
    var deepest = server.send(HttpMethod.POST, "/api/v1/_search",
        Buffer.buffer("{\"from\":\"t\",\"where\":" + nested("$not", 30, "{\"id\":1}") + "}"), TestServer.RO_KEY);
    assertThat(deepest.status()).as(deepest.toString()).isEqualTo(200);
    assertThat(deepest.json().getLong("total")).isEqualTo(1);

    // Wide: more values than a where-clause may hold.
    JsonArray wide = new JsonArray();
    for (int i = 0; i < 5000; i++) {
      wide.add(new JsonObject().put("id", i));
    }
    assertRefusedEverywhere("t", new JsonObject().put("from", "t").put("where", new JsonObject().put("$or", wide))
        .encode(), 400, "too large");
    // Duplicate keys are refused as in rows, not silently reduced to the last one.
    assertRefusedEverywhere("t", "{\"from\":\"t\",\"where\":{\"id\":1,\"id\":2}}", 400, "Duplicate field 'id'");
    assertRefusedEverywhere("t", "{\"from\":\"t\",\"where\":{\"id\":1},\"from\":\"t\"}", 400, "Duplicate");
  }

  @Test
  void linkPathsAndSelectAreBounded() {
    server.put("/api/v1/schema/o", new JsonObject(
        "{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"},\"t\":{\"type\":\"Int\",\"link\":\"t.id\"}}}"));
    JsonArray paths = new JsonArray();
    for (int i = 0; i < 65; i++) {
      paths.add(new JsonObject().put("t.id", i));
    }
    assertRefusedEverywhere("o", new JsonObject().put("from", "o").put("where", new JsonObject().put("$or", paths))
        .encode(), 400, "link paths");
    JsonArray select = new JsonArray();
    for (int i = 0; i < 1025; i++) {
      select.add("t.id");
    }
    assertError(server.search(new JsonObject().put("from", "o").put("select", select)), 400, "select", "1024");
  }

  @Test
  void operatorsThatDoNotApplyToTheColumnTypeAre400AndDeleteNothing() {
    server.put("/api/v1/schema/k", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},"txt":{"type":"Text","analyzer":"english"},
         "s":{"type":"String"},"b":{"type":"Boolean"},"d":{"type":"Decimal"}}}"""));
    var loaded = server.post("/api/v1/data/k/batch", new JsonArray("""
        [{"id":1,"txt":"apple pie","s":"a","b":true,"d":1.5},{"id":2,"txt":"Banana","s":"b","b":false,"d":2},
         {"id":3,"txt":"cherry","s":"c","b":true,"d":-1}]"""));
    assertThat(loaded.status()).as(loaded.toString()).isEqualTo(200);
    String[][] cases = {
        // {where, fragments the message must hold: column, operator, type}
        {"{\"b\":{\"$gt\":true}}", "'b'", "'$gt'", "Boolean"},
        {"{\"b\":{\"$lte\":\"x\"}}", "'b'", "'$lte'", "Boolean"},
        {"{\"id\":{\"$match\":\"1\"}}", "'id'", "'$match'", "Int"},
        {"{\"d\":{\"$has\":\"1\"}}", "'d'", "'$has'", "Decimal"},
        {"{\"b\":{\"$match\":\"true\"}}", "'b'", "'$match'", "Boolean"},
        {"{\"id\":{\"$startsWith\":\"1\"}}", "'id'", "'$startsWith'", "Int"},
        {"{\"b\":{\"$startsWith\":\"t\"}}", "'b'", "'$startsWith'", "Boolean"},
        {"{\"txt\":{\"$gt\":1}}", "'txt'", "'$gt'", "Text"},
        {"{\"s\":{\"$lt\":5}}", "'s'", "'$lt'", "String"},
        {"{\"id\":{\"$gt\":\"a\"}}", "'id'", "'$gt'", "Int"},
        {"{\"d\":{\"$gte\":true}}", "'d'", "'$gte'", "Decimal"},
        {"{\"txt\":{\"$regex\":\"a.*\"}}", "'txt'", "'$regex'", "Text"},
        {"{\"$nor\":[{\"id\":1}]}", "'$nor'"},
        {"{\"txt\":{\"$not\":{\"$gt\":1}}}", "'txt'", "'$gt'"},
        {"{\"$or\":[{\"id\":1},{\"b\":{\"$lt\":false}}]}", "'b'", "'$lt'"},
    };
    for (String[] c : cases) {
      assertRefusedEverywhere("k", "{\"from\":\"k\",\"where\":" + c[0] + "}", 400,
          java.util.Arrays.copyOfRange(c, 1, c.length));
    }
    // A misspelt "where" is not an absent one (which deletes every row).
    assertRefusedEverywhere("k", "{\"from\":\"k\",\"wehre\":{\"id\":1}}", 400, "'wehre'");
    assertThat(rows("k")).isEqualTo(3);

    // Ranges on String and Text compare the exact values' bytes; search and delete agree on every one.
    for (String where : List.of("{\"txt\":{\"$gt\":\"a\"}}", "{\"txt\":{\"$lt\":\"b\"}}",
        "{\"s\":{\"$gte\":\"b\"}}", "{\"txt\":{\"$gte\":\"Banana\",\"$lt\":\"c\"}}")) {
      JsonObject query = new JsonObject().put("from", "k").put("where", new JsonObject(where));
      long before = rows("k");
      long found = server.search(query.copy().put("limit", 0)).json().getLong("total");
      var deleted = server.post(DELETE_PATH, query);
      assertThat(deleted.status()).as(deleted.toString()).isEqualTo(200);
      assertThat(deleted.json().getLong("total")).as(where).isEqualTo(found);
      assertThat(rows("k")).as(where).isEqualTo(before - found);
      assertThat(server.search(query.copy().put("limit", 0)).json().getLong("total")).isZero();
    }
    // "apple pie" > "a" and "cherry" > "a" went first; "Banana" < "a" in byte order, < "b" went second.
    assertThat(rows("k")).isZero();
  }

  @Test
  void numbersOutOfRangeInAWhereClauseAre400() {
    loadRows();
    for (String number : new String[] {"1e400", "-1e400", "1" + "0".repeat(320)}) {
      for (String where : new String[] {"{\"price\":" + number + "}", "{\"price\":{\"$gt\":" + number + "}}",
          "{\"id\":{\"$lte\":" + number + "}}", "{\"id\":{\"$is\":" + number + "}}"}) {
        String column = where.contains("price") ? "'price'" : "'id'";
        assertRefusedEverywhere("t", "{\"from\":\"t\",\"where\":" + where + "}", 400, column, "out of range");
      }
    }
    assertThat(rows("t")).isEqualTo(3);
  }

  // ---------------------------------------------------------------------------------------------------------
  // names (issue 12)

  private static final JsonObject ONE_INT = new JsonObject("{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"}}}");

  @Test
  void namesWithControlCharactersOrInvalidUtf8AreRefusedWherever() {
    // In the path: control characters, DEL, C1 controls, and bytes that are not UTF-8 (never a U+FFFD).
    for (String name : new String[] {"x%00y", "x%01y%7F", "x%C2%85y", "bad%FFname", "%C0%AF", "a%E2%80%A8b",
        "x%ED%A0%80y"}) {
      assertError(server.put("/api/v1/schema/" + name, ONE_INT), 400, "name");
      assertError(server.put("/api/v1/schema/t/" + name, new JsonObject("{\"type\":\"Int\",\"nullable\":true}")),
          400);
    }
    // In bodies: table and column names, link targets, _rename and _copy.
    assertError(server.put("/api/v1/schema", new JsonObject().put("schema", new JsonObject()
        .put("ok", ONE_INT).put("x\u0000y", ONE_INT))), 400, "invalid table name 'x\\u0000y'");
    assertError(server.put("/api/v1/schema/ok", new JsonObject().put("type", "table")
        .put("columns", new JsonObject().put("a\u001Fb", new JsonObject().put("type", "Int")))), 400,
        "invalid column name 'a\\u001Fb'");
    assertError(server.put("/api/v1/schema/ok", new JsonObject().put("type", "table")
        .put("columns", new JsonObject().put("ref", new JsonObject().put("type", "Int").put("link", "t\u0007.id")))),
        400, "'link'");
    assertError(server.put("/api/v1/schema/ok", new JsonObject().put("type", "table")
        .put("columns", new JsonObject().put("ref", new JsonObject().put("type", "Int").put("link", "t.i\u0085d")))),
        400, "'link'");
    assertError(server.put("/api/v1/schema/t/c%0Ad", new JsonObject("{\"type\":\"Int\",\"nullable\":true}")), 400);
    assertError(server.post("/api/v1/schema/_rename", new JsonObject().put("from", "t").put("rename", "t\u007F")),
        400, "invalid table name");
    assertError(server.post("/api/v1/schema/_copy", new JsonObject().put("from", "t").put("copy", "\u0000")), 400,
        "invalid table name");
    // Lone surrogates are not text (a JSON "\\ud800" escape decodes to one).
    assertError(server.send(HttpMethod.POST, "/api/v1/schema/_copy",
        Buffer.buffer("{\"from\":\"t\",\"copy\":\"x\\ud800\"}"), TestServer.RW_KEY), 400, "invalid table name");

    // Unicode text is fine; nothing else was created, before or after a restart.
    var unicode = server.put("/api/v1/schema/k%C3%A4ytt%C3%A4j%C3%A4t", ONE_INT);
    assertThat(unicode.status()).as(unicode.toString()).isEqualTo(200);
    server.restart();
    assertThat(server.get("/api/v1/schema").json().getJsonObject("schema").fieldNames())
        .containsExactlyInAnyOrder("t", "käyttäjät");
    assertThat(server.get("/api/v1/schema/t").json().getJsonObject("columns").fieldNames())
        .containsExactlyInAnyOrder("id", "price", "name");
  }
}
