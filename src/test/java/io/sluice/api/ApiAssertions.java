package io.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.TestServer.Response;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** Assertions on API responses that show the whole response when they fail. */
final class ApiAssertions {
  private ApiAssertions() {
  }

  /** A 200 whose body is a JSON object (docs/api.md §0); returns the body. */
  static JsonObject ok(Response response) {
    assertThat(response.status()).as(response.toString()).isEqualTo(200);
    return object(response);
  }

  /** The body is a JSON object (never an array, a bare value or empty). */
  static JsonObject object(Response response) {
    String body = response.raw().bodyAsString();
    assertThat(body).as(response.toString()).isNotBlank();
    Object parsed = io.vertx.core.json.Json.decodeValue(body);
    assertThat(parsed).as(response.toString()).isInstanceOf(JsonObject.class);
    return (JsonObject) parsed;
  }

  /**
   * An error of the uniform shape: the HTTP status, a JSON object with "message" and "status" equal to it,
   * and a message that contains every fragment (the table, column, value... it must name). Returns the body.
   */
  static JsonObject error(Response response, int status, String... fragments) {
    assertThat(response.status()).as(response.toString()).isEqualTo(status);
    JsonObject body = object(response);
    assertThat(body.getValue("status")).as(response.toString()).isEqualTo(status);
    assertThat(body.getValue("message")).as(response.toString()).isInstanceOf(String.class);
    if (fragments.length > 0) {
      assertThat(body.getString("message")).as(response.toString()).contains(fragments);
    }
    return body;
  }

  /** The "hits" of a successful search. */
  static JsonArray hits(Response response) {
    return ok(response).getJsonArray("hits");
  }

  /** The values of one field over the hits of a successful search, in order. */
  static java.util.List<Object> column(Response response, String field) {
    JsonArray hits = hits(response);
    java.util.List<Object> values = new java.util.ArrayList<>();
    for (int i = 0; i < hits.size(); i++) {
      values.add(hits.getJsonObject(i).getValue(field));
    }
    return values;
  }
}
