package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
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
}
