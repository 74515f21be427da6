package io.sluice.loadtest;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Clients that give up on purpose: each posts {@code sluice.batchesPerUser} batches to {@code lt_retry} with an
 * {@code Idempotency-Key} per batch and a request timeout of {@code sluice.requestTimeoutMs} (short, so many
 * replies are lost after the server committed), and retries the same body with the same key until it is
 * answered 200 (a replay, or 409 while the first attempt is still in flight, count as retries), at most
 * {@code sluice.maxTries} times. After the run every batch not yet answered is sent once more with its key, and
 * the table must hold exactly one copy of every batch: {@code sluice.users} × {@code sluice.batchesPerUser} ×
 * {@code sluice.batchRows} rows. Failed requests are expected (the timeouts); the row count is the assertion.
 */
public class RetryingClientsSimulation extends Simulation {
  private final String table = Sluice.table("lt_retry");
  private final int users = Sluice.intProp("sluice.users", 4);
  private final int batchesPerUser = Sluice.intProp("sluice.batchesPerUser", 10);
  private final int timeoutMs = Sluice.intProp("sluice.requestTimeoutMs", 300);
  private final int maxTries = Sluice.intProp("sluice.maxTries", 20);
  private final BatchBodies bodies = new BatchBodies(Sluice.BATCH_ROWS, Sluice.intProp("sluice.poolRows", 20_000));
  /** Keys of this run: a rerun against the same server must not replay the last run's batches. */
  private final String run = UUID.randomUUID().toString().substring(0, 8);
  private final Map<String, String> sent = new ConcurrentHashMap<>();
  private final Set<String> answered = ConcurrentHashMap.newKeySet();

  private final ScenarioBuilder clients = scenario("retrying clients")
      .repeat(batchesPerUser, "n").on(
          exec(session -> {
            String key = "lt-retry-" + run + "-" + session.userId() + "-" + session.getInt("n");
            String body = bodies.next();
            sent.put(key, body);
            return session.set("key", key).set("body", body);
          })
          .tryMax(maxTries).on(
              exec(http("batch with Idempotency-Key, short timeout")
                  .post("/api/v1/data/" + table + "/batch")
                  .header("x-api-key", Sluice.KEY)
                  .header("Idempotency-Key", "#{key}")
                  .body(StringBody("#{body}"))
                  .requestTimeout(Duration.ofMillis(timeoutMs))
                  .check(status().is(200)))
              .exec(session -> {
                if (!session.isFailed()) {
                  answered.add(session.getString("key"));
                }
                return session;
              }))
          .exec(session -> session.markAsSucceeded()) // a batch out of tries is resent after the run
          .pause(Duration.ofMillis(10)));

  {
    setUp(clients.injectOpen(atOnceUsers(users)))
        .protocols(Sluice.protocol())
        .maxDuration(Duration.ofSeconds(Sluice.DURATION + 300L));
  }

  @Override
  public void before() {
    Sluice.recreateBenchTable(table);
  }

  @Override
  public void after() {
    String path = "/api/v1/data/" + table + "/batch";
    int resent = 0;
    for (Map.Entry<String, String> batch : sent.entrySet()) {
      if (answered.contains(batch.getKey())) {
        continue;
      }
      for (int attempt = 0; ; attempt++) {
        HttpResponse<String> response = Sluice.send("POST", path, batch.getValue(),
            Map.of("Idempotency-Key", batch.getKey()));
        if (response.statusCode() == 200) {
          break;
        }
        if (response.statusCode() != 409 || attempt > 120) {
          throw new IllegalStateException("resending " + batch.getKey() + ": " + response.statusCode() + " "
              + response.body());
        }
        Sluice.sleep(500); // the first attempt is still in flight (Retry-After)
      }
      resent++;
    }
    HttpResponse<String> count = Sluice.send("POST", "/api/v1/_search",
        "{\"from\": \"" + table + "\", \"limit\": 0}");
    java.util.regex.Matcher total = java.util.regex.Pattern.compile("\"total\"\\s*:\\s*(\\d+)")
        .matcher(count.body());
    if (count.statusCode() != 200 || !total.find()) {
      throw new IllegalStateException("counting '" + table + "': " + count.statusCode() + " " + count.body());
    }
    long rows = Long.parseLong(total.group(1));
    long expected = (long) sent.size() * bodies.rowsPerBatch();
    System.out.printf("retrying clients: %d batches of %d rows, %d answered within %d tries, %d resent after;"
        + " '%s' holds %d rows, expected %d%n", sent.size(), bodies.rowsPerBatch(), answered.size(), maxTries,
        resent, table, rows, expected);
    if (rows != expected) {
      throw new AssertionError("'" + table + "' holds " + rows + " rows, expected exactly " + expected
          + ": a retry stored a batch twice, or a batch was lost");
    }
  }
}
