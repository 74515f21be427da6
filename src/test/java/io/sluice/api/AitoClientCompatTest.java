package io.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ForkedServer;
import io.sluice.TestServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replays the HTTP calls of Aito's Python client (src/test/python/aito_compat.py: same requests, same checks
 * of the responses) against a real server. Needs python3 (standard library only).
 */
class AitoClientCompatTest {
  @TempDir
  Path tmp;

  @Test
  void aitoPythonClientCallsAllSucceed() throws IOException, InterruptedException {
    Assumptions.assumeTrue(python3Available(), "python3 is not installed");
    try (ForkedServer server = new ForkedServer(tmp.resolve("data"), List.of(), Map.of()).start()) {
      ProcessBuilder builder = new ProcessBuilder("python3", "src/test/python/aito_compat.py",
          server.uri("").toString()).redirectErrorStream(true);
      builder.environment().putAll(Map.of("SLUICE_RW_KEY", TestServer.RW_KEY, "SLUICE_RO_KEY", TestServer.RO_KEY));
      Process process = builder.start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(process.waitFor(5, TimeUnit.MINUTES)).isTrue();
      System.out.println(output);
      assertThat(process.exitValue()).as(output).isZero();
    }
  }

  private static boolean python3Available() {
    try {
      return new ProcessBuilder("python3", "--version").start().waitFor() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }
}
