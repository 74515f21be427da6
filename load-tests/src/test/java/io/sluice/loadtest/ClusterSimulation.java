package io.sluice.loadtest;

import static io.gatling.javaapi.core.CoreDsl.ByteArrayBody;
import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.asLongAsDuring;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.constantConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jmesPath;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.repeat;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A cluster under load, every node taking its share: the nodes are {@code sluice.urls} (comma-separated base URLs
 * of one cluster, e.g. three {@code serve --cluster} nodes; see README.md for starting them). For
 * {@code sluice.duration} s, {@code sluice.ingestUsers} clients (closed) post batches into {@code lt_cluster_batch}
 * and {@code _search} requests arrive at {@code sluice.searchRate}/s on it, each request sent to the next node in
 * turn, as a round-robin load balancer would. Meanwhile one file import of {@code sluice.fileRows} rows into
 * {@code lt_cluster_file} is initiated on the first node, uploaded to the second, triggered on the third and its
 * status polled on each node in turn; its result is then read on every node.
 *
 * <p>Asserts the error rate, a p99 per kind of request, that every node answers the import Finished with every row,
 * and after the run that every node counts every file row and, in the batch table, at least the rows acknowledged
 * and at most the rows sent (exactly the acknowledged ones when no batch failed). It prints each node's requests and
 * its share of the import's batches ({@code sluice_import_batches_stored_total}).
 */
public class ClusterSimulation extends Simulation {
  private static final Pattern TOTAL = Pattern.compile("\"total\"\\s*:\\s*(\\d+)");
  private static final Pattern NODES = Pattern.compile("\"nodes\"\\s*:\\s*(\\d+)");
  private static final Pattern STORED = Pattern.compile(
      "^sluice_import_batches_stored_total\\{[^}]*origin=\"(\\w+)\"[^}]*\\}\\s+(\\S+)", Pattern.MULTILINE);
  private static final List<String> SEARCHES = List.of(
      "\"where\":{\"description\":{\"$match\":\"red shoes\"}}",
      "\"where\":{\"age\":{\"$gte\":30,\"$lt\":40}},\"orderBy\":{\"$desc\":\"price\"}",
      "\"where\":{\"category\":\"books\"}",
      "\"where\":{\"tags\":{\"$has\":\"helsinki\"}},\"select\":[\"id\",\"name\",\"tags\"]",
      "\"where\":{\"$and\":[{\"active\":true},{\"price\":{\"$lt\":100}}]},\"orderBy\":\"age\"");

  private final List<String> nodes = Sluice.URLS;
  private final String batchTable = Sluice.prop("sluice.table", "lt_cluster_batch");
  private final String fileTable = Sluice.prop("sluice.fileTable", "lt_cluster_file");
  private final int ingestUsers = Sluice.intProp("sluice.ingestUsers", 3);
  private final double searchRate = Sluice.doubleProp("sluice.searchRate", 10);
  private final int fileRows = Sluice.intProp("sluice.fileRows", 200_000);
  private final int importTimeout = Sluice.intProp("sluice.importTimeout", 300);
  private final int pollMillis = Sluice.intProp("sluice.pollMillis", 250);
  private final int batchP99Ms = Sluice.intProp("sluice.batchP99Ms", 5000);
  private final int searchP99Ms = Sluice.intProp("sluice.searchP99Ms", 5000);
  private final BatchBodies bodies = new BatchBodies(Sluice.BATCH_ROWS, Sluice.intProp("sluice.poolRows", 20_000));
  private final AtomicLong turn = new AtomicLong();
  private final AtomicLongArray requestsPerNode = new AtomicLongArray(nodes.size());
  private final AtomicLong acknowledgedRows = new AtomicLong();
  private final AtomicLong searches = new AtomicLong();
  private byte[] gz;

  /** The next node in turn for one request (and counts it). */
  private String next() {
    int i = (int) (turn.getAndIncrement() % nodes.size());
    requestsPerNode.incrementAndGet(i);
    return nodes.get(i);
  }

