package io.sluice.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.TestPorts;
import io.sluice.config.SluiceConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster settings as Vert.x and Hazelcast take them: two clustered Vert.x instances in this JVM, made only
 * from {@link SluiceConfig} through {@link ClusterNode}, join over TCP-IP on 127.0.0.1 and exchange a message
 * over the event bus with mutual TLS (key and trust stores made here with keytool, passwords from a file and an
 * environment variable).
 */
class ClusterNodeTest {
  private final List<Vertx> started = new ArrayList<>();

  @AfterEach
  void stop() {
    started.forEach(vertx -> vertx.close().toCompletionStage().toCompletableFuture().join());
  }

  @Test
  void twoNodesJoinAndTalkOverTheEventBusWithMutualTls(@TempDir Path dir) throws Exception {
    Path keyStore = dir.resolve("node.p12");
    Path cert = dir.resolve("node.crt");
    Path trustStore = dir.resolve("trust.p12");
    keytool("-genkeypair", "-alias", "node", "-keyalg", "EC", "-dname", "CN=localhost", "-ext",
        "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-keystore", keyStore.toString(), "-storetype", "PKCS12",
        "-storepass", "key-pass");
    keytool("-exportcert", "-alias", "node", "-keystore", keyStore.toString(), "-storepass", "key-pass", "-file",
        cert.toString());
    keytool("-importcert", "-noprompt", "-alias", "cluster", "-file", cert.toString(), "-keystore",
        trustStore.toString(), "-storetype", "PKCS12", "-storepass", "trust-pass");
    Path keyPassword = Files.writeString(dir.resolve("key-password"), "key-pass\n");

    int[] hazelcast = {TestPorts.free(), TestPorts.free()};
    List<SluiceConfig.Cluster> nodes = new ArrayList<>();
    for (int port : hazelcast) {
      // the first lists only itself (it does not wait to reach a member not started yet), the second both
      String members = "127.0.0.1:" + hazelcast[0] + (nodes.isEmpty() ? "" : ",127.0.0.1:" + hazelcast[1]);
      nodes.add(SluiceConfig.load(Map.of("TRUST_PW", "trust-pass"), Map.ofEntries(
          Map.entry("store.type", "postgres"), Map.entry("store.postgres.host", "unused"),
          Map.entry("cluster.enabled", "true"), Map.entry("cluster.name", "tls-test"),
          Map.entry("cluster.port", port), Map.entry("cluster.members", members),
          Map.entry("cluster.bus.port", TestPorts.free()),
          Map.entry("cluster.bus.tls.keystore", keyStore.toString()),
          Map.entry("cluster.bus.tls.keystore.password.file", keyPassword.toString()),
          Map.entry("cluster.bus.tls.truststore", trustStore.toString()),
          Map.entry("cluster.bus.tls.truststore.password.env", "TRUST_PW"))).cluster());
    }

    assertThat(ClusterNode.eventBus(nodes.get(0)).isSsl()).isTrue();
    assertThat(ClusterNode.eventBus(nodes.get(0)).getClientAuth()).isEqualTo(io.vertx.core.http.ClientAuth.REQUIRED);
    Vertx first = join(nodes.get(0));
    Vertx second = join(nodes.get(1));
    first.eventBus().<String>consumer("cluster-node-test", message -> message.reply("pong from first"))
        .completion().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

    // the subscription reaches the second node's view of the cluster shortly after
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
      Future<String> reply = second.eventBus().<String>request("cluster-node-test", "ping",
          new DeliveryOptions().setSendTimeout(2_000)).map(message -> message.body());
      try {
        return "pong from first".equals(reply.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS));
      } catch (Exception notYet) {
        return false;
      }
    });
    assertThat(second.isClustered()).isTrue();
  }

  private Vertx join(SluiceConfig.Cluster cluster) throws Exception {
    HazelcastClusterManager manager = ClusterNode.clusterManager(cluster);
    manager.getConfig().setProperty("hazelcast.wait.seconds.before.join", "0"); // quick, for the test only
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions().setEventBusOptions(ClusterNode.eventBus(cluster)))
        .withClusterManager(manager)
        .buildClustered().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    started.add(vertx);
    return vertx;
  }

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor()).as(String.join(" ", command) + "\n" + output).isZero();
  }
}
