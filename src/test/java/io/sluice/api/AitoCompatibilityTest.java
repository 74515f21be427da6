package io.sluice.api;

import static io.sluice.api.ApiAssertions.error;
import static io.sluice.api.ApiAssertions.hits;
import static io.sluice.api.ApiAssertions.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.BenchRows;
import io.sluice.ServerTest;
import io.sluice.TestSeeds;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Behaviours Aito's own client tests rely on, through the real API: rows come back without null-valued fields
 * (however they were written), {@code /version} refuses a wrong key, and deleting what is not there succeeds —
 * decided atomically with the schema change it may race.
 */
@ExtendWith(TestSeeds.class)
class AitoCompatibilityTest extends ServerTest {
  private static final String TEAMS = """
      {"type":"table","columns":{"id":{"type":"Int"},"lead":{"type":"String","nullable":true}}}""";
  private static final String PEOPLE = """
      {"type":"table","columns":{"id":{"type":"Int"},"name":{"type":"String"},
       "remark":{"type":"String","nullable":true},"score":{"type":"Decimal","nullable":true},
       "team":{"type":"Int","nullable":true,"link":"teams.id"}}}""";

  @BeforeEach
  void tables() {
    ok(server.put("/api/v1/schema/teams", new JsonObject(TEAMS)));
    ok(server.put("/api/v1/schema/people", new JsonObject(PEOPLE)));
    ok(server.post("/api/v1/data/teams/batch", new JsonArray("[{\"id\":1,\"lead\":null},{\"id\":2,\"lead\":\"Kim\"}]")));
  }

  /** A row with every nullable field null but {@code team}; it reads back as {@link #stripped}. */
  private static String withNulls(int id) {
    return "{\"id\":" + id + ",\"name\":\"Sam\",\"remark\":null,\"score\":null,\"team\":1}";
  }

  private static String stripped(int id) {
    return "{\"id\":" + id + ",\"name\":\"Sam\",\"team\":1}";
  }

  @Test
  void rowsWrittenEveryWayComeBackWithoutNullFields() {
    var single = server.post("/api/v1/data/people", withNulls(1));
    assertThat(ok(single).encode()).isEqualTo(stripped(1));
    // The fields keep their order, also when it is not the schema's.
    ok(server.post("/api/v1/data/people/batch",
        "[" + withNulls(2) + ",{\"remark\":null,\"name\":\"Ann\",\"id\":3,\"score\":2.5,\"team\":null}]"));
    assertThat(ok(server.send(HttpMethod.POST, "/api/v1/data/people/stream", Buffer.buffer(withNulls(4) + "\n"),
        TestServer.RW_KEY)).getLong("total")).isEqualTo(1);
    var csv = TestServer.await(server.client().post("/api/v1/data/people/stream")
        .putHeader("x-api-key", TestServer.RW_KEY).putHeader("content-type", "text/csv")
        .sendBuffer(Buffer.buffer("id,name,remark,score,team\n5,Sam,,,1\n")));
    assertThat(csv.statusCode()).as(csv.bodyAsString()).isEqualTo(200);

    JsonObject ndjsonImport = importFile(BenchRows.gzip(bytes(withNulls(6) + "\n")), "ndjson");
    JsonObject csvImport = importFile(bytes("id,name,remark,score,team\n7,Sam,,,1\n"), "csv");
    assertThat(lastSuccessful(ndjsonImport)).isEqualTo(stripped(6));
    assertThat(lastSuccessful(csvImport)).isEqualTo(stripped(7));

    List<String> expected = new ArrayList<>();
    for (int id = 1; id <= 7; id++) {
      expected.add(id == 3 ? "{\"name\":\"Ann\",\"id\":3,\"score\":2.5}" : stripped(id));
    }
    JsonObject all = new JsonObject("{\"from\":\"people\",\"orderBy\":\"id\"}");
    assertThat(encoded(hits(server.search(all)))).containsExactlyElementsOf(expected);
    assertThat(encoded(hits(server.post("/api/v1/_query", all)))).containsExactlyElementsOf(expected);
    assertThat(encoded(ok(jobResult("_search", all)).getJsonArray("hits"))).containsExactlyElementsOf(expected);

    // The import list and an import status read after a restart (the job's record still holds the nulls).
    JsonArray imports = ok(server.get("/api/v1/data/_imports")).getJsonArray("imports");
    for (int i = 0; i < imports.size(); i++) {
      assertThat(imports.getJsonObject(i).getJsonObject("status").getJsonObject("lastSuccessfulElement").encode())
          .doesNotContain("null");
    }
    server.restart();
    String id = ndjsonImport.getString("id");
    assertThat(lastSuccessful(ok(server.get("/api/v1/data/people/file/" + id)))).isEqualTo(stripped(6));
    assertThat(encoded(hits(server.search(all)))).containsExactlyElementsOf(expected);
  }

