package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.BenchRows;
import io.sluice.ForkedServer;
import io.sluice.TestSeeds;
import io.sluice.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Imports at scale against real server JVMs: a million rows through a small heap, a kill -9 in the middle of
 * an import, and a million rows through the stream endpoint.
 */
@ExtendWith(TestSeeds.class)
@ExtendWith(VertxExtension.class)
public class LargeImportTest {
  private static final int MILLION = 1_000_000;

  @TempDir
  Path tmp;

  /** 1M rows padded to over 2 GB decompressed, through a server with -Xmx256m: memory stays bounded. */
  @Test
  void twoGigabytesThroughA256MegabyteHeap() throws IOException {
    Path file = tmp.resolve("padded.ndjson.gz");
    String padding = " ".repeat(2000);
    long decompressed = writeGzip(file, MILLION, 1, (random, id) -> "{" + padding
        + BenchRows.row(random, id).substring(1));
    assertThat(decompressed).isGreaterThan(2L * 1000 * 1000 * 1000);

    try (ForkedServer server = new ForkedServer(tmp.resolve("data"), List.of("-Xmx256m"),
        Map.of("SLUICE_IMPORT_MAX_RATIO", "100000")).start()) {
      server.call("PUT", "/api/v1/schema/items", BenchRows.SCHEMA);
      String id = uploadAndTrigger(server, file);
      JsonObject status = awaitFinished(server, id, 20 * 60_000);
      assertThat(status.getJsonObject("status").getString("phase")).as(status.encode()).isEqualTo("Finished");
      assertThat(status.getJsonObject("status").getLong("completedCount")).isEqualTo(MILLION);
      assertThat(count(server, new JsonObject())).isEqualTo(MILLION);
    }
  }

  /** kill -9 at a seeded point of an import; after restart the job resumes and every good row is there once. */
  @Test
  void importKilledMidwayResumesWithExactCounts() throws IOException {
    long seed = TestSeeds.seed("LargeImportTest.importKilledMidway");
    Random random = new Random(seed);
    int rows = 300_000;
    Map<Integer, String> bad = new HashMap<>();
    while (bad.size() < 40) {
      bad.put(random.nextInt(rows), random.nextBoolean() ? "{\"id\": \"not a number\"}" : "{broken");
    }
    Path file = tmp.resolve("rows.ndjson.gz");
    writeGzip(file, rows, seed, (r, id) -> bad.getOrDefault(id, BenchRows.row(r, id)));
    long killAfter = 20_000 + random.nextInt(150_000);
    Map<String, String> env = Map.of("SLUICE_IMPORT_BATCH_ROWS", "1000");
    Path data = tmp.resolve("data");

    String id;
    try (ForkedServer server = new ForkedServer(data, List.of(), env).start()) {
      server.call("PUT", "/api/v1/schema/items", BenchRows.SCHEMA);
      id = uploadAndTrigger(server, file);
      long deadline = System.currentTimeMillis() + 5 * 60_000;
      JsonObject status;
      do {
        ForkedServer.sleep(20);
        status = server.call("GET", "/api/v1/data/items/file/" + id, null).getJsonObject("status");
      } while (status.getLong("completedCount") < killAfter && !status.getBoolean("finished")
          && System.currentTimeMillis() < deadline);
      assertThat(status.getBoolean("finished")).as("killed before the end (seed " + seed + ")").isFalse();
      server.kill();
    }

    try (ForkedServer server = new ForkedServer(data, List.of(), env).start()) {
      JsonObject status = awaitFinished(server, id, 5 * 60_000);
      JsonObject s = status.getJsonObject("status");
      assertThat(s.getString("phase")).as("seed " + seed + ": " + status.encode()).isEqualTo("Finished");
      assertThat(s.getLong("completedCount")).as("seed " + seed).isEqualTo(rows - bad.size());
      assertThat(s.getLong("failedCount")).as("seed " + seed).isEqualTo(bad.size());
      assertThat(count(server, new JsonObject())).as("seed " + seed).isEqualTo(rows - bad.size());
      for (int start = 0; start < rows; start += rows / 10) {
        int from = start;
        int to = from + rows / 10;
        long expected = to - from - bad.keySet().stream().filter(b -> b >= from && b < to).count();
        assertThat(count(server, new JsonObject().put("id", new JsonObject().put("$gte", from).put("$lt", to))))
            .as("rows with ids in [%d, %d), seed %d", from, to, seed).isEqualTo(expected);
      }
    }
  }

