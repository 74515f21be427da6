package io.sluice.cli;

import io.sluice.MainVerticle;
import io.sluice.config.SluiceConfig;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java -jar sluice.jar}: starts the server with the configuration of conf/, env and -D. */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {
  }

  public static void main(String[] args) {
    SluiceConfig config;
    try {
      config = SluiceConfig.load(System.getenv(), java.util.Map.of());
    } catch (IllegalArgumentException e) {
      System.err.println("sluice: " + e.getMessage());
      System.exit(2);
      return;
    }
    Vertx vertx = Vertx.vertx();
    vertx.deployVerticle(new MainVerticle(config)).onComplete(ar -> {
      if (ar.failed()) {
        LOG.error("Sluice failed to start", ar.cause());
        vertx.close().onComplete(v -> System.exit(1));
      } else {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> vertx.close().toCompletionStage().toCompletableFuture().join()));
      }
    });
  }
}
