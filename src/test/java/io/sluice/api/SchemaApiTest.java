package io.sluice.api;

import static io.sluice.api.ApiAssertions.column;
import static io.sluice.api.ApiAssertions.error;
import static io.sluice.api.ApiAssertions.hits;
import static io.sluice.api.ApiAssertions.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** docs/api.md §1: the schema endpoints, through HTTP against the real store. */
class SchemaApiTest extends ServerTest {
  private static final JsonObject USERS = new JsonObject("""
      {"type":"table","columns":{"id":{"type":"Int"},"name":{"type":"String"}}}""");

  // ------------------------------------------------------------------------------------------ whole database

  @Test
  void wholeDatabaseSchemaIsReturnedWithExactlyAitosKeys() {
    var put = server.put("/api/v1/schema", new JsonObject("""
        {"schema":{
          "users":{"type":"table","columns":{
            "id":{"type":"Int"},
            "name":{"type":"string","nullable":true},
            "bio":{"type":"Text","analyzer":"english"}}},
          "visits":{"type":"table","columns":{
            "user":{"type":"Int","link":"users.id","nullable":false},
            "tags":{"type":"Text","analyzer":{"type":"delimiter","delimiter":","}}}}}}"""));
    JsonObject expected = new JsonObject("""
        {"schema":{
          "users":{"type":"table","columns":{
            "id":{"type":"Int","nullable":false},
            "name":{"type":"String","nullable":true},
            "bio":{"type":"Text","nullable":false,"analyzer":"english"}}},
          "visits":{"type":"table","columns":{
            "user":{"type":"Int","nullable":false,"link":"users.id"},
            "tags":{"type":"Text","nullable":false,"analyzer":{"type":"delimiter","delimiter":","}}}}}}""");
    assertThat(ok(put)).isEqualTo(expected);

    JsonObject got = ok(server.get("/api/v1/schema"));
    assertThat(got).isEqualTo(expected);
    // Aito's Python client rejects unknown keys: check them one level at a time, not just by equality.
    assertThat(got.fieldNames()).containsExactly("schema");
    for (String table : got.getJsonObject("schema").fieldNames()) {
      JsonObject t = got.getJsonObject("schema").getJsonObject(table);
      assertThat(t.fieldNames()).as(table).containsExactlyInAnyOrder("type", "columns");
      for (String c : t.getJsonObject("columns").fieldNames()) {
        assertThat(t.getJsonObject("columns").getJsonObject(c).fieldNames()).as(table + "." + c)
            .containsAnyOf("type").isSubsetOf(Set.of("type", "nullable", "link", "analyzer"))
            .contains("nullable");
      }
    }
  }

  @Test
  void putWholeSchemaReplacesTheDatabaseAndDeleteRemovesEverything() {
    ok(server.put("/api/v1/schema/old", USERS));
    ok(server.post("/api/v1/data/old", new JsonObject("{\"id\":1,\"name\":\"a\"}")));

    ok(server.put("/api/v1/schema", new JsonObject().put("schema", new JsonObject().put("fresh", USERS))));
    assertThat(ok(server.get("/api/v1/schema")).getJsonObject("schema").fieldNames()).containsExactly("fresh");
    error(server.get("/api/v1/schema/old"), 404, "old");
    error(server.search(new JsonObject().put("from", "old")), 404, "old");

    JsonObject deleted = ok(server.delete("/api/v1/schema"));
    assertThat(deleted).isNotNull();
    assertThat(ok(server.get("/api/v1/schema"))).isEqualTo(new JsonObject().put("schema", new JsonObject()));
    error(server.get("/api/v1/schema/fresh"), 404, "fresh");
    error(server.post("/api/v1/data/fresh", new JsonObject("{\"id\":1,\"name\":\"a\"}")), 404, "fresh");
  }

  @Test
  void putWholeSchemaWithALinkToAMissingTableStoresNothing() {
    error(server.put("/api/v1/schema", new JsonObject("""
        {"schema":{"a":{"type":"table","columns":{"x":{"type":"Int","link":"nope.id"}}}}}""")), 400, "nope");
    assertThat(ok(server.get("/api/v1/schema")).getJsonObject("schema")).isEmpty();
  }

  // ------------------------------------------------------------------------------------------ tables

  @Test
  void tablePutGetDelete() {
    JsonObject expected = new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int","nullable":false},"name":{"type":"String","nullable":false}}}""");
    assertThat(ok(server.put("/api/v1/schema/users", USERS))).isEqualTo(expected);
    assertThat(ok(server.get("/api/v1/schema/users"))).isEqualTo(expected);
    assertThat(ok(server.get("/api/v1/schema")).getJsonObject("schema").getJsonObject("users")).isEqualTo(expected);

