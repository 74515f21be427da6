package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.BenchRows;
import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** CSV and JSON-array files (beyond Aito) through the same import pipeline as NDJSON. */
class FileFormatsTest extends ServerTest {
  @Override
  protected Map<String, Object> serverConfig() {
    return Map.of("import.batch.rows", 3);
  }

  @BeforeEach
  void createPeople() {
    server.put("/api/v1/schema/people", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},"name":{"type":"String"},
         "bio":{"type":"Text","analyzer":"english","nullable":true},"score":{"type":"Decimal","nullable":true},
         "active":{"type":"Boolean","nullable":true}}}"""));
  }

  private static final String CSV = "id,name,bio,score,active\r\n"
      + "1,anne,\"likes \"\"quoted\"\" text, and commas\",1.5,true\r\n"
      + "2,bob,\"two\nlines\",,FALSE\r\n"
      + "three,cecilia,,2,true\r\n"
      + "4,dave\r\n"
      + "5,\"eve\",,,\r\n";

  @Test
  void csvFileIsTypedByTheSchemaWithRfc4180Quoting() {
    JsonObject status = importFile(BenchRows.gzip(CSV.getBytes(StandardCharsets.UTF_8)), "csv");
    JsonObject s = status.getJsonObject("status");
    assertThat(s.getString("phase")).as(status.encode()).isEqualTo("Finished");
    assertThat(s.getLong("completedCount")).isEqualTo(3);
    assertThat(s.getLong("failedCount")).isEqualTo(2);
    JsonArray failures = status.getJsonObject("errors").getJsonArray("rows");
    assertThat(failures.getJsonObject(0).getLong("line")).isEqualTo(5);
    assertThat(failures.getJsonObject(0).getString("message")).contains("'id'");
    assertThat(failures.getJsonObject(1).getLong("line")).isEqualTo(6);
    assertThat(failures.getJsonObject(1).getString("message")).contains("2 fields but the header has 5");

    JsonArray hits = server.search(new JsonObject().put("from", "people").put("orderBy", "id")).json()
        .getJsonArray("hits");
    assertThat(hits.getJsonObject(0)).isEqualTo(new JsonObject()
        .put("id", 1).put("name", "anne").put("bio", "likes \"quoted\" text, and commas").put("score", 1.5)
        .put("active", true));
    assertThat(hits.getJsonObject(1).getString("bio")).isEqualTo("two\nlines");
    assertThat(hits.getJsonObject(1).getValue("score")).isNull();
    assertThat(hits.getJsonObject(1).getBoolean("active")).isFalse();
    assertThat(hits.getJsonObject(2).getString("name")).isEqualTo("eve");
    assertThat(server.search(new JsonObject().put("from", "people")
        .put("where", new JsonObject().put("bio", new JsonObject().put("$match", "quote")))).json().getLong("total"))
        .isEqualTo(1);
  }

  @Test
  void csvIsDetectedAndAnUnknownHeaderColumnFailsTheImport() {
    JsonObject detected = importFile(CSV.getBytes(StandardCharsets.UTF_8), null);
    assertThat(detected.getJsonObject("status").getLong("completedCount")).isEqualTo(3);

    JsonObject unknown = importFile("id,nope\n1,2\n".getBytes(StandardCharsets.UTF_8), "csv");
    assertThat(unknown.getJsonObject("status").getString("phase")).isEqualTo("FinishedInError");
    assertThat(unknown.getJsonObject("errors").getString("message")).contains("'nope'");

    JsonObject duplicate = importFile("id,name,id\n77,a,78\n".getBytes(StandardCharsets.UTF_8), "csv");
    assertThat(duplicate.getJsonObject("status").getString("phase")).isEqualTo("FinishedInError");
    assertThat(duplicate.getJsonObject("errors").getString("message")).contains("'id' twice");
    assertThat(server.search(new JsonObject().put("from", "people").put("where", new JsonObject().put("id", 77)))
        .json().getLong("total")).isZero();
  }

  @Test
  void streamedCsvWithADuplicateHeaderColumnIsRefused() {
    var response = TestServer.await(server.client().post("/api/v1/data/people/stream")
        .putHeader("x-api-key", TestServer.RW_KEY).putHeader("content-type", "text/csv")
        .sendBuffer(Buffer.buffer("id,name,name\n7,a,b\n")));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(400);
    assertThat(response.bodyAsJsonObject().getString("message")).contains("'name' twice");
    assertThat(server.search(new JsonObject().put("from", "people").put("limit", 0)).json().getLong("total"))
        .isZero();
  }

  @Test
  void jsonArrayFileGzippedOrNot() {
    String json = "[\n {\"id\": 1, \"name\": \"a, [b]\"},\n {\"id\": 2, \"name\": \"c \\\"}\\\" d\"},"
        + " {\"id\": \"x\", \"name\": \"bad\"}, {\"id\": 4, \"name\": \"e\", \"bio\": null}\n]\n";
    JsonObject plain = importFile(json.getBytes(StandardCharsets.UTF_8), null);
    assertThat(plain.getJsonObject("status").getString("phase")).as(plain.encode()).isEqualTo("Finished");
    assertThat(plain.getJsonObject("status").getLong("completedCount")).isEqualTo(3);
    assertThat(plain.getJsonObject("errors").getJsonArray("rows").getJsonObject(0).getLong("line")).isEqualTo(3);

    JsonObject gz = importFile(BenchRows.gzip(json.getBytes(StandardCharsets.UTF_8)), "json");
    assertThat(gz.getJsonObject("status").getLong("completedCount")).isEqualTo(3);
    assertThat(server.search(new JsonObject().put("from", "people").put("where", new JsonObject().put("id", 2)))
        .json().getJsonArray("hits").getJsonObject(0).getString("name")).isEqualTo("c \"}\" d");

    JsonObject truncated = importFile("[{\"id\": 9, \"name\": \"z\"}, {\"id\"".getBytes(StandardCharsets.UTF_8), "json");
    assertThat(truncated.getJsonObject("status").getString("phase")).isEqualTo("FinishedInError");
    assertThat(truncated.getJsonObject("errors").getString("message")).contains("before it is closed");
  }

  @Test
  void streamEndpointTakesCsvByContentType() {
    var response = TestServer.await(server.client().post("/api/v1/data/people/stream")
        .putHeader("x-api-key", TestServer.RW_KEY).putHeader("content-type", "text/csv")
        .sendBuffer(Buffer.buffer(CSV)));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    assertThat(response.bodyAsJsonObject().getLong("total")).isEqualTo(3);
    assertThat(response.bodyAsJsonObject().getLong("failedCount")).isEqualTo(2);
    var badFormat = server.post("/api/v1/data/people/file", new JsonObject().put("format", "xml"));
    assertThat(badFormat.status()).isEqualTo(400);
  }

  private JsonObject importFile(byte[] body, String format) {
    JsonObject request = format == null ? new JsonObject() : new JsonObject().put("format", format);
    JsonObject initiated = server.post("/api/v1/data/people/file", request).json();
    var put = TestServer.await(server.client().requestAbs(HttpMethod.PUT, initiated.getString("url"))
        .sendBuffer(Buffer.buffer(body)));
    assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(200);
    String id = initiated.getString("id");
    server.post("/api/v1/data/people/file/" + id, new JsonObject());
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      JsonObject status = server.get("/api/v1/data/people/file/" + id).json();
      if (status.getJsonObject("status").getBoolean("finished")) {
        return status;
      }
      try {
        Thread.sleep(30);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("import did not finish");
  }
}
