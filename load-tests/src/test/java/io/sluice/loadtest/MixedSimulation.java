package io.sluice.loadtest;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.constantConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jmesPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Ingestion with concurrent reads and deletes on the same table: {@code sluice.ingestUsers} clients (closed
 * model) post 1,000-row batches while {@code _search} requests arrive at {@code sluice.searchRate}/s and
 * {@code _delete} requests (each a small slice: one category and one age) at {@code sluice.deleteRate}/s
 * (open model). The table is preloaded with {@code sluice.preloadBatches} batches so reads find rows from the
 * start. Asserts the error rate and a p99 per kind of request.
 */
public class MixedSimulation extends Simulation {
  private final String table = Sluice.table("lt_mixed");
  private final int ingestUsers = Sluice.intProp("sluice.ingestUsers", 2);
  private final double searchRate = Sluice.doubleProp("sluice.searchRate", 20);
  private final double deleteRate = Sluice.doubleProp("sluice.deleteRate", 1);
  private final int preloadBatches = Sluice.intProp("sluice.preloadBatches", 20);
  private final int batchP99Ms = Sluice.intProp("sluice.batchP99Ms", 2000);
  private final int searchP99Ms = Sluice.intProp("sluice.searchP99Ms", 2000);
  private final int deleteP99Ms = Sluice.intProp("sluice.deleteP99Ms", 2000);
  private final BatchBodies bodies = new BatchBodies(Sluice.BATCH_ROWS, Sluice.intProp("sluice.poolRows", 20_000));

  /** Where-clauses (and orderings) of the searches, used in turn. */
  private static final List<String> SEARCHES = List.of(
      "\"where\":{\"description\":{\"$match\":\"red shoes\"}}",
      "\"where\":{\"age\":{\"$gte\":30,\"$lt\":40}},\"orderBy\":{\"$desc\":\"price\"}",
      "\"where\":{\"category\":\"books\"}",
      "\"where\":{\"tags\":{\"$has\":\"helsinki\"}},\"select\":[\"id\",\"name\",\"tags\"]",
      "\"where\":{\"$and\":[{\"active\":true},{\"price\":{\"$lt\":100}}]},\"orderBy\":\"age\"",
      "\"where\":{\"name\":{\"$startsWith\":\"ma\"}},\"offset\":20",
      "\"where\":{\"$or\":[{\"category\":\"toys\"},{\"description\":{\"$has\":\"premium\"}}]}",
      "\"where\":{}");
  private static final String[] CATEGORIES = BenchRows.CATEGORIES;
  private final AtomicLong searches = new AtomicLong();
  private final AtomicLong deletes = new AtomicLong();

  private final ScenarioBuilder ingest = scenario("ingest")
      .exec(http("batch")
          .post("/api/v1/data/" + table + "/batch")
          .header("x-api-key", Sluice.KEY)
          .body(StringBody(session -> bodies.next()))
          .check(status().is(200))
          .check(jmesPath("total").ofInt().is(bodies.rowsPerBatch())));

  private final ScenarioBuilder search = scenario("search")
      .exec(http("search")
          .post("/api/v1/_search")
          .header("x-api-key", Sluice.KEY)
          .body(StringBody(session -> "{\"from\":\"" + table + "\","
              + SEARCHES.get((int) (searches.getAndIncrement() % SEARCHES.size())) + ",\"limit\":10}"))
          .check(status().is(200))
          .check(jmesPath("total").ofLong().gte(0L))
          .check(jmesPath("hits").exists()));

  private final ScenarioBuilder delete = scenario("delete")
      .exec(http("delete")
          .post("/api/v1/data/_delete")
          .header("x-api-key", Sluice.KEY)
          .body(StringBody(session -> {
            long n = deletes.getAndIncrement();
            return "{\"from\":\"" + table + "\",\"where\":{\"category\":\"" + CATEGORIES[(int) (n % CATEGORIES.length)]
                + "\",\"age\":" + (10 + (n * 7) % 81) + "}}";
          }))
          .check(status().is(200))
          .check(jmesPath("total").ofLong().gte(0L)));

  {
    setUp(
        ingest.injectClosed(constantConcurrentUsers(ingestUsers).during(Sluice.DURATION)),
        search.injectOpen(constantUsersPerSec(searchRate).during(Sluice.DURATION)),
        delete.injectOpen(constantUsersPerSec(deleteRate).during(Sluice.DURATION)))
        .protocols(Sluice.protocol())
        .maxDuration(Duration.ofSeconds(Sluice.DURATION + 120L))
        .assertions(
            global().failedRequests().percent().lt(Sluice.MAX_ERROR_PERCENT),
            details("batch").responseTime().percentile(99.0).lt(batchP99Ms),
            details("search").responseTime().percentile(99.0).lt(searchP99Ms),
            details("delete").responseTime().percentile(99.0).lt(deleteP99Ms));
  }

  @Override
  public void before() {
    Sluice.recreateBenchTable(table);
    for (int i = 0; i < preloadBatches; i++) {
      Sluice.postBatch(table, bodies.next());
    }
  }
}