    ok(server.delete("/api/v1/schema/users"));
    error(server.get("/api/v1/schema/users"), 404, "users");
    assertThat(ok(server.delete("/api/v1/schema/users"))).isEqualTo(new JsonObject("{\"deleted\":[]}"));
    assertThat(ok(server.get("/api/v1/schema")).getJsonObject("schema")).isEmpty();
  }

  @Test
  void deletingATableDeletesItsRows() {
    ok(server.put("/api/v1/schema/users", USERS));
    ok(server.post("/api/v1/data/users", new JsonObject("{\"id\":1,\"name\":\"a\"}")));
    ok(server.delete("/api/v1/schema/users"));
    ok(server.put("/api/v1/schema/users", USERS));
    assertThat(server.search(new JsonObject().put("from", "users")).total()).isZero();
  }

  @Test
  void puttingTheSameSchemaTwiceKeepsTheRows() {
    ok(server.put("/api/v1/schema/users", USERS));
    ok(server.post("/api/v1/data/users/batch", new JsonArray("[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"b\"}]")));
    // The same schema, written differently (type case, explicit default, other column order).
    var again = server.put("/api/v1/schema/users", new JsonObject("""
        {"type":"table","columns":{"name":{"type":"String","nullable":false},"id":{"type":"int"}}}"""));
    ok(again);
    assertThat(server.search(new JsonObject().put("from", "users")).total()).isEqualTo(2);
  }

  @Test
  void aDifferentSchemaConflictsWithRowsButReplacesAnEmptyTable() {
    ok(server.put("/api/v1/schema/users", USERS));
    ok(server.post("/api/v1/data/users", new JsonObject("{\"id\":1,\"name\":\"a\"}")));
    JsonObject other = new JsonObject("{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Long\"}}}");

    error(server.put("/api/v1/schema/users", other), 409, "users");
    assertThat(ok(server.get("/api/v1/schema/users")).getJsonObject("columns").fieldNames())
        .containsExactly("id", "name");
    assertThat(server.search(new JsonObject().put("from", "users")).total()).isEqualTo(1);

    ok(server.post("/api/v1/data/_delete", new JsonObject().put("from", "users")));
    ok(server.put("/api/v1/schema/users", other));
    assertThat(ok(server.get("/api/v1/schema/users"))).isEqualTo(
        new JsonObject("{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Long\",\"nullable\":false}}}"));
    ok(server.post("/api/v1/data/users", new JsonObject("{\"id\":5000000000}")));
    error(server.post("/api/v1/data/users", new JsonObject("{\"id\":1,\"name\":\"a\"}")), 400, "name");
    assertThat(column(server.search(new JsonObject().put("from", "users")), "id")).containsExactly(5000000000L);
  }

  @Test
  void aSchemaChangeRacingWithABatchNeverDropsAcknowledgedRows(Vertx vertx) {
    // The PUT is sent once the batch is fully written, so it usually reaches the store while the batch is
    // being parsed or committed: it must then see the batch's rows (409), never replace the table under them.
    JsonObject before = new JsonObject("{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"},\"t\":{\"type\":\"Text\"}}}");
    JsonObject after = new JsonObject("{\"type\":\"table\",\"columns\":{\"other\":{\"type\":\"Int\"}}}");
    JsonArray rows = new JsonArray();
    for (int k = 0; k < 10_000; k++) {
      rows.add(new JsonObject().put("id", k).put("t", "some words " + k));
    }
    Buffer body = rows.toBuffer();
    HttpClient http = vertx.createHttpClient();
    try {
      for (int attempt = 0; attempt < 4; attempt++) {
        server.delete("/api/v1/schema/t");
        ok(server.put("/api/v1/schema/t", before));
        RequestOptions batchRequest = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
            .setPort(server.port()).setURI("/api/v1/data/t/batch").putHeader("x-api-key", TestServer.RW_KEY);
        RequestOptions putRequest = new RequestOptions().setMethod(HttpMethod.PUT).setHost("127.0.0.1")
            .setPort(server.port()).setURI("/api/v1/schema/t").putHeader("x-api-key", TestServer.RW_KEY);
        Promise<Void> written = Promise.promise();
        Future<HttpClientResponse> batch = http.request(batchRequest).compose(request -> {
          request.end(body).onComplete(written);
          return request.response();
        });
        Future<HttpClientResponse> put = written.future().compose(v -> http.request(putRequest))
            .compose(request -> request.send(after.toBuffer()));
        TestServer.await(Future.join(batch, put));
        int batchStatus = batch.result().statusCode();
        int putStatus = put.result().statusCode();
        String outcome = "attempt " + attempt + ": batch " + batchStatus + ", put " + putStatus;
        if (batchStatus == 200) {
          assertThat(putStatus).as(outcome).isEqualTo(409);
          assertThat(server.search(new JsonObject().put("from", "t").put("limit", 0)).total()).as(outcome)
              .isEqualTo(10_000);
        } else {
          // The PUT came first: the batch no longer fits the table.
          assertThat(batchStatus).as(outcome).isEqualTo(400);
          assertThat(putStatus).as(outcome).isEqualTo(200);
          assertThat(ok(server.get("/api/v1/schema/t"))).as(outcome).isEqualTo(ok(server.put("/api/v1/schema/t", after)));
        }
      }
    } finally {
      TestServer.await(http.close());
    }
  }

  // ------------------------------------------------------------------------------------------ columns

  @Test
  void columnGetPutDelete() {
    ok(server.put("/api/v1/schema/users", USERS));
    assertThat(ok(server.get("/api/v1/schema/users/name")))
        .isEqualTo(new JsonObject("{\"type\":\"String\",\"nullable\":false}"));
    error(server.get("/api/v1/schema/users/nope"), 404, "nope");
    error(server.get("/api/v1/schema/nope/id"), 404, "nope");

    assertThat(ok(server.put("/api/v1/schema/users/bio", new JsonObject("{\"type\":\"Text\",\"analyzer\":\"fi\"}"))))
        .isEqualTo(new JsonObject("{\"type\":\"Text\",\"nullable\":false,\"analyzer\":\"fi\"}"));
    assertThat(ok(server.get("/api/v1/schema/users/bio")))
        .isEqualTo(new JsonObject("{\"type\":\"Text\",\"nullable\":false,\"analyzer\":\"fi\"}"));
    assertThat(ok(server.get("/api/v1/schema/users")).getJsonObject("columns").fieldNames())
        .containsExactly("id", "name", "bio");

    ok(server.delete("/api/v1/schema/users/bio"));
    error(server.get("/api/v1/schema/users/bio"), 404, "bio");
    assertThat(ok(server.delete("/api/v1/schema/users/bio"))).isEqualTo(new JsonObject("{\"deleted\":[]}"));
    error(server.put("/api/v1/schema/nope/bio", new JsonObject("{\"type\":\"Int\"}")), 404, "nope");
  }

  @Test
  void aNullableColumnAddedToATableWithRowsIsAbsentInOldRows() {
    ok(server.put("/api/v1/schema/users", USERS));
    ok(server.post("/api/v1/data/users/batch", new JsonArray("[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"b\"}]")));

    error(server.put("/api/v1/schema/users/age", new JsonObject("{\"type\":\"Int\"}")), 409, "age", "nullable");
    error(server.get("/api/v1/schema/users/age"), 404, "age");

    ok(server.put("/api/v1/schema/users/age", new JsonObject("{\"type\":\"Int\",\"nullable\":true}")));
    ok(server.put("/api/v1/schema/users/bio",
        new JsonObject("{\"type\":\"Text\",\"nullable\":true,\"analyzer\":\"whitespace\"}")));
    ok(server.post("/api/v1/data/users", new JsonObject("{\"id\":3,\"name\":\"c\",\"age\":40,\"bio\":\"New-York\"}")));

    var all = server.search(new JsonObject().put("from", "users"));
    assertThat(hits(all)).containsExactly(new JsonObject("{\"id\":1,\"name\":\"a\"}"),
        new JsonObject("{\"id\":2,\"name\":\"b\"}"), new JsonObject("{\"id\":3,\"name\":\"c\",\"age\":40,\"bio\":\"New-York\"}"));
    assertThat(column(server.search(new JsonObject("{\"from\":\"users\",\"where\":{\"age\":{\"$defined\":false}}}")),
        "id")).containsExactly(1, 2);
    assertThat(column(server.search(new JsonObject("{\"from\":\"users\",\"where\":{\"$exists\":\"age\"}}")), "id"))
        .containsExactly(3);
    assertThat(column(server.search(new JsonObject("{\"from\":\"users\",\"where\":{\"age\":null}}")), "id"))
        .containsExactly(1, 2);
    // The added Text column is analyzed with its own analyzer: whitespace keeps "new-york" one token.
    assertThat(column(server.search(new JsonObject("{\"from\":\"users\",\"where\":{\"bio\":{\"$match\":\"new-york\"}}}")),
        "id")).containsExactly(3);
    assertThat(server.search(new JsonObject("{\"from\":\"users\",\"where\":{\"bio\":{\"$match\":\"york\"}}}")).total())
        .isZero();
  }

  @Test
  void aNonNullableColumnCanBeAddedToAnEmptyTable() {
    ok(server.put("/api/v1/schema/users", USERS));
    ok(server.put("/api/v1/schema/users/age", new JsonObject("{\"type\":\"Int\"}")));
    error(server.post("/api/v1/data/users", new JsonObject("{\"id\":1,\"name\":\"a\"}")), 400, "age");
    ok(server.post("/api/v1/data/users", new JsonObject("{\"id\":1,\"name\":\"a\",\"age\":3}")));
  }

  @Test
  void droppingAColumnKeepsTheRowsAndAReaddedColumnDoesNotMatchStaleValues() {
    ok(server.put("/api/v1/schema/items", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},"code":{"type":"String"},"n":{"type":"Int","nullable":true}}}""")));
    ok(server.post("/api/v1/data/items/batch", new JsonArray("""
        [{"id":1,"code":"7","n":7},{"id":2,"code":"x","n":8},{"id":3,"code":"7"}]""")));

    ok(server.delete("/api/v1/schema/items/code"));
    ok(server.delete("/api/v1/schema/items/n"));
    assertThat(hits(server.search(new JsonObject().put("from", "items")))).containsExactly(
        new JsonObject("{\"id\":1}"), new JsonObject("{\"id\":2}"), new JsonObject("{\"id\":3}"));
    error(server.search(new JsonObject("{\"from\":\"items\",\"where\":{\"code\":\"7\"}}")), 400, "code");
    error(server.post("/api/v1/data/items", new JsonObject("{\"id\":4,\"code\":\"7\"}")), 400, "code");
    // Still rows: the table's schema cannot be replaced under them.
    error(server.put("/api/v1/schema/items", new JsonObject("{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Long\"}}}")),
        409, "items");

    // Re-added with other types: the old values are gone, not reinterpreted.
    ok(server.put("/api/v1/schema/items/code", new JsonObject("{\"type\":\"Int\",\"nullable\":true}")));
    ok(server.put("/api/v1/schema/items/n", new JsonObject("{\"type\":\"String\",\"nullable\":true}")));
    assertThat(server.search(new JsonObject("{\"from\":\"items\",\"where\":{\"code\":7}}")).total()).isZero();
    assertThat(server.search(new JsonObject("{\"from\":\"items\",\"where\":{\"code\":{\"$gte\":0}}}")).total()).isZero();
    assertThat(server.search(new JsonObject("{\"from\":\"items\",\"where\":{\"$exists\":\"code\"}}")).total()).isZero();
    assertThat(server.search(new JsonObject("{\"from\":\"items\",\"where\":{\"$exists\":\"n\"}}")).total()).isZero();
    assertThat(server.search(new JsonObject("{\"from\":\"items\",\"orderBy\":\"code\"}")).total()).isEqualTo(3);

    ok(server.post("/api/v1/data/items", new JsonObject("{\"id\":4,\"code\":7,\"n\":\"7\"}")));
    assertThat(column(server.search(new JsonObject("{\"from\":\"items\",\"where\":{\"code\":7}}")), "id"))
        .containsExactly(4);
    assertThat(column(server.search(new JsonObject("{\"from\":\"items\",\"where\":{\"n\":\"7\"}}")), "id"))
        .containsExactly(4);
    assertThat(column(server.search(new JsonObject().put("from", "items")), "id")).containsExactly(1, 2, 3, 4);
  }

  @Test
  void columnsThatCannotBeDropped() {
    ok(server.put("/api/v1/schema/users", USERS));
    ok(server.put("/api/v1/schema/visits", new JsonObject("""
        {"type":"table","columns":{"user":{"type":"Int","link":"users.id"}}}""")));
    error(server.delete("/api/v1/schema/users/id"), 409, "visits");
    error(server.delete("/api/v1/schema/visits/user"), 400, "user");
    ok(server.delete("/api/v1/schema/users/name"));
    assertThat(ok(server.get("/api/v1/schema/users")).getJsonObject("columns").fieldNames()).containsExactly("id");
  }

  // ------------------------------------------------------------------------------------------ links

  @Test
  void aLinkTargetTableAndColumnMustExist() {
    ok(server.put("/api/v1/schema/users", USERS));
    error(server.put("/api/v1/schema/visits", new JsonObject("""
        {"type":"table","columns":{"user":{"type":"Int","link":"people.id"}}}""")), 400, "people");
    error(server.put("/api/v1/schema/visits", new JsonObject("""
        {"type":"table","columns":{"user":{"type":"Int","link":"users.uid"}}}""")), 400, "uid");
    error(server.put("/api/v1/schema/visits", new JsonObject("""
        {"type":"table","columns":{"user":{"type":"Int","link":"users"}}}""")), 400, "link");
    error(server.get("/api/v1/schema/visits"), 404, "visits");

    ok(server.put("/api/v1/schema/visits", new JsonObject("{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"}}}")));
    error(server.put("/api/v1/schema/visits/user", new JsonObject("{\"type\":\"Int\",\"link\":\"people.id\"}")),
        400, "people");
    ok(server.put("/api/v1/schema/visits/user", new JsonObject("{\"type\":\"Int\",\"link\":\"users.id\"}")));
    assertThat(ok(server.get("/api/v1/schema/visits/user")))
        .isEqualTo(new JsonObject("{\"type\":\"Int\",\"nullable\":false,\"link\":\"users.id\"}"));
  }

  @Test
  void aTableLinksToItselfWithThis() {
    ok(server.put("/api/v1/schema/people", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},"name":{"type":"String"},
         "parent":{"type":"Int","nullable":true,"link":"this.id"}}}""")));
    // "this" is resolved to the table's name, which Aito's Python client can look up.
    assertThat(ok(server.get("/api/v1/schema/people/parent")).getString("link")).isEqualTo("people.id");
    ok(server.post("/api/v1/data/people/batch", new JsonArray("""
        [{"id":1,"name":"anne"},{"id":2,"name":"bob","parent":1},{"id":3,"name":"cid","parent":1},
         {"id":4,"name":"dan","parent":2}]""")));

    var selected = server.search(new JsonObject("""
        {"from":"people","select":["name","parent.name"]}"""));
    assertThat(hits(selected)).containsExactly(
        new JsonObject("{\"name\":\"anne\"}"),
        new JsonObject("{\"name\":\"bob\",\"parent.name\":\"anne\"}"),
        new JsonObject("{\"name\":\"cid\",\"parent.name\":\"anne\"}"),
        new JsonObject("{\"name\":\"dan\",\"parent.name\":\"bob\"}"));

    var children = server.search(new JsonObject("{\"from\":\"people\",\"where\":{\"parent.name\":\"anne\"}}"));
    assertThat(column(children, "name")).containsExactly("bob", "cid");
    var deleted = server.post("/api/v1/data/_delete",
        new JsonObject("{\"from\":\"people\",\"where\":{\"parent.name\":{\"$startsWith\":\"b\"}}}"));
    assertThat(ok(deleted).getLong("total")).isEqualTo(1);

    // A self-linked table is not "linked from another table": it can be dropped.
    ok(server.delete("/api/v1/schema/people"));
  }

  @Test
  void aTableOthersLinkToCannotBeDropped() {
    ok(server.put("/api/v1/schema/users", USERS));
    ok(server.put("/api/v1/schema/visits", new JsonObject("""
        {"type":"table","columns":{"user":{"type":"Int","link":"users.id"}}}""")));
    error(server.delete("/api/v1/schema/users"), 409, "users", "visits");
    ok(server.get("/api/v1/schema/users"));
    ok(server.delete("/api/v1/schema/visits"));
    ok(server.delete("/api/v1/schema/users"));
  }

  // ------------------------------------------------------------------------------------------ rename and copy

  @Test
  void renameMovesTheDataAndLinksFollow() {
    ok(server.put("/api/v1/schema/users", USERS));
    ok(server.put("/api/v1/schema/visits", new JsonObject("""
        {"type":"table","columns":{"user":{"type":"Int","link":"users.id"},"day":{"type":"Int"}}}""")));
    ok(server.post("/api/v1/data/users/batch", new JsonArray("[{\"id\":1,\"name\":\"anne\"},{\"id\":2,\"name\":\"bob\"}]")));
    ok(server.post("/api/v1/data/visits/batch", new JsonArray("[{\"user\":2,\"day\":1},{\"user\":1,\"day\":2}]")));

    ok(server.post("/api/v1/schema/_rename", new JsonObject("{\"from\":\"users\",\"rename\":\"customers\"}")));
    error(server.get("/api/v1/schema/users"), 404, "users");
    error(server.search(new JsonObject().put("from", "users")), 404, "users");
    assertThat(ok(server.get("/api/v1/schema")).getJsonObject("schema").fieldNames())
        .containsExactlyInAnyOrder("customers", "visits");
    assertThat(column(server.search(new JsonObject().put("from", "customers")), "name")).containsExactly("anne", "bob");
    assertThat(ok(server.get("/api/v1/schema/visits/user")).getString("link")).isEqualTo("customers.id");
    assertThat(column(server.search(new JsonObject("{\"from\":\"visits\",\"where\":{\"user.name\":\"anne\"}}")),
        "day")).containsExactly(2);
    assertThat(column(server.search(new JsonObject("{\"from\":\"visits\",\"select\":[\"user.name\"]}")), "user.name"))
        .containsExactly("bob", "anne");
    // Writes go on under the new name.
    ok(server.post("/api/v1/data/customers", new JsonObject("{\"id\":3,\"name\":\"cid\"}")));
    assertThat(column(server.search(new JsonObject().put("from", "customers")), "id")).containsExactly(1, 2, 3);
    // The old name is free again.
    ok(server.put("/api/v1/schema/users", USERS));
    assertThat(server.search(new JsonObject().put("from", "users")).total()).isZero();
  }

  @Test
  void renameOntoAnExistingTableNeedsReplace() {
    ok(server.put("/api/v1/schema/a", USERS));
    ok(server.put("/api/v1/schema/b", USERS));
    ok(server.post("/api/v1/data/a", new JsonObject("{\"id\":1,\"name\":\"from a\"}")));
    ok(server.post("/api/v1/data/b", new JsonObject("{\"id\":2,\"name\":\"from b\"}")));

    error(server.post("/api/v1/schema/_rename", new JsonObject("{\"from\":\"a\",\"rename\":\"b\"}")), 409, "b");
    error(server.post("/api/v1/schema/_rename", new JsonObject("{\"from\":\"a\",\"rename\":\"b\",\"replace\":false}")),
        409, "b");
    assertThat(column(server.search(new JsonObject().put("from", "a")), "id")).containsExactly(1);
    assertThat(column(server.search(new JsonObject().put("from", "b")), "id")).containsExactly(2);

    ok(server.post("/api/v1/schema/_rename", new JsonObject("{\"from\":\"a\",\"rename\":\"b\",\"replace\":true}")));
    error(server.get("/api/v1/schema/a"), 404, "a");
    assertThat(column(server.search(new JsonObject().put("from", "b")), "name")).containsExactly("from a");

    error(server.post("/api/v1/schema/_rename", new JsonObject("{\"from\":\"nope\",\"rename\":\"c\"}")), 404, "nope");
    error(server.post("/api/v1/schema/_rename", new JsonObject("{\"from\":\"b\",\"rename\":\"c/d\"}")), 400, "c/d");
    error(server.post("/api/v1/schema/_rename", new JsonObject("{\"from\":\"b\"}")), 400, "rename");
  }

  @Test
  void copyDuplicatesTheDataAndLeavesTheSourceAlone() {
    ok(server.put("/api/v1/schema/users", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},"name":{"type":"String"},
         "bio":{"type":"Text","analyzer":"english"}}}""")));
    ok(server.post("/api/v1/data/users/batch", new JsonArray("""
        [{"id":1,"name":"anne","bio":"runs daily"},{"id":2,"name":"bob","bio":"swims"},
         {"id":3,"name":"cid","bio":"running late"}]""")));
    ok(server.post("/api/v1/data/_delete", new JsonObject("{\"from\":\"users\",\"where\":{\"id\":2}}")));

    ok(server.post("/api/v1/schema/_copy", new JsonObject("{\"from\":\"users\",\"copy\":\"users2\"}")));
    assertThat(ok(server.get("/api/v1/schema/users2"))).isEqualTo(ok(server.get("/api/v1/schema/users")));
    assertThat(hits(server.search(new JsonObject().put("from", "users2"))))
        .isEqualTo(hits(server.search(new JsonObject().put("from", "users"))));
    assertThat(column(server.search(new JsonObject("{\"from\":\"users2\",\"where\":{\"bio\":{\"$match\":\"run\"}}}")),
        "id")).containsExactly(1, 3);

    // Writes to the copy do not reach the source, and the copy continues its own insertion order.
    ok(server.post("/api/v1/data/users2", new JsonObject("{\"id\":4,\"name\":\"dan\",\"bio\":\"x\"}")));
    ok(server.post("/api/v1/data/_delete", new JsonObject("{\"from\":\"users2\",\"where\":{\"id\":1}}")));
    assertThat(column(server.search(new JsonObject().put("from", "users2")), "id")).containsExactly(3, 4);
    assertThat(column(server.search(new JsonObject().put("from", "users")), "id")).containsExactly(1, 3);
    // And writes to the source do not reach the copy.
    ok(server.post("/api/v1/data/users", new JsonObject("{\"id\":5,\"name\":\"eve\",\"bio\":\"y\"}")));
    assertThat(column(server.search(new JsonObject().put("from", "users2")), "id")).containsExactly(3, 4);

    error(server.post("/api/v1/schema/_copy", new JsonObject("{\"from\":\"users\",\"copy\":\"users2\"}")), 409, "users2");
    ok(server.post("/api/v1/schema/_copy", new JsonObject("{\"from\":\"users\",\"copy\":\"users2\",\"replace\":true}")));
    assertThat(column(server.search(new JsonObject().put("from", "users2")), "id")).containsExactly(1, 3, 5);
    error(server.post("/api/v1/schema/_copy", new JsonObject("{\"from\":\"nope\",\"copy\":\"x\"}")), 404, "nope");
    // The copy has rows, so its schema cannot be replaced under them.
    error(server.put("/api/v1/schema/users2", USERS), 409, "users2");
    assertThat(server.search(new JsonObject().put("from", "users2")).total()).isEqualTo(3);
  }

  // ------------------------------------------------------------------------------------------ types and analyzers

  @Test
  void everyTypeIsAcceptedCaseInsensitivelyAndReturnedInAitosSpelling() {
    String[][] types = {{"Int", "int"}, {"Long", "LONG"}, {"Decimal", "decimal"}, {"String", "String"},
        {"Text", "text"}, {"Boolean", "boolean"}};
    JsonObject columns = new JsonObject();
    for (String[] t : types) {
      columns.put("c" + t[0], new JsonObject().put("type", t[1]));
    }
    ok(server.put("/api/v1/schema/all", new JsonObject().put("type", "table").put("columns", columns)));
    JsonObject got = ok(server.get("/api/v1/schema/all")).getJsonObject("columns");
    for (String[] t : types) {
      assertThat(got.getJsonObject("c" + t[0])).isEqualTo(new JsonObject().put("type", t[0]).put("nullable", false));
    }
  }

  @Test
  void englishStemsFinnishStemsAndWhitespaceSplitsOnlyOnSpaces() {
    ok(server.put("/api/v1/schema/docs", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},
         "en":{"type":"Text","analyzer":"English"},
         "fi":{"type":"Text","analyzer":"fi"},
         "ws":{"type":"Text","analyzer":"Whitespace"},
         "std":{"type":"Text"}}}""")));
    ok(server.post("/api/v1/data/docs/batch", new JsonArray("""
        [{"id":1,"en":"she runs daily","fi":"talossa on kissa","ws":"New-York Rocks","std":"New-York Rocks"},
         {"id":2,"en":"the cat sat","fi":"koira","ws":"york","std":"york"}]""")));

    assertThat(matchIds("en", "$match", "running")).containsExactly(1);
    assertThat(matchIds("en", "$has", "run")).containsExactly(1);
    assertThat(matchIds("en", "$match", "the")).isEmpty(); // an English stop word
    assertThat(matchIds("fi", "$match", "taloissa")).containsExactly(1);
    assertThat(matchIds("fi", "$match", "kissan")).containsExactly(1);
    assertThat(matchIds("ws", "$match", "york")).containsExactly(2);
    assertThat(matchIds("ws", "$match", "new-york")).containsExactly(1);
    assertThat(matchIds("ws", "$has", "ROCKS")).containsExactly(1);
    assertThat(matchIds("std", "$match", "york")).containsExactly(1, 2);
  }

  @Test
  void analyzerObjectsAreObservableInSearches() {
    ok(server.put("/api/v1/schema/docs", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},
         "lang":{"type":"Text","analyzer":{"type":"language","language":"english","useDefaultStopWords":false,
                                           "customStopWords":["london"]}},
         "delim":{"type":"Text","analyzer":{"type":"delimiter","delimiter":",","trimWhitespace":true}},
         "chars":{"type":"Text","analyzer":{"type":"char-ngram","minGram":2,"maxGram":3}},
         "tokens":{"type":"Text","analyzer":{"type":"token-ngram","source":"whitespace","minGram":1,"maxGram":2,
                                             "tokenSeparator":" "}}}}""")));
    JsonObject stored = ok(server.get("/api/v1/schema/docs/chars"));
    assertThat(stored).isEqualTo(new JsonObject("""
        {"type":"Text","nullable":false,"analyzer":{"type":"char-ngram","minGram":2,"maxGram":3}}"""));
    ok(server.post("/api/v1/data/docs/batch", new JsonArray("""
        [{"id":1,"lang":"the runners of london","delim":"Red Apple, green pear","chars":"Oulu","tokens":"big red dog"},
         {"id":2,"lang":"paris","delim":"green, pear","chars":"Turku","tokens":"red big"}]""")));

    assertThat(matchIds("lang", "$match", "london")).isEmpty(); // custom stop word
    assertThat(matchIds("lang", "$match", "the")).containsExactly(1); // default stop words off
    assertThat(matchIds("lang", "$match", "runner")).containsExactly(1); // still stemmed

    assertThat(matchIds("delim", "$has", "green pear")).containsExactly(1);
    assertThat(matchIds("delim", "$has", "green")).containsExactly(2);
    assertThat(matchIds("delim", "$has", "Red Apple")).containsExactly(1);
    assertThat(matchIds("delim", "$has", "red apple")).isEmpty(); // the delimiter analyzer keeps case

    assertThat(matchIds("chars", "$match", "ul")).containsExactly(1);
    assertThat(matchIds("chars", "$has", "RK")).containsExactly(2);
    assertThat(matchIds("chars", "$has", "xy")).isEmpty();

    assertThat(matchIds("tokens", "$has", "big red")).containsExactly(1);
    assertThat(matchIds("tokens", "$has", "red big")).containsExactly(2);
    assertThat(matchIds("tokens", "$has", "red")).containsExactly(1, 2);
  }

  private java.util.List<Object> matchIds(String field, String op, String words) {
    var response = server.search(new JsonObject().put("from", "docs")
        .put("where", new JsonObject().put(field, new JsonObject().put(op, words))));
    return column(response, "id");
  }

  // ------------------------------------------------------------------------------------------ invalid schemas

  @Test
  void invalidSchemasAreRejectedNamingTheProblem() {
    String long129 = "t".repeat(129);
    record Case(String path, String body, String... fragments) {
    }
    Case[] cases = {
        new Case("/api/v1/schema/t", "{\"type\":\"table\",\"columns\":{\"a\":{\"type\":\"Integer\"}}}", "Integer", "'a'"),
        new Case("/api/v1/schema/t", "{\"type\":\"table\",\"columns\":{\"a\":{}}}", "'a'", "type"),
        new Case("/api/v1/schema", "{\"schema\":{\"a/b\":{\"type\":\"table\",\"columns\":{\"x\":{\"type\":\"Int\"}}}}}",
            "a/b"),
        new Case("/api/v1/schema", "{\"schema\":{\"a.b\":{\"type\":\"table\",\"columns\":{\"x\":{\"type\":\"Int\"}}}}}",
            "a.b"),
        new Case("/api/v1/schema/t", "{\"type\":\"table\",\"columns\":{\"a.b\":{\"type\":\"Int\"}}}", "a.b"),
        new Case("/api/v1/schema/t", "{\"type\":\"table\",\"columns\":{\"a b\":{\"type\":\"Int\"}}}", "a b"),
        new Case("/api/v1/schema/t", "{\"type\":\"table\",\"columns\":{\"$a\":{\"type\":\"Int\"}}}", "$a"),
        new Case("/api/v1/schema/" + long129, "{\"type\":\"table\",\"columns\":{\"x\":{\"type\":\"Int\"}}}", "128"),
        new Case("/api/v1/schema/t", "{\"type\":\"table\",\"columns\":{\"" + long129 + "\":{\"type\":\"Int\"}}}", "128"),
        new Case("/api/v1/schema/t", "{\"type\":\"table\",\"columns\":{\"a\":{\"type\":\"Text\",\"analyzer\":\"klingon\"}}}",
            "klingon", "'a'"),
        new Case("/api/v1/schema/t", "{\"type\":\"table\",\"columns\":{\"a\":{\"type\":\"Text\",\"analyzer\":"
            + "{\"type\":\"char-ngram\",\"minGram\":0,\"maxGram\":2}}}}", "minGram"),
        new Case("/api/v1/schema/t", "{\"type\":\"table\",\"columns\":{\"a\":{\"type\":\"Text\",\"analyzer\":"
            + "{\"type\":\"language\",\"language\":\"klingon\"}}}}", "klingon"),
        new Case("/api/v1/schema/t", "{\"type\":\"table\",\"columns\":{\"a\":{\"type\":\"String\",\"analyzer\":\"english\"}}}",
            "'a'", "analyzer"),
        new Case("/api/v1/schema/t", "{\"type\":\"table\",\"columns\":{\"a\":{\"type\":\"Int\",\"nulable\":true}}}",
            "nulable"),
        new Case("/api/v1/schema/t", "{\"type\":\"table\",\"columns\":{\"a\":{\"type\":\"Int\",\"nullable\":\"yes\"}}}",
            "nullable"),
        new Case("/api/v1/schema/t", "{\"type\":\"table\",\"colums\":{\"a\":{\"type\":\"Int\"}}}", "colums"),
        new Case("/api/v1/schema/t", "{\"type\":\"table\",\"columns\":{}}", "column"),
        new Case("/api/v1/schema/t", "{\"type\":\"view\",\"columns\":{\"a\":{\"type\":\"Int\"}}}", "view"),
        new Case("/api/v1/schema/t", "[1]", "JSON object"),
        new Case("/api/v1/schema/t", "{\"type\":\"table\",", "JSON"),
        new Case("/api/v1/schema/t/a", "{\"type\":\"Float\"}", "Float"),
    };
    for (Case c : cases) {
      Response response = server.put(c.path(), c.body());
      error(response, 400, c.fragments());
    }
    assertThat(ok(server.get("/api/v1/schema")).getJsonObject("schema")).isEmpty();

    // The limits themselves are fine: 128 characters, and any character but the excluded ones.
    String long128 = "t".repeat(128);
    ok(server.put("/api/v1/schema/" + long128, new JsonObject().put("type", "table")
        .put("columns", new JsonObject().put("c".repeat(128), new JsonObject().put("type", "Int")))));
    ok(server.put("/api/v1/schema/" + java.net.URLEncoder.encode("äö-_:+é", java.nio.charset.StandardCharsets.UTF_8),
        USERS));
    assertThat(ok(server.get("/api/v1/schema")).getJsonObject("schema").fieldNames())
        .containsExactlyInAnyOrder(long128, "äö-_:+é");
  }
}
