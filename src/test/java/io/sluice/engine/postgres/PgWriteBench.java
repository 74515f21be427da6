package io.sluice.engine.postgres;

import io.sluice.BenchRows;
import io.sluice.TestPostgres;
import io.sluice.engine.Checkpoint;
import io.sluice.engine.Row;
import io.sluice.engine.RowBatch;
import io.sluice.engine.TableDef;
import io.sluice.engine.Utf8;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;
import io.sluice.schema.SchemaParser;
import io.sluice.schema.TableSchema;
import io.sluice.schema.analysis.TextTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * The PostgreSQL engine's write path, measured against the alternatives the driver allows (docs/performance.md,
 * "PostgreSQL engine: write path"). Not a test: run it alone, {@code mvn -B -o -q test -Dtest=PgWriteBench
 * -Dsluice.bench.rows=200000} (surefire's default includes leave it out), and read the table it prints.
 */
class PgWriteBench {
  private static final int ROWS = Integer.getInteger("sluice.bench.rows", 200_000);
  private static final int BATCH = 10_000;

  @Test
  void compareWritePaths() throws Exception {
    TableSchema schema = SchemaParser.parseTable("bench", BenchRows.SCHEMA);
    List<String> lines = new ArrayList<>(ROWS);
    Random random = new Random(42);
    for (int id = 0; id < ROWS; id++) {
      lines.add(BenchRows.row(random, id));
    }
    List<List<Row>> batches = new ArrayList<>();
    for (int start = 0; start < ROWS; start += BATCH) {
      List<Row> batch = new ArrayList<>(BATCH);
      for (String line : lines.subList(start, Math.min(ROWS, start + BATCH))) {
        batch.add(toRow(schema, line));
      }
      batches.add(batch);
    }
    PgConnectOptions db = TestPostgres.freshDatabase();
    Vertx vertx = Vertx.vertx();
    PgEngine engine = new PgEngine(vertx, db, 8, "sluice");
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(8))
        .connectingTo(new PgConnectOptions(db).addProperty("synchronous_commit", "on")).using(vertx).build();
    engine.loadCatalog();
    StringBuilder report = new StringBuilder("\nPostgreSQL write paths, " + ROWS + " rows in batches of " + BATCH
        + " (one transaction each unless said)\n");
    for (int round = 1; round <= 2; round++) {
      double peer = time(() -> rawPeer(db, lines));
      report.append(line("round " + round + ": raw peer: COPY -> staging jsonb -> typed + btree(age), btree(category),"
          + " GIN to_tsvector(description)", peer, peer));
      report.append(line("  engine append, unnest of column arrays, 1 in flight", time(() -> {
        TableDef t = table(engine, schema);
        for (int b = 0; b < batches.size(); b++) {
          PgEngineTest.await(engine.append(t, batch(batches.get(b)), new Checkpoint("job", b), false));
        }
      }), peer));
      report.append(line("  engine append, unnest, 4 in flight", time(() -> {
        TableDef t = table(engine, schema);
        List<Future<Integer>> inFlight = new ArrayList<>();
        for (int b = 0; b < batches.size(); b++) {
          inFlight.add(engine.append(t, batch(batches.get(b)), new Checkpoint("job", b), false));
          if (inFlight.size() == 4) {
            PgEngineTest.await(inFlight.remove(0));
          }
        }
        inFlight.forEach(PgEngineTest::await);
      }), peer));
      report.append(line("  (where the time goes) the engine's Java side alone: tokens + column arrays, no SQL",
          time(() -> {
            for (List<Row> rows : batches) {
              PgEngine.Insert.of("t", schema, batch(rows), null);
            }
          }), peer));
      report.append(line("  (where the time goes) engine append, 4 in flight, table without its GIN indexes", time(() -> {
        TableDef t = table(engine, schema);
        String name = PgNames.tableName(t.id());
        List<String> gin = new ArrayList<>();
        PgEngineTest.await(pool.preparedQuery("SELECT indexname FROM pg_indexes WHERE tablename = $1"
            + " AND indexdef LIKE '%USING gin%'").execute(Tuple.of(name))).forEach(r -> gin.add(r.getString(0)));
        for (String index : gin) {
          PgEngineTest.await(pool.query("DROP INDEX sluice." + PgNames.quote(index)).execute());
        }
        List<Future<Integer>> inFlight = new ArrayList<>();
        for (int b = 0; b < batches.size(); b++) {
          inFlight.add(engine.append(t, batch(batches.get(b)), new Checkpoint("job", b), false));
          if (inFlight.size() == 4) {
            PgEngineTest.await(inFlight.remove(0));
          }
        }
        inFlight.forEach(PgEngineTest::await);
      }), peer));
      report.append(line("  pipelined executeBatch of one-row INSERTs, 1 in flight", time(() -> {
        TableDef t = table(engine, schema);
        String sql = insertSql(t, schema, 1);
        for (List<Row> rows : batches) {
          List<Tuple> tuples = new ArrayList<>();
          for (Row row : rows) {
            tuples.add(tuple(Tuple.tuple(), schema, row));
          }
          PgEngineTest.await(pool.withTransaction(c -> c.preparedQuery(sql).executeBatch(tuples)));
        }
      }), peer));
      report.append(line("  multi-row VALUES (500 rows a statement), pipelined, 1 in flight", time(() -> {
        TableDef t = table(engine, schema);
        String sql = insertSql(t, schema, 500);
        for (List<Row> rows : batches) {
          PgEngineTest.await(pool.withTransaction(c -> {
            List<Future<?>> sent = new ArrayList<>();
            for (int i = 0; i < rows.size(); i += 500) {
              Tuple params = Tuple.tuple();
              for (Row row : rows.subList(i, i + 500)) {
                tuple(params, schema, row);
              }
              sent.add(c.preparedQuery(sql).execute(params));
            }
            return Future.all(sent);
          }));
        }
      }), peer));
      report.append(line("  pgjdbc CopyManager COPY (text) per batch, 1 in flight", time(() -> {
        TableDef t = table(engine, schema);
        try (Connection c = jdbc(db)) {
          c.setAutoCommit(false);
          CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
          String sql = "COPY " + PgNames.table("sluice", t.id()) + " " + columns(schema) + " FROM STDIN";
          for (List<Row> rows : batches) {
            copy.copyIn(sql, new StringReader(copyText(schema, rows)));
            c.commit();
          }
        }
      }), peer));
    }
    System.out.println(report);
    pool.close();
    engine.close();
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  private interface Work {
    void run() throws Exception;
  }

  private static double time(Work work) throws Exception {
    long start = System.nanoTime();
    work.run();
    return ROWS / ((System.nanoTime() - start) / 1e9);
  }

  private static String line(String what, double rowsPerSecond, double peer) {
    return String.format("| %s | %,.0f rows/s | %.2f |%n", what, rowsPerSecond, rowsPerSecond / peer);
  }

  private static void rawPeer(PgConnectOptions db, List<String> lines) throws Exception {
    try (Connection c = jdbc(db); Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS peer_stage, peer_typed");
      s.execute("CREATE UNLOGGED TABLE peer_stage (doc jsonb)");
      s.execute("CREATE TABLE peer_typed (id integer, name text, tags text, age integer, price double precision,"
          + " active boolean, category text, description text)");
      StringBuilder all = new StringBuilder();
      lines.forEach(l -> all.append(l).append('\n'));
      c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY peer_stage (doc) FROM STDIN WITH (FORMAT csv,"
          + " QUOTE E'\\x01', DELIMITER E'\\x02')", new StringReader(all.toString()));
      s.execute("INSERT INTO peer_typed SELECT (doc->>'id')::int, doc->>'name', doc->>'tags', (doc->>'age')::int,"
          + " (doc->>'price')::float8, (doc->>'active')::boolean, doc->>'category', doc->>'description' FROM peer_stage");
      s.execute("CREATE INDEX ON peer_typed (age)");
      s.execute("CREATE INDEX ON peer_typed (category)");
      s.execute("CREATE INDEX ON peer_typed USING gin (to_tsvector('english', description))");
    }
  }

  private static Connection jdbc(PgConnectOptions db) throws Exception {
    Connection c = DriverManager.getConnection("jdbc:postgresql://" + db.getHost() + ":" + db.getPort() + "/"
        + db.getDatabase() + "?user=" + db.getUser());
    try (Statement s = c.createStatement()) {
      s.execute("SET synchronous_commit = on");
    }
    return c;
  }

  private static TableDef table(PgEngine engine, TableSchema schema) {
    TableDef table = new TableDef(UUID.randomUUID().toString().replace("-", ""), schema);
    engine.createTable(table);
    return table;
  }

  private static RowBatch batch(List<Row> rows) {
    return PgEngineTest.batch(rows.toArray(new Row[0]));
  }

  private static Row toRow(TableSchema schema, String line) {
    JsonObject json = new JsonObject(line);
    Object[] values = new Object[schema.columns().size()];
    int i = 0;
    for (Map.Entry<String, ColumnSchema> e : schema.columns().entrySet()) {
      Object v = json.getValue(e.getKey());
      values[i++] = switch (e.getValue().type()) {
        case INT, LONG -> ((Number) v).longValue();
        case DECIMAL -> ((Number) v).doubleValue();
        case BOOLEAN -> v;
        case STRING, TEXT -> Utf8.of((String) v);
      };
    }
    return new Row(values, line.getBytes(StandardCharsets.UTF_8));
  }

  private static String columns(TableSchema schema) {
    List<String> names = new ArrayList<>();
    names.add("_source");
    schema.columns().keySet().forEach(n -> names.add(PgNames.column(n)));
    schema.columns().forEach((n, c) -> {
      if (c.type() == ColumnType.TEXT) {
        names.add(PgNames.tokens(n));
      }
    });
    return "(" + String.join(", ", names) + ")";
  }

  private static String insertSql(TableDef table, TableSchema schema, int rows) {
    List<String> types = new ArrayList<>();
    types.add("text");
    schema.columns().values().forEach(c -> types.add(switch (c.type()) {
      case INT -> "integer";
      case LONG -> "bigint";
      case DECIMAL -> "float8";
      case BOOLEAN -> "boolean";
      case STRING, TEXT -> "text";
    }));
    schema.columns().values().forEach(c -> {
      if (c.type() == ColumnType.TEXT) {
        types.add("text[]");
      }
    });
    StringBuilder sql = new StringBuilder("INSERT INTO " + PgNames.table("sluice", table.id()) + " "
        + columns(schema) + " VALUES ");
    int n = 0;
    for (int r = 0; r < rows; r++) {
      sql.append(r == 0 ? "(" : ", (");
      for (int i = 0; i < types.size(); i++) {
        sql.append(i == 0 ? "" : ", ").append('$').append(++n).append("::").append(types.get(i));
      }
      sql.append(')');
    }
    return sql.toString();
  }

  private static Tuple tuple(Tuple params, TableSchema schema, Row row) {
    params.addValue(new String(row.source(), StandardCharsets.UTF_8));
    int i = 0;
    for (ColumnSchema c : schema.columns().values()) {
      Object v = row.values()[i++];
      params.addValue(switch (c.type()) {
        case INT -> ((Long) v).intValue();
        case LONG, DECIMAL, BOOLEAN -> v;
        case STRING, TEXT -> v.toString();
      });
    }
    i = 0;
    for (ColumnSchema c : schema.columns().values()) {
      Object v = row.values()[i++];
      if (c.type() == ColumnType.TEXT) {
        params.addValue(TextTokens.of(c, v.toString()).toArray(new String[0]));
      }
    }
    return params;
  }

  private static String copyText(TableSchema schema, List<Row> rows) {
    StringBuilder out = new StringBuilder();
    for (Row row : rows) {
      copyField(out, new String(row.source(), StandardCharsets.UTF_8));
      int i = 0;
      for (ColumnSchema c : schema.columns().values()) {
        out.append('\t');
        copyField(out, String.valueOf(row.values()[i++]));
      }
      i = 0;
      for (ColumnSchema c : schema.columns().values()) {
        Object v = row.values()[i++];
        if (c.type() == ColumnType.TEXT) {
          out.append('\t');
          copyField(out, arrayLiteral(TextTokens.of(c, v.toString())));
        }
      }
      out.append('\n');
    }
    return out.toString();
  }

  private static void copyField(StringBuilder out, String value) {
    for (int i = 0; i < value.length(); i++) {
      char ch = value.charAt(i);
      switch (ch) {
        case '\\' -> out.append("\\\\");
        case '\t' -> out.append("\\t");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        default -> out.append(ch);
      }
    }
  }

  /** A text[] literal: every element double-quoted, so no token (commas, braces, NULL) is misread. */
  private static String arrayLiteral(List<String> tokens) {
    StringBuilder out = new StringBuilder().append('{');
    for (int i = 0; i < tokens.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      out.append('"');
      String token = tokens.get(i);
      for (int j = 0; j < token.length(); j++) {
        char ch = token.charAt(j);
        if (ch == '"' || ch == '\\') {
          out.append('\\');
        }
        out.append(ch);
      }
      out.append('"');
    }
    return out.append('}').toString();
  }
}
