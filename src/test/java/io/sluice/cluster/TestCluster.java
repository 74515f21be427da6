package io.sluice.cluster;

import io.sluice.ForkedServer;
import io.sluice.TestPorts;
import io.sluice.TestPostgres;
import io.vertx.pgclient.PgConnectOptions;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;

/** Forked cluster nodes on 127.0.0.1 sharing one database of the test JVM's embedded PostgreSQL. */
final class TestCluster {
  private TestCluster() {
  }

  /**
   * Each node's environment: the shared database (under {@code dir}), free Hazelcast and event-bus ports, the
   * member list, the same upload secret on every node, and {@code extra}.
   */
  static List<Map<String, String>> environments(Path dir, int nodes, Map<String, String> extra) {
    Map<String, String> store = TestPostgres.storeSettings(dir.resolve("shared").toString());
    int[] hazelcast = new int[nodes];
    int[] bus = new int[nodes];
    StringBuilder members = new StringBuilder();
    for (int i = 0; i < nodes; i++) {
      hazelcast[i] = TestPorts.free();
      bus[i] = TestPorts.free();
      members.append(i == 0 ? "" : ",").append("127.0.0.1:").append(hazelcast[i]);
    }
    List<Map<String, String>> envs = new ArrayList<>();
    for (int i = 0; i < nodes; i++) {
      Map<String, String> env = new LinkedHashMap<>();
      store.forEach((key, value) -> env.put("SLUICE_" + key.toUpperCase(Locale.ROOT).replace('.', '_'), value));
      env.put("SLUICE_CLUSTER_PORT", Integer.toString(hazelcast[i]));
      env.put("SLUICE_CLUSTER_BUS_PORT", Integer.toString(bus[i]));
      env.put("SLUICE_CLUSTER_MEMBERS", members.toString());
      env.putAll(extra);
      env.put("SLUICE_UPLOAD_SECRET", "the-same-upload-secret-on-every-node");
      env.put("SLUICE_HTTP_INSTANCES", "1");
      env.put("SLUICE_STORE_INSTANCES", "2");
      envs.add(env);
    }
    return envs;
  }

  /**
   * A transaction of the test's own holding an ACCESS EXCLUSIVE lock on a Sluice table's storage in the shared
   * database (under {@code dir}), so a search of it waits until {@link #close}: a job kept running on purpose.
   */
  static final class HeldTable implements AutoCloseable {
    private final DataSource database;
    private final Connection holder;

    HeldTable(Path dir, String table) throws SQLException {
      PgConnectOptions db = TestPostgres.databaseFor(dir.resolve("shared").toString());
      database = TestPostgres.server().getDatabase(db.getUser(), db.getDatabase());
      holder = database.getConnection();
      holder.setAutoCommit(false);
      try (Statement s = holder.createStatement();
          ResultSet id = s.executeQuery("SELECT 't_' || id FROM sluice.catalog WHERE name = '" + table + "'")) {
        if (!id.next()) {
          throw new AssertionError("no table " + table + " in the catalog");
        }
        String storage = id.getString(1);
        s.execute("LOCK TABLE sluice.\"" + storage + "\" IN ACCESS EXCLUSIVE MODE");
      }
    }

    /** Lock requests waiting in the shared database now. */
    int waiting() throws SQLException {
      return TestPostgres.waitingLocks(database);
    }

    @Override
    public void close() throws SQLException {
      holder.rollback();
      holder.close();
    }
  }

  /**
   * The first node first: members started together may each find no master and form clusters of their own
   * (Hazelcast merges them only minutes later); the others then join it together.
   */
  static void start(List<ForkedServer> nodes) {
    nodes.get(0).start();
    CompletableFuture.allOf(nodes.stream().skip(1).map(n -> CompletableFuture.runAsync(n::start))
        .toArray(CompletableFuture[]::new)).join();
  }
}
