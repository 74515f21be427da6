package io.sluice.loadtest;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.constantConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jmesPath;
import static io.gatling.javaapi.core.CoreDsl.rampConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.PopulationBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/**
 * Many virtual clients posting 1,000-row batches of the benchmark table to {@code /api/v1/data/{t}/batch}.
 *
 * <p>{@code -Dsluice.workload=open} (default): new clients arrive at {@code sluice.rate} per second, whatever
 * the response times (a ramp of {@code sluice.rampSeconds} first), each posts {@code sluice.batchesPerUser}
 * batches and leaves. {@code -Dsluice.workload=closed}: {@code sluice.users} clients at once, each replaced
 * as soon as it is done. Both run {@code sluice.duration} seconds. Asserts the error rate and the p99.
 */
public class BatchIngestionSimulation extends Simulation {
  private final String table = Sluice.table("lt_batch");
  private final String workload = Sluice.prop("sluice.workload", "open");
  private final double rate = Sluice.doubleProp("sluice.rate", 5);
  private final int users = Sluice.intProp("sluice.users", 4);
  private final int rampSeconds = Sluice.intProp("sluice.rampSeconds", 5);
  private final int batchesPerUser = Sluice.intProp("sluice.batchesPerUser", 1);
  private final int p99Ms = Sluice.intProp("sluice.p99Ms", 2000);
  private final BatchBodies bodies = new BatchBodies(Sluice.BATCH_ROWS, Sluice.intProp("sluice.poolRows", 20_000));

  private final ScenarioBuilder ingest = scenario("batch ingestion (" + workload + ")")
      .repeat(batchesPerUser).on(
          http("batch")
              .post("/api/v1/data/" + table + "/batch")
              .header("x-api-key", Sluice.KEY)
              .body(StringBody(session -> bodies.next()))
              .check(status().is(200))
              .check(jmesPath("total").ofInt().is(bodies.rowsPerBatch())));

  {
    PopulationBuilder population = switch (workload) {
      case "open" -> ingest.injectOpen(
          rampUsersPerSec(1).to(rate).during(rampSeconds),
          constantUsersPerSec(rate).during(Sluice.DURATION));
      case "closed" -> ingest.injectClosed(
          rampConcurrentUsers(1).to(users).during(rampSeconds),
          constantConcurrentUsers(users).during(Sluice.DURATION));
      default -> throw new IllegalArgumentException("sluice.workload must be open or closed, got " + workload);
    };
    setUp(population)
        .protocols(Sluice.protocol())
        .maxDuration(Duration.ofSeconds(rampSeconds + Sluice.DURATION + 120L))
        .assertions(
            global().failedRequests().percent().lt(Sluice.MAX_ERROR_PERCENT),
            global().responseTime().percentile(99.0).lt(p99Ms));
  }

  @Override
  public void before() {
    Sluice.recreateBenchTable(table);
  }

  @Override
  public void after() {
    System.out.printf("batch ingestion (%s): %d batches of %d rows sent to '%s'%n", workload, bodies.handedOut(),
        bodies.rowsPerBatch(), table);
  }
}
