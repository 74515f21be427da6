package io.sluice.api;

import static io.sluice.api.ApiAssertions.error;
import static io.sluice.api.ApiAssertions.object;
import static io.sluice.api.ApiAssertions.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** docs/api.md §0: keys, access rules, the error shape, status codes and CORS, through HTTP. */
class AuthAndErrorsTest extends ServerTest {
  private static final JsonObject USERS = new JsonObject("""
      {"type":"table","columns":{"id":{"type":"Int"},"name":{"type":"String"}}}""");

  @BeforeEach
  void loadUsers() {
    ok(server.put("/api/v1/schema/users", USERS));
    ok(server.post("/api/v1/data/users/batch", new JsonArray("[{\"id\":1,\"name\":\"anne\"},{\"id\":2,\"name\":\"bob\"}]")));
  }

  /** A request with exactly the given headers (no key unless one is given). */
  private Response send(HttpMethod method, String path, Map<String, String> headers, String body) {
    var request = server.client().request(method, path);
    headers.forEach(request::putHeader);
    return new Response(TestServer.await(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body))));
  }

  /** Every route that changes something, with a body it would accept from the read-write key. */
  private record Route(HttpMethod method, String path, Object body) {
    @Override
    public String toString() {
      return method + " " + path;
    }
  }

  private static final List<Route> WRITE_ROUTES = List.of(
      new Route(HttpMethod.PUT, "/api/v1/schema", new JsonObject().put("schema", new JsonObject())),
      new Route(HttpMethod.DELETE, "/api/v1/schema", null),
      new Route(HttpMethod.PUT, "/api/v1/schema/other", USERS),
      new Route(HttpMethod.DELETE, "/api/v1/schema/users", null),
      new Route(HttpMethod.PUT, "/api/v1/schema/users/age", new JsonObject("{\"type\":\"Int\",\"nullable\":true}")),
      new Route(HttpMethod.DELETE, "/api/v1/schema/users/name", null),
      new Route(HttpMethod.POST, "/api/v1/schema/_rename", new JsonObject("{\"from\":\"users\",\"rename\":\"people\"}")),
      new Route(HttpMethod.POST, "/api/v1/schema/_copy", new JsonObject("{\"from\":\"users\",\"copy\":\"people\"}")),
      new Route(HttpMethod.POST, "/api/v1/data/users", new JsonObject("{\"id\":3,\"name\":\"cid\"}")),
      new Route(HttpMethod.POST, "/api/v1/data/users/batch", new JsonArray("[{\"id\":3,\"name\":\"cid\"}]")),
      new Route(HttpMethod.POST, "/api/v1/data/users/optimize", new JsonObject()),
      new Route(HttpMethod.POST, "/api/v1/data/_delete", new JsonObject("{\"from\":\"users\",\"where\":{}}")),
      new Route(HttpMethod.POST, "/api/v1/jobs/data/_delete", new JsonObject("{\"from\":\"users\",\"where\":{}}")),
      new Route(HttpMethod.POST, "/api/v1/jobs/data/users/optimize", new JsonObject()),
      new Route(HttpMethod.POST, "/api/v1/jobs/data/users/batch", new JsonArray("[{\"id\":3,\"name\":\"cid\"}]")));

  private JsonObject snapshot() {
    return new JsonObject().put("schema", ok(server.get("/api/v1/schema")))
        .put("rows", ok(server.search(new JsonObject().put("from", "users"))));
  }

  @Test
  void aMissingOrUnknownKeyIs403OnEveryApiRoute() {
    JsonObject before = snapshot();
    List<Route> reads = List.of(new Route(HttpMethod.GET, "/api/v1/schema", null),
        new Route(HttpMethod.GET, "/api/v1/schema/users", null),
        new Route(HttpMethod.POST, "/api/v1/_search", new JsonObject().put("from", "users")),
        new Route(HttpMethod.POST, "/api/v1/_query", new JsonObject().put("from", "users")),
        new Route(HttpMethod.GET, "/api/v1/jobs/" + java.util.UUID.randomUUID(), null));
    for (List<Route> routes : List.of(reads, WRITE_ROUTES)) {
      for (Route route : routes) {
        for (String key : new String[] {null, "", "wrong-key", TestServer.RW_KEY + "x", TestServer.RO_KEY.toUpperCase()}) {
          var response = server.send(route.method(), route.path(), route.body(), key);
          JsonObject body = error(response, 403);
          assertThat(body.getString("message")).as(route + " key " + key).isEqualTo("invalid api key");
        }
      }
    }
    assertThat(snapshot()).isEqualTo(before);
  }

  @Test
  void theReadOnlyKeyReads() throws InterruptedException {
    String ro = TestServer.RO_KEY;
    assertThat(ok(server.send(HttpMethod.GET, "/api/v1/schema", null, ro))).isEqualTo(ok(server.get("/api/v1/schema")));
    ok(server.send(HttpMethod.GET, "/api/v1/schema/users", null, ro));
    ok(server.send(HttpMethod.GET, "/api/v1/schema/users/name", null, ro));
    JsonObject query = new JsonObject().put("from", "users").put("where", new JsonObject().put("id", 2));
    assertThat(ok(server.send(HttpMethod.POST, "/api/v1/_search", query, ro)).getLong("total")).isEqualTo(1);
    assertThat(ok(server.send(HttpMethod.POST, "/api/v1/_query", query, ro)).getLong("total")).isEqualTo(1);

    var started = server.send(HttpMethod.POST, "/api/v1/jobs/_search", query, ro);
    assertThat(started.status()).as(started.toString()).isEqualTo(201);
    String id = object(started).getString("id");
    var queryJob = server.send(HttpMethod.POST, "/api/v1/jobs/_query", query, ro);
    assertThat(queryJob.status()).as(queryJob.toString()).isEqualTo(201);
    JsonObject status = ok(server.send(HttpMethod.GET, "/api/v1/jobs/" + id, null, ro));
    for (int attempt = 0; !status.containsKey("finishedAt") && attempt < 1500; attempt++) {
      Thread.sleep(20);
      status = ok(server.send(HttpMethod.GET, "/api/v1/jobs/" + id, null, ro));
    }
    assertThat(status.containsKey("finishedAt")).as(status.encode()).isTrue();
    assertThat(ok(server.send(HttpMethod.GET, "/api/v1/jobs/" + id + "/result", null, ro)).getLong("total"))
        .isEqualTo(1);
  }

  @Test
  void theReadOnlyKeyIsRefusedOnEveryWriteRoute() {
    JsonObject before = snapshot();
    for (Route route : WRITE_ROUTES) {
      var response = server.send(route.method(), route.path(), route.body(), TestServer.RO_KEY);
      JsonObject body = error(response, 403);
      assertThat(body.getString("message")).as(route + ": " + response).contains("read-only");
    }
    assertThat(snapshot()).isEqualTo(before);
    error(server.get("/api/v1/schema/other"), 404, "other");
    error(server.get("/api/v1/schema/people"), 404, "people");
    // The same routes work with the read-write key (so the table above really covers write routes).
    JsonObject database = new JsonObject().put("schema", new JsonObject().put("users", USERS));
    for (Route route : WRITE_ROUTES) {
      ok(server.put("/api/v1/schema", database));
      ok(server.post("/api/v1/data/users", new JsonObject("{\"id\":1,\"name\":\"anne\"}")));
      var response = server.send(route.method(), route.path(), route.body(), TestServer.RW_KEY);
      assertThat(response.status()).as(route + ": " + response).isBetween(200, 201);
      object(response);
    }
  }

  @Test
  void theReadOnlyKeyIsRefusedOnTheImportRoutes() {
    String upload = java.util.UUID.randomUUID().toString();
    List<Route> imports = List.of(
        new Route(HttpMethod.POST, "/api/v1/data/users/file", new JsonObject()),
        new Route(HttpMethod.POST, "/api/v1/data/users/file/" + upload, new JsonObject()),
        new Route(HttpMethod.POST, "/api/v1/data/users/stream", "{\"id\":3,\"name\":\"cid\"}\n"));
    JsonObject before = snapshot();
    for (Route route : imports) {
      var response = server.send(route.method(), route.path(), route.body(), TestServer.RO_KEY);
      JsonObject body = error(response, 403);
      assertThat(body.getString("message")).as(route + ": " + response).contains("read-only");
      var noKey = server.send(route.method(), route.path(), route.body(), null);
      assertThat(error(noKey, 403).getString("message")).as(route + ": " + noKey).isEqualTo("invalid api key");
    }
    assertThat(snapshot()).isEqualTo(before);
  }

  @Test
  void versionAndHealthNeedNoKey() {
    var version = send(HttpMethod.GET, "/version", Map.of(), null);
    assertThat(ok(version).getString("version")).matches("\\d+\\.\\d+\\.\\d+([-+].*)?");
    assertThat(ok(send(HttpMethod.GET, "/api/v1/health", Map.of(), null)))
        .isEqualTo(new JsonObject().put("status", "ok"));
    assertThat(ok(send(HttpMethod.GET, "/health", Map.of(), null))).isEqualTo(new JsonObject().put("status", "ok"));
    assertThat(ok(server.send(HttpMethod.GET, "/api/v1/health", null, "wrong-key")))
        .isEqualTo(new JsonObject().put("status", "ok"));
    // Aito's client checks its key on /version: a key that is sent must be known.
    assertThat(ok(server.send(HttpMethod.GET, "/version", null, TestServer.RO_KEY)).getString("version")).isNotBlank();
    assertThat(error(server.send(HttpMethod.GET, "/version", null, "wrong-key"), 403).getString("message"))
        .isEqualTo("invalid api key");
  }

  @Test
  void unknownPathsAre404AndWrongMethods405() {
    error(server.get("/api/v1/nope"), 404);
    error(server.post("/api/v1/data/users/nope", new JsonObject()), 404);
    error(server.get("/api/v1/schema/users/name/more"), 404);
    error(send(HttpMethod.GET, "/nope", Map.of(), null), 404);

    error(server.get("/api/v1/_search"), 405);
    error(server.get("/api/v1/_query"), 405);
    error(server.delete("/api/v1/data/users/batch"), 405);
    error(server.put("/api/v1/data/_delete", new JsonObject()), 405);
    error(server.send(HttpMethod.PATCH, "/api/v1/schema", new JsonObject(), TestServer.RW_KEY), 405);
    error(server.send(HttpMethod.POST, "/version", new JsonObject(), null), 405);
  }

  @Test
  void contentTypes() {
    Map<String, String> multipart = Map.of("x-api-key", TestServer.RW_KEY,
        "content-type", "multipart/form-data; boundary=xyz");
    String body = "--xyz\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\n1\r\n--xyz--\r\n";
    error(send(HttpMethod.POST, "/api/v1/_search", multipart, body), 415);
    error(send(HttpMethod.POST, "/api/v1/data/users/batch", multipart, body), 415);
    error(send(HttpMethod.POST, "/api/v1/data/users", Map.of("x-api-key", TestServer.RW_KEY,
        "content-type", "application/xml"), "<row/>"), 415);

    // curl -d sends a form content type; the body is still JSON and is read as such.
    String search = "{\"from\":\"users\",\"where\":{\"name\":\"anne\"}}";
    var form = send(HttpMethod.POST, "/api/v1/_search", Map.of("x-api-key", TestServer.RW_KEY,
        "content-type", "application/x-www-form-urlencoded"), search);
    assertThat(ok(form).getLong("total")).isEqualTo(1);
    var noType = send(HttpMethod.POST, "/api/v1/data/users/batch", Map.of("x-api-key", TestServer.RW_KEY),
        "[{\"id\":3,\"name\":\"cid\"}]");
    assertThat(ok(noType).getLong("total")).isEqualTo(1);
    var charset = send(HttpMethod.POST, "/api/v1/_search", Map.of("x-api-key", TestServer.RW_KEY,
        "content-type", "application/json; charset=utf-8"), search);
    assertThat(ok(charset).getLong("total")).isEqualTo(1);
  }

  @Test
  void everySuccessBodyIsAJsonObject() throws InterruptedException {
    List<Route> routes = List.of(
        new Route(HttpMethod.PUT, "/api/v1/schema", new JsonObject().put("schema", new JsonObject().put("a", USERS))),
        new Route(HttpMethod.GET, "/api/v1/schema", null),
        new Route(HttpMethod.PUT, "/api/v1/schema/b", USERS),
        new Route(HttpMethod.GET, "/api/v1/schema/b", null),
        new Route(HttpMethod.PUT, "/api/v1/schema/b/age", new JsonObject("{\"type\":\"Int\",\"nullable\":true}")),
        new Route(HttpMethod.GET, "/api/v1/schema/b/age", null),
        new Route(HttpMethod.DELETE, "/api/v1/schema/b/age", null),
        new Route(HttpMethod.POST, "/api/v1/data/b", new JsonObject("{\"id\":1,\"name\":\"x\"}")),
        new Route(HttpMethod.POST, "/api/v1/data/b/batch", new JsonArray("[{\"id\":2,\"name\":\"y\"}]")),
        new Route(HttpMethod.POST, "/api/v1/data/b/batch", new JsonArray()),
        new Route(HttpMethod.POST, "/api/v1/data/b/optimize", new JsonObject()),
        new Route(HttpMethod.POST, "/api/v1/_search", new JsonObject().put("from", "b")),
        new Route(HttpMethod.POST, "/api/v1/_query", new JsonObject().put("from", "b")),
        new Route(HttpMethod.POST, "/api/v1/schema/_copy", new JsonObject("{\"from\":\"b\",\"copy\":\"c\"}")),
        new Route(HttpMethod.POST, "/api/v1/schema/_rename", new JsonObject("{\"from\":\"c\",\"rename\":\"d\"}")),
        new Route(HttpMethod.POST, "/api/v1/data/_delete", new JsonObject("{\"from\":\"d\"}")),
        new Route(HttpMethod.DELETE, "/api/v1/schema/d", null),
        new Route(HttpMethod.POST, "/api/v1/jobs/_search", new JsonObject().put("from", "b")),
        new Route(HttpMethod.DELETE, "/api/v1/schema", null),
        new Route(HttpMethod.GET, "/api/v1/schema", null));
    String jobId = null;
    for (Route route : routes) {
      var response = server.send(route.method(), route.path(), route.body(), TestServer.RW_KEY);
      assertThat(response.status()).as(route + ": " + response).isBetween(200, 201);
      assertThat(response.header("content-type")).as(route.toString()).startsWith("application/json");
      JsonObject body = object(response);
      if (route.path().startsWith("/api/v1/jobs/")) {
        jobId = body.getString("id");
        // The job reads on the read lane, the next route drops every table on the write lane: let it finish first.
        JsonObject status = ok(server.get("/api/v1/jobs/" + jobId));
        for (int attempt = 0; !status.containsKey("finishedAt") && attempt < 1500; attempt++) {
          Thread.sleep(20);
          status = ok(server.get("/api/v1/jobs/" + jobId));
        }
      }
    }
    ok(server.get("/api/v1/jobs/" + jobId + "/result"));
  }

  @Test
  void errorBodiesAreJsonWithMessageAndStatus() {
    // A sample of every 4xx the API produces; ApiAssertions.error checks the shape of each.
    error(server.send(HttpMethod.GET, "/api/v1/schema", null, null), 403);
    error(server.send(HttpMethod.DELETE, "/api/v1/schema", null, TestServer.RO_KEY), 403);
    error(server.post("/api/v1/_search", "{not json"), 400);
    error(server.put("/api/v1/schema/users", new JsonObject("{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Long\"}}}")),
        409);
    error(server.get("/api/v1/schema/nope"), 404);
    error(server.get("/api/v1/_search"), 405);
    var html = send(HttpMethod.GET, "/nope", Map.of("accept", "text/html"), null);
    error(html, 404);
    assertThat(html.header("content-type")).startsWith("application/json");
  }

  @Test
  void corsAllowsAnyOrigin() {
    Map<String, String> withOrigin = Map.of("x-api-key", TestServer.RW_KEY, "origin", "https://app.example.com");
    var schema = send(HttpMethod.GET, "/api/v1/schema", withOrigin, null);
    ok(schema);
    assertThat(schema.header("Access-Control-Allow-Origin")).isEqualTo("*");
    var search = send(HttpMethod.POST, "/api/v1/_search", Map.of("x-api-key", TestServer.RW_KEY,
        "origin", "http://localhost:3000", "content-type", "application/json"), "{\"from\":\"users\"}");
    ok(search);
    assertThat(search.header("Access-Control-Allow-Origin")).isEqualTo("*");
    var denied = send(HttpMethod.GET, "/api/v1/schema", Map.of("origin", "https://app.example.com"), null);
    error(denied, 403);
    assertThat(denied.header("Access-Control-Allow-Origin")).isEqualTo("*");

    // A browser's preflight carries no key and must be answered.
    var preflight = send(HttpMethod.OPTIONS, "/api/v1/_search", Map.of("origin", "https://app.example.com",
        "access-control-request-method", "POST", "access-control-request-headers", "x-api-key, content-type"), null);
    assertThat(preflight.status()).as(preflight.toString()).isBetween(200, 204);
    assertThat(preflight.header("Access-Control-Allow-Origin")).isEqualTo("*");
    assertThat(preflight.header("Access-Control-Allow-Headers")).containsIgnoringCase("x-api-key");
    assertThat(preflight.header("Access-Control-Allow-Methods")).contains("POST");
  }
}