  private String node(int i) {
    return nodes.get(i % nodes.size());
  }

  private final ScenarioBuilder ingest = scenario("ingest")
      .exec(session -> session.set("body", bodies.next()))
      .exec(http("batch")
          .post(session -> next() + "/api/v1/data/" + batchTable + "/batch")
          .header("x-api-key", Sluice.KEY)
          .body(StringBody("#{body}"))
          .check(status().is(200))
          .check(jmesPath("total").ofInt().is(bodies.rowsPerBatch())))
      .exec(session -> {
        if (!session.isFailed()) {
          acknowledgedRows.addAndGet(bodies.rowsPerBatch());
        }
        return session;
      });

  private final ScenarioBuilder search = scenario("search")
      .exec(http("search")
          .post(session -> next() + "/api/v1/_search")
          .header("x-api-key", Sluice.KEY)
          .body(StringBody(session -> "{\"from\":\"" + batchTable + "\","
              + SEARCHES.get((int) (searches.getAndIncrement() % SEARCHES.size())) + ",\"limit\":10}"))
          .check(status().is(200))
          .check(jmesPath("total").ofLong().gte(0L))
          .check(jmesPath("hits").exists()));

  private ChainBuilder fileImport() {
    String base = "/api/v1/data/" + fileTable + "/file";
    AtomicLong polls = new AtomicLong();
    return exec(http("initiate")
          .post(node(0) + base)
          .header("x-api-key", Sluice.KEY)
          .body(StringBody("{}"))
          .check(status().is(200))
          .check(jmesPath("id").saveAs("importId"))
          .check(jmesPath("url").transform(url -> Sluice.rebase(url, node(1))).saveAs("uploadUrl")))
        .exec(http("upload")
          .put("#{uploadUrl}")
          .header("content-type", "application/gzip")
          .body(ByteArrayBody(session -> gz))
          .check(status().is(200))
          .check(jmesPath("bytes").ofLong().is(session -> (long) gz.length)))
        .exec(http("trigger")
          .post(node(2) + base + "/#{importId}")
          .header("x-api-key", Sluice.KEY)
          .body(StringBody("{}"))
          .check(status().is(200))
          .check(jmesPath("status").is("started")))
        .exec(session -> session.set("finished", false).set("triggeredAt", System.nanoTime()))
        .exec(asLongAsDuring(session -> !session.getBoolean("finished"), Duration.ofSeconds(importTimeout)).on(
            pause(Duration.ofMillis(pollMillis)),
            exec(http("import status")
                .get(session -> node((int) polls.getAndIncrement()) + base + "/" + session.getString("importId"))
                .header("x-api-key", Sluice.KEY)
                .check(status().is(200))
                .check(jmesPath("status.finished").ofBoolean().saveAs("finished")))))
        .exec(session -> {
          double seconds = (System.nanoTime() - session.getLong("triggeredAt")) / 1e9;
          System.out.printf("import %s: %,d rows in %.2f s (trigger on %s → finished seen), %,.0f rows/s%n",
              session.getString("importId"), fileRows, seconds, node(2), fileRows / seconds);
          return session;
        })
        .exec(repeat(nodes.size(), "n").on(
            exec(http("import result")
                .get(session -> node(session.getInt("n")) + base + "/" + session.getString("importId"))
                .header("x-api-key", Sluice.KEY)
                .check(status().is(200))
                .check(jmesPath("status.phase").is("Finished"))
                .check(jmesPath("status.completedCount").ofLong().is((long) fileRows))
                .check(jmesPath("status.failedCount").ofLong().is(0L)))));
  }

