package io.sluice.cli;

import io.sluice.MainVerticle;
import io.sluice.config.SluiceConfig;
import io.sluice.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code sluice serve} (also the default): starts the server with the configuration of conf/, env, -D and flags. */
@Command(name = "serve", header = "Start the server (the default command).", sortOptions = false,
    description = {"Starts the server and keeps running until stopped: Ctrl-C or SIGTERM lets requests in flight"
        + " finish, stops imports so that they resume at the next start, and commits the tables.",
        "Settings, later sources winning: built-in defaults; the config file (--config, else $SLUICE_CONFIG, else"
            + " conf/sluice.json if present); SLUICE_* environment variables; -Dsluice.<key>=… system properties;"
            + " then --port and --data-dir. Every key is listed in the README.",
        "Example: sluice serve --port 9090 --data-dir /var/lib/sluice"})
final class ServeCommand implements Callable<Integer> {
  @ParentCommand
  SluiceCli root;

  @Spec
  CommandSpec spec;

  @Option(names = "--port", paramLabel = "N",
      description = "HTTP port (http.port; 0: any free port, printed in the log). Default: 8080.")
  Integer port;

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "Where tables, schema, import jobs and keys live (data.dir; created if missing)."
          + " Default: ./data.")
  Path dataDir;

  @Option(names = "--cluster", description = "Run as a node of a cluster (cluster.enabled; cluster.* settings):"
      + " a clustered event bus with the other members, every node serving the whole API on one PostgreSQL"
      + " (needs store.type=postgres). See docs/cluster.md.")
  boolean cluster;

  @Option(names = "--config", paramLabel = "FILE",
      description = "JSON config file of {\"key\": value} settings, read instead of $SLUICE_CONFIG or"
          + " conf/sluice.json.")
  Path configFile;

  @Override
  public Integer call() {
    return serve(root, config(root.env));
  }

  /** The settings these flags give on top of env, -D and the config file; a bad one → ParameterException. */
  SluiceConfig config(Map<String, String> env) {
    if (port != null && (port < 0 || port > 65_535)) {
      throw new ParameterException(spec.commandLine(), "--port must be from 0 to 65535, got " + port);
    }
    Map<String, Object> overrides = new LinkedHashMap<>();
    if (port != null) {
      overrides.put(SluiceConfig.HTTP_PORT.name(), port);
    }
    if (dataDir != null) {
      overrides.put(SluiceConfig.DATA_DIR.name(), dataDir.toString());
    }
    if (cluster) {
      overrides.put(SluiceConfig.CLUSTER_ENABLED.name(), "true");
    }
    try {
      return SluiceConfig.load(env, configFile, overrides);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /** The server with the configuration of conf/, env and -D alone (no flags): the root command without one. */
  static int serve(SluiceCli root, PrintWriter err) {
    SluiceConfig config;
    try {
      config = SluiceConfig.load(root.env, Map.of());
    } catch (IllegalArgumentException e) {
      err.println("sluice: " + e.getMessage());
      err.flush();
      return SluiceCli.USAGE;
    }
    return serve(root, config);
  }

  /** Starts the server and returns at once (its threads keep the JVM alive); one that fails to start exits 1. */
  private static int serve(SluiceCli root, SluiceConfig config) {
    // No logger may exist before this line: logback reads its configuration once, with the first logger.
    Main.selectLogFormat(config.logFormat());
    Logger log = LoggerFactory.getLogger(ServeCommand.class);
    root.markServing();
    Metrics metrics = config.metricsEnabled() ? Metrics.prometheus() : Metrics.noop();
    Future<Vertx> created;
    if (config.cluster() != null) {
      log.info("joining cluster '{}' as {}:{} (members {}), event bus on {}:{}{}", config.cluster().name(),
          config.cluster().host(), config.cluster().port(), config.cluster().members(), config.cluster().busHost(),
          config.cluster().busPort(), config.cluster().busTls() == null ? "" : " with TLS");
      created = Main.createClusteredVertx(metrics, config.cluster());
    } else {
      created = Future.succeededFuture(Main.createVertx(metrics));
    }
    created.onFailure(failure -> {
      log.error("Sluice failed to join the cluster", failure);
      System.exit(SluiceCli.FAILED);
    }).onSuccess(vertx -> deploy(vertx, config, metrics, log));
    return SluiceCli.OK;
  }

  private static void deploy(Vertx vertx, SluiceConfig config, Metrics metrics, Logger log) {
    MainVerticle main = new MainVerticle(config, metrics);
    vertx.deployVerticle(main).onComplete(ar -> {
      if (ar.failed()) {
        log.error("Sluice failed to start", ar.cause());
        vertx.close().onComplete(v -> System.exit(SluiceCli.FAILED));
      } else {
        // SIGTERM (or Ctrl-C): drain requests, then stop imports and commit the tables.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          main.drain().eventually(vertx::close).toCompletionStage().toCompletableFuture().join();
          log.info("stopped");
        }, "sluice-shutdown"));
      }
    });
  }
}
