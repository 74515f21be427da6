package io.sluice.engine.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.TestPostgres;
import io.sluice.TestSeeds;
import io.sluice.core.Database;
import io.sluice.errors.ApiError;
import io.sluice.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two nodes' cores ({@link Database}) on one PostgreSQL schema, in one JVM, as the nodes of a cluster share it: a
 * schema change by one is what the other validates against at its next request, and a write racing a schema
 * change is neither lost nor stored under the old schema. The forked cluster ({@code cluster/ClusterTest}) shows
 * the same through HTTP; this covers the races cheaply.
 */
@ExtendWith(TestSeeds.class)
class SharedCatalogTest {
  private Vertx vertx;
  private ExecutorService workers;
  private final List<PgEngine> engines = new ArrayList<>();
  private Database one;
  private Database two;
  private PgConnectOptions database;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    workers = Executors.newFixedThreadPool(4);
    database = TestPostgres.freshDatabase();
    one = node(database);
    two = node(database);
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
  void aTableCreatedOnOneNodeIsFoundByTheOthersNextRequest() {
    one.putTable("fresh", schema("id", "Int"));
    assertThat(total(two, "fresh")).isZero();
    assertThat(two.schema().getJsonObject("schema").fieldNames()).containsExactly("fresh");
    assertThat(insert(two, "fresh", "[{\"id\": 1}, {\"id\": 2}]").getInteger("total")).isEqualTo(2);
    assertThat(total(one, "fresh")).isEqualTo(2);

    one.deleteTable("fresh");
    assertThatThrownBy(() -> total(two, "fresh")).isInstanceOf(ApiError.class)
        .satisfies(e -> assertThat(((ApiError) e).status()).isEqualTo(404));
  }

  @Test
  void aRowValidOnlyUnderTheOldSchemaIsRefusedRightAfterAColumnDrop() {
    one.putTable("t", schema("id", "Int", "extra", "String"));
    insert(two, "t", "[{\"id\": 1, \"extra\": \"x\"}]"); // node two now holds the old schema

    one.deleteColumn("t", "extra");

    assertThatThrownBy(() -> insert(two, "t", "[{\"id\": 2, \"extra\": \"y\"}]")).isInstanceOf(ApiError.class)
        .satisfies(e -> assertThat(((ApiError) e).status()).isEqualTo(400))
        .hasMessageContaining("extra");
    insert(two, "t", "[{\"id\": 3}]");
    assertThat(total(one, "t")).isEqualTo(2);
    assertThat(two.search(new JsonObject().put("from", "t").put("where", new JsonObject().put("id", 1)))
        .getJsonArray("hits").getJsonObject(0).encode()).isEqualTo("{\"id\":1}");
  }

  /**
   * An import batch sent under the table id its import started on, after another node dropped a column: the rows
   * were copied to a new id, saved with the catalog as a rebuild, so this node follows them (as the node that
   * dropped the column does) instead of answering 409 TableReplaced; and so does a node started afterwards.
   */
  @Test
  void anImportOnAnotherNodeFollowsItsTableRebuiltByAColumnDrop() {
    one.putTable("moved", schema("id", "Int", "extra", "String"));
    String startedOn = two.tableId("moved");
    JsonObject first = join(two.appendLines("moved", new JsonObject().put("tableId", startedOn),
        "{\"id\": 1, \"extra\": \"x\"}\n".getBytes(StandardCharsets.UTF_8)));
    assertThat(first.getInteger("appended")).isEqualTo(1);

    one.deleteColumn("moved", "extra");

    JsonObject after = join(two.appendLines("moved", new JsonObject().put("tableId", startedOn),
        "{\"id\": 2}\n{\"id\": 3, \"extra\": \"y\"}\n".getBytes(StandardCharsets.UTF_8)));
    assertThat(after.getString("table")).isEqualTo("moved");
    assertThat(after.getInteger("appended")).isEqualTo(1);
    assertThat(after.getInteger("failedCount")).as("the dropped column's line").isEqualTo(1);
    assertThat(total(one, "moved")).isEqualTo(2);
    Database late = node(database);
    assertThat(join(late.appendLines("moved", new JsonObject().put("tableId", startedOn),
        "{\"id\": 4}\n".getBytes(StandardCharsets.UTF_8))).getInteger("appended")).isEqualTo(1);
    assertThat(total(two, "moved")).isEqualTo(3);
  }

