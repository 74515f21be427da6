package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ForkedServer;
import io.sluice.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;

/**
 * Writers against a server that a test is about to kill, with no silent outcomes: a request ends in a status
 * the writer expects, or in a broken connection once the kill has begun. 429 and 503 are retried after their
 * {@code Retry-After} (without it they are a failure). Anything else (another status, a broken connection
 * before the kill, a timeout) is recorded, the writer stops, and {@link #assertNoSurprises} fails the test.
 * One instance per server lifetime.
 */
final class KilledServerWrites {
  /** {@link #send}'s answer when the connection broke because the server was being killed. */
  static final int KILLED = -1;
  /** {@link #send}'s answer after an unexpected outcome (recorded): the writer must stop. */
  static final int SURPRISE = -2;

  private final HttpClient http;
  private final ForkedServer server;
  private final CountDownLatch killing = new CountDownLatch(1);
  private final Queue<String> surprises = new ConcurrentLinkedQueue<>();

  KilledServerWrites(HttpClient http, ForkedServer server) {
    this.http = http;
    this.server = server;
  }

  boolean killing() {
    return killing.getCount() == 0;
  }

  /** Marks the kill before it happens, so that connections it breaks are expected; then SIGKILL. */
  void kill() {
    killing.countDown();
    server.kill();
  }

  /**
   * Sends until a final outcome: the status when {@code expected} accepts it, {@link #KILLED}, or
   * {@link #SURPRISE} (recorded).
   */
  int send(String method, String path, String body, IntPredicate expected) {
    URI uri = server.uri(path);
    while (true) {
      HttpResponse<String> response;
      try {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
            .header("x-api-key", TestServer.RW_KEY).header("content-type", "application/json")
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body))
            .build();
        response = http.send(request, HttpResponse.BodyHandlers.ofString());
      } catch (Exception e) {
        if (killing()) {
          return KILLED;
        }
        return surprise(method + " " + path + " failed before any kill: " + e);
      }
      int status = response.statusCode();
      if (expected.test(status)) {
        return status;
      }
      if (status == 429 || status == 503) {
        var retryAfter = response.headers().firstValue("Retry-After");
        if (retryAfter.isEmpty()) {
          return surprise(method + " " + path + " -> " + status + " without Retry-After: " + response.body());
        }
        if (awaitKill(Long.parseLong(retryAfter.get().trim()))) {
          return KILLED;
        }
        continue; // the retry Retry-After asked for
      }
      return surprise(method + " " + path + " -> unexpected " + status + ": " + response.body());
    }
  }

  /** Waits out a Retry-After, or less if the kill begins; true when it did. */
  private boolean awaitKill(long seconds) {
    try {
      return killing.await(Math.min(seconds, 10), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
  }

  private int surprise(String what) {
    surprises.add(what);
    return SURPRISE;
  }

  /** Fails with every unexpected outcome seen; {@code context} names the cycle and the seed. */
  void assertNoSurprises(String context) {
    assertThat(List.copyOf(surprises)).as("unexpected outcomes of writers (%s)", context).isEmpty();
  }
}
