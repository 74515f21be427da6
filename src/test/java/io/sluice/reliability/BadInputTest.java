package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

  // ---------------------------------------------------------------- malformed text (issue 12, item 3)

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

  // ---------------------------------------------------------------- errors from below the router (issue 12, item 7)

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

  // ---------------------------------------------------------------- upload URLs (issue 12, item 6)

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
