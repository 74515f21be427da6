package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.BenchRows;
import io.sluice.ForkedServer;
import io.sluice.ingest.LargeImportTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An import's status counts only durable rows: {@code completedCount} and {@code lastSuccessfulElement} never run
 * ahead of what a crash leaves. The server is killed (SIGKILL: the rows an import has indexed but not committed
 * live only in its heap) while most of the file is indexed and not yet committed; its upload is then removed so
 * the restarted server cannot resume and add rows, and what is stored must cover everything the status reported.
 */
class ImportCountsTest {
  private static final int ROWS = 200_000;

  @TempDir
  Path tmp;

  @Test
  void statusNeverCountsRowsACrashLoses() throws IOException {
    Path file = tmp.resolve("rows.ndjson.gz");
    LargeImportTest.writeGzip(file, ROWS, 7, BenchRows::row);
    // No commit before the import's end: every row it reports before then is indexed, not yet durable.
    Map<String, String> env = Map.of("SLUICE_IMPORT_BATCH_ROWS", "1000",
        "SLUICE_IMPORT_COMMIT_INTERVAL_MS", "600000");
    Path data = tmp.resolve("data");

    String id;
    JsonObject reported;
    try (ForkedServer server = new ForkedServer(data, List.of(), env).start()) {
      server.call("PUT", "/api/v1/schema/items", BenchRows.SCHEMA);
      JsonObject initiated = server.call("POST", "/api/v1/data/items/file", new JsonObject());
      id = initiated.getString("id");
      HttpResponse<String> put = server.send("PUT", URI.create(initiated.getString("url")),
          HttpRequest.BodyPublishers.ofFile(file), false);
      assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
      server.call("POST", "/api/v1/data/items/file/" + id, new JsonObject());
      reported = awaitHalfRead(server, id, Files.size(file));
      server.kill();
    }
    JsonObject status = reported.getJsonObject("status");
    assertThat(status.getBoolean("finished")).as("killed before the end: %s", reported).isFalse();

    Files.delete(data.resolve("uploads").resolve(id + ".upload"));
    try (ForkedServer server = new ForkedServer(data, List.of(), env).start()) {
      awaitFinished(server, id);
      long stored = count(server, new JsonObject());
      assertThat(status.getLong("completedCount"))
          .as("completedCount reported before the crash may not exceed the rows stored after it: %s", reported)
          .isLessThanOrEqualTo(stored);
      JsonObject last = status.getJsonObject("lastSuccessfulElement");
      if (last != null) {
        assertThat(count(server, new JsonObject().put("id", last.getValue("id"))))
            .as("lastSuccessfulElement reported before the crash is stored after it: %s", reported).isEqualTo(1);
      }
    }
  }

  /** Polls until the import has read half its file; returns its status then. */
  private static JsonObject awaitHalfRead(ForkedServer server, String id, long fileBytes) {
    long deadline = System.currentTimeMillis() + 120_000;
    while (System.currentTimeMillis() < deadline) {
      JsonObject status = server.call("GET", "/api/v1/data/items/file/" + id, null);
      JsonArray imports = server.call("GET", "/api/v1/data/_imports", null).getJsonArray("imports");
      for (int i = 0; i < imports.size(); i++) {
        JsonObject job = imports.getJsonObject(i);
        if (job.getString("id").equals(id) && job.getLong("bytesRead") * 2 >= fileBytes) {
          return status;
        }
      }
      if (status.getJsonObject("status").getBoolean("finished")) {
        throw new AssertionError("the import finished before it could be killed: " + status);
      }
      ForkedServer.sleep(10);
    }
    throw new AssertionError("the import did not get half way in time");
  }

  private static void awaitFinished(ForkedServer server, String id) {
    long deadline = System.currentTimeMillis() + 120_000;
    while (System.currentTimeMillis() < deadline) {
      if (server.call("GET", "/api/v1/data/items/file/" + id, null).getJsonObject("status").getBoolean("finished")) {
        return;
      }
      ForkedServer.sleep(50);
    }
    throw new AssertionError("the job did not end after the restart");
  }

  private static long count(ForkedServer server, JsonObject where) {
    return server.call("POST", "/api/v1/_search", new JsonObject().put("from", "items").put("where", where)
        .put("limit", 0)).getLong("total");
  }
}
