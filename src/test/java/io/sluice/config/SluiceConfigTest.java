package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Settings: defaults, precedence (environment below explicit overrides), parsing and the errors that name the
 * key. Fast, for mutation testing; the server tests use the parsed values end to end.
 */
class SluiceConfigTest {
  private static SluiceConfig load(Map<String, String> env, Map<String, ?> overrides) {
    return SluiceConfig.load(env, overrides);
  }

  @Test
  void defaultsAreTheDocumentedOnes() {
    SluiceConfig config = load(Map.of(), Map.of());
    assertThat(config.httpHost()).isEqualTo("127.0.0.1");
    assertThat(config.httpPort()).isEqualTo(8080);
    assertThat(config.maxBatchBytes()).isEqualTo(10L * 1024 * 1024);
    assertThat(config.maxResultLimit()).isEqualTo(10_000);
    assertThat(config.uploadExpirySeconds()).isEqualTo(900);
    assertThat(config.uploadMaxBytes()).isEqualTo(10L * 1024 * 1024 * 1024);
    assertThat(config.importMaxDecompressedBytes()).isEqualTo(1024L * 1024 * 1024 * 1024);
    assertThat(config.importMaxRatio()).isEqualTo(200);
    assertThat(config.importMaxLineBytes()).isEqualTo(1024 * 1024);
    assertThat(config.importBatchRows()).isEqualTo(10_000);
    assertThat(config.importBatchBytes()).isEqualTo(384 * 1024);
    assertThat(config.importWindow()).isEqualTo(8);
    assertThat(config.importCommitIntervalMs()).isEqualTo(1000);
    assertThat(config.importMaxJobs()).isEqualTo(2);
    assertThat(config.streamMaxBytes()).isEqualTo(10L * 1024 * 1024 * 1024);
    assertThat(config.importKeepSeconds()).isEqualTo(86_400);
    assertThat(config.maxConnections()).isEqualTo(1000);
    assertThat(config.requestTimeoutSeconds()).isEqualTo(300);
    assertThat(config.importMaxQueued()).isEqualTo(100);
    assertThat(config.metricsEnabled()).isTrue();
    assertThat(config.logFormat()).isEqualTo("text");
    assertThat(config.storeCommitIntervalMs()).isEqualTo(5000);
    assertThat(config.storeWalMaxBytes()).isEqualTo(64L * 1024 * 1024);
    assertThat(config.apiKeyRw()).isNull();
    assertThat(config.publicUrl()).isNull();
    int cores = Runtime.getRuntime().availableProcessors();
    assertThat(config.httpInstances()).as("0: one per core").isEqualTo(cores);
    assertThat(config.storeInstances()).as("0: one per core, at least 2").isEqualTo(Math.max(2, cores));
    assertThat(config.maxInflightBytes()).as("0: a tenth of the heap")
        .isEqualTo(Runtime.getRuntime().maxMemory() / 10);
    assertThat(SluiceConfig.defaults()).isEqualTo(config);
  }

  @Test
  void overridesBeatTheEnvironmentWhichBeatsDefaults() {
    Map<String, String> env = Map.of("SLUICE_HTTP_PORT", "9000", "SLUICE_IMPORT_WINDOW", "5");
    SluiceConfig config = load(env, Map.of("import.window", 3));
    assertThat(config.httpPort()).as("from the environment").isEqualTo(9000);
    assertThat(config.importWindow()).as("the override wins").isEqualTo(3);
    assertThat(load(Map.of(), Map.of("import.window", " 7 ")).importWindow()).as("trimmed").isEqualTo(7);
  }

  @Test
  void explicitInstanceCountsAreKept() {
    SluiceConfig config = load(Map.of(), Map.of("http.instances", 1, "store.instances", 1,
        "max.inflight.bytes", 12345));
    assertThat(config.httpInstances()).isEqualTo(1);
    assertThat(config.storeInstances()).as("an explicit 1 is kept").isEqualTo(1);
    assertThat(config.maxInflightBytes()).isEqualTo(12345);
  }

