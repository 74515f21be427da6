package io.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.sluice.BenchRows;
import io.sluice.TestPostgres;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.sluice.ingest.UploadSigner;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data directory as versions before the node-state seam wrote it ({@code keys.json}, {@code upload-secret},
 * {@code imports/<id>.json}) opens as it is with the Lucene store: the old keys work, the jobs are known and an
 * upload URL signed with the old secret is accepted.
 */
@ExtendWith(VertxExtension.class)
class OldDataDirTest {
  @TempDir
  Path dataDir;
  private TestServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop();
    }
  }

  private static String sha256(String key) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
  }

  private static JsonObject job(String id, String phase, Instant created, long completed) {
    boolean finished = phase.equals("Finished");
    return new JsonObject().put("id", id).put("table", "items").put("phase", phase)
        .put("createdAt", created.toString()).put("expires", created.plusSeconds(3600).toString())
        .put("bytes", finished ? 1234 : 0).put("bytesRead", finished ? 1234 : 0).putNull("sourceUrl")
        .put("startedAt", finished ? created.plusSeconds(1).toString() : null)
        .put("finishedAt", finished ? created.plusSeconds(2).toString() : null)
        .putNull("message").put("batchRows", 10000).put("batchBytes", 8388608).put("format", "auto")
        .put("progress", new JsonObject().put("completed", completed).put("failed", 0).put("failures", new JsonArray())
            .putNull("lastSuccessfulElement"))
        .put("history", new JsonObject().put("intervalMs", 1000).put("points", new JsonArray()));
  }

  @Test
  void aDataDirWrittenBeforeTheSeamOpensAsItIs(Vertx vertx) throws Exception {
    assumeFalse(TestPostgres.chosen(), "the files are the Lucene store's node state");
    String keys = new JsonObject().put("readWriteSha256", sha256("old-rw")).put("readOnlySha256", sha256("old-ro"))
        .encodePrettily();
    Files.writeString(dataDir.resolve("keys.json"), keys);
    String secret = "5e".repeat(32);
    Files.writeString(dataDir.resolve("upload-secret"), secret);
    Path imports = Files.createDirectories(dataDir.resolve("imports"));
    Instant created = Instant.now().minusSeconds(60);
    String finishedId = UUID.randomUUID().toString();
    String initiatedId = UUID.randomUUID().toString();
    Files.writeString(imports.resolve(finishedId + ".json"), job(finishedId, "Finished", created, 42).encode());
    Files.writeString(imports.resolve(initiatedId + ".json"), job(initiatedId, "Initiated", created, 0).encode());

    server = new TestServer(vertx, dataDir, Map.of("api.key.rw", " ", "api.key.ro", " ")).start();

    assertThat(server.send(HttpMethod.PUT, "/api/v1/schema/items", BenchRows.SCHEMA, "old-rw").status())
        .isEqualTo(200);
    assertThat(server.send(HttpMethod.GET, "/api/v1/schema", null, "old-ro").status()).isEqualTo(200);
    assertThat(server.send(HttpMethod.DELETE, "/api/v1/schema/items", null, "old-ro").status()).isEqualTo(403);
    assertThat(Files.readString(dataDir.resolve("keys.json"))).isEqualTo(keys);

    JsonObject status = server.send(HttpMethod.GET, "/api/v1/data/items/file/" + finishedId, null, "old-rw").json();
    assertThat(status.getJsonObject("status").getString("phase")).isEqualTo("Finished");
    assertThat(status.getJsonObject("status").getLong("completedCount")).isEqualTo(42);
    JsonArray listed = server.send(HttpMethod.GET, "/api/v1/data/_imports", null, "old-rw").json()
        .getJsonArray("imports");
    assertThat(listed.stream().map(job -> ((JsonObject) job).getString("id")))
        .containsExactlyInAnyOrder(finishedId, initiatedId);

    long expires = created.plusSeconds(3600).getEpochSecond();
    String signature = new UploadSigner(HexFormat.of().parseHex(secret)).sign("PUT", initiatedId, "items", expires);
    Response upload = server.upload("http://127.0.0.1:" + server.port() + "/uploads/" + initiatedId
        + "?table=items&expires=" + expires + "&signature=" + signature,
        Buffer.buffer(BenchRows.gzip(BenchRows.ndjson(5, 7, Map.of()))));
    assertThat(upload.status()).as(upload.toString()).isEqualTo(200);
    assertThat(Files.readString(dataDir.resolve("upload-secret"))).isEqualTo(secret);
    assertThat(new JsonObject(Files.readString(imports.resolve(initiatedId + ".json"))).getString("phase"))
        .isEqualTo("Uploaded");
  }
}
