package io.sluice.engine.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.TestPorts;
import io.sluice.TestPostgres;
import io.sluice.engine.Checkpoint;
import io.sluice.engine.Order;
import io.sluice.engine.Page;
import io.sluice.engine.Predicate;
import io.sluice.engine.Row;
import io.sluice.engine.RowBatch;
import io.sluice.engine.StorageException;
import io.sluice.engine.TableDef;
import io.sluice.engine.Utf8;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;
import io.sluice.schema.TableSchema;
import io.sluice.schema.analysis.TextTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL engine against a real (embedded) PostgreSQL: catalog, every predicate kind and order, import
 * checkpoints, copies, deletes, hostile column names and an unreachable server. The HTTP contract on this
 * engine is the API suite's job; this pins what the engine itself promises ({@link io.sluice.engine}).
 */
class PgEngineTest {
  private static Vertx vertx;
  private static PgEngine engine;
  private static PgConnectOptions database;

  private static final TableSchema SCHEMA = schema(
      "id", col(ColumnType.INT), "n", col(ColumnType.LONG), "d", col(ColumnType.DECIMAL),
      "s", col(ColumnType.STRING), "t", new ColumnSchema(ColumnType.TEXT, true, null, "english"),
      "b", col(ColumnType.BOOLEAN));

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    database = TestPostgres.freshDatabase();
    engine = new PgEngine(vertx, database, 4, "sluice");
  }

  @AfterAll
  static void stop() {
    engine.close();
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  @Test
  void anImportHandsItsPagesToTheDiskAsItGoesOnlyBesideOtherWrites() {
    // one write connection: the session a statement ran in is the one the setting is read from
    PgEngine flushing = new PgEngine(vertx, TestPostgres.freshDatabase(), 1, 1, "sluice", false, 0, false, 1, 256);
    PgEngine serversOwn = new PgEngine(vertx, TestPostgres.freshDatabase(), 1, 1, "sluice", false, 0, false, 1, 0);
    try {
      TableDef imported = new TableDef(newId(), SCHEMA);
      TableDef other = new TableDef(newId(), SCHEMA);
      for (PgEngine each : List.of(flushing, serversOwn)) {
        each.createTable(imported);
        each.createTable(other);
      }
      await(flushing.append(imported, batch(row(1, 1L, 1.0, "a", "a", true)), fileBatch(0), false));
      assertThat(flushing.writeSetting("backend_flush_after")).as("an import alone: the server's").isEqualTo("0");

      await(flushing.append(other, batch(row(2, 2L, 2.0, "b", "b", true)), null, false));
      await(flushing.append(imported, batch(row(3, 3L, 3.0, "c", "c", true)), fileBatch(1), false));
      assertThat(flushing.writeSetting("backend_flush_after")).as("an import beside another write")
          .isEqualTo("256kB");

      // a batch sent with an Idempotency-Key carries a checkpoint too, but no lease: another write
      PgEngine keyed = new PgEngine(vertx, TestPostgres.freshDatabase(), 1, 1, "sluice", false, 0, false, 1, 256);
      try {
        keyed.createTable(imported);
        keyed.createTable(other);
        await(keyed.append(other, batch(row(2, 2L, 2.0, "b", "b", true)), new Checkpoint("key", 7), false));
        await(keyed.append(imported, batch(row(3, 3L, 3.0, "c", "c", true)), fileBatch(1), false));
        assertThat(keyed.writeSetting("backend_flush_after")).as("beside a keyed batch").isEqualTo("256kB");
      } finally {
        keyed.close();
      }

      await(serversOwn.append(other, batch(row(2, 2L, 2.0, "b", "b", true)), null, false));
      await(serversOwn.append(imported, batch(row(3, 3L, 3.0, "c", "c", true)), fileBatch(1), false));
      assertThat(serversOwn.writeSetting("backend_flush_after")).as("0: never").isEqualTo("0");
      assertThat(flushing.rowCount(imported.id())).isEqualTo(2);
      assertThat(flushing.rowCount(other.id())).isEqualTo(1);
    } finally {
      flushing.close();
      serversOwn.close();
    }
  }

  @Test
  void aStreamedImportsBatchesAreBulkLikeAFileImports() {
    PgEngine flushing = new PgEngine(vertx, TestPostgres.freshDatabase(), 1, 1, "sluice", false, 0, false, 1, 256);
    try {
      TableDef streamed = new TableDef(newId(), SCHEMA);
      TableDef other = new TableDef(newId(), SCHEMA);
      flushing.createTable(streamed);
      flushing.createTable(other);
      await(flushing.append(streamed, bulk(0), null, false));
      await(flushing.append(streamed, batch(row(1, 1L, 1.0, "a", "a", true)), fileBatch(0), false));
      assertThat(flushing.writeSetting("backend_flush_after"))
          .as("a file import beside a stream (no checkpoint, but bulk): no other write about").isEqualTo("0");

      await(flushing.append(other, batch(row(2, 2L, 2.0, "b", "b", true)), null, false));
      await(flushing.append(streamed, bulk(2000), null, false));
      assertThat(flushing.writeSetting("backend_flush_after")).as("a stream's batch beside a small write")
          .isEqualTo("256kB");
      assertThat(flushing.rowCount(streamed.id())).isEqualTo(2 * BULK_ROWS + 1);
    } finally {
      flushing.close();
    }
  }

  @Test
  void inAClusterABulkAppendHandsItsPagesToTheDiskForItsTransactionOnly() throws Exception {
    PgConnectOptions db = TestPostgres.freshDatabase();
    PgEngine node = new PgEngine(vertx, db, 1, 1, "sluice", true, 0, false, 1, 256);
    io.vertx.sqlclient.SqlConnection c = io.vertx.pgclient.PgConnection.connect(vertx, db)
        .toCompletionStage().toCompletableFuture().get();
    try {
      node.loadCatalog();
      TableDef streamed = new TableDef(newId(), SCHEMA);
      TableDef other = new TableDef(newId(), SCHEMA);
      node.createTable(streamed);
      node.createTable(other);
      node.saveCatalog(Map.of("streamed", streamed, "other", other));
      // what each statement inserting into the streamed table ran with
      await(c.query("CREATE TABLE flush_seen (n serial, setting text)").execute());
      await(c.query("CREATE FUNCTION note_flush() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
          + " INSERT INTO flush_seen (setting) VALUES (current_setting('backend_flush_after')); RETURN NULL; END $$")
          .execute());
      await(c.query("CREATE TRIGGER note_flush AFTER INSERT ON " + PgNames.table("sluice", streamed.id())
          + " FOR EACH STATEMENT EXECUTE FUNCTION note_flush()").execute());

      await(node.append(streamed, bulk(0), null, false));
      await(node.append(other, batch(row(2, 2L, 2.0, "b", "b", true)), null, false));
      await(node.append(streamed, bulk(1000), null, false));
      await(node.append(streamed, batch(row(3, 3L, 3.0, "c", "c", true)), null, false));
      List<String> seen = new ArrayList<>();
      await(c.query("SELECT setting FROM flush_seen ORDER BY n").execute()).forEach(r -> seen.add(r.getString(0)));
      assertThat(seen).as("alone, beside a small write, then a small write itself").containsExactly("0", "256kB", "0");
      assertThat(node.writeSetting("backend_flush_after")).as("the session after the transaction").isEqualTo("0");
    } finally {
      c.close();
      node.close();
    }
  }

  private static final int BULK_ROWS = 300;

  /** A streamed import's batch: no checkpoint, and more than {@link PgEngine#BULK_BYTES} of rows. */
  private static RowBatch bulk(int firstId) {
    String text = "x".repeat(1024);
    Row[] rows = new Row[BULK_ROWS];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = row(firstId + i, (long) i, 1.0, text, "t", true);
    }
    assertThat((long) BULK_ROWS * text.length()).isGreaterThan(PgEngine.BULK_BYTES);
    return batch(rows);
  }

  /** A file import's batch: its checkpoint is leased. */
  private static Checkpoint fileBatch(long batch) {
    return new Checkpoint("job", batch, true);
  }

  @Test
  void theCatalogRoundTripsInOrderAndIsReplacedWhole() {
    PgEngine own = new PgEngine(vertx, TestPostgres.freshDatabase(), 2, "my \"schema\"");
    try {
      assertThat(own.loadCatalog()).isEmpty();
      Map<String, TableDef> tables = new LinkedHashMap<>();
      tables.put("zeta", new TableDef(newId(), SCHEMA));
      tables.put("alpha", new TableDef(newId(), schema("k", new ColumnSchema(ColumnType.STRING, false, null, null),
          "link", new ColumnSchema(ColumnType.STRING, true, "zeta.s", null))));
      own.saveCatalog(tables);
      assertThat(own.loadCatalog()).containsExactlyEntriesOf(tables);
      assertThat(new ArrayList<>(own.loadCatalog().keySet())).containsExactly("zeta", "alpha");

      tables.remove("zeta");
      own.saveCatalog(tables);
      assertThat(own.loadCatalog()).containsExactlyEntriesOf(tables);
    } finally {
      own.close();
    }
  }

  @Test
  void everyPredicateKindFindsWhatLuceneWould() {
    TableDef table = table(SCHEMA);
    append(table, null,
        row(1, 10L, 1.5, "apple", "The quick brown foxes", true),
        row(2, null, 0.0, "B", "lazy dogs sleeping", false),
        row(3, 30L, -0.0, "z", null, null),
        row(4, 40L, null, "\u00e4", "quick dogs", true),
        row(5, -5L, -2.25, "\u00e9", "", false),
        row(6, 10L, 1e300, "50%off", "brown", null),
        row(7, 70L, 3.0, "50xoff", "fox", true),
        row(8, null, null, null, null, null));

    assertThat(ids(table, new Predicate.All())).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
    assertThat(ids(table, new Predicate.None("nothing"))).isEmpty();
    assertThat(ids(table, new Predicate.LongRange("id", 3, 5))).containsExactly(3, 4, 5);
    assertThat(ids(table, new Predicate.LongRange("id", Long.MIN_VALUE, 2))).containsExactly(1, 2);
    assertThat(ids(table, new Predicate.LongRange("n", 10, 10))).containsExactly(1, 6);
    assertThat(ids(table, new Predicate.DoubleRange("d", -0.0, -0.0))).as("-0.0 equals 0.0").containsExactly(2, 3);
    assertThat(ids(table, new Predicate.DoubleRange("d", 0.0, 0.0))).containsExactly(2, 3);
    assertThat(ids(table, new Predicate.DoubleRange("d", Math.nextUp(0.0), Double.POSITIVE_INFINITY)))
        .containsExactly(1, 6, 7);
    assertThat(ids(table, new Predicate.BooleanEquals("b", false))).containsExactly(2, 5);
    assertThat(ids(table, new Predicate.StringEquals("s", "B"))).containsExactly(2);
    assertThat(ids(table, new Predicate.StringEquals("s", "b"))).isEmpty();
    assertThat(ids(table, new Predicate.StringEquals("t", "quick dogs"))).as("Text: the exact value")
        .containsExactly(4);
    // byte order: "B" < "a..." < "z" < "ä" (C3 A4) < "é" (C3 A9)
    assertThat(ids(table, new Predicate.StringRange("s", "a", true, "z", true))).containsExactly(1, 3);
    assertThat(ids(table, new Predicate.StringRange("s", "z", false, null, false))).containsExactly(4, 5);
    assertThat(ids(table, new Predicate.StringRange("s", null, false, "B", true))).containsExactly(2, 6, 7);
    assertThat(ids(table, new Predicate.StringRange("s", null, false, null, false)))
        .containsExactly(1, 2, 3, 4, 5, 6, 7);
    assertThat(ids(table, new Predicate.StartsWith("s", "50%"))).as("no LIKE wildcards").containsExactly(6);
    assertThat(ids(table, new Predicate.StartsWith("s", "50_"))).isEmpty();
    assertThat(ids(table, new Predicate.StartsWith("s", ""))).containsExactly(1, 2, 3, 4, 5, 6, 7);
    assertThat(ids(table, new Predicate.StartsWith("t", "quick"))).containsExactly(4);
    assertThat(ids(table, tokens("t", "quick fox", false))).containsExactly(1, 4, 7);
    assertThat(ids(table, tokens("t", "quick fox", true))).as("'foxes' stems to 'fox'").containsExactly(1);
    assertThat(ids(table, tokens("t", "dog", false))).containsExactly(2, 4);
    assertThat(ids(table, new Predicate.In("n", Set.of(10L, 70L)))).containsExactly(1, 6, 7);
    assertThat(ids(table, new Predicate.In("id", Set.of(8L)))).containsExactly(8);
    assertThat(ids(table, new Predicate.In("d", Set.of(0.0, 3.0)))).containsExactly(2, 3, 7);
    assertThat(ids(table, new Predicate.In("s", Set.of("B", "\u00e9", "nope")))).containsExactly(2, 5);
    assertThat(ids(table, new Predicate.In("b", Set.of(true)))).containsExactly(1, 4, 7);
    assertThat(ids(table, new Predicate.Defined("n"))).containsExactly(1, 3, 4, 5, 6, 7);
    assertThat(ids(table, new Predicate.Defined("t"))).containsExactly(1, 2, 4, 5, 6, 7);

    // "not" is every row minus the matches, rows with a null column included (SQL would say NULL)
    assertThat(ids(table, new Predicate.Not(new Predicate.BooleanEquals("b", true)))).containsExactly(2, 3, 5, 6, 8);
    assertThat(ids(table, new Predicate.Not(new Predicate.LongRange("n", 0, 35)))).containsExactly(2, 4, 5, 7, 8);
    assertThat(ids(table, new Predicate.Not(new Predicate.Not(new Predicate.BooleanEquals("b", true)))))
        .containsExactly(1, 4, 7);
    assertThat(ids(table, new Predicate.Not(tokens("t", "dog", false)))).containsExactly(1, 3, 5, 6, 7, 8);
    assertThat(ids(table, new Predicate.And(List.of(new Predicate.BooleanEquals("b", true),
        new Predicate.LongRange("n", 0, 50))))).containsExactly(1, 4);
    assertThat(ids(table, new Predicate.Or(List.of(new Predicate.BooleanEquals("b", false),
        new Predicate.StringEquals("s", "z"))))).containsExactly(2, 3, 5);
    assertThat(ids(table, new Predicate.And(List.of()))).hasSize(8);
    assertThat(ids(table, new Predicate.Or(List.of()))).isEmpty();
    assertThatThrownBy(() -> ids(table, new Predicate.LinkPath("s", "other", "k", new Predicate.All())))
        .isInstanceOf(IllegalStateException.class);

    assertThat(engine.values(table, new Predicate.LongRange("id", 1, 3), "s")).containsExactlyInAnyOrder(
        "apple", "B", "z");
    assertThat(engine.values(table, new Predicate.All(), "n")).containsExactlyInAnyOrder(10L, 30L, 40L, -5L, 70L);
    assertThat(engine.values(table, new Predicate.All(), "id")).contains(1L, 8L);
    assertThat(engine.values(table, new Predicate.All(), "b")).containsExactlyInAnyOrder(true, false);
    assertThat(engine.rowCount(table.id())).isEqualTo(8);
  }

  @Test
  void ordersPutNullsLastBothWaysAndBreakTiesByInsertionOrder() {
    TableDef table = table(SCHEMA);
    append(table, null,
        row(1, 10L, 1.0, "b", "x", true),
        row(2, null, 2.0, "a", "y", false),
        row(3, 10L, null, "\u00e4", null, null),
        row(4, 5L, 2.0, "B", "z", true),
        row(5, null, -1.0, null, "w", false),
        row(6, 20L, 2.0, "a", "v", null));
    assertThat(ordered(table, new Order("n", false))).containsExactly(4, 1, 3, 6, 2, 5);
    assertThat(ordered(table, new Order("n", true))).containsExactly(6, 1, 3, 4, 2, 5);
    assertThat(ordered(table, new Order("d", true))).containsExactly(2, 4, 6, 1, 5, 3);
    assertThat(ordered(table, new Order("s", false))).as("by UTF-8 bytes").containsExactly(4, 2, 6, 1, 3, 5);
    assertThat(ordered(table, new Order("s", true))).containsExactly(3, 1, 2, 6, 4, 5);
    assertThat(ordered(table, new Order("b", false))).containsExactly(2, 5, 1, 4, 3, 6);
    assertThat(ordered(table, new Order("d", false), new Order("n", true))).containsExactly(5, 1, 6, 4, 2, 3);
    assertThat(ordered(table)).containsExactly(1, 2, 3, 4, 5, 6);

    Page page = engine.search(table, new Predicate.Defined("n"), List.of(new Order("n", false)), 1, 2);
    assertThat(page.total()).isEqualTo(4);
    assertThat(ids(page)).containsExactly(1, 3);
    Page beyond = engine.search(table, new Predicate.All(), List.of(), 10, 5);
    assertThat(beyond.total()).as("the total even past the last page").isEqualTo(6);
    assertThat(beyond.sources()).isEmpty();
  }

  @Test
  void sourcesComeBackByteForByte() {
    TableDef table = table(schema("s", col(ColumnType.STRING)));
    String json = "{ \"s\" :\"caf\\u00e9 \u2603 \ud83d\ude00\" ,\"extra\":1.50e0 }";
    append(table, null, new Row(new Object[] {Utf8.of("caf\u00e9 \u2603 \ud83d\ude00")},
        json.getBytes(StandardCharsets.UTF_8)));
    Page page = engine.search(table, new Predicate.All(), List.of(), 0, 10);
    assertThat(new String(page.sources().get(0), StandardCharsets.UTF_8)).isEqualTo(json);
  }

  @Test
  void valuesSlicedFromOneBodyAndTokenArraysAreStoredExactly() throws Exception {
    TableSchema wide = schema("s", col(ColumnType.STRING), "w", new ColumnSchema(ColumnType.TEXT, true, null,
        "whitespace"), "e", new ColumnSchema(ColumnType.TEXT, true, null, "english"), "n", col(ColumnType.INT));
    TableDef table = table(wide);
    StringBuilder many = new StringBuilder();
    for (int i = 0; i < 150; i++) {
      many.append("w").append(i % 97).append(i % 3 == 0 ? " dup " : " ");
    }
    String[] whitespace = {"a,b {c} \"q\" back\\slash NULL null a,b",
        "caf\u00e9 \u2603 \ud83d\ude00 \u00e9\ud83d\ude00 x", many.toString(), "", "   "};
    String[] english = {"The quick brown foxes jumped", "running runs ran", "\u00c9t\u00e9 caf\u00e9s", "", "a an the"};
    // One body, as an import batch arrives: the sources and the plain values are slices of it, the others not.
    StringBuilder body = new StringBuilder();
    List<int[]> spans = new ArrayList<>();
    for (int i = 0; i < whitespace.length; i++) {
      int start = body.toString().getBytes(StandardCharsets.UTF_8).length;
      body.append(new JsonObject().put("s", "plain" + i).put("w", whitespace[i]).put("e", english[i]).put("n", i)
          .encode()).append('\n');
      spans.add(new int[] {start, body.toString().getBytes(StandardCharsets.UTF_8).length - 1 - start});
    }
    byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < whitespace.length; i++) {
      int[] span = spans.get(i);
      String line = new String(bytes, span[0], span[1], StandardCharsets.UTF_8);
      int at = span[0] + line.indexOf("plain" + i);
      Object[] values = {new Utf8(bytes, at, ("plain" + i).length(), null), Utf8.of(whitespace[i]),
          Utf8.of(english[i]), (long) i};
      rows.add(new Row(values, bytes, span[0], span[1]));
    }
    append(table, new Checkpoint("job", 1), rows.toArray(new Row[0]));

    for (int i = 0; i < rows.size(); i++) {
      assertThat(sources(table, new Predicate.StringEquals("s", "plain" + i)))
          .containsExactly(new String(bytes, spans.get(i)[0], spans.get(i)[1], StandardCharsets.UTF_8));
      assertThat(sources(table, new Predicate.StringEquals("w", whitespace[i]))).hasSize(1);
      assertThat(sources(table, new Predicate.StringEquals("e", english[i]))).hasSize(1);
    }
    io.vertx.sqlclient.SqlConnection c = io.vertx.pgclient.PgConnection.connect(vertx, database)
        .toCompletionStage().toCompletableFuture().get();
    try {
      io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row> stored = await(c.query("SELECT " + PgNames.column("n") + ", "
          + PgNames.tokens("w") + ", " + PgNames.tokens("e") + " FROM " + PgNames.table("sluice", table.id())
          + " ORDER BY _seq").execute());
      int i = 0;
      for (io.vertx.sqlclient.Row row : stored) {
        assertThat(row.getInteger(0)).isEqualTo(i);
        assertThat(row.getArrayOfStrings(1)).as("whitespace tokens of row " + i)
            .containsExactlyElementsOf(TextTokens.of(wide.column("w"), whitespace[i]));
        assertThat(row.getArrayOfStrings(2)).as("english tokens of row " + i)
            .containsExactlyElementsOf(TextTokens.of(wide.column("e"), english[i]));
        i++;
      }
      assertThat(i).isEqualTo(rows.size());
    } finally {
      c.close();
    }
    assertThat(TextTokens.of(wide.column("w"), many.toString())).as("past the linear duplicate check").hasSize(98);
    assertThat(sources(table, new Predicate.Tokens("w", List.of("\"q\""), true))).hasSize(1);
    assertThat(sources(table, new Predicate.Tokens("w", List.of("w96", "dup"), true))).hasSize(1);
  }

  @Test
  void aNulInAValueSlicedFromTheBodyIsRefusedToo() {
    TableDef table = table(schema("s", col(ColumnType.STRING)));
    byte[] body = "{\"s\":\"ok\"}\n{\"s\":\"a\u0000b\"}".getBytes(StandardCharsets.UTF_8);
    Row first = new Row(new Object[] {new Utf8(body, 6, 2, null)}, body, 0, 10);
    Row second = new Row(new Object[] {new Utf8(body, 17, 3, null)}, body, 11, body.length - 11);
    assertThatThrownBy(() -> append(table, null, first, second)).cause()
        .isInstanceOfSatisfying(StorageException.class, e -> {
          assertThat(e.kind()).isEqualTo(StorageException.Kind.UNSUPPORTED_VALUE);
          assertThat(e.row()).isEqualTo(1);
        });
    append(table, null, first);
    assertThat(sources(table)).containsExactly("{\"s\":\"ok\"}");
  }

  @Test
  void anImportIntoAnEmptyTableBuildsItsTokenIndexesOnceItEnds() throws Exception {
    TableSchema two = schema("id", col(ColumnType.INT), "t", new ColumnSchema(ColumnType.TEXT, true, null, "english"),
        "w", new ColumnSchema(ColumnType.TEXT, true, null, "whitespace"));
    TableDef table = table(two);
    assertThat(ginIndexes(table)).isEqualTo(2);
    await(engine.importStarting(table, "job-a"));
    await(engine.importStarting(table, "job-b"));
    assertThat(ginIndexes(table)).as("dropped for the bulk load").isZero();
    Row fox = new Row(new Object[] {1L, Utf8.of("quick foxes"), Utf8.of("a b")}, "{\"id\":1}".getBytes(
        StandardCharsets.UTF_8));
    await(engine.append(table, batch(fox), new Checkpoint("job-a", 0), true));
    assertThat(sources(table, new Predicate.Tokens("t", TextTokens.of(two.column("t"), "fox"), true)))
        .as("found without the index meanwhile").containsExactly("{\"id\":1}");
    await(engine.importEnded(table, "job-a"));
    assertThat(ginIndexes(table)).as("job-b still loads it").isZero();
    await(engine.importEnded(table, "job-b"));
    assertThat(ginIndexes(table)).isEqualTo(2);
    assertThat(sources(table, new Predicate.Tokens("w", List.of("b"), true))).containsExactly("{\"id\":1}");

    await(engine.importStarting(table, "job-c"));
    assertThat(ginIndexes(table)).as("a table with rows keeps its indexes").isEqualTo(2);
    await(engine.importEnded(table, "job-c"));
    await(engine.importEnded(table, "never-started"));
    assertThat(ginIndexes(table)).isEqualTo(2);
  }

  @Test
  void tokenIndexesABulkLoadLeftMissingAreBuiltAtStartAndByOptimize() throws Exception {
    PgConnectOptions db = TestPostgres.freshDatabase();
    PgEngine own = new PgEngine(vertx, db, 2, "sluice");
    TableDef table = new TableDef(newId(), SCHEMA);
    try {
      own.loadCatalog();
      own.createTable(table);
      own.saveCatalog(Map.of("t", table));
      await(own.importStarting(table, "job"));
      assertThat(ginIndexes(db, table)).isZero();
      await(own.optimize(table.id()));
      assertThat(ginIndexes(db, table)).as("not while the import loads it").isZero();
    } finally {
      own.close(); // stopped without the import's end
    }
    PgEngine restarted = new PgEngine(vertx, db, 2, "sluice");
    try {
      restarted.loadCatalog();
      assertThat(ginIndexes(db, table)).isEqualTo(1);
      await(restarted.importStarting(table, "job-2"));
      assertThat(ginIndexes(db, table)).isZero();
      await(restarted.optimize(table.id()));
      assertThat(ginIndexes(db, table)).isZero();
      await(restarted.importEnded(null, "job-2")); // as when its table is gone: the job is forgotten, nothing built
      await(restarted.optimize(table.id()));
      assertThat(ginIndexes(db, table)).as("optimize builds what is missing").isEqualTo(1);
    } finally {
      restarted.close();
    }
  }

  private static int ginIndexes(TableDef table) throws Exception {
    return ginIndexes(database, table);
  }

  private static int ginIndexes(PgConnectOptions db, TableDef table) throws Exception {
    io.vertx.sqlclient.SqlConnection c = io.vertx.pgclient.PgConnection.connect(vertx, db)
        .toCompletionStage().toCompletableFuture().get();
    try {
      return await(c.preparedQuery("SELECT count(*) FROM pg_indexes WHERE schemaname = 'sluice' AND tablename = $1"
          + " AND indexdef LIKE '%USING gin%'").execute(io.vertx.sqlclient.Tuple.of(PgNames.tableName(table.id()))))
          .iterator().next().getInteger(0);
    } finally {
      c.close();
    }
  }

  @Test
  void aNulCharacterIsRefusedBeforeItReachesPostgres() {
    TableDef table = table(SCHEMA);
    assertThatThrownBy(() -> append(table, null, row(2, 2L, 2.0, "ab", "x", true),
        row(1, 1L, 1.0, "a\u0000b", "x", true)))
        .cause().isInstanceOfSatisfying(StorageException.class, e -> {
          assertThat(e.kind()).isEqualTo(StorageException.Kind.UNSUPPORTED_VALUE);
          assertThat(e.row()).isEqualTo(1);
          assertThat(e.column()).isEqualTo("s");
          assertThat(e.getMessage()).contains("U+0000");
        });
    assertThat(ids(table, new Predicate.All())).as("nothing of the refused batch").isEmpty();
    assertThat(engine.rowCheck().refusal(SCHEMA, row(1, 1L, 1.0, "a\u0000b", "x", true)).column()).isEqualTo("s");
    assertThat(engine.rowCheck().refusal(SCHEMA, row(1, 1L, 1.0, "ab", "x\u0000", true)).column()).isEqualTo("t");
    assertThat(engine.rowCheck().refusal(SCHEMA, row(1, 1L, 1.0, "ab", "x", true))).isNull();
    append(table, null, row(2, 2L, 2.0, "ab", "x", true));
    assertThat(ids(table, new Predicate.All())).containsExactly(2);
  }

  @Test
  void aCheckpointIsStoredWithItsRowsAndDeferredWritesAreDurableAfterSync() {
    TableDef table = table(SCHEMA);
    append(table, new Checkpoint("job-1", 3), row(1, 1L, 1.0, "a", "a", true), row(2, 2L, 2.0, "b", "b", false));
    append(table, new Checkpoint("job-1", 5), row(3, 3L, 3.0, "c", "c", true));
    append(table, new Checkpoint("job-2", 0), row(4, 4L, 4.0, "d", "d", true));
    append(table, null, row(5, 5L, 5.0, "e", "e", true));
    await(engine.append(table, batch(row(6, 6L, 6.0, "f", "f", true)), new Checkpoint("job-1", 9), true));
    await(engine.sync(table.id()));
    await(engine.sync(table.id()));
    assertThat(engine.importedBatches(table.id(), "job-1")).containsExactly(3L, 5L, 9L);
    assertThat(engine.importedBatches(table.id(), "job-2")).containsExactly(0L);
    assertThat(engine.importedBatches(table.id(), "job-3")).isEmpty();
    assertThat(ids(table, new Predicate.All())).containsExactly(1, 2, 3, 4, 5, 6);
  }

  @Test
  void copiesKeepOrderAndMarksAndADroppedColumnLeavesTheSources() {
    TableDef from = table(SCHEMA);
    append(from, null, row(1, 1L, 1.0, "a", "red fox", true));
    append(from, new Checkpoint("job", 7), row(2, 2L, 2.0, "b", "blue fox", false), row(3, 3L, 3.0, "c", null,
        null));
    append(from, null, row(4, 4L, 4.0, "d", "green", true));
    await(engine.delete(from, new Predicate.LongRange("id", 1, 1)));
    append(from, null, row(5, 5L, 5.0, "e", "red", true));

    TableDef copy = new TableDef(newId(), SCHEMA);
    engine.createTable(copy);
    engine.copyRows(from.id(), copy);
    assertThat(ids(copy, new Predicate.All())).containsExactly(2, 3, 4, 5);
    assertThat(ids(copy, tokens("t", "red fox", false))).containsExactly(2, 5);
    assertThat(engine.importedBatches(copy.id(), "job")).containsExactly(7L);
    assertThat(sources(copy)).isEqualTo(sources(from));
    append(copy, null, row(6, 6L, 6.0, "f", "f", true));
    assertThat(ordered(copy)).as("a row added after the copy comes last").containsExactly(2, 3, 4, 5, 6);

    TableSchema fewer = SCHEMA.withoutColumn("s");
    TableDef rebuilt = new TableDef(newId(), fewer);
    engine.createTable(rebuilt);
    engine.copyRowsWithout(from.id(), rebuilt, "s");
    assertThat(ordered(rebuilt)).containsExactly(2, 3, 4, 5);
    assertThat(engine.importedBatches(rebuilt.id(), "job")).containsExactly(7L);
    assertThat(sources(rebuilt).get(0)).isEqualTo(
        "{\"id\":2,\"n\":2,\"d\":2.0,\"t\":\"blue fox\",\"b\":false}");
    assertThat(ids(rebuilt, tokens("t", "fox", true))).containsExactly(2);
  }

  @Test
  void statementsRunOnEventLoopsOfTheirOwnAndReadsApartFromWrites() throws Exception {
    PgEngine own = new PgEngine(vertx, TestPostgres.freshDatabase(), 2, 1, "sluice");
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    try {
      TableDef table = new TableDef(newId(), SCHEMA);
      own.createTable(table);
      // Every event loop of the caller's Vert.x busy (a server's HTTP and bus loops): statements do not need them.
      block(vertx, release);
      await(own.append(table, batch(row(1, 1L, 1.0, "a", "x", true)), null, false), "an append");
      assertThat(own.search(table, new Predicate.All(), List.of(), 0, 10).total()).isEqualTo(1);
      release.countDown();

      // Every event loop of the write connections busy (as encoding an import's batches keeps them): reads go on.
      release = new java.util.concurrent.CountDownLatch(1);
      block(own.writeLoops(), release);
      Future<Integer> held = own.append(table, batch(row(2, 2L, 2.0, "b", "y", false)), null, false);
      assertThat(own.search(table, new Predicate.All(), List.of(), 0, 10).total()).as("a search while the write"
          + " loops are busy").isEqualTo(1);
      assertThat(own.importedBatches(table.id(), "none")).isEmpty();
      assertThat(held.isComplete()).as("the append waits for its connection's loop").isFalse();
      release.countDown();
      await(held, "the held append");
      assertThat(own.search(table, new Predicate.All(), List.of(), 0, 10).total()).isEqualTo(2);
    } finally {
      release.countDown();
      own.close();
    }
  }

  /** Holds every event loop of {@code owner} in a task until {@code release}; returns once all are held. */
  private static void block(Vertx owner, java.util.concurrent.CountDownLatch release) throws InterruptedException {
    io.netty.channel.EventLoopGroup loops = ((io.vertx.core.internal.VertxInternal) owner).nettyEventLoopGroup();
    List<io.netty.util.concurrent.EventExecutor> executors = new ArrayList<>();
    loops.forEach(executors::add);
    java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(executors.size());
    for (io.netty.util.concurrent.EventExecutor loop : executors) {
      loop.execute(() -> {
        held.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
    assertThat(held.await(30, java.util.concurrent.TimeUnit.SECONDS)).as("every event loop held").isTrue();
  }

  private static <T> T await(Future<T> future, String what) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError(what + " did not complete within 30 s", e);
    }
  }

  @Test
  void typedColumnsHaveABtreeIndexUnlessTurnedOff() throws Exception {
    PgConnectOptions db = TestPostgres.freshDatabase();
    PgEngine indexed = new PgEngine(vertx, db, 2, 1, "sluice", false, 0, true);
    PgEngine plain = new PgEngine(vertx, db, 2, 1, "plain", false, 0, false);
    try {
      TableDef table = new TableDef(newId(), SCHEMA);
      indexed.createTable(table);
      TableDef added = new TableDef(table.id(), schema("id", col(ColumnType.INT), "n", col(ColumnType.LONG),
          "d", col(ColumnType.DECIMAL), "s", col(ColumnType.STRING),
          "t", new ColumnSchema(ColumnType.TEXT, true, null, "english"), "b", col(ColumnType.BOOLEAN),
          "later", col(ColumnType.STRING), "flag", col(ColumnType.BOOLEAN)));
      indexed.addColumn(table.id(), added.schema());
      assertThat(indexedColumns(db, "sluice", table.id())).as("btree: Int, Long, Decimal, String (an added"
          + " one too); not Boolean nor Text, whose tokens have a GIN index")
          .containsExactlyInAnyOrder("btree _seq", "btree _job,_batch", "btree c:id", "btree c:n", "btree c:d",
              "btree c:s", "gin t:t", "btree c:later");

      TableDef other = new TableDef(newId(), SCHEMA);
      plain.createTable(other);
      assertThat(indexedColumns(db, "plain", other.id())).containsExactlyInAnyOrder("btree _seq",
          "btree _job,_batch", "gin t:t");
    } finally {
      indexed.close();
      plain.close();
    }
  }

  /** "method column,column" of each index of a Sluice table. */
  private static List<String> indexedColumns(PgConnectOptions db, String schema, String id) throws Exception {
    List<String> found = new ArrayList<>();
    try (java.sql.Connection c = TestPostgres.server().getDatabase(db.getUser(), db.getDatabase()).getConnection();
        java.sql.PreparedStatement q = c.prepareStatement("SELECT am.amname || ' ' || string_agg(a.attname, ','"
            + " ORDER BY k.ord) FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n"
            + " ON n.oid = t.relnamespace JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam"
            + " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a"
            + " ON a.attrelid = t.oid AND a.attnum = k.attnum WHERE n.nspname = ? AND t.relname = ?"
            + " GROUP BY i.indexrelid, am.amname")) {
      q.setString(1, schema);
      q.setString(2, "t_" + id);
      try (java.sql.ResultSet rows = q.executeQuery()) {
        while (rows.next()) {
          found.add(rows.getString(1));
        }
      }
    }
    return found;
  }

  @Test
  void aTableTheAppendsGrowIsAnalyzedEachTimeItDoubles() throws Exception {
    TableDef table = table(SCHEMA);
    String sql = "SELECT coalesce(analyze_count, 0) FROM pg_stat_user_tables WHERE relid = '"
        + PgNames.table("sluice", table.id()).replace("'", "''") + "'::regclass";
    int id = 0;
    for (int batch = 0; batch < 5; batch++) {
      Row[] rows = new Row[2_000];
      for (int i = 0; i < rows.length; i++, id++) {
        rows[i] = row(id, (long) id, 1.0, "s", null, true);
      }
      append(table, null, rows);
    }
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:"
        + database.getPort() + "/" + database.getDatabase(), TestPostgres.USER, "");
        java.sql.Statement s = c.createStatement()) {
      // 10,000 rows: the first ANALYZE
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> {
        s.execute("SELECT pg_stat_clear_snapshot()");
        try (java.sql.ResultSet r = s.executeQuery(sql)) {
          return r.next() && r.getLong(1) >= 1; // analyze_count: ANALYZE statements, not autovacuum's
        }
      });
    }
  }

  @Test
  void deleteCountsWhatItRemoved() {
    TableDef table = table(SCHEMA);
    append(table, null, row(1, 1L, 1.0, "a", "x", true), row(2, 2L, 2.0, "b", "y", null),
        row(3, 3L, 3.0, "c", "z", false));
    assertThat(await(engine.delete(table, new Predicate.Not(new Predicate.BooleanEquals("b", true))))).isEqualTo(2L);
    assertThat(await(engine.delete(table, new Predicate.None("none")))).isZero();
    await(engine.optimize(table.id()));
    assertThat(ids(table, new Predicate.All())).containsExactly(1);
  }

  @Test
  void columnNamesOfAnyShapeAreSafe() {
    String quote = "a\"b";
    String injection = "x\"); DROP TABLE sluice.catalog; --";
    String system = "_seq";
    String longA = "\u00e9".repeat(40) + "A".repeat(88);
    String longB = "\u00e9".repeat(40) + "B".repeat(88);
    TableSchema odd = schema(quote, col(ColumnType.STRING), injection, col(ColumnType.LONG), system,
        col(ColumnType.STRING), longA, col(ColumnType.TEXT), longB, col(ColumnType.TEXT));
    TableDef table = table(odd);
    append(table, null,
        new Row(new Object[] {Utf8.of("q1"), 1L, Utf8.of("s1"), Utf8.of("alpha"), Utf8.of("beta")}, "{\"r\":1}"
            .getBytes(StandardCharsets.UTF_8)),
        new Row(new Object[] {Utf8.of("q2"), 2L, Utf8.of("s2"), Utf8.of("beta"), Utf8.of("alpha")}, "{\"r\":2}"
            .getBytes(StandardCharsets.UTF_8)));
    assertThat(sources(table, new Predicate.StringEquals(quote, "q2"))).containsExactly("{\"r\":2}");
    assertThat(sources(table, new Predicate.LongRange(injection, 1, 1))).containsExactly("{\"r\":1}");
    assertThat(sources(table, new Predicate.StringEquals(system, "s2"))).containsExactly("{\"r\":2}");
    assertThat(sources(table, new Predicate.Tokens(longA, List.of("alpha"), true))).containsExactly("{\"r\":1}");
    assertThat(sources(table, new Predicate.Tokens(longB, List.of("alpha"), true))).containsExactly("{\"r\":2}");
    Page desc = engine.search(table, new Predicate.All(), List.of(new Order(injection, true)), 0, 10);
    assertThat(desc.sources()).extracting(b -> new String(b, StandardCharsets.UTF_8))
        .containsExactly("{\"r\":2}", "{\"r\":1}");

    String added = "new \"col\" ' ;";
    engine.addColumn(table.id(), odd.withColumn(added, new ColumnSchema(ColumnType.TEXT, true, null, null)));
    engine.addColumn(table.id(), odd.withColumn(added, new ColumnSchema(ColumnType.TEXT, true, null, null)));
    TableDef wider = new TableDef(table.id(), odd.withColumn(added, new ColumnSchema(ColumnType.TEXT, true, null,
        null)));
    append(wider, null, new Row(new Object[] {null, 3L, null, null, null, Utf8.of("Gamma ray")},
        "{\"r\":3}".getBytes(StandardCharsets.UTF_8)));
    assertThat(sources(wider, new Predicate.Tokens(added, List.of("gamma"), false))).containsExactly("{\"r\":3}");
    assertThat(sources(wider, new Predicate.Not(new Predicate.Defined(added)))).hasSize(2);
    assertThat(PgNames.columnName(longA).getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(63);
  }

  @Test
  void orphansAndDroppedTablesAreGone() {
    PgEngine own = new PgEngine(vertx, TestPostgres.freshDatabase(), 2, "sluice");
    try {
      own.loadCatalog();
      TableDef keep = new TableDef(newId(), SCHEMA);
      TableDef orphan = new TableDef(newId(), SCHEMA);
      own.createTable(keep);
      own.createTable(orphan);
      own.dropOrphans(Set.of(keep.id()));
      assertThat(own.rowCount(keep.id())).isZero();
      assertThatThrownBy(() -> own.rowCount(orphan.id())).isInstanceOfSatisfying(StorageException.class,
          e -> assertThat(e.kind()).isEqualTo(StorageException.Kind.TABLE_GONE));
      own.dropTable(keep.id());
      assertThatThrownBy(() -> own.rowCount(keep.id())).isInstanceOf(StorageException.class);
    } finally {
      own.close();
    }
  }

  @Test
  void settingsOverrideTheUrlPartByPart() {
    PgConnectOptions fromUrl = PgEngine.connectOptions(new io.sluice.config.SluiceConfig.Postgres(
        "postgresql://u@db.example:6543/app", null, 0, null, null, "pw", 3, 2, 2, 256, "s", true));
    assertThat(List.of(fromUrl.getHost(), fromUrl.getPort(), fromUrl.getDatabase(), fromUrl.getUser(),
        fromUrl.getPassword())).containsExactly("db.example", 6543, "app", "u", "pw");
    PgConnectOptions overridden = PgEngine.connectOptions(new io.sluice.config.SluiceConfig.Postgres(
        "postgresql://u@db.example:6543/app", "other", 7000, "db2", "v", null, 3, 2, 2, 256, "s", true));
    assertThat(List.of(overridden.getHost(), overridden.getPort(), overridden.getDatabase(), overridden.getUser()))
        .containsExactly("other", 7000, "db2", "v");
  }

  @Test
  void anUnreachableServerIsUnavailableWithoutSecrets() {
    PgConnectOptions nowhere = TestPostgres.options(TestPorts.free(), "nowhere").setPassword("s3cr3t-pw");
    PgEngine down = new PgEngine(vertx, nowhere, 1, "sluice");
    try {
      assertThatThrownBy(down::loadCatalog).isInstanceOfSatisfying(StorageException.class, e -> {
        assertThat(e.kind()).isEqualTo(StorageException.Kind.UNAVAILABLE);
        assertThat(e.getMessage()).doesNotContain("s3cr3t-pw");
      });
      assertThat(down.failure()).isNotNull().doesNotContain("s3cr3t-pw");
      TableDef table = new TableDef(newId(), SCHEMA);
      assertThatThrownBy(() -> await(down.append(table, batch(row(1, 1L, 1.0, "a", "a", true)), null, false)))
          .hasCauseInstanceOf(StorageException.class);
    } finally {
      down.close();
    }
  }

  @Test
  void aStoppedServerIsUnavailableAndTheEngineRecoversWhenItIsBack() throws Exception {
    Path dir = Path.of("target", "embedded-pg", "restart-" + UUID.randomUUID());
    int port = TestPorts.free();
    EmbeddedPostgres server = TestPostgres.start(dir, port);
    PgEngine own = new PgEngine(vertx, TestPostgres.options(port, "postgres"), 2, "sluice");
    try {
      TableDef table = new TableDef(newId(), SCHEMA);
      own.loadCatalog();
      own.createTable(table);
      await(own.append(table, batch(row(1, 1L, 1.0, "a", "a", true)), null, false));
      server.close();

      assertThatThrownBy(() -> await(own.append(table, batch(row(2, 2L, 2.0, "b", "b", true)), null, false)))
          .hasCauseInstanceOf(StorageException.class)
          .cause().satisfies(e -> assertThat(((StorageException) e).kind())
              .isEqualTo(StorageException.Kind.UNAVAILABLE));
      assertThatThrownBy(() -> own.rowCount(table.id())).isInstanceOfSatisfying(StorageException.class,
          e -> assertThat(e.kind()).isEqualTo(StorageException.Kind.UNAVAILABLE));
      assertThat(own.failure()).isNotNull();

      server = TestPostgres.start(dir, port);
      assertThat(own.failure()).as("still the last operation's finding").isNotNull();
      await(own.probe());
      assertThat(own.failure()).as("a probe, not a write, finds it back").isNull();
      assertThat(own.rowCount(table.id())).as("nothing unacknowledged was stored").isEqualTo(1);
      await(own.append(table, batch(row(2, 2L, 2.0, "b", "b", true)), null, false));
      assertThat(own.rowCount(table.id())).isEqualTo(2);
    } finally {
      own.close();
      server.close();
      try (var files = java.nio.file.Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(java.io.File::delete);
      }
    }
  }

  // ------------------------------------------------------------------ helpers

  private static ColumnSchema col(ColumnType type) {
    return new ColumnSchema(type, true, null, null);
  }

  private static TableSchema schema(Object... namesAndColumns) {
    Map<String, ColumnSchema> columns = new LinkedHashMap<>();
    for (int i = 0; i < namesAndColumns.length; i += 2) {
      columns.put((String) namesAndColumns[i], (ColumnSchema) namesAndColumns[i + 1]);
    }
    return new TableSchema(columns);
  }

  private static String newId() {
    return UUID.randomUUID().toString().replace("-", "");
  }

  private static TableDef table(TableSchema schema) {
    TableDef table = new TableDef(newId(), schema);
    engine.createTable(table);
    return table;
  }

  /** A row of {@link #SCHEMA}, its source the JSON of its non-null values. */
  private static Row row(int id, Long n, Double d, String s, String t, Boolean b) {
    JsonObject json = new JsonObject();
    Object[] values = {(long) id, n, d, s == null ? null : Utf8.of(s), t == null ? null : Utf8.of(t), b};
    String[] names = {"id", "n", "d", "s", "t", "b"};
    Object[] plain = {id, n, d, s, t, b};
    for (int i = 0; i < names.length; i++) {
      if (plain[i] != null) {
        json.put(names[i], plain[i]);
      }
    }
    return new Row(values, json.encode().getBytes(StandardCharsets.UTF_8));
  }

  static RowBatch batch(Row... rows) {
    List<Row> list = Arrays.asList(rows);
    return new RowBatch() {
      @Override
      public int count() {
        return list.size();
      }

      @Override
      public Iterable<Row> rows() {
        return list;
      }

      @Override
      public Redo redo() {
        return new Redo(true, new byte[0]);
      }
    };
  }

  private static void append(TableDef table, Checkpoint checkpoint, Row... rows) {
    await(engine.append(table, batch(rows), checkpoint, false));
  }

  static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  private static Predicate tokens(String column, String words, boolean all) {
    return new Predicate.Tokens(column, TextTokens.of(SCHEMA.column(column), words), all);
  }

  private static List<Integer> ids(TableDef table, Predicate where) {
    return ids(engine.search(table, where, List.of(), 0, 100));
  }

  private static List<Integer> ordered(TableDef table, Order... order) {
    return ids(engine.search(table, new Predicate.All(), List.of(order), 0, 100));
  }

  private static List<Integer> ids(Page page) {
    return page.sources().stream().map(b -> new JsonObject(new String(b, StandardCharsets.UTF_8)).getInteger("id"))
        .toList();
  }

  private static List<String> sources(TableDef table) {
    return sources(table, new Predicate.All());
  }

  private static List<String> sources(TableDef table, Predicate where) {
    return engine.search(table, where, List.of(), 0, 100).sources().stream()
        .map(b -> new String(b, StandardCharsets.UTF_8)).toList();
  }
}
