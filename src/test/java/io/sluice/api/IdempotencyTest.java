package io.sluice.api;

import static io.sluice.api.ApiAssertions.error;
import static io.sluice.api.ApiAssertions.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.ServerTest;
import io.sluice.TestSeeds;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Idempotency-Key header on row writes (docs/api.md), through HTTP against the real store. */
@ExtendWith(TestSeeds.class)
class IdempotencyTest extends ServerTest {
  private static final JsonObject TABLE = new JsonObject("""
      {"type":"table","columns":{"id":{"type":"Int"},"name":{"type":"String"}}}""");

  @BeforeEach
  void createTables() {
    ok(server.put("/api/v1/schema/t", TABLE));
    ok(server.put("/api/v1/schema/u", TABLE));
  }

  static Response post(TestServer server, String path, Object body, String idempotencyKey) {
    var request = server.client().request(HttpMethod.POST, path).putHeader("x-api-key", TestServer.RW_KEY)
        .putHeader("content-type", "application/json");
    if (idempotencyKey != null) {
      request.putHeader("Idempotency-Key", idempotencyKey);
    }
    return new Response(TestServer.await(request.sendBuffer(Buffer.buffer(body.toString()))));
  }

  private Response post(String path, Object body, String key) {
    return post(server, path, body, key);
  }

  private long count(String table) {
    return ok(server.search(new JsonObject().put("from", table).put("limit", 0))).getLong("total");
  }

  private static JsonArray rows(int first, int n) {
    JsonArray rows = new JsonArray();
    for (int i = first; i < first + n; i++) {
      rows.add(new JsonObject().put("id", i).put("name", "row " + i));
    }
    return rows;
  }

  @Test
  void aRepeatedBatchIsReplayedAndWritesNothing() {
    Response first = post("/api/v1/data/t/batch", rows(0, 5), "batch-1");
    assertThat(ok(first)).isEqualTo(new JsonObject().put("total", 5));
    assertThat(first.header("Idempotent-Replayed")).isNull();
    Response again = post("/api/v1/data/t/batch", rows(0, 5), "batch-1");
    assertThat(ok(again)).isEqualTo(new JsonObject().put("total", 5));
    assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(count("t")).isEqualTo(5);
  }

  @Test
  void aRepeatedRowIsReplayedWithTheSameBody() {
    JsonObject row = new JsonObject().put("id", 1).put("name", "one");
    Response first = post("/api/v1/data/t", row, "\"row-1\"");
    Response again = post("/api/v1/data/t", row, "row-1"); // the quoted and the bare form name the same key
    assertThat(ok(again)).isEqualTo(ok(first)).isEqualTo(row);
    assertThat(again.status()).isEqualTo(first.status());
    assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(count("t")).isEqualTo(1);
  }

  @Test
  void withoutTheHeaderEveryRequestWrites() {
    ok(post("/api/v1/data/t/batch", rows(0, 2), null));
    ok(post("/api/v1/data/t/batch", rows(0, 2), null));
    assertThat(count("t")).isEqualTo(4);
  }

  @Test
  void theSameKeyForAnotherRequestIs422NamingTheKey() {
    ok(post("/api/v1/data/t/batch", rows(0, 2), "k"));
    error(post("/api/v1/data/t/batch", rows(0, 3), "k"), 422, "Idempotency-Key 'k'", "different request");
    error(post("/api/v1/data/t", rows(0, 1).getJsonObject(0), "k"), 422, "'k'");
    assertThat(count("t")).isEqualTo(2);
  }

  @Test
  void theSameKeyOnTwoTablesWritesTwice() {
    ok(post("/api/v1/data/t/batch", rows(0, 2), "shared"));
    Response other = post("/api/v1/data/u/batch", rows(0, 2), "shared");
    assertThat(ok(other).getInteger("total")).isEqualTo(2);
    assertThat(other.header("Idempotent-Replayed")).isNull();
    assertThat(count("t")).isEqualTo(2);
    assertThat(count("u")).isEqualTo(2);
  }

  @Test
  void malformedKeysAre400NamingTheHeader() {
    List<String> bad = List.of("", "\"\"", "x".repeat(256), "\"" + "y".repeat(256) + "\"", "caf\u00e9", "a b",
        "\"unterminated", "\"bad\\escape\"", "\"two\" \"strings\"", "\"a\"b");
    for (String key : bad) {
      error(post("/api/v1/data/t/batch", rows(0, 1), key), 400, "Idempotency-Key");
    }
    ok(post("/api/v1/data/t/batch", rows(0, 1), "x".repeat(255)));
    ok(post("/api/v1/data/t/batch", rows(1, 1), "\"q\\\"uote\\\\d\""));
    assertThat(count("t")).isEqualTo(2);
  }

