package io.sluice;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Sluice server in its own JVM (the test classpath, {@code io.sluice.cli.Main}), so a test can kill it with
 * SIGKILL ({@code destroyForcibly}) or give it a small heap, and a blocking JSON client for it.
 */
public final class ForkedServer implements AutoCloseable {
  private final Path dataDir;
  private final Map<String, String> env;
  private final List<String> jvmArgs;
  private final int port;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private Process process;
  private List<String> args = List.of();

  public ForkedServer(Path dataDir, List<String> jvmArgs, Map<String, String> env) {
    this.dataDir = dataDir;
    this.jvmArgs = jvmArgs;
    this.env = env;
    this.port = TestPorts.free();
  }

  /** Command-line arguments of {@code Main} (default: none, so the server starts as without a command). */
  public ForkedServer withArgs(String... args) {
    this.args = List.of(args);
    return this;
  }

  public ForkedServer start() {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    // the server draws nothing from it today; passed so that any randomness it gains replays with the test's seed
    command.add(TestSeeds.jvmArg());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("io.sluice.cli.Main");
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolveSibling(dataDir.getFileName() + ".log").toFile()));
    if (TestPostgres.chosen() && !env.containsKey("SLUICE_STORE_TYPE")) {
      TestPostgres.storeSettings(dataDir.toAbsolutePath().toString()).forEach((key, value) ->
          builder.environment().put("SLUICE_" + key.toUpperCase(java.util.Locale.ROOT).replace('.', '_'), value));
    }
    builder.environment().putAll(env);
    builder.environment().put("SLUICE_DATA_DIR", dataDir.toString());
    builder.environment().put("SLUICE_HTTP_PORT", Integer.toString(port));
    builder.environment().put("SLUICE_API_KEY_RW", TestServer.RW_KEY);
    builder.environment().put("SLUICE_API_KEY_RO", TestServer.RO_KEY);
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("forked server exited with " + process.exitValue() + "; the end of its log:\n"
            + logTail());
      }
      try {
        if (http.send(HttpRequest.newBuilder(uri("/health")).build(), HttpResponse.BodyHandlers.ofString())
            .statusCode() == 200) {
          return this;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      sleep(100);
    }
    throw new AssertionError("forked server did not become healthy");
  }

  /** SIGKILL: no shutdown hook, no flush, no commit. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /** SIGTERM: the server's shutdown hook runs (a graceful stop); returns at once. */
  public void terminate() {
    process.destroy();
  }

  /** The exit code once the process has ended, waiting at most {@code timeout}. */
  public int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
        throw new AssertionError("forked server still running after " + timeout);
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /** The last lines of the log, so a CI report that keeps no files still says why a node did not start. */
  private String logTail() {
    List<String> lines = log().lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  /** What the server has written to its standard output and error so far (its log). */
  public String log() {
    try {
      return java.nio.file.Files.readString(dataDir.resolveSibling(dataDir.getFileName() + ".log"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends a signal by name ({@code STOP}, {@code CONT}) with kill(1): Java's Process sends only TERM and KILL. */
  public void signal(String name) {
    try {
      int code = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor();
      if (code != 0) {
        throw new AssertionError("kill -" + name + " exited with " + code);
      }
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /** The process runs (started and not killed or exited). */
  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  public int port() {
    return port;
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      kill();
    }
  }

  public URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  public JsonObject call(String method, String path, Object body) {
    return call(method, uri(path), body, true);
  }

  public HttpResponse<String> send(String method, URI uri, HttpRequest.BodyPublisher body, boolean withKey) {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).method(method, body);
    if (withKey) {
      request.header("x-api-key", TestServer.RW_KEY).header("content-type", "application/json");
    }
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(method + " " + uri + " failed: " + e, e);
    }
  }

  private JsonObject call(String method, URI uri, Object body, boolean withKey) {
    HttpResponse<String> response = send(method, uri, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body.toString()), withKey);
    if (response.statusCode() != 200) {
      throw new AssertionError(method + " " + uri + " -> " + response.statusCode() + " " + response.body());
    }
    return new JsonObject(response.body());
  }

  public static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

}