  @Test
  void aTableReCreatedWithAnotherSchemaRefusesTheOldShapeAndAnAddedColumnIsAcceptedAtOnce() {
    one.putTable("r", schema("v", "Int"));
    insert(two, "r", "[{\"v\": 1}]");
    one.deleteTable("r");
    one.putTable("r", schema("v", "String"));

    assertThatThrownBy(() -> insert(two, "r", "[{\"v\": 5}]")).isInstanceOf(ApiError.class)
        .satisfies(e -> assertThat(((ApiError) e).status()).isEqualTo(400));
    insert(two, "r", "[{\"v\": \"five\"}]");

    one.putColumn("r", "added", new JsonObject().put("type", "Boolean").put("nullable", true));
    insert(two, "r", "[{\"v\": \"six\", \"added\": true}]");
    assertThat(total(one, "r")).isEqualTo(2);
  }

  @Test
  void linkJoinsOnANodeWhoseCatalogAnotherNodeChangedRead() {
    one.putTable("owner", schema("key", "String", "name", "String"));
    one.putTable("pet", new JsonObject().put("type", "table").put("columns", new JsonObject()
        .put("id", new JsonObject().put("type", "Int"))
        .put("owner", new JsonObject().put("type", "String").put("link", "owner.key"))));
    insert(two, "owner", "[{\"key\": \"a\", \"name\": \"Ann\"}]");
    insert(two, "pet", "[{\"id\": 1, \"owner\": \"a\"}]");
    one.putColumn("owner", "age", new JsonObject().put("type", "Int").put("nullable", true));
    JsonObject hits = two.search(new JsonObject().put("from", "pet").put("select", new JsonArray()
        .add("id").add("owner.name").add("owner.age")));
    assertThat(hits.getJsonArray("hits").getJsonObject(0).encode())
        .isEqualTo("{\"id\":1,\"owner.name\":\"Ann\",\"owner.age\":null}");
  }

  /**
   * Writers on node two while node one drops and adds columns over and over (a drop copies the table and drops
   * the old one): every acknowledged row is in the table at the end, none went into a table dropped after its
   * copy, and the only refusal is a 503 asking to retry. Row contents, counts and change order from the seed.
   */
  @Test
  void writesRacingSchemaChangesOnAnotherNodeAreNeitherLostNorStoredUnderTheOldSchema() throws Exception {
    Random random = TestSeeds.random("SharedCatalogTest.race");
    one.putTable("race", schema("id", "Long", "note", "String"));
    one.putColumn("race", "flag", new JsonObject().put("type", "Boolean").put("nullable", true));
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong acknowledged = new AtomicLong();
    AtomicLong next = new AtomicLong();
    List<Throwable> unexpected = new java.util.concurrent.CopyOnWriteArrayList<>();
    int writers = 3;
    ExecutorService writing = Executors.newFixedThreadPool(writers);
    long[] writerSeeds = random.longs(writers).toArray();
    for (int w = 0; w < writers; w++) {
      Random own = new Random(writerSeeds[w]);
      writing.submit(() -> {
        while (!done.get()) {
          int rows = 1 + own.nextInt(20);
          JsonArray batch = new JsonArray();
          for (int i = 0; i < rows; i++) {
            batch.add(new JsonObject().put("id", next.incrementAndGet()).put("note", "n" + own.nextInt(1000)));
          }
          try {
            acknowledged.addAndGet(insert(two, "race", batch.encode()).getInteger("total"));
          } catch (ApiError e) {
            if (e.status() != 503 || !"SchemaChanging".equals(e.errorCause())) {
              unexpected.add(e); // a 503 asks to retry: nothing was stored
            }
          } catch (RuntimeException e) {
            unexpected.add(e);
          }
        }
      });
    }
    int changes = 4 + random.nextInt(4);
    for (int i = 0; i < changes; i++) {
      if (random.nextBoolean()) {
        one.deleteColumn("race", "flag");
        one.putColumn("race", "flag", new JsonObject().put("type", "Boolean").put("nullable", true));
      } else {
        one.putColumn("race", "other" + i, new JsonObject().put("type", "Int").put("nullable", true));
      }
    }
    done.set(true);
    writing.shutdown();
    assertThat(writing.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
    assertThat(unexpected).as(TestSeeds.replay()).isEmpty();
    assertThat(acknowledged.get()).as("some writes ran during the changes").isPositive();
    assertThat(total(one, "race")).as(TestSeeds.replay()).isEqualTo(acknowledged.get());
    assertThat(total(two, "race")).isEqualTo(acknowledged.get());
  }

  private static JsonObject schema(String... nameType) {
    JsonObject columns = new JsonObject();
    for (int i = 0; i < nameType.length; i += 2) {
      columns.put(nameType[i], new JsonObject().put("type", nameType[i + 1]));
    }
    return new JsonObject().put("type", "table").put("columns", columns);
  }

  private static JsonObject insert(Database node, String table, String rows) {
    return join(node.insertBatch(table, rows.getBytes(StandardCharsets.UTF_8), null).map(io.sluice.bus.Written::reply));
  }

  private static long total(Database node, String table) {
    return node.search(new JsonObject().put("from", table).put("limit", 0)).getLong("total");
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
