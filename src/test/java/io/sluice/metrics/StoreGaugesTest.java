package io.sluice.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.BenchRows;
import io.sluice.ServerTest;
import io.sluice.TestPostgres;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The gauges measured off the event loop, read through {@code GET /metrics} on either engine: a table's rows and
 * bytes follow its writes and deletes and its series go with it (renamed, dropped); past
 * {@code metrics.tables.max} tables are summed, so the scrape stays bounded; a running import has a rows/s
 * series of its own while it runs, and none after.
 */
class StoreGaugesTest extends ServerTest {
  private static final JsonObject SCHEMA = new JsonObject("{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"},"
      + "\"name\":{\"type\":\"String\"}}}");
  private static final Duration WAIT = Duration.ofSeconds(30);

  @Override
  protected Map<String, Object> serverConfig() {
    return Map.of("metrics.refresh.ms", 100, "import.batch.rows", 500);
  }

  @Test
  void tableGaugesFollowWritesAndDeletesAndGoWithTheTable() {
    assertThat(server.put("/api/v1/schema/customers", SCHEMA).status()).isEqualTo(200);
    awaitSample("sluice_table_rows", "customers", 0.0);

    Response batch = server.post("/api/v1/data/customers/batch",
        new JsonArray("[{\"id\":0,\"name\":\"anne\"},{\"id\":1,\"name\":\"bob\"},{\"id\":2,\"name\":\"cy\"}]"));
    assertThat(batch.status()).as(batch.toString()).isEqualTo(200);
    awaitSample("sluice_table_rows", "customers", 3.0);
    String scrape = scrape();
    assertThat(sample(scrape, "sluice_table_bytes", "customers")).as("bytes on disk").isPositive();
    if (TestPostgres.chosen()) {
      assertThat(sample(scrape, "sluice_table_wal_bytes", "customers")).as("PostgreSQL's WAL is not a table's")
          .isNull();
    } else {
      // Row writes are acknowledged once logged; the index commit that empties the log comes later.
      assertThat(sample(scrape, "sluice_table_wal_bytes", "customers")).as("the write-ahead log").isPositive();
    }

    Response deleted = server.post("/api/v1/data/_delete", new JsonObject().put("from", "customers")
        .put("where", new JsonObject().put("id", 1)));
    assertThat(deleted.status()).as(deleted.toString()).isEqualTo(200);
    awaitSample("sluice_table_rows", "customers", 2.0);

    Response renamed = server.post("/api/v1/schema/_rename",
        new JsonObject().put("from", "customers").put("rename", "clients"));
    assertThat(renamed.status()).as(renamed.toString()).isEqualTo(200);
    awaitSample("sluice_table_rows", "clients", 2.0);
    awaitNoTableSeries("customers");

    assertThat(server.delete("/api/v1/schema/clients").status()).isEqualTo(200);
    awaitNoTableSeries("clients");
  }

  /** The disk gauges are measured before the port opens, so the first scrape has them. */
  @Test
  void dataDiskAndStoreHealthAreInTheFirstScrape() {
    String scrape = scrape();
    Double free = single(scrape, "sluice_data_disk_free_bytes");
    Double total = single(scrape, "sluice_data_disk_total_bytes");
    assertThat(free).isPositive();
    assertThat(total).isGreaterThanOrEqualTo(free);
    assertThat(single(scrape, "sluice_store_failed")).isZero();
  }

  private static Double single(String scrape, String name) {
    return scrape.lines().filter(l -> l.startsWith(name + " ")).findFirst()
        .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).orElse(null);
  }

  /** Past metrics.tables.max, the largest tables keep their series and the rest are one sum. */
  @Test
  void tablesPastTheCapAreSummed(Vertx vertx) {
    server.stop();
    server = new TestServer(vertx, dataDir, Map.of("metrics.refresh.ms", 100, "metrics.tables.max", 2)).start();
    int tables = 12;
    long allRows = 0;
    for (int t = 0; t < tables; t++) {
      assertThat(server.put("/api/v1/schema/t" + t, SCHEMA).status()).isEqualTo(200);
      // 100 more rows than the table before: some pages more on PostgreSQL too, whose sizes go by 8 kB page.
      JsonArray rows = new JsonArray();
      for (int i = 0; i < (t + 1) * 100; i++) {
        rows.add(new JsonObject().put("id", i).put("name", "row " + i + " of table " + t + " " + "x".repeat(100)));
      }
      allRows += rows.size();
      assertThat(server.post("/api/v1/data/t" + t + "/batch", rows).status()).isEqualTo(200);
    }
    long others = allRows - 1200 - 1100;
    // The two largest (most rows) have their own series; the ten others are summed.
    await().atMost(WAIT).until(() -> {
      String scrape = scrape();
      return Double.valueOf(1200).equals(sample(scrape, "sluice_table_rows", "t11"))
          && Double.valueOf(1100).equals(sample(scrape, "sluice_table_rows", "t10"))
          && Double.valueOf(others).equals(sample(scrape, "sluice_table_rows", "$other"));
    });
    String scrape = scrape();
    assertThat(scrape.lines().filter(l -> l.startsWith("sluice_table_rows{"))).hasSize(3);
    assertThat(scrape.lines().filter(l -> l.startsWith("sluice_table_bytes{"))).hasSize(3);
    assertThat(scrape.length()).as("scrape size").isLessThan(150_000);
  }

  /**
   * A pull import whose source sends 1,200 rows and then holds the response open: the job runs, its gauge shows
   * its rows/s; once the source ends, the job finishes and its series is gone.
   */
  @Test
  void aRunningImportHasARowsPerSecondGaugeUntilItEnds(Vertx vertx) throws Exception {
    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
    CompletableFuture<HttpServerResponse> held = new CompletableFuture<>();
    byte[] head = BenchRows.ndjson(3, 1200, Map.of());
    byte[] tail = BenchRows.ndjson(4, 300, Map.of());
    var source = TestServer.await(vertx.createHttpServer()
        .requestHandler(request -> {
          request.response().setChunked(true).write(Buffer.buffer(head));
          held.complete(request.response());
        })
        .listen(0, "127.0.0.1"));
    try {
      String id = server.post("/api/v1/data/items/file", new JsonObject()).json().getString("id");
      Response trigger = server.post("/api/v1/data/items/file/" + id,
          new JsonObject().put("sourceUrl", "http://127.0.0.1:" + source.actualPort() + "/rows.ndjson"));
      assertThat(trigger.status()).as(trigger.toString()).isEqualTo(200);

      String series = "sluice_import_rows_per_second{job=\"" + id + "\",table=\"items\"}";
      await().atMost(WAIT).until(() -> rate(scrape(), series) != null && rate(scrape(), series) > 0);
      assertThat(scrape().lines().filter(l -> l.startsWith("sluice_import_rows_per_second{"))).hasSize(1);

      held.get(30, TimeUnit.SECONDS).end(Buffer.buffer(tail));
      JsonObject done = server.awaitImport("items", id);
      assertThat(done.getJsonObject("status").getString("phase")).isEqualTo("Finished");
      assertThat(scrape()).as("the ended job's series").doesNotContain("sluice_import_rows_per_second{");
    } finally {
      TestServer.await(source.close());
    }
  }

  private static Double rate(String scrape, String series) {
    return scrape.lines().filter(l -> l.startsWith(series + " ")).findFirst()
        .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).orElse(null);
  }

  private void awaitSample(String name, String table, double expected) {
    await().atMost(WAIT).until(() -> Double.valueOf(expected).equals(sample(scrape(), name, table)));
  }

  /** Other meters (rows ingested) keep the name: only the table gauges go. */
  private void awaitNoTableSeries(String table) {
    await().atMost(WAIT).until(() -> scrape().lines().noneMatch(l -> l.startsWith("sluice_table_")
        && l.contains("table=\"" + table + "\"")));
  }

  private String scrape() {
    Response response = server.send(HttpMethod.GET, "/metrics", null, null);
    assertThat(response.status()).isEqualTo(200);
    return response.raw().bodyAsString();
  }

  /** The value of {@code name{table="…"}}, or null when the scrape has no such series. */
  private static Double sample(String scrape, String name, String table) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{[^}]*table=\"" + Pattern.quote(table)
        + "\"[^}]*\\} (\\S+)$").matcher(scrape);
    return m.find() ? Double.parseDouble(m.group(1)) : null;
  }
}
