package io.sluice.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.sluice.cli.Main;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /metrics} on a server whose Vert.x is built as {@link Main} builds it: after a batch and a file
 * import, the scrape holds Sluice's own meters with the right values next to Vert.x's HTTP and event-bus meters.
 */
class MetricsTest {
  private static final JsonObject SCHEMA = new JsonObject("{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"},"
      + "\"name\":{\"type\":\"String\"}}}");

  @TempDir
  Path dataDir;
  Vertx vertx;
  TestServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop();
    }
    if (vertx != null) {
      TestServer.await(vertx.close());
    }
  }

  @Test
  void scrapeShowsSluiceVertxHttpAndEventBusMeters() {
    Metrics metrics = Metrics.prometheus();
    vertx = Main.createVertx(metrics);
    server = new TestServer(vertx, dataDir, Map.of("import.batch.rows", 2)).metrics(metrics).start();
    assertThat(server.put("/api/v1/schema/customers", SCHEMA).status()).isEqualTo(200);

    Response batch = server.post("/api/v1/data/customers/batch",
        new JsonArray("[{\"id\":0,\"name\":\"anne\"},{\"id\":1,\"name\":\"bob\"}]"));
    assertThat(batch.status()).as(batch.toString()).isEqualTo(200);
    Response refused = server.post("/api/v1/data/customers/batch",
        new JsonArray("[{\"id\":\"x\",\"name\":\"a\"},{\"id\":2,\"name\":\"b\"},{\"id\":3}]"));
    assertThat(refused.status()).as(refused.toString()).isEqualTo(400);

    String file = "{\"id\":10,\"name\":\"c\"}\n{\"id\":11,\"name\":\"d\"}\nnot json\n{\"id\":12,\"name\":\"e\"}\n";
    JsonObject initiated = server.post("/api/v1/data/customers/file", new JsonObject()).json();
    assertThat(server.upload(initiated.getString("url"), Buffer.buffer(file)).status()).isEqualTo(200);
    String id = initiated.getString("id");
    assertThat(server.post("/api/v1/data/customers/file/" + id, new JsonObject()).status()).isEqualTo(200);
    assertThat(server.awaitImport("customers", id).getJsonObject("status").getString("phase")).isEqualTo("Finished");

    Response scrape = server.send(HttpMethod.GET, "/metrics", null, null);
    assertThat(scrape.status()).as(scrape.toString()).isEqualTo(200);
    assertThat(scrape.header("content-type")).startsWith("text/plain");
    String text = scrape.raw().bodyAsString();

    assertThat(value(text, "sluice_rows_ingested_total", "table=\"customers\"")).isEqualTo(5.0);
    // Two invalid rows listed by the refused batch, one bad line of the import.
    assertThat(value(text, "sluice_rows_rejected_total", "table=\"customers\"")).isEqualTo(3.0);
    assertThat(value(text, "sluice_import_jobs", "phase=\"Finished\"")).isEqualTo(1.0);
    assertThat(value(text, "sluice_import_jobs", "phase=\"Running\"")).isEqualTo(0.0);
    assertThat(value(text, "sluice_upload_bytes_total", "")).isEqualTo(file.length());
    if (!io.sluice.TestPostgres.chosen()) { // the PostgreSQL engine's commits are PostgreSQL's, not timed here
      // One commit for the batch, one or two (group commit) for the import's batches.
      assertThat(value(text, "sluice_commit_latency_seconds_count", "")).isGreaterThanOrEqualTo(2.0);
      assertThat(value(text, "sluice_commit_latency_seconds_sum", "")).isGreaterThan(0.0);
    }
    assertThat(value(text, "sluice_inflight_bytes", "")).isEqualTo(0.0);
    assertThat(value(text, "sluice_http_throttled_total", "")).isEqualTo(0.0);
    // Vert.x's own meters share the registry.
    assertThat(text).contains("vertx_http_server_requests_total", "vertx_eventbus_", "jvm_memory_used_bytes");
    // Server latency as a histogram by route template, never by the raw path (no table name in a label).
    assertThat(text).containsPattern("vertx_http_server_response_time_seconds_bucket\\{[^}]*route=\"/api/v1/data/:table/batch\"");
    assertThat(text.lines().filter(l -> l.startsWith("vertx_http_server") && l.contains("customers")))
        .as("series labelled with a table name").isEmpty();
    assertThat(text).contains("sluice_commit_latency_seconds_bucket");
    assertThat(text.length()).as("scrape size (fixed latency buckets, no size histograms)").isLessThan(150_000);
  }

  /**
   * The alert rules and the Grafana dashboard in conf/monitoring parse, and every metric they name is one a
   * server exports (after a write, a search and a scrape), so a renamed meter cannot silently empty a panel.
   */
  @Test
  void alertRulesAndDashboardNameOnlyExportedMetrics() throws Exception {
    Metrics metrics = Metrics.prometheus();
    vertx = Main.createVertx(metrics);
    server = new TestServer(vertx, dataDir, Map.of("metrics.refresh.ms", 100)).metrics(metrics).start();
    assertThat(server.put("/api/v1/schema/customers", SCHEMA).status()).isEqualTo(200);
    assertThat(server.post("/api/v1/data/customers/batch", new JsonArray("[{\"id\":0,\"name\":\"anne\"}]"))
        .status()).isEqualTo(200);
    assertThat(server.post("/api/v1/data/customers/batch", new JsonArray("[{\"id\":\"x\"}]")).status())
        .isEqualTo(400);
    assertThat(server.search(new JsonObject().put("from", "customers")).status()).isEqualTo(200);
    // An import held open by its source, so the gauges of a running import are in the scrape too.
    var source = TestServer.await(vertx.createHttpServer()
        .requestHandler(request -> request.response().setChunked(true).write("{\"id\":1,\"name\":\"b\"}\n"))
        .listen(0, "127.0.0.1"));
    String job = server.post("/api/v1/data/customers/file", new JsonObject()).json().getString("id");
    assertThat(server.post("/api/v1/data/customers/file/" + job, new JsonObject().put("sourceUrl",
        "http://127.0.0.1:" + source.actualPort() + "/rows.ndjson")).status()).isEqualTo(200);
    java.util.Set<String> exported = new java.util.HashSet<>();
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> {
      String scrape = server.send(HttpMethod.GET, "/metrics", null, null).raw().bodyAsString();
      exported.clear();
      scrape.lines().filter(l -> !l.startsWith("#") && !l.isBlank())
          .forEach(l -> exported.add(l.split("[{ ]", 2)[0]));
      return exported.contains("sluice_import_rows_per_second") && exported.contains("sluice_table_rows");
    });
    if (io.sluice.TestPostgres.chosen()) {
      exported.add("sluice_table_wal_bytes"); // PostgreSQL's WAL is the server's: the Lucene engine's gauge
    }

    var yaml = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
    var rules = yaml.readTree(Path.of("conf", "monitoring", "sluice-alerts.yml").toFile())
        .get("groups").get(0).get("rules");
    assertThat(rules.size()).isGreaterThanOrEqualTo(6);
    java.util.List<String> expressions = new java.util.ArrayList<>();
    for (var rule : rules) {
      assertThat(rule.path("alert").asText()).as(rule.toString()).isNotBlank();
      assertThat(rule.path("labels").path("severity").asText()).as(rule.toString()).isIn("page", "warn");
      assertThat(rule.path("annotations").path("summary").asText()).as(rule.toString()).isNotBlank();
      expressions.add(rule.path("expr").asText());
    }
    JsonObject dashboard = new JsonObject(java.nio.file.Files.readString(
        Path.of("conf", "monitoring", "grafana-dashboard.json")));
    for (Object panel : dashboard.getJsonArray("panels")) {
      for (Object target : ((JsonObject) panel).getJsonArray("targets")) {
        expressions.add(((JsonObject) target).getString("expr"));
      }
    }
    for (Object variable : dashboard.getJsonObject("templating").getJsonArray("list")) {
      expressions.add(((JsonObject) variable).getString("query"));
    }
    java.util.regex.Matcher names = java.util.regex.Pattern.compile("\\b(?:sluice|vertx|jvm)_[a-z0-9_]+")
        .matcher(String.join("\n", expressions));
    int named = 0;
    while (names.find()) {
      named++;
      assertThat(exported).as("metric " + names.group() + " named by conf/monitoring").contains(names.group());
    }
    assertThat(named).isGreaterThan(15);
    server.stop(); // ends the held import before its source goes
    server = null;
    TestServer.await(source.close());
  }

  @Test
  void metricsCanBeTurnedOff() {
    vertx = Vertx.vertx();
    server = new TestServer(vertx, dataDir, Map.of("metrics.enabled", false)).start();
    assertThat(server.send(HttpMethod.GET, "/metrics", null, null).status()).isEqualTo(404);
    assertThat(server.put("/api/v1/schema/customers", SCHEMA).status()).as("the store works without metrics")
        .isEqualTo(200);
  }

  /** The value of the sample named {@code name} whose labels contain {@code labels}. */
  static double value(String scrape, String name, String labels) {
    for (String line : scrape.split("\n")) {
      if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
        continue;
      }
      String key = line.substring(0, line.lastIndexOf(' '));
      if (key.contains(labels)) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no sample " + name + "{" + labels + "} in\n" + scrape);
  }
}
