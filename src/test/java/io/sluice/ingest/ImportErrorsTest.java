package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.BenchRows;
import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /api/v1/data/{table}/file/{id}/errors}: every rejected line of a file import as NDJSON (line,
 * message, row), beyond the status's last 50, up to {@code import.errors.max}; removed with the job.
 */
class ImportErrorsTest extends ServerTest {
  private static final int CAP = 100;

  @Override
  protected Map<String, Object> serverConfig() {
    return Map.of("import.batch.rows", 500, "import.errors.max", CAP, "import.max.history", 1);
  }

  @BeforeEach
  void createItems() {
    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
  }

  @Test
  void everyRejectedLineIsListedBeyondTheLastFiftyUpToTheCap() {
    // 70 bad lines: the status keeps the last 50, the list has all 70.
    Map<Integer, String> bad = new HashMap<>();
    Set<Long> badLines = new TreeSet<>();
    for (int i = 0; i < 70; i++) {
      int index = 17 + i * 41;
      bad.put(index, i % 2 == 0 ? "{\"id\": \"not a number " + i + "\"}" : "not json " + i);
      badLines.add(index + 1L);
    }
    String id = importFile(BenchRows.ndjson(3, 3000, bad));
    JsonObject status = server.get("/api/v1/data/items/file/" + id).json();
    assertThat(status.getJsonObject("status").getLong("failedCount")).isEqualTo(70);
    assertThat(status.getJsonObject("errors").getJsonArray("rows")).hasSize(50);
    assertThat(status.getJsonObject("errors").getString("message")).isEqualTo("Last 50 failing rows");

    Response errors = server.get("/api/v1/data/items/file/" + id + "/errors");
    assertThat(errors.status()).as(errors.toString()).isEqualTo(200);
    assertThat(errors.header("content-type")).startsWith("application/x-ndjson");
    List<JsonObject> listed = errors.raw().bodyAsString().lines().map(JsonObject::new).toList();
    assertThat(listed).hasSize(70);
    assertThat(listed.stream().map(e -> e.getLong("line")).toList()).containsExactlyInAnyOrderElementsOf(badLines);
    JsonObject second = listed.stream().filter(e -> e.getLong("line") == 17 + 41 + 1).findFirst().orElseThrow();
    assertThat(second.getString("row")).isEqualTo("not json 1");
    assertThat(second.getString("message")).contains("malformed JSON");
    assertThat(listed).allMatch(e -> !e.getString("message").isEmpty());

    // Read-only keys may read it; other tables and unknown jobs are 404.
    assertThat(server.send(HttpMethod.GET, "/api/v1/data/items/file/" + id + "/errors", null, TestServer.RO_KEY)
        .status()).isEqualTo(200);
    assertThat(server.get("/api/v1/data/other/file/" + id + "/errors").status()).isEqualTo(404);
    assertThat(server.get("/api/v1/data/items/file/no-such-job/errors").status()).isEqualTo(404);

    // 150 bad lines: the list stops at import.errors.max; failedCount counts them all.
    Map<Integer, String> many = new HashMap<>();
    for (int i = 0; i < 150; i++) {
      many.put(5 + i * 13, "oops " + i);
    }
    String capped = importFile(BenchRows.ndjson(4, 2500, many));
    assertThat(server.get("/api/v1/data/items/file/" + capped).json().getJsonObject("status")
        .getLong("failedCount")).isEqualTo(150);
    assertThat(server.get("/api/v1/data/items/file/" + capped + "/errors").raw().bodyAsString().lines())
        .hasSize(CAP);

    // import.max.history is 1: the first job went with its list.
    assertThat(server.get("/api/v1/data/items/file/" + id + "/errors").status()).isEqualTo(404);
    assertThat(Files.exists(dataDir.resolve("imports").resolve(id + ".errors.ndjson"))).isFalse();
    assertThat(Files.exists(dataDir.resolve("imports").resolve(capped + ".errors.ndjson"))).isTrue();
  }

  @Test
  void aJobThatHasNotRunHasAnEmptyList() {
    JsonObject initiated = server.post("/api/v1/data/items/file", new JsonObject()).json();
    Response errors = server.get("/api/v1/data/items/file/" + initiated.getString("id") + "/errors");
    assertThat(errors.status()).isEqualTo(200);
    assertThat(errors.raw().bodyAsString()).isNullOrEmpty();
  }

  private String importFile(byte[] ndjson) {
    JsonObject initiated = server.post("/api/v1/data/items/file", new JsonObject()).json();
    String id = initiated.getString("id");
    assertThat(server.upload(initiated.getString("url"), Buffer.buffer(BenchRows.gzip(ndjson))).status())
        .isEqualTo(200);
    assertThat(server.post("/api/v1/data/items/file/" + id, new JsonObject()).status()).isEqualTo(200);
    assertThat(server.awaitImport("items", id).getJsonObject("status").getString("phase")).isEqualTo("Finished");
    return id;
  }
}
