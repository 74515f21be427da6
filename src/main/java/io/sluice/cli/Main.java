package io.sluice.cli;

import io.sluice.cluster.ClusterNode;
import io.sluice.config.SluiceConfig;
import io.sluice.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;

/**
 * {@code java -jar sluice.jar [command]}: without a command starts the server with the configuration of conf/, env
 * and -D (as {@code serve}); the other commands ({@code import}, {@code tables}, {@code search}, …) are clients
 * of a running Sluice or Aito. See {@link SluiceCli}.
 */
public final class Main {
  /** Logback reads this system property when its first logger is created. */
  public static final String LOGBACK_CONFIG = "logback.configurationFile";
  /** The packaged JSON configuration ({@code conf/logback-json.xml} is a copy to edit). */
  public static final String JSON_LOGBACK_CONFIG = "logback-json.xml";

  private Main() {
  }

  public static void main(String[] args) {
    SluiceCli cli = new SluiceCli(System.getenv(), System.console() != null);
    int code = SluiceCli.commandLine(cli).execute(args);
    if (!cli.serving()) {
      System.exit(code);
    }
  }

  /**
   * {@code log.format=json} selects the packaged {@value #JSON_LOGBACK_CONFIG} (logback's JSON encoder); text
   * keeps logback's default, the packaged {@code logback.xml}. An explicit {@code -Dlogback.configurationFile}
   * always wins.
   */
  static void selectLogFormat(String format) {
    if (System.getProperty(LOGBACK_CONFIG) == null && "json".equals(format)) {
      System.setProperty(LOGBACK_CONFIG, JSON_LOGBACK_CONFIG);
    }
  }

  /**
   * A Vert.x whose HTTP, event-bus, pool and JVM meters go to the registry of {@code metrics}, next to Sluice's
   * own; a plain Vert.x when metrics are off.
   */
  public static Vertx createVertx(Metrics metrics) {
    if (metrics.prometheusRegistry() == null) {
      return Vertx.vertx();
    }
    return builder(metrics, new VertxOptions()).build();
  }

  /**
   * A Vert.x on a clustered event bus ({@link ClusterNode}): joins the cluster of {@code cluster.members}, with the
   * same meters as {@link #createVertx(Metrics)}; the cluster's size goes to {@code metrics} (and {@code /health}).
   */
  public static Future<Vertx> createClusteredVertx(Metrics metrics, SluiceConfig.Cluster cluster) {
    HazelcastClusterManager manager = ClusterNode.clusterManager(cluster);
    VertxOptions options = new VertxOptions().setEventBusOptions(ClusterNode.eventBus(cluster));
    VertxBuilder builder = metrics.prometheusRegistry() == null ? Vertx.builder().with(options)
        : builder(metrics, options);
    return builder.withClusterManager(manager).buildClustered()
        .onSuccess(vertx -> metrics.clusterSource(() -> manager.isActive() ? manager.getNodes().size() : 0));
  }

  private static VertxBuilder builder(Metrics metrics, VertxOptions options) {
    return Vertx.builder()
        .with(options.setMetricsOptions(new MicrometerMetricsOptions()
            .setEnabled(true)
            .setJvmMetricsEnabled(true)
            // Latency by route template (/api/v1/data/:table/batch), never by raw path: bounded label values.
            .addLabels(io.vertx.micrometer.Label.HTTP_ROUTE)
            // Histogram buckets for response times only (Metrics.prometheus: few fixed buckets), so p99 can be read
            // with histogram_quantile and aggregated across nodes.
            .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))))
        .withMetrics(new MicrometerMetricsFactory(metrics.prometheusRegistry()));
  }
}