  @Test
  void streamEndpointTakesAMillionRows(Vertx vertx) throws IOException {
    Path file = tmp.resolve("stream.ndjson.gz");
    writeGzip(file, MILLION, 3, BenchRows::row);
    TestServer server = new TestServer(vertx, tmp.resolve("data")).start();
    try {
      server.put("/api/v1/schema/items", BenchRows.SCHEMA);
      var body = TestServer.await(vertx.fileSystem().open(file.toString(), new OpenOptions().setRead(true)));
      var response = TestServer.await(server.client().post("/api/v1/data/items/stream")
          .putHeader("x-api-key", TestServer.RW_KEY).timeout(900_000).sendStream(body), 900);
      assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
      assertThat(response.bodyAsJsonObject().getLong("total")).isEqualTo(MILLION);
      assertThat(response.bodyAsJsonObject().getLong("failedCount")).isZero();
      assertThat(server.search(new JsonObject().put("from", "items").put("limit", 0)).json().getLong("total"))
          .isEqualTo(MILLION);
    } finally {
      server.stop();
    }
  }

  // ---------------------------------------------------------------- helpers

  public interface RowMaker {
    String row(Random random, int id);
  }

  /** Writes count NDJSON rows, gzip level 1 (fast); returns the decompressed size. */
  public static long writeGzip(Path file, int count, long seed, RowMaker rows) throws IOException {
    Random random = new Random(seed);
    long bytes = 0;
    try (OutputStream out = new GZIPOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16),
        1 << 16) {
      {
        def.setLevel(1);
      }
    }) {
      StringBuilder chunk = new StringBuilder();
      for (int id = 0; id < count; id++) {
        chunk.append(rows.row(random, id)).append('\n');
        if (chunk.length() > 1 << 16) {
          byte[] encoded = chunk.toString().getBytes(StandardCharsets.UTF_8);
          bytes += encoded.length;
          out.write(encoded);
          chunk.setLength(0);
        }
      }
      byte[] encoded = chunk.toString().getBytes(StandardCharsets.UTF_8);
      bytes += encoded.length;
      out.write(encoded);
    }
    return bytes;
  }

  static String uploadAndTrigger(ForkedServer server, Path file) throws IOException {
    JsonObject initiated = server.call("POST", "/api/v1/data/items/file", new JsonObject());
    HttpResponse<String> put = server.send("PUT", URI.create(initiated.getString("url")),
        HttpRequest.BodyPublishers.ofFile(file), false);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    String id = initiated.getString("id");
    server.call("POST", "/api/v1/data/items/file/" + id, new JsonObject());
    return id;
  }

  static JsonObject awaitFinished(ForkedServer server, String id, long timeoutMillis) {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (System.currentTimeMillis() < deadline) {
      JsonObject status = server.call("GET", "/api/v1/data/items/file/" + id, null);
      if (status.getJsonObject("status").getBoolean("finished")) {
        return status;
      }
      ForkedServer.sleep(100);
    }
    throw new AssertionError("import " + id + " did not finish in " + timeoutMillis + " ms");
  }

  static long count(ForkedServer server, JsonObject where) {
    return server.call("POST", "/api/v1/_search", new JsonObject().put("from", "items").put("where", where)
        .put("limit", 0)).getLong("total");
  }
}
