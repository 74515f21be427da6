package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.sluice.TestPostgres;
import io.sluice.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
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

  /** Valid JSON that the PostgreSQL engine cannot store (text cannot hold U+0000): a 400 naming where, not a 503. */
  @Test
  void aNulCharacterIsStoredOrRefusedNamingItsRowAndColumn() {
    var batch = server.post("/api/v1/data/t/batch", new JsonArray()
        .add(new JsonObject().put("id", 1).put("name", "ok"))
        .add(new JsonObject().put("id", 2).put("name", "a\u0000b")));
    var stream = server.send(HttpMethod.POST, "/api/v1/data/t/stream",
        "{\"id\":3}\n{\"id\":4,\"name\":\"c\\u0000d\"}\n{\"id\":5}\n", TestServer.RW_KEY);
    assertThat(stream.status()).as(stream.toString()).isEqualTo(200);
    long total = server.search(new JsonObject().put("from", "t").put("limit", 0)).json().getLong("total");
    if (!TestPostgres.chosen()) {
      assertThat(batch.status()).as(batch.toString()).isEqualTo(200);
      assertThat(stream.json().getLong("total")).as(stream.toString()).isEqualTo(3);
      assertThat(total).isEqualTo(5);
      return;
    }
    assertThat(batch.status()).as(batch.toString()).isEqualTo(400);
    assertThat(batch.json().getString("message")).as(batch.toString()).contains("row 1", "'name'", "U+0000");
    JsonObject error = batch.json().getJsonArray("errors").getJsonObject(0);
    assertThat(error.getInteger("row")).isEqualTo(1);
    assertThat(error.getString("column")).isEqualTo("name");
    // an import skips and reports just that line
    assertThat(stream.json().getLong("total")).as(stream.toString()).isEqualTo(2);
    assertThat(stream.json().getLong("failedCount")).isEqualTo(1);
    JsonObject failed = stream.json().getJsonObject("errors").getJsonArray("rows").getJsonObject(0);
    assertThat(failed.getLong("line")).isEqualTo(2);
    assertThat(failed.getString("message")).contains("'name'", "U+0000");
    assertThat(total).as("the refused batch stored nothing").isEqualTo(2);
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

  // ---------------------------------------------------------------- malformed text

  /** Byte sequences that are not text, each with a word its error message must contain. */
  private static final Object[][] NOT_TEXT = {
      {new byte[] {(byte) 0xC0, (byte) 0xAF}, "overlong"},
      {new byte[] {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, "overlong"},
      {new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, "surrogate"},
      {new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, "above U+10FFFF"},
      {new byte[] {(byte) 0xE2, (byte) 0x82}, "truncated"},
      {new byte[] {(byte) 0x80}, "continuation"},
      {"\\uD800".getBytes(StandardCharsets.US_ASCII), "unpaired surrogate"},
      {"\\uDC00\\uD800".getBytes(StandardCharsets.US_ASCII), "unpaired surrogate"},
      {"\\uD800x".getBytes(StandardCharsets.US_ASCII), "unpaired surrogate"},
  };

  private static byte[] concat(String before, byte[] middle, String after) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
    out.writeBytes(middle);
    out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  @Test
  void malformedTextIsRefusedOnEveryWritePath(Vertx vertx) {
    long stored = 0;
    for (Object[] sample : NOT_TEXT) {
      byte[] bad = (byte[]) sample[0];
      String word = (String) sample[1];
      boolean escape = bad[0] == '\\';
      String what = word + " " + java.util.HexFormat.ofDelimiter(" ").formatHex(bad);

      // batch and single row: 400 naming the problem and where, nothing stored
      var batch = server.send(HttpMethod.POST, "/api/v1/data/t/batch",
          Buffer.buffer(concat("[{\"id\":1},{\"id\":2,\"name\":\"a", bad, "b\"}]")), TestServer.RW_KEY);
      assertThat(batch.status()).as(what + ": " + batch).isEqualTo(400);
      assertThat(batch.json().getString("message")).as(what).contains(word).contains("line 1, column 28");
      var one = server.send(HttpMethod.POST, "/api/v1/data/t",
          Buffer.buffer(concat("{\"id\":2,\n\"name\":\"a", bad, "b\"}")), TestServer.RW_KEY);
      assertThat(one.status()).as(what + ": " + one).isEqualTo(400);
      assertThat(one.json().getString("message")).as(what).contains(word).contains("line 2, column 10");

      // stream (NDJSON, JSON array, CSV) and file import: the line is rejected and says where; the rest lands
      var ndjson = server.send(HttpMethod.POST, "/api/v1/data/t/stream",
          Buffer.buffer(concat("{\"id\":1}\n{\"id\":2,\"name\":\"a", bad, "b\"}\n{\"id\":3}\n")), TestServer.RW_KEY);
      assertRejectedLine(ndjson, 2, 2, word, "column 18", what);
      var array = server.send(HttpMethod.POST, "/api/v1/data/t/stream?format=json",
          Buffer.buffer(concat("[{\"id\":1},{\"id\":2,\"name\":\"a", bad, "b\"}]")), TestServer.RW_KEY);
      assertRejectedLine(array, 1, 2, word, "column 18", what);
      stored += 3;
      if (!escape) { // in CSV a backslash is just a character
        var csv = server.send(HttpMethod.POST, "/api/v1/data/t/stream?format=csv",
            Buffer.buffer(concat("id,name\n1,ok\n2,a", bad, "b\n")), TestServer.RW_KEY);
        assertRejectedLine(csv, 1, 3, word, "line 3, column 4", what);
        stored += 1;
      }
      JsonObject file = importFile(vertx, concat("{\"id\":1}\n{\"id\":2,\"name\":\"a", bad, "b\"}\n"));
      assertThat(file.getJsonObject("status").getString("phase")).as(what).isEqualTo("Finished");
      assertThat(file.getJsonObject("status").getLong("completedCount")).as(what).isEqualTo(1);
      JsonObject failure = file.getJsonObject("errors").getJsonArray("rows").getJsonObject(0);
      assertThat(failure.getLong("line")).as(what).isEqualTo(2);
      assertThat(failure.getString("message")).as(what).contains(word).contains("column 18");
      stored += 1;
    }
    JsonObject all = server.search(new JsonObject().put("from", "t").put("limit", 1000)).json();
    assertThat(all.getLong("total")).isEqualTo(stored);
    assertThat(all.getJsonArray("hits").encode()).doesNotContain("\uFFFD").doesNotContain("\\uFFFD");
  }

  @Test
  void wellFormedTextIsStoredExactly() {
    // A raw 4-byte character, an escaped surrogate pair and an escaped BMP character are all text.
    byte[] body = "[{\"id\":1,\"name\":\"\uD83D\uDE00\"},{\"id\":2,\"name\":\"\\uD83D\\uDE00\"},{\"id\":3,\"name\":\"\\u00e9\\\\uD800\"}]"
        .getBytes(StandardCharsets.UTF_8);
    var response = server.send(HttpMethod.POST, "/api/v1/data/t/batch", Buffer.buffer(body), TestServer.RW_KEY);
    assertThat(response.status()).as(response.toString()).isEqualTo(200);
    var hits = server.search(new JsonObject().put("from", "t").put("orderBy", "id")).json().getJsonArray("hits");
    assertThat(hits.getJsonObject(0).getString("name")).isEqualTo("\uD83D\uDE00");
    assertThat(hits.getJsonObject(1).getString("name")).isEqualTo("\uD83D\uDE00");
    assertThat(hits.getJsonObject(2).getString("name")).isEqualTo("\u00e9\\uD800"); // an escaped backslash, then text
  }

  private static void assertRejectedLine(TestServer.Response response, long total, long line, String word,
      String where, String what) {
    assertThat(response.status()).as(what + ": " + response).isEqualTo(200);
    assertThat(response.json().getLong("total")).as(what + ": " + response).isEqualTo(total);
    assertThat(response.json().getLong("failedCount")).as(what + ": " + response).isEqualTo(1);
    JsonObject failure = response.json().getJsonObject("errors").getJsonArray("rows").getJsonObject(0);
    assertThat(failure.getLong("line")).as(what + ": " + response).isEqualTo(line);
    assertThat(failure.getString("message")).as(what + ": " + response).contains(word).contains(where);
  }

  /** A file import of {@code body} into t through the signed upload URL; polls (on timers) until it ends. */
  private JsonObject importFile(Vertx vertx, byte[] body) {
    JsonObject initiated = server.post("/api/v1/data/t/file", new JsonObject()).json();
    assertThat(server.upload(initiated.getString("url"), Buffer.buffer(body)).status()).isEqualTo(200);
    String id = initiated.getString("id");
    assertThat(server.post("/api/v1/data/t/file/" + id, new JsonObject()).status()).isEqualTo(200);
    for (int i = 0; i < 2400; i++) {
      JsonObject status = server.get("/api/v1/data/t/file/" + id).json();
      if (status.getJsonObject("status").getBoolean("finished")) {
        return status;
      }
      TestServer.await(vertx.timer(50));
    }
    throw new AssertionError("import " + id + " did not finish");
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
  // queries

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
  // names

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

  // ---------------------------------------------------------------- errors from below the router

  /** A response read from a raw socket: what the Vert.x client cannot send is written byte for byte. */
  record RawResponse(int status, String headers, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }

    @Override
    public String toString() {
      return status + " " + headers.replace("\r\n", " | ") + " " + body;
    }
  }

  /** Sends {@code request} as is and reads one response (it must have a Content-Length or close the connection). */
  private RawResponse raw(String request) throws IOException {
    return raw(request.getBytes(StandardCharsets.ISO_8859_1));
  }

  private RawResponse raw(byte[] request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(20_000);
      try {
        socket.getOutputStream().write(request);
        socket.getOutputStream().flush();
      } catch (IOException e) {
        // The server may answer and close before reading all of a request it refuses: read what it said.
      }
      InputStream in = socket.getInputStream();
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          throw new AssertionError("connection closed before a response; got: " + head);
        }
        head.append((char) b);
      }
      String headers = head.toString();
      int status = Integer.parseInt(headers.substring(9, 12));
      java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length:\\s*(\\d+)").matcher(headers);
      byte[] body = length.find() ? in.readNBytes(Integer.parseInt(length.group(1))) : in.readAllBytes();
      return new RawResponse(status, headers, new String(body, StandardCharsets.UTF_8));
    }
  }

  private static void assertJsonError(RawResponse response, int status, String fragment) {
    assertThat(response.status()).as(response.toString()).isEqualTo(status);
    assertThat(response.headers().toLowerCase(java.util.Locale.ROOT)).as(response.toString())
        .contains("content-type: application/json");
    JsonObject body = response.json();
    assertThat(body.getInteger("status")).as(response.toString()).isEqualTo(status);
    assertThat(body.getString("message")).as(response.toString()).containsIgnoringCase(fragment);
  }

  @Test
  void errorsOfTheHttpDecoderAreJsonToo() throws IOException {
    String key = "x-api-key: " + TestServer.RW_KEY + "\r\n";
    assertJsonError(raw("GET /api/v1/schema/" + "a".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n"), 414,
        "request line is too long");
    assertJsonError(raw("POST /api/v1/data/t/batch HTTP/1.1\r\nHost: x\r\n" + key
        + "Content-Length: 99999999999999999999999999\r\n\r\n[]"), 400, "malformed HTTP request");
    assertJsonError(raw("POST /api/v1/data/t/batch HTTP/1.1\r\nHost: x\r\n" + key
        + "Content-Length: -5\r\n\r\n[]"), 400, "malformed HTTP request");
    assertJsonError(raw("GET /api/v1/schema HTTP/1.1\r\nHost: x\r\n" + key + "x-big: " + "b".repeat(10_000)
        + "\r\n\r\n"), 431, "headers are too large");
    assertJsonError(raw("GARBAGE\r\n\r\n"), 400, "malformed HTTP request");
    assertJsonError(raw("GET /api/v1/schema HTTP/9.9\r\nHost: x\r\n\r\n"), 501, "HTTP version");
    assertThat(server.search(new JsonObject().put("from", "t").put("limit", 0)).json().getLong("total")).isZero();
  }

  @Test
  void errorsOfTheRouterAreJson() throws IOException {
    String key = "x-api-key: " + TestServer.RW_KEY + "\r\n";
    assertJsonError(raw("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 404, "no such endpoint");
    assertJsonError(raw("PATCH /api/v1/schema HTTP/1.1\r\nHost: x\r\n" + key + "Connection: close\r\n\r\n"),
        405, "not allowed");
    assertJsonError(raw("DELETE /api/v1/_search HTTP/1.1\r\nHost: x\r\n" + key + "Connection: close\r\n\r\n"),
        405, "not allowed");
    // Over max.batch.bytes by its declared length: refused before a byte of the body is read.
    assertJsonError(raw("POST /api/v1/data/t/batch HTTP/1.1\r\nHost: x\r\n" + key
        + "Content-Type: application/json\r\nConnection: close\r\nContent-Length: " + (10 * 1024 * 1024 + 1)
        + "\r\n\r\n[]"), 413, "larger than the limit");
    assertJsonError(raw("GET /api/v1/schema/%zz HTTP/1.1\r\nHost: x\r\n" + key + "Connection: close\r\n\r\n"),
        400, "");
  }

  // ---------------------------------------------------------------- upload URLs

  @Test
  void uploadUrlsNeverComeFromTheHostHeader() throws IOException {
    String expected = "http://127.0.0.1:" + server.port() + "/uploads/";
    for (String forged : new String[] {"Host: evil.example\r\n",
        "Host: evil.example:443\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\n"}) {
      RawResponse response = raw("POST /api/v1/data/t/file HTTP/1.1\r\n" + forged + "x-api-key: " + TestServer.RW_KEY
          + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
      assertThat(response.status()).as(response.toString()).isEqualTo(200);
      assertThat(response.json().getString("url")).as(response.toString()).startsWith(expected)
          .doesNotContain("evil");
    }
  }
}
