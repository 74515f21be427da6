package io.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** docs/api.md §5: Aito's own examples, exactly. */
class SeedExamplesTest extends ServerTest {
  @Test
  void customersTableBatchAndSearch() {
    var put = server.put("/api/v1/schema/customers", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},"name":{"type":"String"},
         "tags":{"type":"Text","analyzer":"Whitespace"}}}"""));
    assertThat(put.status()).as(put.toString()).isEqualTo(200);

    var batch = server.post("/api/v1/data/customers/batch", new JsonArray("""
        [{"id":0,"name":"anne","tags":"london 20s"},{"id":1,"name":"bob","tags":"paris 30s"},
         {"id":2,"name":"cecilia","tags":"london 30s"}]"""));
    assertThat(batch.status()).as(batch.toString()).isEqualTo(200);
    assertThat(batch.json().getInteger("total")).isEqualTo(3);

    var search = server.post("/api/v1/_search", new JsonObject("""
        {"from":"customers","where":{"tags":{"$match":"london"}}}"""));
    assertThat(search.status()).as(search.toString()).isEqualTo(200);
    assertThat(search.json().getInteger("total")).isEqualTo(2);
    assertThat(search.json().getJsonArray("hits").getJsonObject(0).getString("name")).isEqualTo("anne");

    var schema = server.get("/api/v1/schema");
    assertThat(schema.json().getJsonObject("schema").getJsonObject("customers").getJsonObject("columns")
        .getJsonObject("tags").getString("analyzer")).isEqualTo("whitespace");
  }

  @Test
  void deleteExamples() {
    server.put("/api/v1/schema", new JsonObject("""
        {"schema":{
          "users":{"type":"table","columns":{"id":{"type":"Int"},"tags":{"type":"Text","analyzer":"whitespace"}}},
          "impressions":{"type":"table","columns":{"user":{"type":"Int","link":"users.id"},
             "timestamp":{"type":"Long"}}}}}"""));
    assertThat(server.post("/api/v1/data/users/batch", new JsonArray("""
        [{"id":1,"tags":"test a"},{"id":2,"tags":"prod"},{"id":3,"tags":"test b"},{"id":4,"tags":"prod"}]""")).status())
        .isEqualTo(200);
    assertThat(server.post("/api/v1/data/impressions/batch", new JsonArray("""
        [{"user":1,"timestamp":1510444700},{"user":2,"timestamp":1510444900},
         {"user":3,"timestamp":1510445000},{"user":4,"timestamp":1510444800}]""")).status()).isEqualTo(200);

    var byId = server.post("/api/v1/data/_delete", new JsonObject("{\"from\":\"users\",\"where\":{\"id\":4}}"));
    assertThat(byId.json().getInteger("total")).as(byId.toString()).isEqualTo(1);

    var byLink = server.post("/api/v1/data/_delete",
        new JsonObject("{\"from\":\"impressions\",\"where\":{\"user.tags\":{\"$match\":\"test\"}}}"));
    assertThat(byLink.json().getInteger("total")).as(byLink.toString()).isEqualTo(2);

    var byRange = server.post("/api/v1/data/_delete",
        new JsonObject("{\"from\":\"impressions\",\"where\":{\"timestamp\":{\"$lte\":1510444800}}}"));
    assertThat(byRange.json().getInteger("total")).as(byRange.toString()).isEqualTo(1);

    var all = server.post("/api/v1/data/_delete", new JsonObject("{\"from\":\"users\",\"where\":{}}"));
    assertThat(all.json().getInteger("total")).isEqualTo(3);
    var left = server.post("/api/v1/_search", new JsonObject("{\"from\":\"impressions\"}"));
    assertThat(left.json().getInteger("total")).isEqualTo(1);
    assertThat(left.json().getJsonArray("hits").getJsonObject(0).getInteger("user")).isEqualTo(2);
  }
}
