package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.BenchRows;
import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The job history is bounded by count (import.max.history) as well as by age, through the API. */
class ImportHistoryTest extends ServerTest {

  @Override
  protected Map<String, Object> serverConfig() {
    return Map.of("import.max.history", 3);
  }

  @Test
  void oldestFinishedJobsAreDroppedPastTheBoundAndAgainAtStart(Vertx vertx) {
    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String id = startImport(BenchRows.ndjson(100 + i, 20, Map.of()));
      ids.add(id);
      assertThat(server.awaitImport("items", id).getJsonObject("status").getString("phase")).isEqualTo("Finished");
    }
    // Never dropped nor counted: a job that is not finished.
    String initiated = server.post("/api/v1/data/items/file", new JsonObject()).json().getString("id");

    JsonObject listing = server.get("/api/v1/data/_imports").json();
    assertThat(listing.getLong("dropped")).isEqualTo(2);
    assertThat(listing.getInteger("maxHistory")).isEqualTo(3);
    assertThat(listedIds(listing)).containsExactly(initiated, ids.get(4), ids.get(3), ids.get(2));
    for (String gone : ids.subList(0, 2)) {
      assertThat(server.get("/api/v1/data/items/file/" + gone).status()).isEqualTo(404);
      assertThat(Files.exists(dataDir.resolve("imports").resolve(gone + ".json"))).as("status file").isFalse();
    }
    assertThat(server.get("/api/v1/data/items/file/" + ids.get(2)).status()).isEqualTo(200);

    // Jobs are loaded from disk at start: the bound applies there too (here a smaller one).
    server.stop();
    server = new TestServer(vertx, dataDir, Map.of("import.max.history", 2)).start();
    JsonObject restarted = server.get("/api/v1/data/_imports").json();
    assertThat(listedIds(restarted)).containsExactly(initiated, ids.get(4), ids.get(3));
    assertThat(restarted.getLong("dropped")).as("dropped since this start").isEqualTo(1);
    assertThat(restarted.getInteger("maxHistory")).isEqualTo(2);
    assertThat(server.get("/api/v1/data/items/file/" + ids.get(2)).status()).isEqualTo(404);
    assertThat(Files.exists(dataDir.resolve("imports").resolve(ids.get(2) + ".json"))).isFalse();

    // And after each job: one more import drops the oldest again.
    String sixth = startImport(BenchRows.ndjson(200, 20, Map.of()));
    server.awaitImport("items", sixth);
    JsonObject after = server.get("/api/v1/data/_imports").json();
    assertThat(listedIds(after)).as("newest created first").containsExactly(sixth, initiated, ids.get(4));
    assertThat(after.getLong("dropped")).isEqualTo(2);
  }

  private String startImport(byte[] body) {
    JsonObject initiated = server.post("/api/v1/data/items/file", new JsonObject()).json();
    assertThat(server.upload(initiated.getString("url"), Buffer.buffer(body)).status()).isEqualTo(200);
    String id = initiated.getString("id");
    assertThat(server.post("/api/v1/data/items/file/" + id, new JsonObject()).status()).isEqualTo(200);
    return id;
  }

  private static List<String> listedIds(JsonObject listing) {
    return listing.getJsonArray("imports").stream().map(entry -> ((JsonObject) entry).getString("id")).toList();
  }
}
