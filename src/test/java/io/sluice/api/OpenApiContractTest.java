package io.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.sluice.config.SluiceConfig;
import io.sluice.ingest.UploadSigner;
import io.sluice.metrics.Metrics;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI contract ({@code src/main/resources/openapi.yaml}) against the server: every route the router
 * serves is documented and every documented operation is served; every request example of the contract is
 * accepted by a real server; the contract and Swagger UI are served without a key.
 */
class OpenApiContractTest extends ServerTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options");

  JsonNode contract;

  @org.junit.jupiter.api.io.TempDir
  java.nio.file.Path backups;

  /** The backup example writes under its own directory. */
  @Override
  protected Map<String, Object> serverConfig() {
    return Map.of("backup.dir", backups.toString());
  }

  @BeforeEach
  void readContract() throws IOException {
    try (InputStream in = getClass().getClassLoader().getResourceAsStream(ApiDocs.CONTRACT_RESOURCE)) {
      assertThat(in).as("openapi.yaml on the classpath").isNotNull();
      contract = YAML.readTree(in);
    }
  }

  @Test
  void everyRouteTheRouterServesIsInTheContractAndBack(Vertx vertx) {
    SluiceConfig config = SluiceConfig.load(Map.of(), Map.of("data.dir", dataDir.toString(),
        "api.key.rw", TestServer.RW_KEY, "api.key.ro", TestServer.RO_KEY, "metrics.enabled", true));
    Router router = ApiRouter.create(vertx, config, ApiKeys.load(dataDir, TestServer.RW_KEY, TestServer.RO_KEY),
        new Jobs(), UploadSigner.load(dataDir, null), new RequestBudget(Long.MAX_VALUE),
        Metrics.prometheus());
    Set<String> served = new TreeSet<>();
    for (Route route : router.getRoutes()) {
      // Routes for every method (CORS, access log, auth, failure handlers) are middleware, not endpoints.
      if (route.getPath() == null || route.methods() == null || route.methods().isEmpty()) {
        continue;
      }
      String path = route.getPath().replaceAll(":([A-Za-z0-9_]+)", "{$1}");
      for (HttpMethod method : route.methods()) {
        served.add(method.name() + " " + path);
      }
    }
    Set<String> documented = new TreeSet<>();
    contract.get("paths").fields().forEachRemaining(path -> path.getValue().fieldNames().forEachRemaining(key -> {
      if (METHODS.contains(key)) {
        documented.add(key.toUpperCase(Locale.ROOT) + " " + path.getKey());
      }
    }));
    assertThat(served).as("routes the router serves").hasSizeGreaterThan(30)
        .contains("GET /api/v1/data/{table}/file/{id}", "PUT /uploads/{id}", "GET /metrics", "GET /ready");
    assertThat(documented).as("operations in openapi.yaml").containsAll(served);
    assertThat(served).as("operations the router serves").containsAll(documented);
  }

  @Test
  void everyRequestExampleIsAccepted() throws IOException {
    JsonNode fixture = example("/api/v1/schema", "put", "database");
    int tried = 0;
    List<String> refused = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> paths = contract.get("paths").fields(); paths.hasNext(); ) {
      Map.Entry<String, JsonNode> path = paths.next();
      for (Iterator<Map.Entry<String, JsonNode>> ops = path.getValue().fields(); ops.hasNext(); ) {
        Map.Entry<String, JsonNode> op = ops.next();
        JsonNode content = op.getValue().path("requestBody").path("content");
        for (Iterator<Map.Entry<String, JsonNode>> types = content.fields(); types.hasNext(); ) {
          Map.Entry<String, JsonNode> type = types.next();
          for (Iterator<Map.Entry<String, JsonNode>> examples = type.getValue().path("examples").fields();
              examples.hasNext(); ) {
            Map.Entry<String, JsonNode> example = examples.next();
            // Each example starts from the contract's own database: customers, users, impressions.
            Response reset = server.put("/api/v1/schema", new JsonObject(JSON.writeValueAsString(fixture)));
            assertThat(reset.status()).as(reset.toString()).isEqualTo(200);
            Response response = send(path.getKey(), path.getValue(), op.getKey(), type.getKey(),
                example.getValue().get("value"));
            tried++;
            String what = op.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey() + " example '"
                + example.getKey() + "' (" + type.getKey() + ")";
            if (response.status() >= 400) {
              refused.add(what + " -> " + response);
            } else if (response.header("content-type") != null
                && response.header("content-type").startsWith("application/json")) {
              assertThat(io.vertx.core.json.Json.decodeValue(response.raw().bodyAsString()))
                  .as(what + " answers a JSON object").isInstanceOf(JsonObject.class);
            }
          }
        }
      }
    }
    assertThat(refused).as("examples the server refused").isEmpty();
    assertThat(tried).as("request examples in the contract").isGreaterThanOrEqualTo(25);
  }

  @Test
  void contractAndSwaggerUiAreServedWithoutAKey() throws IOException {
    Response yaml = server.send(HttpMethod.GET, ApiDocs.CONTRACT_PATH, null, null);
    assertThat(yaml.status()).as(yaml.toString()).isEqualTo(200);
    assertThat(yaml.header("content-type")).startsWith("application/yaml");
    assertThat(YAML.readTree(yaml.raw().bodyAsString())).isEqualTo(contract);
    // Swagger UI's "Try it out" goes to the server that served the page, whatever its host and port
    assertThat(contract.path("servers").path(0).path("url").asText()).as("servers[0].url").isEqualTo("/");

    Response ui = server.send(HttpMethod.GET, ApiDocs.UI_PATH, null, null);
    assertThat(ui.status()).as(ui.toString()).isEqualTo(200);
    assertThat(ui.header("content-type")).startsWith("text/html");
    assertThat(ui.raw().bodyAsString()).contains("swagger-ui-bundle.js", "swagger-initializer.js");
    Response bundle = server.send(HttpMethod.GET, ApiDocs.UI_PATH + "swagger-ui-bundle.js", null, null);
    assertThat(bundle.status()).isEqualTo(200);
    assertThat(bundle.raw().body().length()).isGreaterThan(100_000);
    Response initializer = server.send(HttpMethod.GET, ApiDocs.UI_PATH + "swagger-initializer.js", null, null);
    assertThat(initializer.status()).isEqualTo(200);
    assertThat(initializer.raw().bodyAsString()).contains("url: \"openapi.yaml\"").doesNotContain("petstore");

    Response redirect = new Response(TestServer.await(server.client().get("/api-docs/v3").followRedirects(false)
        .send()));
    assertThat(redirect.status()).isEqualTo(301);
    assertThat(redirect.header("location")).isEqualTo(ApiDocs.UI_PATH);
  }

  // ---------------------------------------------------------------- helpers

  private JsonNode example(String path, String method, String name) {
    JsonNode node = contract.path("paths").path(path).path(method).path("requestBody").path("content")
        .path("application/json").path("examples").path(name).path("value");
    assertThat(node.isMissingNode()).as(method + " " + path + " example " + name).isFalse();
    return node;
  }

  private Response send(String template, JsonNode pathItem, String method, String mediaType, JsonNode value)
      throws IOException {
    HttpMethod httpMethod = HttpMethod.valueOf(method.toUpperCase(Locale.ROOT));
    Buffer body = value.isTextual() ? Buffer.buffer(value.asText()) : Buffer.buffer(JSON.writeValueAsBytes(value));
    if (template.equals("/uploads/{id}")) {
      // The upload URL is whatever initiate hands out; the signature is the credential, so no key.
      String url = server.post("/api/v1/data/customers/file", new JsonObject()).json().getString("url");
      return server.upload(url, body);
    }
    String path = template;
    List<JsonNode> parameters = new ArrayList<>();
    pathItem.path("parameters").forEach(parameters::add);
    pathItem.path(method).path("parameters").forEach(parameters::add);
    for (JsonNode parameter : parameters) {
      JsonNode resolved = resolve(parameter);
      if ("path".equals(resolved.path("in").asText())) {
        path = path.replace("{" + resolved.get("name").asText() + "}", resolved.get("example").asText());
      }
    }
    if (template.equals("/api/v1/data/{table}/file/{id}")) {
      String table = path.split("/")[4];
      JsonObject initiated = server.post("/api/v1/data/" + table + "/file", new JsonObject()).json();
      String id = initiated.getString("id");
      path = "/api/v1/data/" + table + "/file/" + id;
      if (value.has("sourceUrl")) {
        // Never fetch from outside this machine: pull from the test server itself instead.
        body = Buffer.buffer(new JsonObject(JSON.writeValueAsString(value))
            .put("sourceUrl", "http://127.0.0.1:" + server.port() + "/version").encode());
      } else {
        Response upload = server.upload(initiated.getString("url"),
            Buffer.buffer("{\"id\": 30, \"name\": \"hank\", \"tags\": \"paris 60s\"}\n"));
        assertThat(upload.status()).as(upload.toString()).isEqualTo(200);
      }
      Response trigger = sendRaw(httpMethod, path, mediaType, body);
      server.awaitImport(table, id);
      return trigger;
    }
    return sendRaw(httpMethod, path, mediaType, body);
  }

  private Response sendRaw(HttpMethod method, String path, String mediaType, Buffer body) {
    return new Response(TestServer.await(server.client().request(method, path)
        .putHeader("x-api-key", TestServer.RW_KEY)
        .putHeader("content-type", mediaType)
        .sendBuffer(body)));
  }

  private JsonNode resolve(JsonNode node) {
    JsonNode ref = node.get("$ref");
    if (ref == null) {
      return node;
    }
    JsonNode target = contract;
    for (String part : URI.create(ref.asText()).getFragment().substring(1).split("/")) {
      target = target.path(part);
    }
    return target;
  }
}
