package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.BenchRows;
import io.sluice.ForkedServer;
import io.sluice.TestServer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM drains: the listening socket closes at once, a stream import in flight is answered in full and its
 * rows survive the restart, and the server exits after saying what it did.
 */
class GracefulShutdownTest {

  @Test
  void aRequestInFlightAtSigtermIsAnsweredAndItsRowsAreKept(@TempDir Path dir) throws Exception {
    Path dataDir = dir.resolve("data");
    byte[] lines = BenchRows.ndjson(11, 2_000, Map.of());
    int half = indexOfLine(lines, 1_000);
    try (ForkedServer server = new ForkedServer(dataDir, List.of("-Xmx256m"), Map.of()).start()) {
      server.call("PUT", "/api/v1/schema/items", BenchRows.SCHEMA);
      try (Socket socket = new Socket("127.0.0.1", server.port())) {
        OutputStream out = socket.getOutputStream();
        out.write(("POST /api/v1/data/items/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + TestServer.RW_KEY
            + "\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        chunk(out, lines, 0, half);
        out.flush();

        server.terminate();
        await().atMost(Duration.ofSeconds(30)).until(() -> server.log().contains("shutting down"));
        await().atMost(Duration.ofSeconds(10)).until(() -> refusesConnections(server.port()));

        chunk(out, lines, half, lines.length - half);
        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String response = readResponse(socket.getInputStream());
        assertThat(response).startsWith("HTTP/1.1 200");
        assertThat(new JsonObject(response.substring(response.indexOf("\r\n\r\n") + 4)).getLong("total"))
            .isEqualTo(2_000);
      }
      assertThat(server.awaitExit(Duration.ofSeconds(60))).as("exit code of a JVM ended by SIGTERM").isEqualTo(143);
      assertThat(server.log()).contains("requests drained in").contains("stopped");
    }
    try (ForkedServer restarted = new ForkedServer(dataDir, List.of("-Xmx256m"), Map.of()).start()) {
      JsonObject found = restarted.call("POST", "/api/v1/_search", new JsonObject().put("from", "items")
          .put("limit", 0));
      assertThat(found.getLong("total")).isEqualTo(2_000);
    }
  }

  private static boolean refusesConnections(int port) {
    try (Socket probe = new Socket("127.0.0.1", port)) {
      return false;
    } catch (ConnectException refused) {
      return true;
    } catch (IOException other) {
      return false;
    }
  }

  /** The byte offset where line {@code n} (0-based) starts. */
  private static int indexOfLine(byte[] ndjson, int n) {
    int line = 0;
    for (int i = 0; i < ndjson.length; i++) {
      if (ndjson[i] == '\n' && ++line == n) {
        return i + 1;
      }
    }
    throw new IllegalArgumentException("fewer than " + n + " lines");
  }

  private static void chunk(OutputStream out, byte[] data, int offset, int length) throws IOException {
    out.write((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(data, offset, length);
    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
  }

  /** One HTTP/1.1 response with a content-length body (the server's JSON answers have one). */
  private static String readResponse(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed after: " + head);
      }
      head.append((char) b);
    }
    int length = 0;
    for (String line : head.toString().split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }
}
