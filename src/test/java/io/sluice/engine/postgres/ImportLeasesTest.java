package io.sluice.engine.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.TestPostgres;
import io.sluice.TestSeeds;
import io.sluice.core.Database;
import io.sluice.engine.ImportLeases;
import io.sluice.engine.NodeState;
import io.sluice.errors.ApiError;
import io.sluice.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Import leases of two nodes sharing one PostgreSQL schema, in one JVM: nodes claiming at once never take one job
 * twice, a held job is claimed by another node only once its lease expired, and then the first node can neither
 * save the job nor store a batch of it (the lease check in the batch's transaction). The forked cluster
 * ({@code cluster/ClusterImportTest}) shows the same through HTTP; this makes the races and the fence deterministic.
 */
@ExtendWith(TestSeeds.class)
class ImportLeasesTest {
  private static final String JOBS = "import_jobs";
  private Vertx vertx;
  private ExecutorService workers;
  private final List<PgEngine> engines = new ArrayList<>();
  private Database one;
  private Database two;
  private PgNodeState stateOne;
  private ImportLeases leasesOne;
  private ImportLeases leasesTwo;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    workers = Executors.newFixedThreadPool(4);
    PgConnectOptions db = TestPostgres.freshDatabase();
    one = node(db);
    two = node(db);
    stateOne = engines.get(0).nodeState();
    leasesOne = stateOne.leases();
    leasesTwo = engines.get(1).nodeState().leases();
  }

  private Database node(PgConnectOptions db) {
    PgEngine engine = new PgEngine(vertx, db, 4, 2, "sluice", true);
    engines.add(engine);
    return new Database(engine, 1000, Metrics.noop(), 86_400, workers);
  }

  @AfterEach
  void stop() throws InterruptedException {
    engines.forEach(PgEngine::close);
    workers.shutdownNow();
    workers.awaitTermination(10, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  @Test
  void anUnsharedDatabaseHasNoLeases() {
    PgEngine alone = new PgEngine(vertx, TestPostgres.freshDatabase(), 2, 1, "sluice");
    engines.add(alone);
    assertThat(alone.nodeState().leases()).isNull();
  }

  @Test
  void nodesClaimingTogetherNeverTakeOneJobTwice() throws Exception {
    Random random = TestSeeds.random("ImportLeasesTest.claims");
    int jobs = 20 + random.nextInt(20);
    for (int i = 0; i < jobs; i++) {
      stateOne.put(NodeState.Kind.IMPORT_JOBS, "job-" + i, job("job-" + i, i % 2 == 0 ? "Started" : "Running",
          null));
    }
    stateOne.put(NodeState.Kind.IMPORT_JOBS, "done", job("done", "Finished", null));
    stateOne.put(NodeState.Kind.IMPORT_JOBS, "waiting", job("waiting", "Uploaded", null));
    Set<String> byOne = new HashSet<>();
    Set<String> byTwo = new HashSet<>();
    CompletableFuture<Void> a = CompletableFuture.runAsync(() -> claimAll(leasesOne, byOne, 1 + random.nextInt(3)));
    CompletableFuture<Void> b = CompletableFuture.runAsync(() -> claimAll(leasesTwo, byTwo, 1 + random.nextInt(3)));
    CompletableFuture.allOf(a, b).get(60, TimeUnit.SECONDS);
    Set<String> both = new HashSet<>(byOne);
    both.retainAll(byTwo);
    assertThat(both).as("claimed by both; %s", TestSeeds.replay()).isEmpty();
    Set<String> all = new HashSet<>(byOne);
    all.addAll(byTwo);
    assertThat(all).as("every triggered job, nothing else").hasSize(jobs).allMatch(id -> id.startsWith("job-"));
  }

  /**
   * Triggers on two nodes at once: saved while the imports triggered and not ended stay below the live nodes'
   * slots plus maxQueued, never beyond (the count is taken under the trigger's lock); a job no longer waiting for
   * its trigger is not overwritten.
   */
  @Test
  void triggersOnTwoNodesAtOnceStopAtTheClustersCapacity() throws Exception {
    Random random = TestSeeds.random("ImportLeasesTest.triggers");
    int slots = 1 + random.nextInt(3);
    int maxQueued = random.nextInt(4);
    engines.get(0).nodeState().members().beat(60_000, slots);
    engines.get(1).nodeState().members().beat(60_000, slots);
    stateOne.put(NodeState.Kind.IMPORT_JOBS, "running", job("running", "Running", null));
    int capacity = 2 * slots + maxQueued;
    int jobs = capacity + 1 + random.nextInt(5);
    for (int i = 0; i < jobs; i++) {
      stateOne.put(NodeState.Kind.IMPORT_JOBS, "job-" + i, job("job-" + i, "Uploaded", null));
    }
    List<CompletableFuture<ImportLeases.Trigger>> triggers = new ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      ImportLeases leases = i % 2 == 0 ? leasesOne : leasesTwo;
      String id = "job-" + i;
      triggers.add(CompletableFuture.supplyAsync(() -> leases.trigger(id, job(id, "Started", null), maxQueued),
          workers));
    }
    int saved = 0;
    for (CompletableFuture<ImportLeases.Trigger> trigger : triggers) {
      ImportLeases.Trigger done = trigger.get(60, TimeUnit.SECONDS);
      assertThat(done.outcome()).isIn(ImportLeases.Trigger.Outcome.SAVED, ImportLeases.Trigger.Outcome.FULL);
      saved += done.outcome() == ImportLeases.Trigger.Outcome.SAVED ? 1 : 0;
    }
    assertThat(saved).as("saved of %d with %d slots a node and %d queued; %s", jobs, slots, maxQueued,
        TestSeeds.replay()).isEqualTo(capacity - 1);
    ImportLeases.Trigger full = leasesOne.trigger("job-x", job("job-x", "Started", null), maxQueued);
    assertThat(full.outcome()).isEqualTo(ImportLeases.Trigger.Outcome.FULL);
    assertThat(full.running() + full.waiting()).isEqualTo(capacity);

    // a node gone takes its slots along: still full, though an import ended
    engines.get(1).nodeState().members().leave();
    assertThat(engines.get(0).nodeState().members().alive(engines.get(1).nodeState().members().self())).isFalse();
    assertThat(engines.get(0).nodeState().members().alive(engines.get(0).nodeState().members().self())).isTrue();
    stateOne.put(NodeState.Kind.IMPORT_JOBS, "running", job("running", "Finished", null));
    int refused = 0;
    while (triggers.get(refused).join().outcome() != ImportLeases.Trigger.Outcome.FULL) {
      refused++;
    }
    String later = "job-" + refused;
    assertThat(leasesOne.trigger(later, job(later, "Started", null), maxQueued).outcome())
        .isEqualTo(ImportLeases.Trigger.Outcome.FULL);
    // a job no longer waiting for its trigger (cancelled by another node meanwhile) is left as it is
    stateOne.put(NodeState.Kind.IMPORT_JOBS, "cancelled", job("cancelled", "Cancelled", null));
    assertThat(leasesOne.trigger("cancelled", job("cancelled", "Started", null), jobs + 10).outcome())
        .isEqualTo(ImportLeases.Trigger.Outcome.CHANGED);
    assertThat(stateOne.get(NodeState.Kind.IMPORT_JOBS, "cancelled")).contains("Cancelled");
  }

  private static void claimAll(ImportLeases leases, Set<String> claimed, int max) {
    while (true) {
      Map<String, String> got = leases.claim(max, "here", 60_000);
      if (got.isEmpty()) {
        return;
      }
      claimed.addAll(got.keySet());
    }
  }

  @Test
  void anUploadKeptOnOneNodeIsClaimedOnlyThere() {
    stateOne.put(NodeState.Kind.IMPORT_JOBS, "local", job("local", "Started", "node-1:5701"));
    assertThat(leasesTwo.claim(5, "node-2:5701", 60_000)).isEmpty();
    assertThat(leasesOne.claim(5, "node-1:5701", 60_000)).containsOnlyKeys("local");
  }

  @Test
  void aNodeWhoseLeaseExpiredAndWasTakenCanNeitherSaveTheJobNorStoreItsBatches() {
    one.putTable("t", new JsonObject().put("type", "table").put("columns",
        new JsonObject().put("id", new JsonObject().put("type", "Int"))));
    stateOne.put(NodeState.Kind.IMPORT_JOBS, "j", job("j", "Started", null));
    assertThat(leasesOne.claim(1, "a", 300)).containsOnlyKeys("j");
    assertThat(leasesTwo.claim(1, "b", 300)).as("held").isEmpty();
    assertThat(batch(one, 0).getInteger("appended")).isEqualTo(1);
    assertThatThrownBy(() -> batch(two, 1)).as("not node two's lease").isInstanceOf(ApiError.class)
        .satisfies(e -> assertThat(((ApiError) e).errorCause()).isEqualTo("LeaseLost"));
    assertThat(leasesOne.renew(Map.of("j", job("j", "Running", null)), 300)).containsExactly("j");

    // node one stops heartbeating: once its lease expired, node two takes the job
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .until(() -> !leasesTwo.claim(1, "b", 60_000).isEmpty());
    assertThatThrownBy(() -> batch(one, 2)).as("node one's late batch").isInstanceOf(ApiError.class)
        .satisfies(e -> assertThat(((ApiError) e).errorCause()).isEqualTo("LeaseLost"));
    assertThat(leasesOne.save("j", job("j", "FinishedInError", null))).isFalse();
    assertThat(leasesOne.renew(Map.of("j", job("j", "Running", null)), 60_000)).isEmpty();
    assertThat(leasesOne.release("j", job("j", "Finished", null))).isFalse();
    assertThat(new JsonObject(stateOne.get(NodeState.Kind.IMPORT_JOBS, "j")).getString("phase"))
        .as("node one's writes changed nothing").isEqualTo("Running");

    assertThat(batch(two, 2).getInteger("appended")).isEqualTo(1);
    assertThat(leasesTwo.release("j", job("j", "Finished", null))).isTrue();
    assertThat(leasesOne.claim(1, "a", 60_000)).as("finished: nobody's to claim").isEmpty();
    assertThat(one.search(new JsonObject().put("from", "t").put("limit", 0)).getLong("total")).isEqualTo(2);
  }

  /**
   * Batches spread over the nodes: node two stores node one's batches under node one's lease (the fence checks the
   * holder the batch names), a batch sent twice, one after the other or both at once, is stored once, and once
   * node one's lease is taken node two stores nothing more for it.
   */
  @Test
  void aBatchOfAnotherNodesImportIsFencedByThatNodesLeaseAndStoredOnce() throws Exception {
    one.putTable("t", new JsonObject().put("type", "table").put("columns",
        new JsonObject().put("id", new JsonObject().put("type", "Int"))));
    stateOne.put(NodeState.Kind.IMPORT_JOBS, "j", job("j", "Started", null));
    assertThat(leasesOne.claim(1, "a", 400)).containsOnlyKeys("j");
    String holder = leasesOne.holder();
    assertThat(holder).isNotEqualTo(leasesTwo.holder());
    assertThat(batch(two, 0, holder).getInteger("appended")).as("node one's batch, stored by node two").isEqualTo(1);
    assertThat(batch(one, 0, holder).getInteger("appended")).as("resent: a success, nothing stored").isEqualTo(1);
    CompletableFuture<JsonObject> a = CompletableFuture.supplyAsync(() -> batch(one, 1, holder));
    CompletableFuture<JsonObject> b = CompletableFuture.supplyAsync(() -> batch(two, 1, holder));
    assertThat(a.get(60, TimeUnit.SECONDS).getInteger("appended")).isEqualTo(1);
    assertThat(b.get(60, TimeUnit.SECONDS).getInteger("appended")).isEqualTo(1);
    assertThat(one.search(new JsonObject().put("from", "t").put("limit", 0)).getLong("total"))
        .as("each batch once").isEqualTo(2);
    assertThat(engines.get(0).importedBatches(one.tableId("t"), "j")).containsExactly(0L, 1L);

    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .until(() -> !leasesTwo.claim(1, "b", 60_000).isEmpty());
    assertThatThrownBy(() -> batch(two, 2, holder)).as("node one's batch after it lost the lease")
        .isInstanceOf(ApiError.class)
        .satisfies(e -> assertThat(((ApiError) e).errorCause()).isEqualTo("LeaseLost"));
    assertThat(batch(one, 2, leasesTwo.holder()).getInteger("appended")).as("node two's, stored by node one")
        .isEqualTo(1);
    assertThat(one.search(new JsonObject().put("from", "t").put("limit", 0)).getLong("total")).isEqualTo(3);
  }

  private static JsonObject batch(Database node, long batch, String holder) {
    return join(node.appendLines("t", new JsonObject().put("job", "j").put("batch", batch).put("holder", holder),
        ("{\"id\": " + batch + "}\n").getBytes(StandardCharsets.UTF_8)));
  }

  private static String job(String id, String phase, String place) {
    return new JsonObject().put("id", id).put("table", "t").put("phase", phase).put("place", place).encode();
  }

  /** One row as batch {@code batch} of import "j", as an import's sink sends it. */
  private static JsonObject batch(Database node, long batch) {
    return join(node.appendLines("t", new JsonObject().put("job", "j").put("batch", batch),
        ("{\"id\": " + batch + "}\n").getBytes(StandardCharsets.UTF_8)));
  }

  private static JsonObject join(Future<JsonObject> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new AssertionError(e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
