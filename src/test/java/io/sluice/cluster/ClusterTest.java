package io.sluice.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.ForkedServer;
import io.sluice.TestSeeds;
import io.sluice.cli.SluiceCli;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three forked Sluice nodes in one cluster on 127.0.0.1 (Hazelcast TCP-IP join, free ports), sharing one embedded
 * PostgreSQL database, with the same API keys and upload secret: membership, a table created on one node used at
 * once on the others, a schema change on one node refused by another's next write, rows written anywhere read
 * everywhere, store requests served by the node that received them, and a node killed with SIGKILL that rejoins.
 * One cluster for the whole class (started in parallel); the rejoin test runs last.
 */
@ExtendWith(TestSeeds.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTest {
  private static final int NODES = 3;
  /** Quick failure detection and join, for the test only (Hazelcast's defaults suit production). */
  private static final List<String> JVM_ARGS = List.of("-Xmx320m", "-XX:TieredStopAtLevel=1",
      "-Dhazelcast.wait.seconds.before.join=0", "-Dhazelcast.max.no.heartbeat.seconds=6",
      "-Dhazelcast.heartbeat.interval.seconds=1");

  @TempDir
  static Path dir;
  private static final List<ForkedServer> nodes = new ArrayList<>();
  private static final List<Map<String, String>> envs = new ArrayList<>();
  private static Random random;

  @BeforeAll
  static void startCluster() {
    random = TestSeeds.random("ClusterTest.rows");
    long pg = System.nanoTime();
    // a short registry timeout: a killed node's jobs are reported cut off within seconds
    envs.addAll(TestCluster.environments(dir, NODES, Map.of("SLUICE_CLUSTER_LEASE_HEARTBEAT_MS", "250",
        "SLUICE_CLUSTER_LEASE_TIMEOUT_MS", "1500")));
    System.out.println("ClusterTest: PostgreSQL ready in " + (System.nanoTime() - pg) / 1_000_000 + " ms");
    for (int i = 0; i < NODES; i++) {
      nodes.add(node(i));
    }
    long start = System.nanoTime();
    TestCluster.start(nodes);
    nodes.forEach(n -> awaitClusterSize(n, NODES));
    System.out.println("ClusterTest: " + NODES + " nodes in one cluster after " + (System.nanoTime() - start)
        / 1_000_000 + " ms");
  }

  private static ForkedServer node(int i) {
    return new ForkedServer(dir.resolve("node" + i), JVM_ARGS, envs.get(i)).withArgs("serve", "--cluster");
  }

  @AfterAll
  static void stopCluster() {
    nodes.forEach(ForkedServer::close);
  }

  @Test
  @Order(1)
  void theNodesFormOneClusterAndSayItsSize() {
    for (ForkedServer node : nodes) {
      assertThat(health(node).getJsonObject("cluster").getInteger("nodes")).isEqualTo(NODES);
      assertThat(get(node, "/metrics").body()).contains("sluice_cluster_nodes " + NODES + ".0");
    }
  }

  @Test
  @Order(2)
  void aTableCreatedOnOneNodeIsSearchableOnTheOthersAtOnceAndRowsWrittenAnywhereAreReadEverywhere() {
    nodes.get(0).call("PUT", "/api/v1/schema/anywhere", schema("id", "Int", "node", "Int"));
    for (ForkedServer node : nodes) {
      assertThat(total(node, "anywhere")).isZero();
    }
    long written = 0;
    for (int i = 0; i < NODES; i++) {
      JsonArray rows = new JsonArray();
      int count = 1 + random.nextInt(50);
      for (int r = 0; r < count; r++) {
        rows.add(new JsonObject().put("id", (int) written + r).put("node", i));
      }
      assertThat(nodes.get(i).call("POST", "/api/v1/data/anywhere/batch", rows).getInteger("total"))
          .isEqualTo(count);
      written += count;
      for (ForkedServer reader : nodes) {
        assertThat(total(reader, "anywhere")).as(TestSeeds.replay()).isEqualTo(written);
      }
    }
  }

  @Test
  @Order(3)
  void aSchemaChangeOnOneNodeIsSeenByTheNextWriteOnAnother() {
    nodes.get(0).call("PUT", "/api/v1/schema/changing", schema("id", "Int", "extra", "String"));
    // nodes 1 and 2 validate against the schema with 'extra' (and hold it)
    nodes.get(1).call("POST", "/api/v1/data/changing/batch", new JsonArray().add(row(1, "extra", "x")));
    nodes.get(2).call("POST", "/api/v1/data/changing/batch", new JsonArray().add(row(2, "extra", "y")));

    nodes.get(0).call("DELETE", "/api/v1/schema/changing/extra", null);
    HttpResponse<String> refused = post(nodes.get(1), "/api/v1/data/changing/batch",
        new JsonArray().add(row(3, "extra", "z")));
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
    assertThat(refused.body()).contains("extra");
    nodes.get(1).call("POST", "/api/v1/data/changing/batch", new JsonArray().add(new JsonObject().put("id", 4)));

    // re-created with another type: a row of the old shape is refused by a node that held the old schema
    nodes.get(0).call("DELETE", "/api/v1/schema/changing", null);
    nodes.get(0).call("PUT", "/api/v1/schema/changing", schema("id", "String"));
    HttpResponse<String> oldShape = post(nodes.get(2), "/api/v1/data/changing/batch",
        new JsonArray().add(new JsonObject().put("id", 5)));
    assertThat(oldShape.statusCode()).as(oldShape.body()).isEqualTo(400);
    nodes.get(2).call("POST", "/api/v1/data/changing/batch", new JsonArray().add(new JsonObject().put("id", "five")));
    for (ForkedServer node : nodes) {
      assertThat(total(node, "changing")).isEqualTo(1);
      assertThat(node.call("GET", "/api/v1/schema/changing", null).getJsonObject("columns").getJsonObject("id")
          .getString("type")).isEqualTo("String");
    }
  }

  /** On a clustered bus a shared address would hand a node's store requests to any node's consumer. */
  @Test
  @Order(4)
  void storeRequestsAreServedByTheNodeThatReceivedThem() {
    nodes.get(0).call("PUT", "/api/v1/schema/local", schema("id", "Int"));
    long[] before = new long[NODES];
    for (int i = 0; i < NODES; i++) {
      before[i] = readLaneTasks(nodes.get(i));
    }
    int searches = 30;
    for (int s = 0; s < searches; s++) {
      total(nodes.get(0), "local");
    }
    assertThat(readLaneTasks(nodes.get(0)) - before[0]).isGreaterThanOrEqualTo(searches);
    assertThat(readLaneTasks(nodes.get(1))).isEqualTo(before[1]);
    assertThat(readLaneTasks(nodes.get(2))).isEqualTo(before[2]);
  }

  /**
   * One Idempotency-Key sent to every node at once: a node's in-flight set cannot see the others' requests, so
   * the key is held in PostgreSQL; one write in the cluster, every other answer a replay or a 409.
   */
  @Test
  @Order(5)
  void oneIdempotencyKeySentToEveryNodeAtOnceWritesOnce() {
    nodes.get(0).call("PUT", "/api/v1/schema/keyed", schema("id", "Int"));
    JsonArray rows = new JsonArray();
    for (int i = 0; i < 300; i++) {
      rows.add(new JsonObject().put("id", i));
    }
    String key = "cluster-batch-" + random.nextInt(1_000_000);
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
    for (int r = 0; r < 18; r++) {
      ForkedServer node = nodes.get(r % NODES);
      sent.add(http.sendAsync(HttpRequest.newBuilder(node.uri("/api/v1/data/keyed/batch"))
          .timeout(Duration.ofMinutes(2))
          .header("x-api-key", io.sluice.TestServer.RW_KEY).header("content-type", "application/json")
          .header("Idempotency-Key", key)
          .POST(HttpRequest.BodyPublishers.ofString(rows.encode())).build(), HttpResponse.BodyHandlers.ofString()));
    }
    int written = 0;
    for (CompletableFuture<HttpResponse<String>> answer : sent) {
      HttpResponse<String> response = answer.join();
      assertThat(response.statusCode()).as(response.body()).isIn(200, 409);
      if (response.statusCode() == 200 && response.headers().firstValue("Idempotent-Replayed").isEmpty()) {
        written++;
      }
    }
    assertThat(written).as("first writes among the 18 requests").isEqualTo(1);
    // a retry after all were answered is a replay wherever it lands
    for (ForkedServer node : nodes) {
      HttpResponse<String> retry = http.sendAsync(HttpRequest.newBuilder(node.uri("/api/v1/data/keyed/batch"))
          .header("x-api-key", io.sluice.TestServer.RW_KEY).header("content-type", "application/json")
          .header("Idempotency-Key", key)
          .POST(HttpRequest.BodyPublishers.ofString(rows.encode())).build(), HttpResponse.BodyHandlers.ofString())
          .join();
      assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);
      assertThat(retry.headers().firstValue("Idempotent-Replayed")).contains("true");
      assertThat(total(node, "keyed")).isEqualTo(300);
    }
  }

  /**
   * An /api/v1/jobs job saved unfinished belongs to the node running it: another node that restarts meanwhile
   * (and so loads every saved job) leaves it running, and every node answers its result once it ends. The job is
   * a search held by a lock of the test's own on its table.
   */
  @Test
  @Order(6)
  void aJobRunningOnOneNodeIsNotCutOffByAnotherNodesRestart() throws Exception {
    nodes.get(0).call("PUT", "/api/v1/schema/held", schema("id", "Int"));
    int rows = 1 + random.nextInt(50);
    JsonArray batch = new JsonArray();
    for (int r = 0; r < rows; r++) {
      batch.add(new JsonObject().put("id", r));
    }
    nodes.get(0).call("POST", "/api/v1/data/held/batch", batch);
    String id;
    try (TestCluster.HeldTable held = new TestCluster.HeldTable(dir, "held")) {
      id = startJob(nodes.get(0), new JsonObject().put("from", "held").put("limit", 0));
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> held.waiting() > 0);
      nodes.get(1).kill();
      nodes.set(1, node(1).start());
      nodes.forEach(n -> awaitClusterSize(n, NODES));
      for (ForkedServer node : nodes) {
        assertThat(get(node, "/api/v1/jobs/" + id).body()).as("still running").doesNotContain("finishedAt");
        HttpResponse<String> early = get(node, "/api/v1/jobs/" + id + "/result");
        assertThat(early.statusCode()).as(early.body()).isEqualTo(409);
      }
    }
    for (ForkedServer node : nodes) {
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
          .until(() -> get(node, "/api/v1/jobs/" + id).body().contains("finishedAt"));
      HttpResponse<String> result = get(node, "/api/v1/jobs/" + id + "/result");
      assertThat(result.statusCode()).as(result.body()).isEqualTo(200);
      assertThat(new JsonObject(result.body()).getLong("total")).as(TestSeeds.replay()).isEqualTo(rows);
    }
  }

  /**
   * A killed node rejoins when restarted. Its /api/v1/jobs job that was running is answered as cut off (503
   * JobInterrupted) by the others once its registration lapses, and by itself once restarted (under a new id).
   */
  @Test
  @Order(7)
  void aNodeKilledWithSigkillRejoinsAndServesTheSharedTables() throws Exception {
    nodes.get(0).call("PUT", "/api/v1/schema/survivor", schema("id", "Int"));
    String cutOff;
    try (TestCluster.HeldTable held = new TestCluster.HeldTable(dir, "survivor")) {
      cutOff = startJob(nodes.get(2), new JsonObject().put("from", "survivor"));
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> held.waiting() > 0);
      nodes.get(2).kill();
    }
    for (int i = 0; i < NODES - 1; i++) {
      ForkedServer node = nodes.get(i);
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(() -> get(node, "/api/v1/jobs/" + cutOff + "/result").statusCode() == 503);
      assertJobInterrupted(get(node, "/api/v1/jobs/" + cutOff + "/result"));
    }
    awaitClusterSize(nodes.get(0), NODES - 1);
    awaitClusterSize(nodes.get(1), NODES - 1);
    // the others go on meanwhile
    nodes.get(1).call("POST", "/api/v1/data/survivor/batch", new JsonArray().add(new JsonObject().put("id", 1)));

    ForkedServer restarted = node(2).start();
    nodes.set(2, restarted);
    nodes.forEach(n -> awaitClusterSize(n, NODES));
    assertJobInterrupted(get(restarted, "/api/v1/jobs/" + cutOff + "/result"));
    assertThat(total(restarted, "survivor")).isEqualTo(1);
    restarted.call("POST", "/api/v1/data/survivor/batch", new JsonArray().add(new JsonObject().put("id", 2)));
    nodes.get(0).call("PUT", "/api/v1/schema/after", schema("id", "Int"));
    assertThat(total(restarted, "after")).isZero();
    assertThat(total(nodes.get(0), "survivor")).isEqualTo(2);
  }

  @Test
  void clusterModeOnTheLuceneStoreRefusesToStartAndSaysWhy() {
    StringWriter err = new StringWriter();
    var commandLine = SluiceCli.commandLine(new SluiceCli(Map.of("SLUICE_STORE_TYPE", "lucene",
        "SLUICE_DATA_DIR", dir.resolve("lucene").toString()), false));
    commandLine.setOut(new PrintWriter(new StringWriter(), true));
    commandLine.setErr(new PrintWriter(err, true));
    int code = commandLine.execute("serve", "--cluster");
    assertThat(code).as(err.toString()).isEqualTo(SluiceCli.USAGE);
    assertThat(err.toString()).contains("cluster mode").contains("needs store.type=postgres")
        .contains("store.type is lucene");
  }

  // ------------------------------------------------------------------ helpers

  /** Starts a search as an /api/v1/jobs job on the node; its id. */
  private static String startJob(ForkedServer node, JsonObject search) {
    HttpResponse<String> started = post(node, "/api/v1/jobs/_search", search);
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    return new JsonObject(started.body()).getString("id");
  }

  private static void assertJobInterrupted(HttpResponse<String> result) {
    assertThat(result.statusCode()).as(result.body()).isEqualTo(503);
    assertThat(result.headers().firstValue("x-error-cause")).contains("JobInterrupted");
  }

  private static void awaitClusterSize(ForkedServer node, int size) {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
      JsonObject cluster = health(node).getJsonObject("cluster");
      return cluster != null && cluster.getInteger("nodes") == size;
    });
  }

  private static JsonObject health(ForkedServer node) {
    return new JsonObject(get(node, "/health").body());
  }

  private static HttpResponse<String> get(ForkedServer node, String path) {
    return node.send("GET", node.uri(path), HttpRequest.BodyPublishers.noBody(), true);
  }

  private static HttpResponse<String> post(ForkedServer node, String path, Object body) {
    return node.send("POST", node.uri(path), HttpRequest.BodyPublishers.ofString(body.toString()), true);
  }

  private static long total(ForkedServer node, String table) {
    return node.call("POST", "/api/v1/_search", new JsonObject().put("from", table).put("limit", 0))
        .getLong("total");
  }

  /** Store tasks the node's read lane has served (its lane timer's count). */
  private static long readLaneTasks(ForkedServer node) {
    return get(node, "/metrics").body().lines()
        .filter(line -> line.startsWith("sluice_lane_service_seconds_count{") && line.contains("lane=\"read\""))
        .mapToLong(line -> (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static JsonObject schema(String... nameType) {
    JsonObject columns = new JsonObject();
    for (int i = 0; i < nameType.length; i += 2) {
      columns.put(nameType[i], new JsonObject().put("type", nameType[i + 1]));
    }
    return new JsonObject().put("type", "table").put("columns", columns);
  }

  private static JsonObject row(int id, String column, String value) {
    return new JsonObject().put("id", id).put(column, value);
  }
}
