package io.sluice.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import io.sluice.config.SluiceConfig;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.JksOptions;
import io.vertx.core.net.KeyStoreOptionsBase;
import io.vertx.core.net.PfxOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.Set;

/**
 * A Sluice node's cluster settings as Vert.x and Hazelcast take them: the cluster manager, configured in code
 * (no {@code hazelcast.xml} or {@code cluster.xml} is looked up), and the clustered event bus's options.
 */
public final class ClusterNode {
  private ClusterNode() {
  }

  /** Hazelcast, joined over TCP-IP to {@code members} only, bound to {@code cluster.host}. */
  public static HazelcastClusterManager clusterManager(SluiceConfig.Cluster cluster) {
    return new HazelcastClusterManager(hazelcastConfig(cluster));
  }

  static Config hazelcastConfig(SluiceConfig.Cluster cluster) {
    Config config = new Config();
    config.setClusterName(cluster.name());
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    // Vert.x leaves the cluster itself when it closes (SIGTERM): Hazelcast's own hook would race it.
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    // Only the interface named, never every interface of the machine.
    config.setProperty("hazelcast.socket.bind.any", "false");

    NetworkConfig network = config.getNetworkConfig();
    // a node restarted at once (after a kill) binds its port again despite connections still in TIME_WAIT
    network.setPort(cluster.port()).setPortAutoIncrement(false).setReuseAddress(true);
    network.getInterfaces().setEnabled(true).addInterface(cluster.host());
    network.setPublicAddress(cluster.host() + ":" + cluster.port());
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(cluster.members());

    // What vertx-hazelcast's default-cluster.xml sets: the event bus's subscriptions and node data.
    config.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    config.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    config.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    return config;
  }

  /** The clustered event bus on {@code cluster.bus.host:port}; with TLS, both ends must show a trusted certificate. */
  public static EventBusOptions eventBus(SluiceConfig.Cluster cluster) {
    EventBusOptions options = new EventBusOptions()
        .setHost(cluster.busHost())
        .setPort(cluster.busPort())
        .setClusterPublicHost(cluster.busHost());
    SluiceConfig.BusTls tls = cluster.busTls();
    if (tls != null) {
      options.setSsl(true)
          .setClientAuth(ClientAuth.REQUIRED)
          .setKeyCertOptions(store(tls.keyStoreType(), tls.keyStore().toString(), tls.keyStorePassword()))
          .setTrustOptions(store(tls.trustStoreType(), tls.trustStore().toString(), tls.trustStorePassword()))
          .setEnabledSecureTransportProtocols(Set.of("TLSv1.2", "TLSv1.3"));
    }
    return options;
  }

  /**
   * The typed options, not the generic {@code KeyStoreOptions}: the clustered event bus copies its options through
   * JSON, which keeps only these (a generic store is lost, and the bus then fails to start without a key).
   */
  private static KeyStoreOptionsBase store(String type, String path, String password) {
    KeyStoreOptionsBase store = "JKS".equals(type) ? new JksOptions() : new PfxOptions();
    return store.setPath(path).setPassword(password);
  }
}