  @Test
  void aFailedWriteLeavesNoRecord() {
    JsonArray badRows = rows(0, 3);
    badRows.getJsonObject(1).put("id", "not a number");
    error(post("/api/v1/data/t/batch", badRows, "retry-me"), 400);
    // The same key with the corrected body writes: the failure recorded nothing.
    Response fixed = post("/api/v1/data/t/batch", rows(0, 3), "retry-me");
    assertThat(ok(fixed).getInteger("total")).isEqualTo(3);
    assertThat(fixed.header("Idempotent-Replayed")).isNull();
    assertThat(count("t")).isEqualTo(3);
  }

  @Test
  void concurrentRequestsWithOneKeyWriteOnce(Vertx vertx) {
    Random random = TestSeeds.random("IdempotencyTest.concurrent");
    int size = 1 + random.nextInt(200);
    JsonArray body = rows(0, size);
    WebClient client = server.newClient(20);
    try {
      List<Future<HttpResponse<Buffer>>> responses = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        responses.add(client.request(HttpMethod.POST, "/api/v1/data/t/batch")
            .putHeader("x-api-key", TestServer.RW_KEY).putHeader("Idempotency-Key", "concurrent")
            .sendBuffer(body.toBuffer()));
      }
      int written = 0;
      for (Future<HttpResponse<Buffer>> future : responses) {
        HttpResponse<Buffer> response = TestServer.await(future);
        if (response.statusCode() == 409) {
          assertThat(response.getHeader("Retry-After")).isNotNull();
          assertThat(response.bodyAsJsonObject().getString("message")).contains("'concurrent'", "in progress");
        } else {
          assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
          assertThat(response.bodyAsJsonObject().getInteger("total")).isEqualTo(size);
          if (!"true".equals(response.getHeader("Idempotent-Replayed"))) {
            written++;
          }
        }
      }
      assertThat(written).isEqualTo(1);
    } finally {
      client.close();
    }
    assertThat(count("t")).isEqualTo(size);
    // Once the first is answered, every repeat is a replay.
    assertThat(post("/api/v1/data/t/batch", body, "concurrent").header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(count("t")).isEqualTo(size);
  }

  @Test
  void theSameKeyUnderAnotherApiKeyWritesAgain(Vertx vertx) {
    // One read-write key per server: a restart with another configured key is another API key identity.
    ok(post("/api/v1/data/t/batch", rows(0, 3), "per-api-key"));
    server.stop();
    server = new TestServer(vertx, dataDir, Map.of("api.key.rw", "another-read-write-key")).start();
    var request = server.client().request(HttpMethod.POST, "/api/v1/data/t/batch")
        .putHeader("x-api-key", "another-read-write-key").putHeader("content-type", "application/json")
        .putHeader("Idempotency-Key", "per-api-key");
    Response other = new Response(TestServer.await(request.sendBuffer(Buffer.buffer(rows(0, 3).encode()))));
    assertThat(ok(other)).isEqualTo(new JsonObject().put("total", 3));
    assertThat(other.header("Idempotent-Replayed")).isNull();
    assertThat(ok(server.send(HttpMethod.POST, "/api/v1/_search", new JsonObject().put("from", "t").put("limit", 0),
        TestServer.RO_KEY)).getLong("total")).isEqualTo(6);
    // Back under the first key, its record is still there.
    server.stop();
    server = new TestServer(vertx, dataDir).start();
    assertThat(post("/api/v1/data/t/batch", rows(0, 3), "per-api-key").header("Idempotent-Replayed"))
        .isEqualTo("true");
    assertThat(count("t")).isEqualTo(6);
  }

  @Test
  void browsersMayReadTheReplayedHeader() {
    ok(post("/api/v1/data/t/batch", rows(0, 1), "cors"));
    var request = server.client().request(HttpMethod.POST, "/api/v1/data/t/batch")
        .putHeader("x-api-key", TestServer.RW_KEY).putHeader("content-type", "application/json")
        .putHeader("Origin", "https://app.example").putHeader("Idempotency-Key", "cors");
    Response replay = new Response(TestServer.await(request.sendBuffer(Buffer.buffer(rows(0, 1).encode()))));
    assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(replay.header("Access-Control-Expose-Headers")).containsIgnoringCase("Idempotent-Replayed");
  }

