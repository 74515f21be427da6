package io.sluice.api;

import static io.sluice.api.ApiAssertions.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A stream under an Idempotency-Key resumes without a duplicate (docs/api.md §2): after a hang-up, the whole body
 * again or, with {@code ?from=}, the rest of it; a broken stream's error body says how many lines are committed.
 * Batches of 100 lines, so a stream commits many.
 */
class StreamResumeTest extends ServerTest {
  private static final int LINES = 2000;

  @Override
  protected Map<String, Object> serverConfig() {
    return Map.of("import.batch.rows", 100, "import.commit.interval.ms", 0);
  }

  @BeforeEach
  void createTable() {
    ok(server.put("/api/v1/schema/t", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},"name":{"type":"String"}}}""")));
  }

  static String ndjson(int from, int to) {
    StringBuilder lines = new StringBuilder();
    for (int i = from; i <= to; i++) {
      lines.append("{\"id\":").append(i).append(",\"name\":\"row ").append(i).append("\"}\n");
    }
    return lines.toString();
  }

  private Response stream(String query, String body, String key, String contentType) {
    var request = server.client().request(HttpMethod.POST, "/api/v1/data/t/stream" + query)
        .putHeader("x-api-key", TestServer.RW_KEY).putHeader("content-type", contentType);
    if (key != null) {
      request.putHeader("Idempotency-Key", key);
    }
    return new Response(TestServer.await(request.sendBuffer(Buffer.buffer(body))));
  }

  private Response stream(String query, String body, String key) {
    return stream(query, body, key, "application/x-ndjson");
  }

  /** A resend that may find the broken attempt still finishing: a 409 means retry, as its Retry-After says. */
  private JsonObject resend(String query, String body, String key) {
    Response[] last = new Response[1];
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      last[0] = stream(query, body, key);
      if (last[0].status() == 409) {
        assertThat(last[0].header("Retry-After")).isEqualTo("1");
        return false;
      }
      return true;
    });
    return ok(last[0]);
  }

  /** Every id of the table, each once. */
  private void assertEachRowOnce(int rows) {
    JsonObject all = ok(server.search(new JsonObject().put("from", "t").put("limit", 10_000)));
    assertThat(all.getLong("total")).as("rows stored").isEqualTo(rows);
    Set<Integer> ids = new HashSet<>();
    all.getJsonArray("hits").forEach(hit -> ids.add(((JsonObject) hit).getInteger("id")));
    assertThat(ids).hasSize(rows);
  }

  private long count() {
    return ok(server.search(new JsonObject().put("from", "t").put("limit", 0))).getLong("total");
  }

  /** Sends the head of a chunked stream with the key, waits until some batches are committed, then hangs up. */
  private void hangUpMidStream(String key) throws Exception {
    byte[] body = ndjson(1, LINES).getBytes(StandardCharsets.UTF_8);
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      OutputStream out = socket.getOutputStream();
      out.write(("POST /api/v1/data/t/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + TestServer.RW_KEY
          + "\r\nIdempotency-Key: " + key + "\r\nTransfer-Encoding: chunked\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      int half = body.length / 2;
      out.write((Integer.toHexString(half) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(body, 0, half);
      out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      await().atMost(Duration.ofSeconds(30)).until(() -> count() >= 300);
    }
  }

  @Test
  void aHungUpStreamSentWholeAgainStoresEachLineOnce() throws Exception {
    hangUpMidStream("whole-again");
    long before = count();
    assertThat(before).isBetween(300L, (long) LINES / 2);
    JsonObject reply = resend("", ndjson(1, LINES), "whole-again");
    assertThat(reply.getLong("committedLines")).isEqualTo(LINES);
    assertThat(reply.getLong("skippedLines") + reply.getLong("total")).isEqualTo(LINES);
    assertEachRowOnce(LINES);

    // Once more, the stream is complete: nothing is written and the reply says it is a replay.
    Response replay = stream("", ndjson(1, LINES), "whole-again");
    assertThat(ok(replay).getLong("total")).isZero();
    assertThat(ok(replay).getLong("skippedLines")).isEqualTo(LINES);
    assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
    assertEachRowOnce(LINES);
  }

  @Test
  void aHungUpStreamResentFromWhereItStoodStoresEachLineOnce() throws Exception {
    hangUpMidStream("the-rest");
    // The client saw no reply: an empty body with the key tells where the stream stands.
    JsonObject where = resend("", "", "the-rest");
    long committed = where.getLong("committedLines");
    assertThat(committed).isEqualTo(count()).isGreaterThanOrEqualTo(300);
    JsonObject reply = resend("?from=" + (committed + 1), ndjson((int) committed + 1, LINES), "the-rest");
    assertThat(reply.getLong("total")).isEqualTo(LINES - committed);
    assertThat(reply.getLong("committedLines")).isEqualTo(LINES);
    assertEachRowOnce(LINES);
  }

  @Test
  void aSecondStreamWithTheKeyWhileTheFirstRunsIs409() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      OutputStream out = socket.getOutputStream();
      byte[] head = ndjson(1, 150).getBytes(StandardCharsets.UTF_8);
      out.write(("POST /api/v1/data/t/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + TestServer.RW_KEY
          + "\r\nIdempotency-Key: busy\r\nTransfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(head.length)
          + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(head);
      out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      await().atMost(Duration.ofSeconds(30)).until(() -> count() >= 100); // the first stream holds the key
      Response second = stream("", ndjson(1, 150), "busy");
      assertThat(second.status()).isEqualTo(409);
      assertThat(second.header("Retry-After")).isEqualTo("1");
      assertThat(second.json().getString("cause")).isEqualTo("IdempotencyKeyInUse");
      assertThat(ok(stream("", ndjson(1, 150), "another-key")).getLong("total")).isEqualTo(150);
    }
    JsonObject resumed = resend("", ndjson(1, 150), "busy");
    assertThat(resumed.getLong("skippedLines")).isGreaterThanOrEqualTo(100);
    assertThat(count()).isEqualTo(300);
  }

  @Test
  void aResendThatWouldLeaveAGapIsRefused() {
    assertThat(ok(stream("", ndjson(1, 250), "gap")).getLong("committedLines")).isEqualTo(250);
    Response gap = stream("?from=300", ndjson(300, 400), "gap");
    assertThat(gap.status()).isEqualTo(409);
    assertThat(gap.json().getLong("committedLines")).isEqualTo(250);
    assertThat(gap.json().getString("message")).contains("251", "300");
    // Overlapping the committed lines is fine: they are skipped.
    JsonObject overlap = ok(stream("?from=201", ndjson(201, 400), "gap"));
    assertThat(overlap.getLong("skippedLines")).isEqualTo(50);
    assertEachRowOnce(400);
  }

  @Test
  void fromNeedsTheKeyAndAnNdjsonBody() {
    Response noKey = stream("?from=2", ndjson(2, 3), null);
    assertThat(noKey.status()).isEqualTo(400);
    assertThat(noKey.json().getString("message")).contains("'from'", "Idempotency-Key");
    Response notANumber = stream("?from=x", ndjson(2, 3), "k");
    assertThat(notANumber.status()).isEqualTo(400);
    Response csv = stream("?from=2", "id,name\n2,two\n", "csv-from", "text/csv");
    assertThat(csv.status()).isEqualTo(400);
    assertThat(csv.json().getString("message")).contains("NDJSON");
    assertThat(count()).isZero();
  }

  @Test
  void aBrokenStreamsErrorSaysWhatIsCommittedAndTheRetryCompletesIt() {
    StringBuilder csv = new StringBuilder("id,name\n");
    for (int i = 1; i <= 350; i++) {
      csv.append(i).append(",row ").append(i).append('\n');
    }
    // A quoted field that never ends: the stream fails after three whole batches (lines 1-300) are committed.
    Response broken = stream("", csv + "351,\"unterminated\n", "csv-key", "text/csv");
    assertThat(broken.status()).as(broken.raw().bodyAsString()).isEqualTo(400);
    assertThat(broken.json().getLong("committedLines")).isEqualTo(300);
    assertThat(count()).isEqualTo(299);
    JsonObject retry = ok(stream("", csv + "351,fixed\n", "csv-key", "text/csv"));
    assertThat(retry.getLong("skippedLines")).isEqualTo(300);
    assertThat(retry.getLong("committedLines")).isEqualTo(352);
    assertEachRowOnce(351);
  }

  @Test
  void theSameKeyOnAnotherTableIsAnotherStream() {
    ok(server.put("/api/v1/schema/u", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},"name":{"type":"String"}}}""")));
    ok(stream("", ndjson(1, 10), "shared"));
    var other = server.client().request(HttpMethod.POST, "/api/v1/data/u/stream")
        .putHeader("x-api-key", TestServer.RW_KEY).putHeader("Idempotency-Key", "shared");
    JsonObject reply = ok(new Response(TestServer.await(other.sendBuffer(Buffer.buffer(ndjson(1, 10))))));
    assertThat(reply.getLong("total")).isEqualTo(10);
    assertThat(reply.getLong("skippedLines")).isZero();
  }

  @Test
  void withoutAKeyTheReplyIsAsBefore() {
    JsonObject reply = ok(stream("", ndjson(1, 5), null));
    assertThat(reply).isEqualTo(new JsonObject().put("total", 5).put("failedCount", 0).put("errors",
        reply.getValue("errors")));
    assertThat(reply.containsKey("committedLines")).isFalse();
  }
}
