package io.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Regressions for what the fuzz tests found (docs/fuzzing.md), replayed end to end through the real server:
 * the store must keep answering, and a valid row must never break the table.
 */
class FuzzFindingsApiTest extends ServerTest {
  @BeforeEach
  void createTable() {
    Response created = server.put("/api/v1/schema/t", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},
         "csv":{"type":"Text","nullable":true,"analyzer":{"type":"delimiter","delimiter":","}},
         "pairs":{"type":"Text","nullable":true,"analyzer":{"type":"token-ngram",
                  "source":{"type":"delimiter","delimiter":","},"minGram":2,"maxGram":2}}}}"""));
    assertThat(created.status()).as("%s", created).isEqualTo(200);
  }

  /** A value whose one token is over Lucene's 32766-byte term limit was accepted, then latched the table. */
  @Test
  void immenseTokenIsIndexedAndTheTableStaysWritable() {
    String token = "x".repeat(33_000);
    String pair = "y".repeat(20_000) + "," + "z".repeat(20_000);
    Response batch = server.post("/api/v1/data/t/batch", new JsonArray()
        .add(new JsonObject().put("id", 1).put("csv", token))
        .add(new JsonObject().put("id", 2).put("pairs", pair)));
    assertThat(batch.status()).as("%s", batch).isEqualTo(200);

    Response next = server.post("/api/v1/data/t/batch", new JsonArray().add(new JsonObject().put("id", 3)));
    assertThat(next.status()).as("the table must stay writable: %s", next).isEqualTo(200);
    Response health = server.get("/api/v1/health");
    assertThat(health.status()).as("%s", health).isEqualTo(200);

    Response found = server.search(new JsonObject().put("from", "t")
        .put("where", new JsonObject().put("csv", new JsonObject().put("$has", token))));
    assertThat(found.status()).as("%s", found).isEqualTo(200);
    assertThat(found.total()).isEqualTo(1);
    Response all = server.search(new JsonObject().put("from", "t"));
    assertThat(all.total()).isEqualTo(3);
  }

  /** An NDJSON line with content after its object was stored whole, and every search hitting it failed. */
  @Test
  void importLineWithTrailingContentIsAFailedLine() {
    Response stream = server.send(HttpMethod.POST, "/api/v1/data/t/stream",
        Buffer.buffer("{\"id\":1}\n{\"id\":2} trailing\n{\"id\":3}{\"id\":4}\n{\"id\":5}\n"), TestServer.RW_KEY);
    assertThat(stream.status()).as("%s", stream).isEqualTo(200);
    assertThat(stream.json().getLong("total")).isEqualTo(2);
    assertThat(stream.json().getLong("failedCount")).isEqualTo(2);

    Response all = server.search(new JsonObject().put("from", "t"));
    assertThat(all.status()).as("%s", all).isEqualTo(200);
    assertThat(all.hits().stream().map(h -> ((JsonObject) h).getInteger("id"))).containsExactly(1, 5);
  }

  /**
   * A UTF-8 byte order mark opening a (gzipped) NDJSON file was stored with the first row, which every search
   * then failed to read. The file imports, or (should format detection not know the mark) is refused with a
   * 4xx and nothing stored; a stored row that breaks search is never right.
   */
  @Test
  void importStartingWithAByteOrderMark() throws java.io.IOException {
    java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(gz)) {
      out.write(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
      out.write("{\"id\":1}\n{\"id\":2}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    Response stream = server.send(HttpMethod.POST, "/api/v1/data/t/stream", Buffer.buffer(gz.toByteArray()),
        TestServer.RW_KEY);
    Response all = server.search(new JsonObject().put("from", "t"));
    assertThat(all.status()).as("%s", all).isEqualTo(200);
    if (stream.status() == 200) {
      assertThat(stream.json().getLong("total")).as("%s", stream).isEqualTo(2);
      assertThat(all.hits().stream().map(h -> ((JsonObject) h).getInteger("id"))).containsExactly(1, 2);
    } else {
      assertThat(stream.status()).as("%s", stream).isBetween(400, 499);
      assertThat(all.total()).isZero();
    }
  }

  /** A batch body that Jackson took for UTF-32 failed with a 500 instead of a 400. */
  @Test
  void batchInAnotherEncodingIsA400() {
    byte[] utf32 = "[{\"id\":1}]".getBytes(java.nio.charset.Charset.forName("UTF-32BE"));
    assertThat(server.post("/api/v1/data/t/batch", Buffer.buffer(utf32)).status()).isEqualTo(400);
    byte[] zeros = new byte[40];
    zeros[33] = 4;
    assertThat(server.post("/api/v1/data/t/batch", Buffer.buffer(zeros).appendString("[n")).status()).isEqualTo(400);
    assertThat(server.search(new JsonObject().put("from", "t")).total()).isZero();
  }

  /** The single-row endpoint accepted a body with content after the row. */
  @Test
  void singleRowWithTrailingContentIsRefused() {
    Response one = server.post("/api/v1/data/t", "{\"id\":1} {\"id\":2}");
    assertThat(one.status()).as("%s", one).isEqualTo(400);
    assertThat(server.search(new JsonObject().put("from", "t")).total()).isZero();
  }
}
