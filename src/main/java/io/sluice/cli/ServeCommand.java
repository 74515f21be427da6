package io.sluice.cli;

import io.sluice.MainVerticle;
import io.sluice.config.SluiceConfig;
import io.sluice.metrics.Metrics;
import io.vertx.core.Vertx;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code sluice serve} (also the default): starts the server with the configuration of conf/, env and -D. */
@Command(name = "serve", header = "Start the server (the default command).",
    description = {"Starts the server (the default command): configuration from conf/sluice.json (or the file"
        + " named by SLUICE_CONFIG), SLUICE_* environment variables and -Dsluice.<key>=… (see README)."})
final class ServeCommand implements Callable<Integer> {
  @ParentCommand
  SluiceCli root;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return serve(root, spec.commandLine().getErr());
  }

  /** Starts the server and returns at once (its threads keep the JVM alive); a bad configuration → 2. */
  static int serve(SluiceCli root, PrintWriter err) {
    SluiceConfig config;
    try {
      config = SluiceConfig.load(System.getenv(), java.util.Map.of());
    } catch (IllegalArgumentException e) {
      err.println("sluice: " + e.getMessage());
      err.flush();
      return SluiceCli.USAGE;
    }
    // No logger may exist before this line: logback reads its configuration once, with the first logger.
    Main.selectLogFormat(config.logFormat());
    Logger log = LoggerFactory.getLogger(ServeCommand.class);
    root.markServing();
    Metrics metrics = config.metricsEnabled() ? Metrics.prometheus() : Metrics.noop();
    Vertx vertx = Main.createVertx(metrics);
    MainVerticle main = new MainVerticle(config, metrics);
    vertx.deployVerticle(main).onComplete(ar -> {
      if (ar.failed()) {
        log.error("Sluice failed to start", ar.cause());
        vertx.close().onComplete(v -> System.exit(1));
      } else {
        // SIGTERM (or Ctrl-C): drain requests, then stop imports and commit the tables.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          main.drain().eventually(vertx::close).toCompletionStage().toCompletableFuture().join();
          log.info("stopped");
        }, "sluice-shutdown"));
      }
    });
    return SluiceCli.OK;
  }
}
