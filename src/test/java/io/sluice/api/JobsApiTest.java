package io.sluice.api;

import static io.sluice.api.ApiAssertions.error;
import static io.sluice.api.ApiAssertions.object;
import static io.sluice.api.ApiAssertions.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.sluice.ServerTest;
import io.sluice.TestServer.Response;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** docs/api.md §4 jobs: long requests started, polled and fetched, through HTTP against the real store. */
class JobsApiTest extends ServerTest {
  @BeforeEach
  void loadUsers() {
    ok(server.put("/api/v1/schema/users", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},"name":{"type":"String"},"bio":{"type":"Text"}}}""")));
    ok(server.post("/api/v1/data/users/batch", new JsonArray("""
        [{"id":1,"name":"anne","bio":"likes london"},{"id":2,"name":"bob","bio":"likes paris"},
         {"id":3,"name":"cid","bio":"london again"}]""")));
  }

  /** Starts a job: 201 with a canonical UUID id, the path it runs and when it started. */
  private JsonObject startJob(String path, Object body) {
    Response started = server.post("/api/v1/jobs/" + path, body);
    assertThat(started.status()).as(started.toString()).isEqualTo(201);
    JsonObject job = object(started);
    assertThat(job.getString("id")).as(started.toString()).isEqualTo(UUID.fromString(job.getString("id")).toString());
    assertThat(job.getString("path")).as(started.toString()).isEqualTo(path);
    assertThat(Instant.parse(job.getString("startedAt"))).isBeforeOrEqualTo(Instant.now());
    return job;
  }

  /** Polls the job's status (an API, so sleeping between polls is fine) until it has finished. */
  private JsonObject awaitFinished(JsonObject job) throws InterruptedException {
    String id = job.getString("id");
    for (int attempt = 0; attempt < 1500; attempt++) {
      JsonObject status = ok(server.get("/api/v1/jobs/" + id));
      assertThat(status.getString("id")).isEqualTo(id);
      assertThat(status.getString("path")).isEqualTo(job.getString("path"));
      assertThat(status.getString("startedAt")).isEqualTo(job.getString("startedAt"));
      if (status.containsKey("finishedAt")) {
        Instant started = Instant.parse(status.getString("startedAt"));
        Instant finished = Instant.parse(status.getString("finishedAt"));
        assertThat(finished).isAfterOrEqualTo(started);
        if (status.containsKey("expiresAt")) {
          assertThat(Instant.parse(status.getString("expiresAt"))).isAfter(finished);
        }
        return status;
      }
      Thread.sleep(20);
    }
    return fail("job " + id + " did not finish in 30 s");
  }

  private Response result(JsonObject job) {
    return server.get("/api/v1/jobs/" + job.getString("id") + "/result");
  }

  @Test
  void aSearchJobAnswersLikeTheSearch() throws InterruptedException {
    JsonObject query = new JsonObject("{\"from\":\"users\",\"where\":{\"bio\":{\"$match\":\"london\"}},\"limit\":5}");
    JsonObject job = startJob("_search", query);
    awaitFinished(job);
    assertThat(ok(result(job))).isEqualTo(ok(server.search(query)));
    assertThat(ok(result(job)).getLong("total")).isEqualTo(2);
  }

  @Test
  void aQueryJobAnswersLikeTheQuery() throws InterruptedException {
    JsonObject query = new JsonObject("{\"from\":\"users\",\"orderBy\":{\"$desc\":\"id\"},\"select\":[\"name\"]}");
    JsonObject job = startJob("_query", query);
    awaitFinished(job);
    assertThat(ok(result(job))).isEqualTo(ok(server.post("/api/v1/_query", query)));
  }

  @Test
  void aDeleteJobDeletes() throws InterruptedException {
    JsonObject job = startJob("data/_delete", new JsonObject("{\"from\":\"users\",\"where\":{\"name\":\"bob\"}}"));
    awaitFinished(job);
    assertThat(ok(result(job))).isEqualTo(new JsonObject().put("total", 1));
    assertThat(server.search(new JsonObject().put("from", "users")).total()).isEqualTo(2);
  }

  @Test
  void anOptimizeJobKeepsTheRows() throws InterruptedException {
    ok(server.post("/api/v1/data/users/batch", new JsonArray("[{\"id\":4,\"name\":\"dan\",\"bio\":\"x\"}]")));
    ok(server.post("/api/v1/data/_delete", new JsonObject("{\"from\":\"users\",\"where\":{\"id\":2}}")));
    JsonObject job = startJob("data/users/optimize", new JsonObject());
    awaitFinished(job);
    ok(result(job));
    var all = server.search(new JsonObject().put("from", "users"));
    assertThat(ApiAssertions.column(all, "id")).containsExactly(1, 3, 4);
    // And directly, for comparison.
    ok(server.post("/api/v1/data/users/optimize", new JsonObject()));
    assertThat(ApiAssertions.column(server.search(new JsonObject().put("from", "users")), "id"))
        .containsExactly(1, 3, 4);
  }

  @Test
  void aBatchJobStoresTheRows() throws InterruptedException {
    JsonArray rows = new JsonArray();
    for (int k = 10; k < 60; k++) {
      rows.add(new JsonObject().put("id", k).put("name", "n" + k).put("bio", "bulk"));
    }
    JsonObject job = startJob("data/users/batch", rows);
    awaitFinished(job);
    assertThat(ok(result(job))).isEqualTo(new JsonObject().put("total", 50));
    var bulk = server.search(new JsonObject("{\"from\":\"users\",\"where\":{\"bio\":\"bulk\"},\"limit\":0}"));
    assertThat(bulk.total()).isEqualTo(50);
  }

  @Test
  void aFailedJobsResultIsTheEndpointsError() throws InterruptedException {
    JsonObject badBatch = startJob("data/users/batch", new JsonArray("[{\"id\":\"x\",\"name\":\"n\",\"bio\":\"b\"}]"));
    awaitFinished(badBatch);
    JsonObject body = error(result(badBatch), 400, "id");
    assertThat(body.getJsonArray("errors")).hasSize(1);

    JsonObject badSearch = startJob("_search", new JsonObject("{\"from\":\"nope\"}"));
    awaitFinished(badSearch);
    error(result(badSearch), 404, "nope");

    JsonObject unknownTable = startJob("data/nope/optimize", new JsonObject());
    awaitFinished(unknownTable);
    error(result(unknownTable), 404, "nope");

    assertThat(server.search(new JsonObject().put("from", "users")).total()).isEqualTo(3);
  }

  /** Results, and the errors of failed jobs, are kept in the node state: a restart keeps them for their time. */
  @Test
  void resultsSurviveARestart() throws InterruptedException {
    JsonObject query = new JsonObject("{\"from\":\"users\",\"where\":{\"bio\":{\"$match\":\"london\"}}}");
    JsonObject search = startJob("_search", query);
    JsonObject finished = awaitFinished(search);
    JsonObject answer = ok(result(search));
    JsonObject failed = startJob("_search", new JsonObject("{\"from\":\"nope\"}"));
    awaitFinished(failed);

    server.restart();

    assertThat(ok(server.get("/api/v1/jobs/" + search.getString("id")))).isEqualTo(finished);
    assertThat(ok(result(search))).isEqualTo(answer);
    error(result(failed), 404, "nope");
  }

  @Test
  void unknownJobsAre404() {
    String id = UUID.randomUUID().toString();
    error(server.get("/api/v1/jobs/" + id), 404, id);
    error(server.get("/api/v1/jobs/" + id + "/result"), 404, id);
    error(server.get("/api/v1/jobs/not-a-uuid"), 404);
  }
}