  {
    setUp(
        ingest.injectClosed(constantConcurrentUsers(ingestUsers).during(Sluice.DURATION)),
        search.injectOpen(constantUsersPerSec(searchRate).during(Sluice.DURATION)),
        scenario("file import").exec(fileImport()).injectOpen(atOnceUsers(1)))
        .protocols(Sluice.protocol())
        .maxDuration(Duration.ofSeconds(Sluice.DURATION + importTimeout + 120L))
        .assertions(
            global().failedRequests().percent().lt(Sluice.MAX_ERROR_PERCENT),
            details("batch").responseTime().percentile(99.0).lt(batchP99Ms),
            details("search").responseTime().percentile(99.0).lt(searchP99Ms),
            details("import result").successfulRequests().count().is((long) nodes.size()),
            details("import result").successfulRequests().percent().is(100.0));
  }

  @Override
  public void before() {
    for (String node : nodes) {
      HttpResponse<String> health = Sluice.sendTo(node, "GET", "/health", null, Map.of());
      Matcher seen = NODES.matcher(health.body());
      if (health.statusCode() != 200 || !seen.find() || Integer.parseInt(seen.group(1)) != nodes.size()) {
        throw new IllegalStateException(node + " is not a node of a cluster of the " + nodes.size()
            + " given in sluice.urls: /health answered " + health.statusCode() + " " + health.body());
      }
    }
    System.out.printf("cluster of %d nodes: %s%n", nodes.size(), nodes);
    long start = System.nanoTime();
    gz = BenchRows.ndjsonGz(fileRows);
    System.out.printf("generated %,d rows: %,d bytes gzipped in %.1f s%n", fileRows, gz.length,
        (System.nanoTime() - start) / 1e9);
    Sluice.recreateBenchTable(node(0), batchTable);
    Sluice.recreateBenchTable(node(0), fileTable);
  }

  @Override
  public void after() {
    long sent = bodies.handedOut() * bodies.rowsPerBatch();
    long acknowledged = acknowledgedRows.get();
    StringBuilder problems = new StringBuilder();
    for (int i = 0; i < nodes.size(); i++) {
      String node = nodes.get(i);
      long batchRows = count(node, batchTable);
      long fileRowsSeen = count(node, fileTable);
      String metrics = Sluice.sendTo(node, "GET", "/metrics", null, Map.of()).body();
      StringBuilder stored = new StringBuilder();
      for (Matcher m = STORED.matcher(metrics); m.find(); ) {
        stored.append(stored.length() == 0 ? "" : ", ").append(m.group(1)).append(' ')
            .append((long) Double.parseDouble(m.group(2)));
      }
      System.out.printf("node %s: %,d requests of batch and search; import batches stored: %s; counts '%s' %,d"
          + " rows, '%s' %,d rows%n", node, requestsPerNode.get(i), stored.length() == 0 ? "none" : stored,
          batchTable, batchRows, fileTable, fileRowsSeen);
      if (fileRowsSeen != fileRows) {
        problems.append(String.format("%s counts %d rows in '%s', expected %d; ", node, fileRowsSeen, fileTable,
            fileRows));
      }
      if (batchRows < acknowledged || batchRows > sent) {
        problems.append(String.format("%s counts %d rows in '%s', expected %d acknowledged (at most %d sent); ",
            node, batchRows, batchTable, acknowledged, sent));
      }
    }
    System.out.printf("batches: %,d rows acknowledged, %,d sent%n", acknowledged, sent);
    if (problems.length() > 0) {
      throw new AssertionError("rows missing or extra: " + problems);
    }
  }

  private static long count(String node, String table) {
    HttpResponse<String> response = Sluice.sendTo(node, "POST", "/api/v1/_search",
        "{\"from\": \"" + table + "\", \"limit\": 0}", Map.of());
    Matcher total = TOTAL.matcher(response.body());
    if (response.statusCode() != 200 || !total.find()) {
      throw new IllegalStateException("counting '" + table + "' on " + node + ": " + response.statusCode() + " "
          + response.body());
    }
    return Long.parseLong(total.group(1));
  }
}