  @Test
  void valuesAreParsed() {
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("metrics.enabled", "FALSE");
    overrides.put("log.format", "JSON");
    overrides.put("public.url", "https://sluice.example/");
    overrides.put("data.dir", "/tmp/sluice-data");
    overrides.put("api.key.rw", "k");
    overrides.put("store.commit.interval.ms", 1);
    SluiceConfig config = load(Map.of(), overrides);
    assertThat(config.metricsEnabled()).isFalse();
    assertThat(config.logFormat()).isEqualTo("json");
    assertThat(config.publicUrl()).as("trailing slash dropped").isEqualTo("https://sluice.example");
    assertThat(config.publicBaseUrl(1)).isEqualTo("https://sluice.example");
    assertThat(config.dataDir()).isEqualTo(Path.of("/tmp/sluice-data"));
    assertThat(config.apiKeyRw()).isEqualTo("k");
    assertThat(config.storeCommitIntervalMs()).as("1 is positive").isEqualTo(1);
    assertThat(load(Map.of(), Map.of("metrics.enabled", "true")).metricsEnabled()).isTrue();
    assertThat(load(Map.of(), Map.of("public.url", "http://h")).publicUrl()).isEqualTo("http://h");
    assertThat(load(Map.of(), Map.of("http.host", "0.0.0.0")).publicBaseUrl(81)).isEqualTo("http://0.0.0.0:81");
    assertThat(load(Map.of(), Map.of("api.key.rw", " ")).apiKeyRw()).as("blank is unset").isNull();
  }

