package io.sluice;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fresh {@link TestServer} on a fresh data directory for every test, so that the scenario tests share one
 * lifecycle instead of each repeating it. The server starts before a subclass's {@code @BeforeEach} (which may
 * create tables or load rows through it) and stops after its {@code @AfterEach}; a test may restart or replace
 * {@link #server}, and whatever it holds at the end is stopped. Tests whose lifecycle differs (a server per
 * class, several servers, custom directories, work before the server starts) keep their own.
 */
@ExtendWith(VertxExtension.class)
public abstract class ServerTest {
  @TempDir
  protected Path dataDir;
  protected TestServer server;

  /** Settings on top of {@link TestServer}'s defaults for every test of the class; none by default. */
  protected Map<String, Object> serverConfig() {
    return Map.of();
  }

  @BeforeEach
  protected final void startServer(Vertx vertx) {
    server = new TestServer(vertx, dataDir, serverConfig()).start();
  }

  @AfterEach
  protected final void stopServer() {
    server.stop();
  }
}