  @Test
  void aRepeatedDeleteAnswersTheFirstCountAndDeletesNothing() {
    ok(post("/api/v1/data/t/batch", rows(0, 6), null));
    JsonObject delete = new JsonObject().put("from", "t").put("where", new JsonObject().put("id",
        new JsonObject().put("$lt", 4)));
    Response first = post("/api/v1/data/_delete", delete, "delete-1");
    assertThat(ok(first)).isEqualTo(new JsonObject().put("total", 4));
    assertThat(first.header("Idempotent-Replayed")).isNull();
    ok(post("/api/v1/data/t/batch", rows(0, 2), null)); // rows the repeat must not touch
    Response again = post("/api/v1/data/_delete", delete, "delete-1");
    assertThat(ok(again)).isEqualTo(new JsonObject().put("total", 4));
    assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(count("t")).isEqualTo(4);

    Response other = post("/api/v1/data/_delete", new JsonObject().put("from", "t"), "delete-1");
    assertThat(other.status()).isEqualTo(422);
    assertThat(other.json().getString("message")).contains("delete-1");
    // A row write's key is not a delete's, and the reverse.
    assertThat(post("/api/v1/data/t/batch", rows(10, 1), "delete-1").status()).isEqualTo(422);
    ok(post("/api/v1/data/t/batch", rows(20, 1), "batch-then-delete"));
    assertThat(post("/api/v1/data/_delete", delete, "batch-then-delete").status()).isEqualTo(422);
    assertThat(count("t")).isEqualTo(5);

    server.restart();
    Response afterRestart = post("/api/v1/data/_delete", delete, "delete-1");
    assertThat(ok(afterRestart)).isEqualTo(new JsonObject().put("total", 4));
    assertThat(afterRestart.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(count("t")).isEqualTo(5);
  }

  @Test
  void aDeleteOfNothingIsRecordedToo() {
    JsonObject delete = new JsonObject().put("from", "t").put("where", new JsonObject().put("id", 1));
    assertThat(ok(post("/api/v1/data/_delete", delete, "empty-delete"))).isEqualTo(new JsonObject().put("total", 0));
    ok(post("/api/v1/data/t/batch", rows(0, 3), null));
    Response again = post("/api/v1/data/_delete", delete, "empty-delete");
    assertThat(ok(again)).isEqualTo(new JsonObject().put("total", 0));
    assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(count("t")).isEqualTo(3);
    // The same key on the other table is another key.
    ok(post("/api/v1/data/u/batch", rows(0, 3), null));
    assertThat(ok(post("/api/v1/data/_delete", delete.copy().put("from", "u"), "empty-delete")))
        .isEqualTo(new JsonObject().put("total", 1));
    assertThat(count("u")).isEqualTo(2);
  }

  @Test
  void aRepeatedImportStartReturnsTheSameJob() {
    Response first = post("/api/v1/data/t/file", new JsonObject(), "import-1");
    JsonObject job = ok(first);
    assertThat(first.header("Idempotent-Replayed")).isNull();
    Response again = post("/api/v1/data/t/file", new JsonObject().put("format", "auto"), "import-1");
    assertThat(ok(again)).isEqualTo(job); // the same id and signed upload URL
    assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");

    Response csv = post("/api/v1/data/t/file", new JsonObject().put("format", "csv"), "import-1");
    assertThat(csv.status()).isEqualTo(422);
    assertThat(csv.json().getString("message")).contains("import-1");
    String other = ok(post("/api/v1/data/u/file", new JsonObject(), "import-1")).getString("id");
    assertThat(other).isNotEqualTo(job.getString("id"));
    assertThat(ok(post("/api/v1/data/t/file", new JsonObject(), null)).getString("id"))
        .isNotEqualTo(job.getString("id"));

    server.restart(); // the key is kept in the job's file
    Response afterRestart = post("/api/v1/data/t/file", new JsonObject(), "import-1");
    assertThat(ok(afterRestart).getString("id")).isEqualTo(job.getString("id"));
    assertThat(afterRestart.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(ok(server.get("/api/v1/data/_imports")).getJsonArray("imports")).hasSize(3);
  }

  private Response send(HttpMethod method, String path, Object body, String key) {
    var request = server.client().request(method, path).putHeader("x-api-key", TestServer.RW_KEY)
        .putHeader("content-type", "application/json").putHeader("Idempotency-Key", key);
    return new Response(TestServer.await(body == null ? request.send()
        : request.sendBuffer(Buffer.buffer(body.toString()))));
  }

  @Test
  void schemaChangesUnderAKeyAreReplayedAndChangeNothingAgain() {
    ok(post("/api/v1/data/t/batch", rows(0, 3), null));
    // A drop answered, then retried: the replay is the first answer, not "nothing to drop".
    JsonObject dropped = ok(send(HttpMethod.DELETE, "/api/v1/schema/u", null, "drop-u"));
    assertThat(dropped).isEqualTo(new JsonObject().put("deleted", new JsonArray().add("u")));
    Response dropAgain = send(HttpMethod.DELETE, "/api/v1/schema/u", null, "drop-u");
    assertThat(ok(dropAgain)).isEqualTo(dropped);
    assertThat(dropAgain.header("Idempotent-Replayed")).isEqualTo("true");

    // A rename retried does not find its source gone (404): it is replayed.
    JsonObject rename = new JsonObject().put("from", "t").put("rename", "t2");
    JsonObject renamed = ok(send(HttpMethod.POST, "/api/v1/schema/_rename", rename, "rename-t"));
    Response renameAgain = send(HttpMethod.POST, "/api/v1/schema/_rename", rename, "rename-t");
    assertThat(ok(renameAgain)).isEqualTo(renamed);
    assertThat(renameAgain.header("Idempotent-Replayed")).isEqualTo("true");
    Response otherRename = send(HttpMethod.POST, "/api/v1/schema/_rename",
        new JsonObject().put("from", "t2").put("rename", "t3"), "rename-t");
    assertThat(otherRename.status()).isEqualTo(422);

    // A copy retried after rows were added does not copy again.
    JsonObject copy = new JsonObject().put("from", "t2").put("copy", "c").put("replace", true);
    ok(send(HttpMethod.POST, "/api/v1/schema/_copy", copy, "copy-t2"));
    ok(post("/api/v1/data/t2/batch", rows(10, 2), null));
    assertThat(send(HttpMethod.POST, "/api/v1/schema/_copy", copy, "copy-t2").header("Idempotent-Replayed"))
        .isEqualTo("true");
    assertThat(count("c")).isEqualTo(3);

    // Columns, and the durability of the records (saved with the catalog).
    JsonObject column = new JsonObject().put("type", "String").put("nullable", true);
    JsonObject added = ok(send(HttpMethod.PUT, "/api/v1/schema/c/note", column, "add-note"));
    ok(send(HttpMethod.DELETE, "/api/v1/schema/c/note", null, "drop-note"));
    server.restart();
    Response addAgain = send(HttpMethod.PUT, "/api/v1/schema/c/note", column, "add-note");
    assertThat(ok(addAgain)).isEqualTo(added);
    assertThat(addAgain.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(ok(server.get("/api/v1/schema/c")).getJsonObject("columns").containsKey("note")).isFalse();
    assertThat(send(HttpMethod.DELETE, "/api/v1/schema/c/note", null, "drop-note").header("Idempotent-Replayed"))
        .isEqualTo("true");
    assertThat(send(HttpMethod.PUT, "/api/v1/schema/c/note", column.copy().put("type", "Int"), "add-note").status())
        .isEqualTo(422);
    // The same key on another table is another key.
    assertThat(send(HttpMethod.PUT, "/api/v1/schema/t2/note", column, "add-note").header("Idempotent-Replayed"))
        .isNull();

    // The whole schema: a replayed PUT does not drop the tables created since.
    JsonObject schema = new JsonObject().put("schema", new JsonObject().put("w", TABLE));
    JsonObject put = ok(send(HttpMethod.PUT, "/api/v1/schema", schema, "whole"));
    ok(server.put("/api/v1/schema/x", TABLE));
    Response putAgain = send(HttpMethod.PUT, "/api/v1/schema", schema, "whole");
    assertThat(ok(putAgain)).isEqualTo(put);
    assertThat(putAgain.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(ok(server.get("/api/v1/schema")).getJsonObject("schema").fieldNames()).containsExactlyInAnyOrder("w", "x");
  }

  @Test
  void aKeyIsRememberedAcrossARestart() {
    ok(post("/api/v1/data/t/batch", rows(0, 4), "durable"));
    server.restart();
    assertThat(post("/api/v1/data/t/batch", rows(0, 4), "durable").header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(count("t")).isEqualTo(4);
  }

  @Test
  void aKeyIsForgottenAfterTheRetention(Vertx vertx) {
    server.stop();
    server = new TestServer(vertx, dataDir, Map.of("idempotency.retention.seconds", 1)).start();
    ok(post("/api/v1/data/t/batch", rows(0, 2), "short-lived"));
    // Each repeat within the retention is a replay; the first one after it writes again (and records anew).
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() ->
        ok(post("/api/v1/data/t/batch", rows(0, 2), "short-lived")) != null
            && count("t") == 4);
    assertThat(post("/api/v1/data/t/batch", rows(0, 2), "short-lived").header("Idempotent-Replayed"))
        .isEqualTo("true");
    assertThat(count("t")).isEqualTo(4);
  }
}