  @Test
  void aSelectLeavesOutNullColumnsAndNullLinkPaths() {
    ok(server.post("/api/v1/data/people/batch", "[" + withNulls(1) + ","
        + "{\"id\":2,\"name\":\"Eve\",\"remark\":\"r\",\"team\":2},{\"id\":3,\"name\":\"Lu\",\"team\":null}]"));
    JsonObject select = new JsonObject("""
        {"from":"people","select":["id","remark","score","team.lead"],"orderBy":"id"}""");
    // 1: null columns and a linked row whose value is null; 3: no linked row at all.
    assertThat(encoded(hits(server.search(select))))
        .containsExactly("{\"id\":1}", "{\"id\":2,\"remark\":\"r\",\"team.lead\":\"Kim\"}", "{\"id\":3}");
    assertThat(encoded(ok(jobResult("_query", select)).getJsonArray("hits")))
        .containsExactly("{\"id\":1}", "{\"id\":2,\"remark\":\"r\",\"team.lead\":\"Kim\"}", "{\"id\":3}");
    // Searching for null still finds the rows; they only come back without the field.
    JsonObject nullRemark = new JsonObject("{\"from\":\"people\",\"where\":{\"remark\":null},\"orderBy\":\"id\"}");
    assertThat(encoded(hits(server.search(nullRemark))))
        .containsExactly(stripped(1), "{\"id\":3,\"name\":\"Lu\"}");
  }

  @Test
  void versionIsOpenWithoutAKeyButRefusesAWrongOne() {
    for (String key : new String[] {null, TestServer.RW_KEY, TestServer.RO_KEY}) {
      assertThat(ok(server.send(HttpMethod.GET, "/version", null, key)).getString("version")).isNotBlank();
    }
    for (String key : new String[] {"wrong-key", ""}) {
      JsonObject refused = error(server.send(HttpMethod.GET, "/version", null, key), 403);
      assertThat(refused.getString("message")).isEqualTo("invalid api key");
    }
  }

  @Test
  void deletingWhatIsNotThereSucceeds() {
    JsonObject nothing = new JsonObject().put("deleted", new JsonArray());
    assertThat(ok(server.delete("/api/v1/schema/nope"))).isEqualTo(nothing);
    assertThat(ok(server.delete("/api/v1/schema/people/nope"))).isEqualTo(nothing);
    assertThat(ok(server.delete("/api/v1/schema/nope/remark"))).isEqualTo(nothing);
    assertThat(ok(server.delete("/api/v1/schema/people/remark")))
        .isEqualTo(new JsonObject().put("deleted", new JsonArray().add("people.remark")));
    assertThat(ok(server.delete("/api/v1/schema/people/remark"))).isEqualTo(nothing);
    // The checks a real drop makes still hold: a linked-to table stays.
    error(server.delete("/api/v1/schema/teams"), 409, "teams", "people");
    assertThat(ok(server.delete("/api/v1/schema/people")))
        .isEqualTo(new JsonObject().put("deleted", new JsonArray().add("people")));
    assertThat(ok(server.delete("/api/v1/schema/people"))).isEqualTo(nothing);
    assertThat(ok(server.delete("/api/v1/schema")))
        .isEqualTo(new JsonObject().put("deleted", new JsonArray().add("teams")));
    assertThat(ok(server.delete("/api/v1/schema"))).isEqualTo(nothing);
    assertThat(ok(server.get("/api/v1/schema")).getJsonObject("schema")).isEmpty();
  }

