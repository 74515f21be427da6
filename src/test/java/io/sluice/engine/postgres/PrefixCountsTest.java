package io.sluice.engine.postgres;

import static io.sluice.engine.postgres.PgEngineTest.await;
import static io.sluice.engine.postgres.PgEngineTest.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.TestPostgres;
import io.sluice.TestSeeds;
import io.sluice.engine.Predicate;
import io.sluice.engine.Row;
import io.sluice.engine.TableDef;
import io.sluice.engine.Utf8;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;
import io.sluice.schema.TableSchema;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Exact totals from kept counts ({@link PrefixCounts}) against a real PostgreSQL: appends that commit out of their
 * rows' order, deletes and column changes between searches, a restarted engine, and searches racing appends.
 */
class PrefixCountsTest {
  private static final Predicate MARKED = new Predicate.StringEquals("g", "x");
  private static final TableSchema SCHEMA;

  static {
    Map<String, ColumnSchema> columns = new LinkedHashMap<>();
    columns.put("id", new ColumnSchema(ColumnType.INT, true, null, null));
    columns.put("g", new ColumnSchema(ColumnType.STRING, true, null, null));
    SCHEMA = new TableSchema(columns);
  }

  private Vertx vertx;
  private PgConnectOptions database;
  private PgEngine engine;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    database = TestPostgres.freshDatabase();
    engine = new PgEngine(vertx, database, 4, 2, "sluice");
  }

  @AfterEach
  void stop() {
    engine.close();
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  @Test
  void anAppendThatCommitsAfterALaterOneIsCountedOnceItDoes() throws Exception {
    TableDef table = table();
    append(table, rows(1, 100));
    assertThat(total(table)).isEqualTo(50);
    assertThat(total(table)).as("again, from the kept count").isEqualTo(50);
    assertThat(engine.prefixCounts().kept()).isEqualTo(1);

    // The first row of an append with a negative id waits in a trigger, after its row number was handed out,
    // until the test lets go: the append started first commits last.
    try (Connection sql = jdbc(); Statement s = sql.createStatement()) {
      gate(s, table);
      Future<Integer> first = heldAppend(s, table);

      append(table, rows(2001, 10));
      assertThat(total(table)).as("the later append's rows, not the held one's").isEqualTo(55);
      assertThat(engine.tableStats(table.id(), true).rows()).as("acknowledged rows").isEqualTo(110);
      assertThat(engine.prefixCounts().settled(table.id())).as("the held append's floor").isEqualTo(100);

      s.execute("SELECT pg_advisory_unlock(4242)");
      assertThat(await(first)).isEqualTo(11);
    }
    assertThat(total(table)).as("the held append's rows, one of them numbered below the later append's")
        .isEqualTo(61);
    assertThat(total(table)).isEqualTo(61);
    assertThat(engine.prefixCounts().settled(table.id())).isEqualTo(121);
    assertThat(engine.tableStats(table.id(), true).rows()).isEqualTo(121);
  }

  @Test
  void deletesAndColumnChangesEndTheKeptCounts() {
    TableDef table = table();
    append(table, rows(1, 100));
    assertThat(engine.prefixCounts().rows(table.id())).as("a new table's rows, from its appends").isEqualTo(100);
    assertThat(engine.tableStats(table.id(), true).rows()).isEqualTo(100);
    assertThat(total(table)).isEqualTo(50);
    assertThat(await(engine.delete(table, new Predicate.LongRange("id", 1, 20), null))).isEqualTo(20);
    assertThat(engine.prefixCounts().kept()).isZero();
    assertThat(engine.prefixCounts().rows(table.id())).as("counted again").isEqualTo(-1);
    assertThat(engine.tableStats(table.id(), true).rows()).isEqualTo(80);
    assertThat(engine.prefixCounts().rows(table.id())).as("by a count no append ran beside").isEqualTo(80);
    assertThat(total(table)).isEqualTo(40);
    append(table, rows(101, 10));
    assertThat(total(table)).isEqualTo(45);

    Map<String, ColumnSchema> wider = new LinkedHashMap<>(SCHEMA.columns());
    wider.put("extra", new ColumnSchema(ColumnType.LONG, true, null, null));
    TableDef widened = new TableDef(table.id(), new TableSchema(wider));
    engine.addColumn(table.id(), widened.schema());
    assertThat(engine.prefixCounts().kept()).isZero();
    assertThat(total(widened)).isEqualTo(45);
  }

  @Test
  void aConditionSearchedLatelyIsCountedAsTheAppendsSettleRows() {
    TableDef table = table();
    append(table, rows(1, 100));
    assertThat(total(table)).isEqualTo(50);
    assertThat(engine.prefixCounts().keptBound(table.id())).isEqualTo(100);
    // more conditions than the appends count the matches of: the first has no live total, only its kept count
    for (int i = 0; i < PrefixCounts.WATCHED; i++) {
      engine.search(table, new Predicate.LongRange("id", i, i), List.of(), 0, 10);
    }
    assertThat(engine.prefixCounts().live(table.id())).isEqualTo(PrefixCounts.WATCHED);
    for (int batch = 0; batch < 12; batch++) {
      append(table, rows(101 + batch * 1_000, 1_000));
    }
    // no search meanwhile: the appends' refreshes moved the kept count up
    await().atMost(Duration.ofSeconds(30))
        .until(() -> engine.prefixCounts().keptBound(table.id()) >= 100 + PrefixCounts.REFRESH_ROWS);
    assertThat(total(table)).isEqualTo(50 + 6_000);
    assertThat(total(table)).isEqualTo(50 + 6_000);
  }

  @Test
  void aSearchedConditionsTotalLivesOnWithTheAppendsOwnCounts() throws Exception {
    TableDef table = table();
    append(table, rows(1, 100));
    assertThat(total(table)).isEqualTo(50);
    assertThat(engine.prefixCounts().live(table.id())).as("from the search's snapshot").isEqualTo(1);
    append(table, rows(101, 12));
    assertThat(total(table)).as("50 and the append's 6 matches of its 12 rows").isEqualTo(56);
    assertThat(engine.prefixCounts().live(table.id())).isEqualTo(1);

    // An append that started before the condition was searched does not count its matches: once it commits, the
    // next search counts again, and is live again.
    TableDef other = table();
    try (Connection sql = jdbc(); Statement s = sql.createStatement()) {
      gate(s, other);
      Future<Integer> first = heldAppend(s, other);
      assertThat(total(other)).as("nothing committed yet").isZero();
      assertThat(engine.prefixCounts().live(other.id())).isEqualTo(1);
      append(other, rows(2001, 10));
      assertThat(total(other)).isEqualTo(5);
      s.execute("SELECT pg_advisory_unlock(4242)");
      assertThat(await(first)).isEqualTo(11);
    }
    assertThat(engine.prefixCounts().live(other.id())).as("the held append did not count the condition").isZero();
    assertThat(total(other)).isEqualTo(11);
    assertThat(engine.prefixCounts().live(other.id())).isEqualTo(1);
    append(other, rows(3001, 4));
    assertThat(total(other)).isEqualTo(13);

    assertThat(await(engine.delete(table, new Predicate.LongRange("id", 1, 20), null))).isEqualTo(20);
    assertThat(engine.prefixCounts().live(table.id())).as("a delete ends live totals").isZero();
    assertThat(total(table)).isEqualTo(46);
  }

  @Test
  void aConditionCountedByAnAppendHasItsPlaceholdersMovedPastTheAppendsOwn() {
    assertThat(PgPredicates.shifted("(\"c:a$1\" = $1::text AND 'x$2''$3' <> $12::bigint)", 3))
        .isEqualTo("(\"c:a$1\" = $4::text AND 'x$2''$3' <> $15::bigint)");
  }

  @Test
  void aLiveTotalAddsTheAppendsItsSnapshotDidNotSee() {
    PrefixCounts counts = new PrefixCounts();
    counts.appended("t", counts.appending("t"), 100, 100);
    PrefixCounts.Plan first = counts.plan("t", "g = $1", List.of("x"));
    assertThat(counts.counted(first, 50, 50, -1, PrefixCounts.Snapshot.parse("200:200:"))).isTrue();
    PrefixCounts.Append beside = counts.appending("t");
    PrefixCounts.Append seen = counts.appending("t");
    PrefixCounts.Plan search = counts.plan("t", "g = $1", List.of("x"));
    assertThat(search.live()).isEqualTo(50);
    // both committed while the search ran; its snapshot saw transaction 201, not 203
    counts.appended("t", seen, 120, 20, 201, new long[] {7});
    counts.appended("t", beside, 110, 10, 203, new long[] {3});
    assertThat(counts.plan("t", "g = $1", List.of("x")).live()).as("the first snapshot saw neither")
        .isEqualTo(60);
    assertThat(counts.counted(search, 52, 57, -1, PrefixCounts.Snapshot.parse("201:205:203"))).isTrue();
    assertThat(counts.plan("t", "g = $1", List.of("x")).live()).as("its 57 and 203's 3").isEqualTo(60);

    PrefixCounts.Append late = counts.appending("t");
    counts.appended("t", late, 130, 10, 210, new long[] {4});
    assertThat(counts.plan("t", "g = $1", List.of("x")).live()).isEqualTo(64);
    counts.appended("t", counts.appending("t"), 140, 10);
    assertThat(counts.plan("t", "g = $1", List.of("x")).live()).as("an append whose transaction is not known")
        .isEqualTo(-1);
  }

  @Test
  void aRestartedEngineSettlesAQuietTableWithItsFirstSearch() {
    TableDef table = table();
    append(table, rows(1, 100));
    engine.close();
    engine = new PgEngine(vertx, database, 4, 2, "sluice");
    assertThat(engine.prefixCounts().settled(table.id())).as("nothing known yet").isZero();
    assertThat(total(table)).isEqualTo(50);
    assertThat(engine.prefixCounts().settled(table.id())).as("settled by a search no append ran beside")
        .isEqualTo(100);
    append(table, rows(101, 10));
    assertThat(total(table)).isEqualTo(55);
    assertThat(engine.prefixCounts().live(table.id())).isEqualTo(1);
  }

  @Test
  void searchesRacingAppendsSeeEveryAcknowledgedRowAndNoUnstartedOne() {
    long seed = TestSeeds.seed("PrefixCountsTest.racing");
    Random random = new Random(seed);
    TableDef table = table();
    AtomicLong acknowledged = new AtomicLong();
    AtomicLong started = new AtomicLong();
    List<Future<Integer>> appends = new ArrayList<>();
    int next = 1;
    for (int i = 0; i < 60; i++) {
      int n = 1 + random.nextInt(80);
      List<Row> rows = rows(next, n);
      long marked = rows.stream().filter(r -> ((Utf8) r.values()[1]).toString().equals("x")).count();
      next += n;
      started.addAndGet(marked);
      appends.add(engine.append(table, batch(rows.toArray(Row[]::new)), null, false)
          .onSuccess(stored -> acknowledged.addAndGet(marked)));
      if (random.nextInt(3) == 0) {
        long low = acknowledged.get();
        long total = total(table);
        long high = started.get();
        assertThat(total).as("seed %d: between %d acknowledged and %d sent", seed, low, high).isBetween(low, high);
      }
    }
    appends.forEach(PgEngineTest::await);
    assertThat(engine.tableStats(table.id(), true).rows()).as("seed %d", seed).isEqualTo(next - 1);
    assertThat(total(table)).as("seed %d", seed).isEqualTo(started.get());
    assertThat(total(table)).as("seed %d, from the kept count", seed).isEqualTo(started.get());
  }

  @Test
  void aLostAppendOrChangeLeavesNothingSettledForAWhile() {
    PrefixCounts counts = new PrefixCounts();
    counts.appended("t", counts.appending("t"), 100, 100);
    PrefixCounts.Plan plan = counts.plan("t", "g = $1", List.of("x"));
    assertThat(plan.bound()).isEqualTo(100);
    assertThat(counts.counted(plan, 50, -1)).isTrue();
    assertThat(counts.plan("t", "g = $1", List.of("x")).base()).as("kept").isEqualTo(50);

    counts.lost("t", counts.appending("t"));
    assertThat(counts.plan("t", "g = $1", List.of("x")).bound()).as("its rows may yet commit, numbered above 100")
        .isZero();
    assertThat(counts.plan("t", "g = $1", List.of("x")).from()).as("and the kept count is gone").isEqualTo(-1);

    PrefixCounts other = new PrefixCounts();
    other.appended("u", other.appending("u"), 10, 10);
    other.changeStarted();
    other.changeEnded("u", true);
    assertThat(other.plan("u", "true", List.of()))
        .as("a lost delete may yet commit").isNull();
  }

  @Test
  void refreshesRunTwoAtATimeAndOnlyForConditionsSearchedLately() {
    PrefixCounts counts = new PrefixCounts();
    counts.appended("t", counts.appending("t"), 100, 100);
    for (int i = 0; i < 3; i++) {
      assertThat(counts.counted(counts.plan("t", "id = $1", List.of(i)), 1, -1)).isTrue();
    }
    assertThat(counts.appended("t", counts.appending("t"), 100 + PrefixCounts.REFRESH_ROWS - 1, 1))
        .as("not yet %d rows past the kept bound", PrefixCounts.REFRESH_ROWS).isEmpty();
    List<PrefixCounts.Plan> due = counts.appended("t", counts.appending("t"), 100 + PrefixCounts.REFRESH_ROWS, 1);
    assertThat(due).hasSize(PrefixCounts.MAX_REFRESHING);
    assertThat(counts.appended("t", counts.appending("t"), 200 + PrefixCounts.REFRESH_ROWS, 1))
        .as("while two run").isEmpty();
    due.forEach(counts::refreshed);
    assertThat(counts.appended("t", counts.appending("t"), 300 + PrefixCounts.REFRESH_ROWS, 1))
        .as("the one left, and the two again (none was counted)").hasSize(PrefixCounts.MAX_REFRESHING);
  }

  // ------------------------------------------------------------------ helpers

  private long total(TableDef table) {
    return engine.search(table, MARKED, List.of(), 0, 10).total();
  }

  private TableDef table() {
    TableDef table = new TableDef(UUID.randomUUID().toString().replace("-", ""), SCHEMA);
    engine.createTable(table);
    return table;
  }

  private void append(TableDef table, List<Row> rows) {
    await(engine.append(table, batch(rows.toArray(Row[]::new)), null, false));
  }

  /** n rows from id {@code first}: even ids marked "x", odd ones "y". */
  private static List<Row> rows(int first, int n) {
    List<Row> rows = new ArrayList<>();
    for (int id = first; id < first + n; id++) {
      rows.add(row(id, id % 2 == 0 ? "x" : "y"));
    }
    return rows;
  }

  private static Row row(int id, String g) {
    return new Row(new Object[] {(long) id, Utf8.of(g)},
        ("{\"id\":" + id + ",\"g\":\"" + g + "\"}").getBytes(StandardCharsets.UTF_8));
  }

  private Connection jdbc() throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + database.getPort() + "/"
        + database.getDatabase(), TestPostgres.USER, "");
  }

  /**
   * The first row of an append with a negative id waits in a trigger, after its row number was handed out, while
   * the test holds advisory lock 4242.
   */
  private static void gate(Statement s, TableDef table) throws SQLException {
    s.execute("CREATE OR REPLACE FUNCTION sluice.gate() RETURNS trigger LANGUAGE plpgsql AS"
        + " $$ BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NEW; END $$");
    s.execute("CREATE TRIGGER gate BEFORE INSERT ON " + PgNames.table("sluice", table.id()) + " FOR EACH ROW WHEN"
        + " (NEW." + PgNames.column("id") + " < 0) EXECUTE FUNCTION sluice.gate()");
  }

  /** Rows 1001-1010 and, first, row -1 (marked), held at the gate until the test unlocks 4242: 6 matches. */
  private Future<Integer> heldAppend(Statement s, TableDef table) throws SQLException {
    s.execute("SELECT pg_advisory_lock(4242)");
    List<Row> held = new ArrayList<>(rows(1001, 10));
    held.add(0, row(-1, "x"));
    Future<Integer> append = engine.append(table, batch(held.toArray(Row[]::new)), null, false);
    await().atMost(Duration.ofSeconds(30)).until(() -> waitingForTheGate(s));
    return append;
  }

  private static boolean waitingForTheGate(Statement s) throws SQLException {
    try (var rows = s.executeQuery("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")) {
      rows.next();
      return rows.getLong(1) > 0;
    }
  }
}
