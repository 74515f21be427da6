package io.sluice.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.sluice.ForkedServer;
import io.sluice.TestSeeds;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * File imports on a cluster of three forked nodes sharing one embedded PostgreSQL: an import runs only on the node
 * holding its lease, every node shows its status, and kill -9 of that node mid-import hands it to another node,
 * which finishes it with every row stored once and an exact {@code completedCount}. The files come from a paced
 * HTTP server in this JVM ({@code sourceUrl}), so an import lasts long enough to be caught running. Leases are
 * short here (heartbeat 250 ms, timeout 1.5 s). Uploads are kept in PostgreSQL: one URL is PUT to another node
 * than the one that handed it out, and an upload outlives the node that received it (that test runs last).
 */
@ExtendWith(TestSeeds.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterImportTest {
  private static final int NODES = 3;
  private static final List<String> JVM_ARGS = List.of("-Xmx320m", "-XX:TieredStopAtLevel=1",
      "-Dhazelcast.wait.seconds.before.join=0", "-Dhazelcast.max.no.heartbeat.seconds=6",
      "-Dhazelcast.heartbeat.interval.seconds=1");
  /** Bytes of gzip the source sends per pause: paced so that one import lasts a few seconds. */
  private static final int CHUNK = 4096;
  private static final long PAUSE_NANOS = 25_000_000;

  @TempDir
  static Path dir;
  private static final List<ForkedServer> nodes = new ArrayList<>();
  private static final List<Map<String, String>> envs = new ArrayList<>();
  private static final Map<String, byte[]> files = new java.util.concurrent.ConcurrentHashMap<>();
  /** Files the source holds back at half their bytes (before their last chunk) until the test opens their gate. */
  private static final Map<String, Gate> gates = new java.util.concurrent.ConcurrentHashMap<>();
  /** Import slots per node and the cluster's queue beyond them (import.max.jobs, import.max.queued). */
  private static final int MAX_JOBS = 2;
  private static final int MAX_QUEUED = 2;
  private static HttpServer source;
  /** Threads of their own for requests sent at once (the common pool has one thread on two cores). */
  private static final java.util.concurrent.ExecutorService senders = Executors.newCachedThreadPool();
  private static Random random;

  @BeforeAll
  static void startCluster() throws IOException {
    random = TestSeeds.random("ClusterImportTest");
    source = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    source.setExecutor(Executors.newCachedThreadPool());
    source.createContext("/", exchange -> {
      byte[] body = files.get(exchange.getRequestURI().getPath());
      if (body == null) {
        exchange.sendResponseHeaders(404, -1);
        exchange.close();
        return;
      }
      exchange.sendResponseHeaders(200, body.length);
      Gate gate = gates.get(exchange.getRequestURI().getPath());
      try (OutputStream out = exchange.getResponseBody()) {
        for (int at = 0; at < body.length; at += CHUNK) {
          if (gate != null && (at >= body.length / 2 || at + CHUNK >= body.length)) {
            gate.pass();
            gate = null;
          }
          out.write(body, at, Math.min(CHUNK, body.length - at));
          out.flush();
          LockSupport.parkNanos(PAUSE_NANOS); // pacing the feed, not waiting for anything
        }
      } catch (IOException e) {
        // the node reading it was killed
      }
    });
    source.start();

    envs.addAll(TestCluster.environments(dir, NODES, Map.of("SLUICE_CLUSTER_LEASE_HEARTBEAT_MS", "250",
        "SLUICE_CLUSTER_LEASE_TIMEOUT_MS", "1500", "SLUICE_IMPORT_BATCH_ROWS", "500",
        "SLUICE_IMPORT_MAX_JOBS", Integer.toString(MAX_JOBS), "SLUICE_IMPORT_MAX_QUEUED", Integer.toString(MAX_QUEUED))));
    for (int i = 0; i < NODES; i++) {
      nodes.add(node(i));
    }
    TestCluster.start(nodes);
  }

  private static ForkedServer node(int i) {
    return new ForkedServer(dir.resolve("node" + i), JVM_ARGS, envs.get(i)).withArgs("serve", "--cluster");
  }

  @AfterAll
  static void stopCluster() {
    nodes.forEach(ForkedServer::close);
    if (source != null) {
      source.stop(0);
    }
    senders.shutdownNow();
  }

  @Test
  @Order(1)
  void anImportTriggeredOnOneNodeRunsOnOneAndIsFollowedOnEveryNode() {
    int rows = 8_000 + random.nextInt(4_000);
    double[][] before = batchMetrics();
    String id = startImport(nodes.get(0), "everywhere", rows);
    long seen = 0;
    JsonObject status;
    do { // the progress every node reads is the running node's, saved with its heartbeat
      status = status(nodes.get(1 + (int) (seen % 2)), "everywhere", id);
      long completed = status.getJsonObject("status").getLong("completedCount");
      assertThat(completed).as(TestSeeds.replay()).isBetween(0L, (long) rows);
      seen++;
      if (!status.getJsonObject("status").getBoolean("finished")) {
        awaitTick();
      }
    } while (!status.getJsonObject("status").getBoolean("finished"));
    assertFinishedExactly("everywhere", id, rows, status);
    for (ForkedServer node : nodes) {
      assertFinishedExactly("everywhere", id, rows, status(node, "everywhere", id));
    }
    assertThat(claims(id)).as("claimed by one node, once").isEqualTo(1);
    assertListedEverywhere(id, "Finished");
    assertSpread(before, batchMetrics(), rows);
  }

  @Test
  @Order(2)
  void importsTriggeredTogetherAreEachRunByOneNode() {
    int imports = 4;
    Map<String, Integer> started = new LinkedHashMap<>();
    for (int i = 0; i < imports; i++) {
      String table = "together" + i;
      int rows = 2_000 + random.nextInt(3_000);
      started.put(startImport(nodes.get(i % NODES), table, rows), rows);
    }
    int t = 0;
    for (Map.Entry<String, Integer> job : started.entrySet()) {
      String table = "together" + t++;
      JsonObject status = awaitFinished(nodes.get(t % NODES), table, job.getKey());
      assertFinishedExactly(table, job.getKey(), job.getValue(), status);
      assertThat(claims(job.getKey())).as("import %s claimed once", job.getKey()).isEqualTo(1);
    }
  }

  /**
   * Uploads are kept in PostgreSQL: the URL node 0 hands out is PUT to node 1, triggered on node 2 and imported
   * once, by whichever node claims it, with exact counts.
   */
  @Test
  @Order(2)
  void anUploadUrlFromOneNodeIsPutToAnotherAndTriggeredOnAThird() {
    int rows = 1_000 + random.nextInt(2_000);
    String id = upload(nodes.get(0), nodes.get(1), "uploaded", rows);
    nodes.get(2).call("POST", "/api/v1/data/uploaded/file/" + id, new JsonObject());
    assertFinishedExactly("uploaded", id, rows, awaitFinished(nodes.get(0), "uploaded", id));
    assertThat(claims(id)).isEqualTo(1);
  }

  /**
   * The cluster's import queue is bounded as a single server's is: once every node's import.max.jobs are taken,
   * at most import.max.queued imports wait, and a trigger beyond gets 429 (Throttled, Retry-After). The count is
   * the store's, taken with the trigger's save: triggers sent to every node at once never overshoot it. Every
   * import is held at half its file until all triggers were answered.
   */
  @Test
  @Order(2)
  void triggersBeyondTheClustersImportQueueGet429() {
    int capacity = NODES * MAX_JOBS + MAX_QUEUED;
    int sent = capacity + 1 + random.nextInt(3);
    int rows = 200 + random.nextInt(300);
    nodes.get(0).call("PUT", "/api/v1/schema/queued", new JsonObject().put("type", "table").put("columns",
        new JsonObject().put("id", new JsonObject().put("type", "Int"))
            .put("name", new JsonObject().put("type", "String"))));
    List<String> ids = new ArrayList<>();
    List<Gate> held = new ArrayList<>();
    for (int i = 0; i < sent; i++) {
      String path = "/queued" + i + ".ndjson.gz";
      files.put(path, gzippedRows(rows));
      Gate gate = new Gate();
      gates.put(path, gate);
      held.add(gate);
      ids.add(nodes.get(i % NODES).call("POST", "/api/v1/data/queued/file", new JsonObject()).getString("id"));
    }
    List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>>> triggers = new ArrayList<>();
    for (int i = 0; i < sent; i++) {
      triggers.add(trigger(nodes.get(i % NODES), "queued", ids.get(i), "/queued" + i + ".ndjson.gz"));
    }
    List<String> accepted = new ArrayList<>();
    List<Integer> refused = new ArrayList<>();
    try {
      for (int i = 0; i < sent; i++) {
        var answer = triggers.get(i).join();
        if (answer.statusCode() == 200) {
          accepted.add(ids.get(i));
          continue;
        }
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(429);
        assertThat(answer.headers().firstValue("x-error-cause")).contains("Throttled");
        assertThat(answer.headers().firstValue("Retry-After")).isPresent();
        assertThat(new JsonObject(answer.body()).getString("message")).contains("import.max.queued");
        refused.add(i);
      }
      assertThat(accepted).as("triggers accepted of %d sent to every node at once; %s", sent, TestSeeds.replay())
          .hasSize(capacity);
    } finally {
      held.forEach(Gate::open);
    }
    for (String id : accepted) {
      JsonObject status = awaitFinished(nodes.get(0), "queued", id);
      assertThat(status.getJsonObject("status").getLong("completedCount")).isEqualTo(rows);
    }
    // a place is free again: a refused import is triggered now
    int again = refused.get(0);
    var retried = trigger(nodes.get(again % NODES), "queued", ids.get(again), "/queued" + again + ".ndjson.gz")
        .join();
    assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
    awaitFinished(nodes.get(0), "queued", ids.get(again));
    assertThat(total(nodes.get(0), "queued")).as(TestSeeds.replay()).isEqualTo((long) (capacity + 1) * rows);
  }

  /**
   * A cancel sent to a node that does not run the import reaches the node holding it (a mark in the store it reads
   * at its next heartbeat) and is answered with the saved end, as on a single node: Cancelled, the committed rows
   * kept and counted. An upload initiated on one node is cancelled on another at once.
   */
  @Test
  @Order(3)
  void aCancelOnAnyNodeEndsTheImportWhereItRuns() {
    int rows = 20_000 + random.nextInt(5_000);
    String id = startImport(nodes.get(random.nextInt(NODES)), "cancelled", rows);
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() ->
        status(nodes.get(0), "cancelled", id).getJsonObject("status").getLong("completedCount") > 0);
    int[] running = {-1};
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .until(() -> (running[0] = runningOn(id, -1)) >= 0);
    ForkedServer canceller = nodes.get((running[0] + 1) % NODES);
    JsonObject cancelled = canceller.call("DELETE", "/api/v1/data/cancelled/file/" + id, null);
    JsonObject status = cancelled.getJsonObject("status");
    assertThat(status.getString("phase")).as(cancelled.encode()).isEqualTo("Cancelled");
    assertThat(cancelled.getJsonObject("errors").getString("message")).startsWith("import cancelled");
    long kept = status.getLong("completedCount");
    assertThat(kept).as(TestSeeds.replay()).isBetween(1L, (long) rows - 1);
    assertThat(total(nodes.get(running[0]), "cancelled")).as("the committed rows stay; %s", TestSeeds.replay())
        .isEqualTo(kept);
    for (ForkedServer node : nodes) {
      assertThat(status(node, "cancelled", id).getJsonObject("status").getString("phase")).isEqualTo("Cancelled");
    }

    JsonObject initiated = nodes.get(0).call("POST", "/api/v1/data/cancelled/file", new JsonObject());
    JsonObject untriggered = nodes.get(1).call("DELETE", "/api/v1/data/cancelled/file/" + initiated.getString("id"),
        null);
    assertThat(untriggered.getJsonObject("status").getString("phase")).isEqualTo("Cancelled");
  }

  /**
   * A node frozen (SIGSTOP, as a long GC pause) past the lease timeout loses the import to another node; thawed,
   * it stores nothing more of it: its batches in flight are refused by the lease check in their transaction.
   */
  @Test
  @Order(3)
  void aNodeFrozenPastItsLeaseWritesNothingMoreOfTheImportOnceThawed() {
    int rows = 20_000 + random.nextInt(5_000);
    String id = startImport(nodes.get(random.nextInt(NODES)), "frozen", rows);
    long freezeAt = rows / 10 + random.nextInt(rows / 3);
    System.out.println("ClusterImportTest: freeze the running node once " + freezeAt + " of " + rows
        + " rows are stored; " + TestSeeds.replay());
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() ->
        status(nodes.get(0), "frozen", id).getJsonObject("status").getLong("completedCount") >= freezeAt);
    int[] running = {-1};
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .until(() -> (running[0] = runningOn(id, -1)) >= 0);
    int frozen = running[0];
    assertThat(frozen).as("still running at %d rows; %s", freezeAt, TestSeeds.replay()).isNotNegative();
    ForkedServer thawed = nodes.get(frozen);
    ForkedServer witness = nodes.get((frozen + 1) % NODES);
    thawed.signal("STOP");
    try {
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(() -> runningOn(id, frozen) >= 0);
    } finally {
      thawed.signal("CONT");
    }
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> thawed.log().contains("import " + id + " into 'frozen' left to the node holding its lease"));
    thawed.log().lines().filter(line -> line.contains(id)).forEach(line -> System.out.println("thawed: " + line));
    assertFinishedExactly("frozen", id, rows, awaitFinished(witness, "frozen", id));
    assertThat(claims(id)).isEqualTo(2);
  }

  /**
   * A column dropped on another node while an import runs rebuilds the table under a new id with its rows; the
   * import follows it as on a single node (the rebuild is saved with the catalog, so every node storing its
   * batches follows it too) instead of ending with 409 TableReplaced: the rest of the file, which still has the
   * dropped column, is refused line by line.
   */
  @Test
  @Order(3)
  void anImportFollowsItsTableRebuiltByAColumnDropOnAnotherNode() {
    int rows = 20_000 + random.nextInt(5_000);
    Gate gate = gateFor("rebuilt");
    String id = startImport(nodes.get(random.nextInt(NODES)), "rebuilt", rows);
    try {
      gate.awaitReached();
      int[] running = {-1};
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
          .until(() -> (running[0] = runningOn(id, -1)) >= 0);
      ForkedServer other = nodes.get((running[0] + 1) % NODES);
      var dropped = other.send("DELETE", other.uri("/api/v1/schema/rebuilt/name"),
          java.net.http.HttpRequest.BodyPublishers.noBody(), true);
      assertThat(dropped.statusCode()).as(dropped.body()).isEqualTo(200);
    } finally {
      gate.open();
    }
    JsonObject job = awaitFinished(nodes.get(0), "rebuilt", id);
    JsonObject status = job.getJsonObject("status");
    assertThat(status.getString("phase")).as(job.encode()).isEqualTo("Finished");
    long completed = status.getLong("completedCount");
    assertThat(completed).as(TestSeeds.replay()).isPositive();
    assertThat(status.getLong("failedCount")).as("lines with the dropped column; %s", TestSeeds.replay())
        .isPositive();
    assertThat(completed + status.getLong("failedCount")).isEqualTo(rows);
    assertThat(total(nodes.get(0), "rebuilt")).as("rows stored, each once; %s", TestSeeds.replay())
        .isEqualTo(completed);
    assertThat(nodes.get(1).call("GET", "/api/v1/schema/rebuilt", null).getJsonObject("columns").fieldNames())
        .containsExactly("id");
  }

  @Test
  @Order(4)
  void killingTheNodeRunningAnImportHandsItToAnotherThatFinishesItExactly() {
    int rows = 20_000 + random.nextInt(5_000);
    // Held at half its file until its node is killed, so the import is still running when the test looks for it
    // (a 20,000-row import may otherwise end between two polls).
    Gate gate = gateFor("survives");
    String id = startImport(nodes.get(random.nextInt(NODES)), "survives", rows);
    long killAt = rows / 10 + random.nextInt(rows / 4);
    System.out.println("ClusterImportTest: kill the running node once " + killAt + " of " + rows
        + " rows are stored; " + TestSeeds.replay());
    int runner;
    try {
      gate.awaitReached();
      runner = runnerOnceStored("survives", id, killAt);
      nodes.get(runner).kill();
    } finally {
      gate.open();
    }
    ForkedServer witness = nodes.get((runner + 1) % NODES);
    // another node claims it once its lease has expired
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> runningOn(id, -1) >= 0 || status(witness, "survives", id).getJsonObject("status")
            .getBoolean("finished"));
    // the killed node starts again meanwhile: it does not run the import the other node holds
    ForkedServer restarted = node(runner).start();
    nodes.set(runner, restarted);
    JsonObject status = awaitFinished(witness, "survives", id);
    assertFinishedExactly("survives", id, rows, status);
    assertFinishedExactly("survives", id, rows, status(restarted, "survives", id));
    assertThat(claims(id)).as("claimed by the killed node, then by one other; " + TestSeeds.replay())
        .isEqualTo(2);
  }

  /**
   * kill -9 of a node that stores batches of another node's import: the holder resends the batches it sent there
   * that got no reply, and the import ends with every row once.
   */
  @Test
  @Order(5)
  void killingANodeStoringBatchesOfAnotherNodesImportLosesNoBatch() {
    int rows = 20_000 + random.nextInt(5_000);
    String id = startImport(nodes.get(random.nextInt(NODES)), "spread", rows);
    long killAt = rows / 10 + random.nextInt(rows / 3);
    System.out.println("ClusterImportTest: kill a node not running the import once " + killAt + " of " + rows
        + " rows are stored; " + TestSeeds.replay());
    int[] running = {-1};
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() ->
        status(nodes.get(0), "spread", id).getJsonObject("status").getLong("completedCount") >= killAt
            && (running[0] = runningOn(id, -1)) >= 0);
    int holder = running[0];
    int victim = (holder + 1 + random.nextInt(NODES - 1)) % NODES;
    double resentBefore = metric(nodes.get(holder), "sluice_import_batches_resent_total");
    nodes.get(victim).kill();
    ForkedServer witness = nodes.get(holder);
    JsonObject status = awaitFinished(witness, "spread", id);
    assertFinishedExactly("spread", id, rows, status);
    assertThat(claims(id)).as("the holder kept it; %s", TestSeeds.replay()).isEqualTo(1);
    assertThat(metric(witness, "sluice_import_batches_resent_total"))
        .as("batches sent to the killed node, stored again elsewhere; %s", TestSeeds.replay())
        .isGreaterThan(resentBefore);
    nodes.set(victim, node(victim).start()); // back for the next case
  }

  /**
   * A node frozen (SIGSTOP) while it stores another node's batches: the holder resends those that got no reply
   * and stores them itself; thawed, the frozen node finds them stored and stores nothing. Each batch is counted
   * by the node that stored it only: the nodes' stored rows add up to the file's.
   */
  @Test
  @Order(5)
  void aBatchStoredByItsResentCopyIsCountedOnce() {
    int rows = 20_000 + random.nextInt(5_000);
    double[][] before = batchMetrics();
    // Held at half its file until a node is frozen, so the import is still running when the test looks for it
    // (a 20,000-row import may otherwise end between two polls).
    Gate gate = gateFor("slowcopy");
    String id = startImport(nodes.get(random.nextInt(NODES)), "slowcopy", rows);
    long freezeAt = rows / 10 + random.nextInt(rows / 4);
    System.out.println("ClusterImportTest: freeze a node storing batches once " + freezeAt + " of " + rows
        + " rows are stored; " + TestSeeds.replay());
    ForkedServer holder;
    try {
      gate.awaitReached();
      int runner = runnerOnceStored("slowcopy", id, freezeAt);
      holder = nodes.get(runner);
      ForkedServer slow = nodes.get((runner + 1 + random.nextInt(NODES - 1)) % NODES);
      double resent = metric(holder, "sluice_import_batches_resent_total");
      slow.signal("STOP");
      try {
        gate.open();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
            .until(() -> metric(holder, "sluice_import_batches_resent_total") > resent);
      } finally {
        slow.signal("CONT");
      }
    } finally {
      gate.open();
    }
    assertFinishedExactly("slowcopy", id, rows, awaitFinished(holder, "slowcopy", id));
    double[][] after = batchMetrics();
    double stored = 0;
    for (int i = 0; i < NODES; i++) {
      stored += after[i][1] - before[i][1] + after[i][3] - before[i][3];
    }
    assertThat(stored).as("rows the nodes count as stored; %s", TestSeeds.replay()).isEqualTo(rows);
  }

  /**
   * A node that joins while an import runs takes its share of the batches: node 2 is stopped, an import starts
   * on the other two and is held at half its file until node 2 is back in the cluster.
   */
  @Test
  @Order(6)
  void aNodeJoiningDuringAnImportStoresItsShareOfTheBatches() {
    int rows = 20_000 + random.nextInt(5_000);
    ForkedServer leaving = nodes.get(2);
    leaving.terminate();
    leaving.awaitExit(Duration.ofSeconds(60));
    awaitClusterSize(nodes.get(0), NODES - 1);
    awaitClusterSize(nodes.get(1), NODES - 1);
    Gate gate = gateFor("joined");
    String id = startImport(nodes.get(random.nextInt(NODES - 1)), "joined", rows);
    try {
      gate.awaitReached();
      ForkedServer joined = node(2).start();
      nodes.set(2, joined);
      nodes.forEach(n -> awaitClusterSize(n, NODES));
    } finally {
      gate.open();
    }
    assertFinishedExactly("joined", id, rows, awaitFinished(nodes.get(0), "joined", id));
    assertThat(claims(id)).as("held by a node of the first two; %s", TestSeeds.replay()).isEqualTo(1);
    assertThat(metric(nodes.get(2), "sluice_import_batches_stored_total{origin=\"remote\"}"))
        .as("batches the joined node stored; %s", TestSeeds.replay()).isPositive();
  }

  /** The node that received an upload is killed before the trigger: another node imports it from PostgreSQL. */
  @Test
  @Order(7)
  void anUploadOutlivesTheNodeThatReceivedIt() {
    int rows = 1_000 + random.nextInt(2_000);
    int receiver = random.nextInt(NODES);
    ForkedServer other = nodes.get((receiver + 1) % NODES);
    String id = upload(other, nodes.get(receiver), "orphaned", rows);
    nodes.get(receiver).kill();
    other.call("POST", "/api/v1/data/orphaned/file/" + id, new JsonObject());
    assertFinishedExactly("orphaned", id, rows, awaitFinished(other, "orphaned", id));
    assertThat(claims(id)).as(TestSeeds.replay()).isEqualTo(1);
  }

  // ------------------------------------------------------------------ helpers

  /** Per node: batches and rows it stored for its own imports (0, 1) and for other nodes' (2, 3). */
  private static double[][] batchMetrics() {
    double[][] all = new double[NODES][];
    for (int i = 0; i < NODES; i++) {
      ForkedServer node = nodes.get(i);
      all[i] = new double[] {
          metric(node, "sluice_import_batches_stored_total{origin=\"local\"}"),
          metric(node, "sluice_import_batch_rows_stored_total{origin=\"local\"}"),
          metric(node, "sluice_import_batches_stored_total{origin=\"remote\"}"),
          metric(node, "sluice_import_batch_rows_stored_total{origin=\"remote\"}"),
          metric(node, "sluice_import_batches_resent_total")};
    }
    return all;
  }

  /**
   * One import's batches were stored by at least two nodes, each row once over all of them (a batch resent after
   * its first copy was slow is counted by the copy that stored it only).
   */
  private static void assertSpread(double[][] before, double[][] after, int rows) {
    int storing = 0;
    double stored = 0;
    double remote = 0;
    StringBuilder shown = new StringBuilder();
    for (int i = 0; i < NODES; i++) {
      double batches = after[i][0] - before[i][0] + after[i][2] - before[i][2];
      storing += batches > 0 ? 1 : 0;
      stored += after[i][1] - before[i][1] + after[i][3] - before[i][3];
      remote += after[i][3] - before[i][3];
      shown.append(" node").append(i).append(": ").append(batches).append(" batches");
    }
    System.out.println("ClusterImportTest: batches stored per node:" + shown);
    assertThat(storing).as("nodes that stored batches:%s", shown).isGreaterThanOrEqualTo(2);
    assertThat(remote).as("rows stored for another node's import").isPositive();
    assertThat(stored).as("rows stored over all nodes, each once; %s", TestSeeds.replay()).isEqualTo(rows);
  }

  /** Holds a file's second half back: {@link #awaitReached} once the source got there, until {@link #open}. */
  private static final class Gate {
    private final java.util.concurrent.CountDownLatch reached = new java.util.concurrent.CountDownLatch(1);
    private final java.util.concurrent.CountDownLatch opened = new java.util.concurrent.CountDownLatch(1);

    /** On the source's thread: waits for the test to open the gate. */
    void pass() throws IOException {
      reached.countDown();
      try {
        if (!opened.await(5, java.util.concurrent.TimeUnit.MINUTES)) {
          throw new IOException("the gate was never opened");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
    }

    void awaitReached() {
      try {
        assertThat(reached.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("the import read half its file")
            .isTrue();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }

    void open() {
      opened.countDown();
    }
  }

  private static java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>> trigger(
      ForkedServer node, String table, String id, String path) {
    String body = new JsonObject().put("sourceUrl", "http://127.0.0.1:" + source.getAddress().getPort() + path)
        .encode();
    return java.util.concurrent.CompletableFuture.supplyAsync(() -> node.send("POST",
        node.uri("/api/v1/data/" + table + "/file/" + id), java.net.http.HttpRequest.BodyPublishers.ofString(body),
        true), senders);
  }

  private static void awaitClusterSize(ForkedServer node, int size) {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
      JsonObject cluster = new JsonObject(node.send("GET", node.uri("/health"),
          java.net.http.HttpRequest.BodyPublishers.noBody(), false).body()).getJsonObject("cluster");
      return cluster != null && cluster.getInteger("nodes") == size;
    });
  }

  /** A sample's value in the node's /metrics, 0 when absent. */
  private static double metric(ForkedServer node, String sample) {
    String metrics = node.send("GET", node.uri("/metrics"), java.net.http.HttpRequest.BodyPublishers.noBody(),
        true).body();
    return metrics.lines().filter(line -> line.startsWith(sample + " ")).mapToDouble(line ->
        Double.parseDouble(line.substring(sample.length() + 1).trim())).sum();
  }

  /** Creates the table, serves a gzipped NDJSON file of {@code rows} rows and triggers its import on the node. */
  /** A gate for the source file {@link #startImport} serves for {@code table}. */
  private static Gate gateFor(String table) {
    Gate gate = new Gate();
    gates.put("/" + table + ".ndjson.gz", gate);
    return gate;
  }

  private static String startImport(ForkedServer node, String table, int rows) {
    node.call("PUT", "/api/v1/schema/" + table, new JsonObject().put("type", "table").put("columns",
        new JsonObject().put("id", new JsonObject().put("type", "Int"))
            .put("name", new JsonObject().put("type", "String"))));
    files.put("/" + table + ".ndjson.gz", gzippedRows(rows));
    String id = node.call("POST", "/api/v1/data/" + table + "/file", new JsonObject()).getString("id");
    JsonObject started = node.call("POST", "/api/v1/data/" + table + "/file/" + id,
        new JsonObject().put("sourceUrl", "http://127.0.0.1:" + source.getAddress().getPort() + "/" + table
            + ".ndjson.gz"));
    assertThat(started.getString("status")).isEqualTo("started");
    return id;
  }

  /**
   * Creates the table, initiates an import on {@code initiator} and PUTs a gzipped NDJSON file of {@code rows} rows
   * to its upload URL on {@code receiver} (the same path and signature, another node's address).
   */
  private static String upload(ForkedServer initiator, ForkedServer receiver, String table, int rows) {
    initiator.call("PUT", "/api/v1/schema/" + table, new JsonObject().put("type", "table").put("columns",
        new JsonObject().put("id", new JsonObject().put("type", "Int"))
            .put("name", new JsonObject().put("type", "String"))));
    JsonObject initiated = initiator.call("POST", "/api/v1/data/" + table + "/file", new JsonObject());
    java.net.URI url = java.net.URI.create(initiated.getString("url"));
    var put = receiver.send("PUT", receiver.uri(url.getRawPath() + "?" + url.getRawQuery()),
        java.net.http.HttpRequest.BodyPublishers.ofByteArray(gzippedRows(rows)), false);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    return initiated.getString("id");
  }

  private static byte[] gzippedRows(int rows) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
      for (int i = 0; i < rows; i++) {
        gzip.write(new JsonObject().put("id", i).put("name", Long.toString(random.nextLong(), 36)).encode()
            .concat("\n").getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static JsonObject status(ForkedServer node, String table, String id) {
    return node.call("GET", "/api/v1/data/" + table + "/file/" + id, null);
  }

  private static JsonObject awaitFinished(ForkedServer node, String table, String id) {
    JsonObject[] last = new JsonObject[1];
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).until(() -> {
      last[0] = status(node, table, id);
      return last[0].getJsonObject("status").getBoolean("finished");
    });
    return last[0];
  }

  private static void awaitTick() {
    await().pollDelay(Duration.ofMillis(100)).atMost(Duration.ofSeconds(1)).until(() -> true);
  }

  private static void assertFinishedExactly(String table, String id, int rows, JsonObject status) {
    JsonObject s = status.getJsonObject("status");
    assertThat(s.getString("phase")).as(status.encode()).isEqualTo("Finished");
    assertThat(s.getLong("completedCount")).as("import %s; %s", id, TestSeeds.replay()).isEqualTo(rows);
    assertThat(s.getLong("failedCount")).isZero();
    assertThat(total(nodes.get(0).isAlive() ? nodes.get(0) : nodes.get(1), table))
        .as("rows in '%s', each once; %s", table, TestSeeds.replay()).isEqualTo(rows);
  }

  private static long total(ForkedServer node, String table) {
    return node.call("POST", "/api/v1/_search", new JsonObject().put("from", table).put("limit", 0))
        .getLong("total");
  }

  /**
   * The live node (but {@code except}) running the import: the one with its rows/s gauge, which exists only on the
   * node running it (every node lists every job), or -1.
   */
  /** The node running import {@code id} once it has stored at least {@code rows} rows (held there by a gate). */
  private static int runnerOnceStored(String table, String id, long rows) {
    int[] running = {-1};
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() ->
        status(nodes.get(0), table, id).getJsonObject("status").getLong("completedCount") >= rows
            && (running[0] = runningOn(id, -1)) >= 0);
    return running[0];
  }

  private static int runningOn(String id, int except) {
    for (int i = 0; i < NODES; i++) {
      ForkedServer node = nodes.get(i);
      if (!node.isAlive() || i == except) {
        continue;
      }
      String metrics = node.send("GET", node.uri("/metrics"), java.net.http.HttpRequest.BodyPublishers.noBody(),
          true).body();
      if (metrics.lines().anyMatch(line -> line.startsWith("sluice_import_rows_per_second{")
          && line.contains(id))) {
        return i;
      }
    }
    return -1;
  }

  /** Every node lists the cluster's imports, with the same phase. */
  private static void assertListedEverywhere(String id, String phase) {
    for (ForkedServer node : nodes) {
      if (!node.isAlive()) {
        continue;
      }
      JsonArray imports = node.call("GET", "/api/v1/data/_imports", null).getJsonArray("imports");
      assertThat(imports.stream().map(JsonObject.class::cast).filter(job -> job.getString("id").equals(id))
          .map(job -> job.getJsonObject("status").getString("phase")).toList()).containsExactly(phase);
    }
  }

  /** How many times any node claimed the import, from the nodes' logs (a restarted node appends to its log). */
  private static int claims(String id) {
    int claims = 0;
    for (int i = 0; i < NODES; i++) {
      String log = nodes.get(i).log();
      for (int at = log.indexOf("claimed import " + id); at >= 0; at = log.indexOf("claimed import " + id,
          at + 1)) {
        claims++;
      }
    }
    return claims;
  }
}