  /**
   * A delete of a missing table racing a create, copy or rename to that name: whichever runs first, the reply
   * tells, and the schema afterwards agrees with it. A created table is never lost to a delete that reports it
   * deleted nothing.
   */
  @Test
  void anIdempotentDeleteNeverDropsATableMadeConcurrently() {
    Random random = TestSeeds.random("AitoCompatibilityTest.race");
    ok(server.put("/api/v1/schema/source", new JsonObject(TEAMS)));
    ok(server.post("/api/v1/data/source/batch", new JsonArray("[{\"id\":1},{\"id\":2},{\"id\":3}]")));
    int[] seen = new int[2];
    for (int round = 0; round < 40; round++) {
      String table = "raced" + round;
      int kind = random.nextInt(3);
      Buffer create;
      HttpMethod method;
      String path;
      long rows;
      if (kind == 0) {
        method = HttpMethod.PUT;
        path = "/api/v1/schema/" + table;
        create = Buffer.buffer(TEAMS);
        rows = 0;
      } else if (kind == 1) {
        method = HttpMethod.POST;
        path = "/api/v1/schema/_copy";
        create = new JsonObject().put("from", "source").put("copy", table).toBuffer();
        rows = 3;
      } else {
        ok(server.put("/api/v1/schema/moving" + round, new JsonObject(TEAMS)));
        ok(server.post("/api/v1/data/moving" + round + "/batch", new JsonArray("[{\"id\":1},{\"id\":2}]")));
        method = HttpMethod.POST;
        path = "/api/v1/schema/_rename";
        create = new JsonObject().put("from", "moving" + round).put("rename", table).toBuffer();
        rows = 2;
      }
      // Which request is sent first varies; both are in flight together either way.
      Future<HttpResponse<Buffer>> made;
      Future<HttpResponse<Buffer>> dropped;
      if (random.nextBoolean()) {
        made = send(method, path, create);
        dropped = send(HttpMethod.DELETE, "/api/v1/schema/" + table, null);
      } else {
        dropped = send(HttpMethod.DELETE, "/api/v1/schema/" + table, null);
        made = send(method, path, create);
      }
      TestServer.await(Future.all(made, dropped));
      HttpResponse<Buffer> madeReply = made.result();
      HttpResponse<Buffer> droppedReply = dropped.result();
      String what = "round " + round + " (" + path + "): " + madeReply.bodyAsString() + " / "
          + droppedReply.bodyAsString();
      assertThat(madeReply.statusCode()).as(what).isEqualTo(200);
      assertThat(droppedReply.statusCode()).as(what).isEqualTo(200);
      JsonArray deleted = droppedReply.bodyAsJsonObject().getJsonArray("deleted");
      Response after = server.get("/api/v1/schema/" + table);
      if (deleted.isEmpty()) {
        seen[0]++;
        assertThat(after.status()).as(what + ": the delete reported nothing, the table must stay").isEqualTo(200);
        long count = ok(server.search(new JsonObject().put("from", table).put("limit", 0))).getLong("total");
        assertThat(count).as(what).isEqualTo(rows);
      } else {
        seen[1]++;
        assertThat(deleted).as(what).containsExactly(table);
        assertThat(after.status()).as(what + ": the delete reported the table, it must be gone").isEqualTo(404);
      }
      if (kind == 2) {
        assertThat(server.get("/api/v1/schema/moving" + round).status()).as(what).isEqualTo(404);
      }
    }
    System.out.println("delete ran before the create in " + seen[0] + " rounds, after it in " + seen[1]);
  }

  // ---------------------------------------------------------------- helpers

  private Future<HttpResponse<Buffer>> send(HttpMethod method, String path, Buffer body) {
    var request = server.client().request(method, path).putHeader("x-api-key", TestServer.RW_KEY);
    return body == null ? request.send()
        : request.putHeader("content-type", "application/json").sendBuffer(body);
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static List<String> encoded(JsonArray hits) {
    List<String> rows = new ArrayList<>();
    for (int i = 0; i < hits.size(); i++) {
      rows.add(hits.getJsonObject(i).encode());
    }
    return rows;
  }

  private static String lastSuccessful(JsonObject status) {
    return status.getJsonObject("status").getJsonObject("lastSuccessfulElement").encode();
  }

  /** Initiates, uploads and triggers an import into {@code people}; returns its final status with its "id". */
  private JsonObject importFile(byte[] body, String format) {
    JsonObject initiated = ok(server.post("/api/v1/data/people/file", new JsonObject().put("format", format)));
    assertThat(server.upload(initiated.getString("url"), Buffer.buffer(body)).status()).isEqualTo(200);
    String id = initiated.getString("id");
    ok(server.post("/api/v1/data/people/file/" + id, new JsonObject()));
    JsonObject status = server.awaitImport("people", id);
    assertThat(status.getJsonObject("status").getString("phase")).as(status.encode()).isEqualTo("Finished");
    return status.put("id", id);
  }

  /** Runs {@code POST /api/v1/jobs/<endpoint>} and returns its result once the job has finished. */
  private Response jobResult(String endpoint, JsonObject query) {
    Response started = server.post("/api/v1/jobs/" + endpoint, query);
    assertThat(started.status()).as(started.toString()).isEqualTo(201);
    String id = started.json().getString("id");
    for (int attempt = 0; attempt < 1500; attempt++) {
      if (ok(server.get("/api/v1/jobs/" + id)).containsKey("finishedAt")) {
        return server.get("/api/v1/jobs/" + id + "/result");
      }
      try {
        Thread.sleep(20); // polling an API's status, not synchronising threads
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("job " + id + " did not finish");
  }
}