  @Test
  void badValuesAreRefusedNamingTheKey() {
    assertThatThrownBy(() -> load(Map.of(), Map.of("no.such.key", 1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown config key 'no.such.key'");
    assertThatThrownBy(() -> load(Map.of(), Map.of("http.port", "eighty")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'http.port'").hasMessageContaining("SLUICE_HTTP_PORT").hasMessageContaining("eighty");
    assertThatThrownBy(() -> load(Map.of(), Map.of("metrics.enabled", "yes")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("metrics.enabled");
    assertThatThrownBy(() -> load(Map.of(), Map.of("log.format", "xml")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("log.format");
    for (String key : new String[] {"store.commit.interval.ms", "store.wal.max.bytes"}) {
      assertThatThrownBy(() -> load(Map.of(), Map.of(key, 0))).as(key)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(key + " must be positive, got 0");
    }
    assertThatThrownBy(() -> load(Map.of(), Map.of("import.window", -1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'import.window'").hasMessageContaining("between 0 and 2147483647, got -1");
    assertThatThrownBy(() -> load(Map.of(), Map.of("http.port", 70000)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'http.port'").hasMessageContaining("between 0 and 65535, got 70000");
    assertThatThrownBy(() -> load(Map.of(), Map.of("max.inflight.bytes", -5)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max.inflight.bytes");
    assertThatThrownBy(() -> load(Map.of("SLUICE_CONFIG", "/no/such/sluice.json"), Map.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("/no/such/sluice.json");
  }

  @Test
  void theStoreIsLuceneUnlessPostgresIsChosenAndConfigured() {
    SluiceConfig defaults = load(Map.of(), Map.of());
    assertThat(defaults.storeType()).isEqualTo("lucene");
    assertThat(defaults.postgres()).as("not read unless chosen").isNull();

    SluiceConfig pg = load(Map.of("SLUICE_STORE_TYPE", "Postgres", "PG_PW", "pw-from-env"),
        Map.of("store.postgres.url", "postgresql://db.example:6543/sluicedb", "store.postgres.user", "app",
            "store.postgres.password.env", "PG_PW"));
    assertThat(pg.storeType()).isEqualTo("postgres");
    assertThat(pg.postgres()).isEqualTo(new SluiceConfig.Postgres("postgresql://db.example:6543/sluicedb", null, 0,
        null, "app", "pw-from-env", 8, pg.lanes().readThreads() + 1,
        Math.min(Runtime.getRuntime().availableProcessors(), 7), 256, "sluice", false));
    assertThat(pg.toString()).as("no secret in a logged config").doesNotContain("pw-from-env")
        .doesNotContain("db.example:6543");

    assertThat(pg.importWindow()).as("a single PostgreSQL node's default window").isEqualTo(3);
    assertThat(load(Map.of(), Map.of("store.type", "postgres", "store.postgres.host", "h", "import.window", 8))
        .importWindow()).as("a window set is kept").isEqualTo(8);
    assertThat(load(Map.of(), Map.of("store.type", "postgres", "store.postgres.host", "h", "cluster.enabled", true))
        .importWindow()).as("a cluster spreads its window over the nodes").isEqualTo(8);

    SluiceConfig parts = load(Map.of(), Map.of("store.type", "postgres", "store.postgres.host", "h",
        "store.postgres.port", "5433", "store.postgres.database", "d", "store.postgres.pool.size", "3",
        "store.postgres.read.pool.size", "1", "store.postgres.schema", "other", "store.postgres.index.columns",
        "true"));
    assertThat(parts.postgres()).isEqualTo(new SluiceConfig.Postgres(null, "h", 5433, "d", null, null, 3, 1,
        Math.min(Runtime.getRuntime().availableProcessors(), 2), 256, "other", true));
    assertThat(load(Map.of("SLUICE_STORE_POSTGRES_FLUSH_AFTER_KB", "0"), Map.of("store.type", "postgres",
        "store.postgres.host", "h")).postgres().flushAfterKb()).as("0: the server's").isZero();
    assertThatThrownBy(() -> load(Map.of(), Map.of("store.type", "postgres", "store.postgres.host", "h",
        "store.postgres.flush.after.kb", 4096))).hasMessageContaining("store.postgres.flush.after.kb")
        .hasMessageContaining("between 0 and 2048");
    assertThat(load(Map.of("SLUICE_STORE_POSTGRES_TABLE_CONNECTIONS", "5"), Map.of("store.type", "postgres",
        "store.postgres.host", "h")).postgres().tableConnections()).as("set").isEqualTo(5);
    assertThat(load(Map.of("SLUICE_STORE_POSTGRES_TABLE_CONNECTIONS", "5"), Map.of("store.type", "postgres",
        "store.postgres.host", "h", "store.postgres.pool.size", 4)).postgres().tableConnections())
        .as("one connection left for other tables").isEqualTo(3);
  }

  @Test
  void lanesAreSizedApartAndValidated() {
    int cores = Runtime.getRuntime().availableProcessors();
    SluiceConfig defaults = load(Map.of(), Map.of());
    assertThat(defaults.lanes()).as("both lanes one thread per core, at least 2; imports take single turns")
        .isEqualTo(new SluiceConfig.Lanes(Math.max(2, cores), Math.max(2, cores), 1, 10));

    SluiceConfig shared = load(Map.of(), Map.of("store.instances", 3));
    assertThat(shared.lanes()).as("store.instances sizes both unless they are set")
        .isEqualTo(new SluiceConfig.Lanes(3, 3, 1, 10));
    SluiceConfig apart = load(Map.of("SLUICE_STORE_WRITE_INSTANCES", "1"), Map.of("store.instances", 3,
        "store.read.instances", 5, "store.write.import.turns", 4, "store.background.nice", 0));
    assertThat(apart.lanes()).isEqualTo(new SluiceConfig.Lanes(5, 1, 4, 0));

    SluiceConfig pg = load(Map.of(), Map.of("store.type", "postgres", "store.postgres.host", "h",
        "store.read.instances", 3));
    assertThat(pg.postgres().readPoolSize()).as("0: a read connection per read thread, the spare one too")
        .isEqualTo(4);

    assertThatThrownBy(() -> load(Map.of(), Map.of("store.background.nice", 20)))
        .hasMessageContaining("'store.background.nice'").hasMessageContaining("between 0 and 19");
    assertThatThrownBy(() -> load(Map.of(), Map.of("store.write.import.turns", 0)))
        .hasMessageContaining("'store.write.import.turns'").hasMessageContaining("between 1 and 64");
    assertThatThrownBy(() -> load(Map.of(), Map.of("store.read.instances", -1)))
        .hasMessageContaining("'store.read.instances'").hasMessageContaining("between 0 and 1024");
    assertThatThrownBy(() -> load(Map.of(), Map.of("store.write.instances", 2000)))
        .hasMessageContaining("'store.write.instances'").hasMessageContaining("between 0 and 1024");
    assertThatThrownBy(() -> load(Map.of(), Map.of("store.type", "postgres", "store.postgres.host", "h",
        "store.postgres.read.pool.size", 5000))).hasMessageContaining("'store.postgres.read.pool.size'")
        .hasMessageContaining("between 0 and 1024");
  }

  @Test
  void thePostgresPasswordComesFromAFileAndBadSettingsNameTheirKey(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("pw"), "pw-from-file\n");
    Map<String, Object> base = Map.of("store.type", "postgres", "store.postgres.host", "localhost");
    Map<String, Object> withFile = new HashMap<>(base);
    withFile.put("store.postgres.password.file", file.toString());
    assertThat(load(Map.of(), withFile).postgres().password()).isEqualTo("pw-from-file");

    assertThatThrownBy(() -> load(Map.of(), Map.of("store.type", "mysql")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("store.type");
    assertThatThrownBy(() -> load(Map.of(), Map.of("store.type", "postgres")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("store.postgres.url")
        .hasMessageContaining("store.postgres.host");
    assertThatThrownBy(() -> load(Map.of(), Map.of("store.type", "postgres",
        "store.postgres.url", "mysql://u:hunter2@h/db")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("store.postgres.url")
        .hasMessageNotContaining("hunter2");
    Map<String, Object> missingEnv = new HashMap<>(base);
    missingEnv.put("store.postgres.password.env", "NO_SUCH_VAR");
    assertThatThrownBy(() -> load(Map.of(), missingEnv))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("store.postgres.password.env")
        .hasMessageContaining("NO_SUCH_VAR");
    Map<String, Object> both = new HashMap<>(withFile);
    both.put("store.postgres.password.env", "PG_PW");
    assertThatThrownBy(() -> load(Map.of("PG_PW", "x"), both))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not both");
    Map<String, Object> noFile = new HashMap<>(base);
    noFile.put("store.postgres.password.file", dir.resolve("missing").toString());
    assertThatThrownBy(() -> load(Map.of(), noFile))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("store.postgres.password.file");
    for (String key : new String[] {"store.postgres.pool.size", "store.postgres.port"}) {
      Map<String, Object> zero = new HashMap<>(base);
      zero.put(key, "0");
      assertThatThrownBy(() -> load(Map.of(), zero)).as(key)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(key);
    }
  }

  @Test
  void clusterModeIsOffByDefaultNeedsPostgresAndChecksItsSettings(@TempDir Path dir) throws Exception {
    assertThat(load(Map.of(), Map.of()).cluster()).isNull();
    assertThatThrownBy(() -> load(Map.of("SLUICE_CLUSTER_ENABLED", "true"), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cluster mode").hasMessageContaining("needs store.type=postgres")
        .hasMessageContaining("store.type is lucene");
    Map<String, Object> pg = new HashMap<>(Map.of("store.type", "postgres", "store.postgres.host", "h",
        "cluster.enabled", "true"));

    SluiceConfig.Cluster defaults = load(Map.of(), pg).cluster();
    assertThat(defaults.host()).as("loopback unless told").isEqualTo("127.0.0.1");
    assertThat(defaults.port()).isEqualTo(5701);
    assertThat(defaults.members()).as("alone until members are listed").containsExactly("127.0.0.1:5701");
    assertThat(defaults.busHost()).isEqualTo("127.0.0.1");
    assertThat(defaults.busPort()).isEqualTo(5711);
    assertThat(defaults.busTls()).isNull();
    assertThat(defaults.name()).isEqualTo("sluice");
    assertThat(defaults.leaseHeartbeatMs()).isEqualTo(5000);
    assertThat(defaults.leaseTimeoutMs()).isEqualTo(15000);

    Map<String, Object> leases = new HashMap<>(pg);
    leases.put("cluster.lease.heartbeat.ms", 200);
    leases.put("cluster.lease.timeout.ms", 1000);
    assertThat(load(Map.of(), leases).cluster().leaseTimeoutMs()).isEqualTo(1000);
    leases.put("cluster.lease.timeout.ms", 300);
    assertThatThrownBy(() -> load(Map.of(), leases)).hasMessageContaining("cluster.lease.timeout.ms")
        .hasMessageContaining("at least twice").hasMessageContaining("cluster.lease.heartbeat.ms");
    leases.put("cluster.lease.heartbeat.ms", 10);
    assertThatThrownBy(() -> load(Map.of(), leases)).hasMessageContaining("cluster.lease.heartbeat.ms");

    Map<String, Object> listed = new HashMap<>(pg);
    listed.put("cluster.members", " 10.0.0.1:5701, node-b ,10.0.0.3:6000");
    listed.put("cluster.host", "10.0.0.1");
    listed.put("cluster.bus.port", "0");
    SluiceConfig.Cluster cluster = load(Map.of(), listed).cluster();
    assertThat(cluster.members()).containsExactly("10.0.0.1:5701", "node-b:5701", "10.0.0.3:6000");
    assertThat(cluster.busHost()).as("cluster.host by default").isEqualTo("10.0.0.1");
    assertThat(cluster.busPort()).isZero();

    for (String bad : new String[] {"h:0", "h:70000", "h:x", ":5701", "a b:1"}) {
      Map<String, Object> wrong = new HashMap<>(pg);
      wrong.put("cluster.members", "ok:1," + bad);
      assertThatThrownBy(() -> load(Map.of(), wrong)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("cluster.members").hasMessageContaining("'" + bad + "'");
    }
    Map<String, Object> samePort = new HashMap<>(pg);
    samePort.put("cluster.bus.port", 5701);
    assertThatThrownBy(() -> load(Map.of(), samePort)).hasMessageContaining("cluster.bus.port");
    Map<String, Object> badPort = new HashMap<>(pg);
    badPort.put("cluster.port", 0);
    assertThatThrownBy(() -> load(Map.of(), badPort)).hasMessageContaining("cluster.port")
        .hasMessageContaining("between 1 and 65535");

    Path keyStore = Files.writeString(dir.resolve("node.p12"), "not read at start");
    Path trustStore = Files.writeString(dir.resolve("trust.jks"), "not read at start");
    Path password = Files.writeString(dir.resolve("pw"), "s3cret\n");
    Map<String, Object> halfTls = new HashMap<>(pg);
    halfTls.put("cluster.bus.tls.keystore", keyStore.toString());
    assertThatThrownBy(() -> load(Map.of(), halfTls)).hasMessageContaining("cluster.bus.tls.truststore");
    Map<String, Object> tls = new HashMap<>(halfTls);
    tls.put("cluster.bus.tls.truststore", trustStore.toString());
    assertThatThrownBy(() -> load(Map.of(), tls)).as("a key store needs its password")
        .hasMessageContaining("cluster.bus.tls.keystore.password.env");
    tls.put("cluster.bus.tls.keystore.password.file", password.toString());
    tls.put("cluster.bus.tls.truststore.password.env", "TRUST_PW");
    SluiceConfig.BusTls busTls = load(Map.of("TRUST_PW", "trust-pw"), tls).cluster().busTls();
    assertThat(busTls.keyStoreType()).isEqualTo("PKCS12");
    assertThat(busTls.trustStoreType()).isEqualTo("JKS");
    assertThat(busTls.keyStorePassword()).isEqualTo("s3cret");
    assertThat(busTls.trustStorePassword()).isEqualTo("trust-pw");
    assertThat(busTls.toString()).doesNotContain("s3cret").doesNotContain("trust-pw");
    Map<String, Object> pem = new HashMap<>(tls);
    pem.put("cluster.bus.tls.keystore", Files.writeString(dir.resolve("node.pem"), "x").toString());
    assertThatThrownBy(() -> load(Map.of("TRUST_PW", "p"), pem)).hasMessageContaining("PKCS12 (.p12, .pfx) or JKS");
  }

  @Test
  void everyKeyHasItsEnvironmentVariableAndSystemProperty() {
    int settings = 0;
    for (var component : SluiceConfig.class.getRecordComponents()) {
      // A group of settings (TLS's certificate and key, store.postgres.*) is one component with a key per part.
      settings += component.getType().isRecord() ? component.getType().getRecordComponents().length : 1;
    }
    settings += 1; // the PostgreSQL password comes from one of two keys (an environment variable or a file)
    settings += 1; // cluster.enabled: the cluster component is null when it is off
    // the event bus's TLS is one component: a key store and a trust store, each with a path and a password from
    // one of two keys (6 keys)
    settings += 5;
    assertThat(SluiceConfig.KEYS).as("a key for every setting").hasSize(settings).doesNotHaveDuplicates();
    for (SluiceConfig.Key key : SluiceConfig.KEYS) {
      assertThat(key.env()).isEqualTo("SLUICE_" + key.name().toUpperCase().replace('.', '_'));
      assertThat(key.sysProp()).isEqualTo("sluice." + key.name());
    }
  }

  @Test
  void theConfigFileIsReadBelowTheEnvironmentAndSystemProperties(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("sluice.json"),
        "{\"import.window\": 4, \"import.max.jobs\": 5, \"max.connections\": 6}");
    Map<String, String> env = Map.of("SLUICE_CONFIG", file.toString(), "SLUICE_IMPORT_MAX_JOBS", "7");
    SluiceConfig config = load(env, Map.of());
    assertThat(config.importWindow()).as("from the file").isEqualTo(4);
    assertThat(config.importMaxJobs()).as("the environment beats the file").isEqualTo(7);
    String property = SluiceConfig.MAX_CONNECTIONS.sysProp();
    System.setProperty(property, "8");
    try {
      assertThat(load(env, Map.of()).maxConnections()).as("a system property beats file and environment")
          .isEqualTo(8);
      assertThat(load(Map.of("SLUICE_MAX_CONNECTIONS", "9"), Map.of()).maxConnections())
          .as("a system property beats the environment").isEqualTo(8);
    } finally {
      System.clearProperty(property);
    }
    Path broken = Files.writeString(dir.resolve("broken.json"), "{not json");
    assertThatThrownBy(() -> load(Map.of("SLUICE_CONFIG", broken.toString()), Map.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot read config file");
    Path unknown = Files.writeString(dir.resolve("unknown.json"), "{\"import.windoww\": 1}");
    assertThatThrownBy(() -> load(Map.of("SLUICE_CONFIG", unknown.toString()), Map.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown config key 'import.windoww'");
  }
}
