package io.sluice.loadtest;

import static io.gatling.javaapi.core.CoreDsl.ByteArrayBody;
import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.asLongAsDuring;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jmesPath;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
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
  private final String base = "/api/v1/data/" + table + "/file";
  private byte[] gz;

  private final ScenarioBuilder importFile = scenario("file import")
      .exec(http("initiate")
          .post(base)
          .header("x-api-key", Sluice.KEY)
          .body(StringBody("{}"))
          .check(status().is(200))
          .check(jmesPath("id").saveAs("importId"))
          .check(jmesPath("method").is("PUT"))
          .check(jmesPath("url").transform(Sluice::rebase).saveAs("uploadUrl")))
      .exec(http("upload")
          .put("#{uploadUrl}")
          .header("content-type", "application/gzip")
          .body(ByteArrayBody(session -> gz))
          .check(status().is(200))
          .check(jmesPath("bytes").ofLong().is(session -> (long) gz.length)))
      .exec(http("trigger")
          .post(base + "/#{importId}")
          .header("x-api-key", Sluice.KEY)
          .body(StringBody("{}"))
          .check(status().is(200))
          .check(jmesPath("status").is("started")))
      .exec(session -> session.set("finished", false).set("triggeredAt", System.nanoTime()))
      .exec(asLongAsDuring(session -> !session.getBoolean("finished"), Duration.ofSeconds(timeoutSeconds)).on(
          pause(Duration.ofMillis(pollMillis)),
          exec(http("status")
              .get(base + "/#{importId}")
              .header("x-api-key", Sluice.KEY)
              .check(status().is(200))
              .check(jmesPath("errors.message").exists())
              .check(jmesPath("status.finished").ofBoolean().saveAs("finished")))))
      .exec(session -> session.set("seconds", (System.nanoTime() - session.getLong("triggeredAt")) / 1e9))
      .exec(http("import result")
          .get(base + "/#{importId}")
          .header("x-api-key", Sluice.KEY)
          .check(status().is(200))
          .check(jmesPath("status.phase").is("Finished"))
          .check(jmesPath("status.completedCount").ofLong().is((long) rows))
          .check(jmesPath("status.failedCount").ofLong().is(0L)))
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
