package io.sluice.loadtest;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/**
 * The file API of docs/api.md §3, end to end: initiate, PUT a generated {@code .ndjson.gz} to the signed URL (no API
 * key), trigger, poll the status until it is finished (bounded by {@code sluice.importTimeout} seconds), then
 * check that every row was stored. {@code sluice.imports} clients (default 1) each import
 * {@code sluice.fileRows} rows (default 100,000), started {@code sluice.importSpread} seconds apart in all.
 */
public class FileImportSimulation extends Simulation {
  private final String table = Sluice.table("lt_file");
  private final int rows = Sluice.intProp("sluice.fileRows", 100_000);
  private final int imports = Sluice.intProp("sluice.imports", 1);
  private final int spreadSeconds = Sluice.intProp("sluice.importSpread", 0);
  private final int timeoutSeconds = Sluice.intProp("sluice.importTimeout", 300);
  private final int pollMillis = Sluice.intProp("sluice.pollMillis", 250);
  private final int p99Ms = Sluice.intProp("sluice.p99Ms", 2000);
  private byte[] gz;

  private final ScenarioBuilder importFile = scenario("file import")
      .exec(Sluice.fileImport(table, () -> gz, rows, pollMillis, timeoutSeconds))
      .exec(session -> {
        if (!session.isFailed()) {
          double seconds = session.getDouble("seconds");
          System.out.printf("import %s: %,d rows in %.2f s (trigger → finished seen), %,.0f rows/s%n",
              session.getString("importId"), rows, seconds, rows / seconds);
        }
        return session;
      });

  {
    setUp(importFile.injectOpen(spreadSeconds > 0 ? rampUsers(imports).during(spreadSeconds) : atOnceUsers(imports)))
        .protocols(Sluice.protocol())
        .maxDuration(Duration.ofSeconds(spreadSeconds + timeoutSeconds + 120L))
        .assertions(
            global().failedRequests().percent().lt(Sluice.MAX_ERROR_PERCENT),
            details("import result").successfulRequests().percent().is(100.0),
            details("import result").successfulRequests().count().is((long) imports),
            global().responseTime().percentile(99.0).lt(p99Ms));
  }

  @Override
  public void before() {
    long start = System.nanoTime();
    gz = BenchRows.ndjsonGz(rows);
    System.out.printf("generated %,d rows: %,d bytes gzipped in %.1f s%n", rows, gz.length,
        (System.nanoTime() - start) / 1e9);
    Sluice.recreateBenchTable(table);
  }
}
