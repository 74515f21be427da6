package io.sluice.model;

import io.sluice.TestSeeds;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.Transformer;

/**
 * Stateful model check: random sequences of create table, batch insert (valid and invalid
 * batches, all or nothing), delete and search with random where-clauses, orderBy, offset and limit, and drop /
 * recreate, run against a real in-process Sluice and an in-memory model; after every action Sluice's answer
 * (status, counts, ids in order) must equal the model's.
 *
 * <p>jqwik prints its report with the {@code seed} after every run (in the test's output, with surefire in
 * {@code target/surefire-reports/io.sluice.model.SluiceModelPropertyTest-output.txt}); a failure shows the seed,
 * the shrunk action sequence and the step that diverged. Replay with {@code @Property(seed = "…")} or by
 * re-running: jqwik tries the last failing seed first (database in {@code target/jqwik-database}).
 *
 * <p>The generation seed comes from the run's {@code sluice.test.seed} ({@link TestSeeds.Jqwik}), so
 * {@code -Dsluice.test.seed=N} replays a run like every other randomized test.
 */
@AddLifecycleHook(TestSeeds.Jqwik.class)
class SluiceModelPropertyTest {
  static final String TABLE = "t";
  static final JsonObject SCHEMA = new JsonObject("""
      {"type":"table","columns":{
        "id":{"type":"Int"},
        "s":{"type":"String"},
        "t":{"type":"Text","analyzer":"whitespace"},
        "b":{"type":"Boolean"},
        "d":{"type":"Decimal","nullable":true}}}""");
  static final String[] STRINGS = {"a", "b", "c"};
  static final String[] WORDS = {"red", "green", "blue", "x"};

  private Vertx vertx;
  private Path dataDir;
  private TestServer server;

  @BeforeProperty
  void startServer() throws IOException {
    vertx = Vertx.vertx();
    dataDir = Files.createTempDirectory("sluice-model");
    server = new TestServer(vertx, dataDir).start();
  }

  @AfterProperty
  void stopServer() throws IOException {
    try {
      if (server != null) {
        server.stop();
      }
    } finally {
      TestServer.await(vertx.close());
      try (Stream<Path> files = Files.walk(dataDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Property(tries = 30)
  void sluiceAgreesWithTheModel(@ForAll("chains") ActionChain<State> chain) {
    chain.withInvariant("row count", State::checkCount).run();
  }

  @Provide
  Arbitrary<ActionChain<State>> chains() {
    return ActionChain.<State>startWith(() -> new State(server))
        .withAction(1, new CreateTable())
        .withAction(1, new PutSameSchema())
        .withAction(5, new InsertBatch())
        .withAction(2, new Delete())
        .withAction(5, new Search())
        .withAction(1, new DropTable())
        .withMaxTransformations(25);
  }

  // ---------------------------------------------------------------------------------------------------------
  // the model

  /** A row of the model: the JSON sent, in insertion order. */
  record Row(int id, String s, String t, boolean b, Double d, boolean dPresent) {
    JsonObject json() {
      JsonObject json = new JsonObject().put("id", id).put("s", s).put("t", t).put("b", b);
      if (dPresent) {
        json.put("d", d);
      }
      return json;
    }

    /** The row as a search returns it: a null field is left out (docs/api.md §4). */
    JsonObject returned() {
      JsonObject json = json();
      if (d == null) {
        json.remove("d");
      }
      return json;
    }

    List<String> tokens() {
      return t.isEmpty() ? List.of() : Arrays.asList(t.split(" "));
    }
  }

  /** A where-clause: its JSON and its meaning on model rows. */
  record Where(JsonObject json, Predicate<Row> matches) {
    @Override
    public String toString() {
      return json.encode();
    }
  }

  /** Sluice (through HTTP) and the model: the table's rows in insertion order, or null if it does not exist. */
  static final class State {
    final TestServer server;
    List<Row> rows;

    State(TestServer server) {
      this.server = server;
      Response dropped = server.delete("/api/v1/schema/" + TABLE);
      expect(dropped.status() == 200, "reset: drop table", dropped);
      rows = null;
    }

    void checkCount() {
      Response r = server.search(new JsonObject().put("from", TABLE).put("limit", 0));
      if (rows == null) {
        expect(r.status() == 404, "count of a dropped table", r);
      } else {
        expect(r.status() == 200 && r.total() == rows.size(), "count: expected " + rows.size(), r);
      }
    }

    @Override
    public String toString() {
      return rows == null ? "no table" : rows.size() + " rows";
    }
  }

  static void expect(boolean ok, String what, Response response) {
    if (!ok) {
      throw new AssertionError(what + "; Sluice answered " + response);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // actions

  static final class CreateTable implements Action.Independent<State> {
    @Override
    public boolean precondition(State state) {
      return state.rows == null;
    }

    @Override
    public Arbitrary<Transformer<State>> transformer() {
      return Arbitraries.just(Transformer.mutate("create table", state -> {
        Response r = state.server.put("/api/v1/schema/" + TABLE, SCHEMA);
        expect(r.status() == 200, "create table", r);
        state.rows = new ArrayList<>();
      }));
    }
  }

  /** PUT of the same schema on an existing table keeps it and its rows. */
  static final class PutSameSchema implements Action.Independent<State> {
    @Override
    public boolean precondition(State state) {
      return state.rows != null;
    }

    @Override
    public Arbitrary<Transformer<State>> transformer() {
      return Arbitraries.just(Transformer.mutate("put the same schema", state -> {
        Response r = state.server.put("/api/v1/schema/" + TABLE, SCHEMA);
        expect(r.status() == 200, "put the same schema", r);
      }));
    }
  }

  static final class DropTable implements Action.Independent<State> {
    @Override
    public Arbitrary<Transformer<State>> transformer() {
      return Arbitraries.just(Transformer.mutate("drop table", state -> {
        Response r = state.server.delete("/api/v1/schema/" + TABLE);
        expect(r.status() == 200 && r.json().getJsonArray("deleted").size() == (state.rows == null ? 0 : 1),
            "drop table", r);
        state.rows = null;
      }));
    }
  }

  static final class InsertBatch implements Action.Independent<State> {
    @Override
    public Arbitrary<Transformer<State>> transformer() {
      Arbitrary<List<Row>> rows = rows().list().ofMinSize(1).ofMaxSize(8);
      Arbitrary<JsonObject> invalid = invalidRows();
      return Combinators.combine(rows, invalid.optional(0.25), Arbitraries.integers().between(0, 7))
          .as((valid, bad, at) -> {
            JsonArray body = new JsonArray();
            valid.forEach(row -> body.add(row.json()));
            bad.ifPresent(row -> body.getList().add(Math.min(at, body.size()), row));
            String description = "batch of " + body.size() + (bad.isPresent() ? " with an invalid row " : " ")
                + body.encode();
            return Transformer.mutate(description, state -> {
              Response r = state.server.post("/api/v1/data/" + TABLE + "/batch", body);
              if (state.rows == null) {
                expect(r.status() == 404, "batch into a missing table", r);
              } else if (bad.isPresent()) {
                expect(r.status() == 400, "a batch with an invalid row is refused", r);
              } else {
                expect(r.status() == 200 && r.total() == valid.size(), "batch of " + valid.size(), r);
                state.rows.addAll(valid);
              }
            });
          });
    }
  }

  static final class Delete implements Action.Independent<State> {
    @Override
    public Arbitrary<Transformer<State>> transformer() {
      return boundedWhere().optional(0.9).map(where -> Transformer.mutate(
          "delete where " + where.map(Where::toString).orElse("(all)"), state -> {
            JsonObject body = new JsonObject().put("from", TABLE);
            where.ifPresent(w -> body.put("where", w.json()));
            Response r = state.server.post("/api/v1/data/_delete", body);
            if (state.rows == null) {
              expect(r.status() == 404, "delete from a missing table", r);
              return;
            }
            Predicate<Row> matches = where.map(Where::matches).orElse(row -> true);
            long expected = state.rows.stream().filter(matches).count();
            expect(r.status() == 200 && r.total() == expected, "delete: expected " + expected, r);
            state.rows.removeIf(matches);
          }));
    }
  }

  static final class Search implements Action.Independent<State> {
    @Override
    public Arbitrary<Transformer<State>> transformer() {
      Arbitrary<Integer> order = Arbitraries.integers().between(0, 2); // none, id asc, id desc
      Arbitrary<Integer> offset = Arbitraries.integers().between(0, 12);
      Arbitrary<Integer> limit = Arbitraries.integers().between(0, 12);
      return Combinators.combine(boundedWhere().optional(0.8), order, offset.optional(0.8), limit.optional(0.8))
          .as((where, orderBy, off, lim) -> {
            JsonObject query = new JsonObject().put("from", TABLE);
            where.ifPresent(w -> query.put("where", w.json()));
            if (orderBy == 1) {
              query.put("orderBy", new JsonObject().put("$asc", "id"));
            } else if (orderBy == 2) {
              query.put("orderBy", new JsonObject().put("$desc", "id"));
            }
            off.ifPresent(o -> query.put("offset", o));
            lim.ifPresent(l -> query.put("limit", l));
            return Transformer.mutate("search " + query.encode(), state -> {
              Response r = state.server.search(query);
              if (state.rows == null) {
                expect(r.status() == 404, "search a missing table", r);
                return;
              }
              List<Row> matching = new ArrayList<>(state.rows.stream()
                  .filter(where.map(Where::matches).orElse(row -> true)).toList());
              if (orderBy == 1) {
                matching.sort(Comparator.comparingInt(Row::id)); // stable: insertion order breaks ties
              } else if (orderBy == 2) {
                matching.sort(Comparator.comparingInt(Row::id).reversed());
              }
              int from = Math.min(off.orElse(0), matching.size());
              int to = Math.min(from + lim.orElse(10), matching.size());
              List<JsonObject> expected = matching.subList(from, to).stream().map(Row::returned).toList();
              expect(r.status() == 200, "search", r);
              expect(r.total() == matching.size(), "search total: expected " + matching.size(), r);
              expect(r.json().getInteger("offset") == off.orElse(0), "search offset", r);
              List<Object> hits = r.hits().getList().stream()
                  .map(h -> h instanceof JsonObject o ? o : new JsonObject((java.util.Map<String, Object>) h))
                  .map(o -> (Object) o).toList();
              expect(hits.equals(new ArrayList<Object>(expected)), "search hits: expected "
                  + expected.stream().map(JsonObject::encode).toList(), r);
            });
          });
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // generators

  static Arbitrary<Row> rows() {
    Arbitrary<Integer> id = Arbitraries.integers().between(0, 20);
    Arbitrary<String> s = Arbitraries.of(STRINGS);
    Arbitrary<String> t = Arbitraries.of(WORDS).list().ofMaxSize(3).map(words -> String.join(" ", words));
    Arbitrary<Boolean> b = Arbitraries.of(true, false);
    // d: absent, null or a number with one decimal
    Arbitrary<Integer> dKind = Arbitraries.integers().between(0, 3);
    Arbitrary<Double> d = Arbitraries.integers().between(-50, 50).map(i -> i / 10.0);
    return Combinators.combine(id, s, t, b, dKind, d).as((i, ss, tt, bb, kind, dd) ->
        switch (kind) {
          case 0 -> new Row(i, ss, tt, bb, null, false);
          case 1 -> new Row(i, ss, tt, bb, null, true);
          default -> new Row(i, ss, tt, bb, dd, true);
        });
  }

  /** A row that breaks the schema in one way. */
  static Arbitrary<JsonObject> invalidRows() {
    return Combinators.combine(rows(), Arbitraries.integers().between(0, 6)).as((row, how) -> {
      JsonObject json = row.json();
      switch (how) {
        case 0 -> json.put("id", "1");
        case 1 -> json.remove("s");
        case 2 -> json.put("b", 1);
        case 3 -> json.put("zz", 1);
        case 4 -> json.put("id", 2147483648L);
        case 5 -> json.put("d", "1.5");
        default -> json.put("t", 5);
      }
      return json;
    });
  }

  /**
   * Where-clauses within the documented nesting limit (32 levels of objects and arrays; deeper ones are a 400 that
   * BadInputTest covers), with room to spare so the model never has to count levels as the compiler does.
   */
  static Arbitrary<Where> boundedWhere() {
    return where().filter(where -> depth(where.json()) <= 24);
  }

  private static int depth(Object json) {
    if (json instanceof JsonObject object) {
      return 1 + object.stream().mapToInt(e -> depth(e.getValue())).max().orElse(0);
    }
    if (json instanceof JsonArray array) {
      return 1 + array.stream().mapToInt(SluiceModelPropertyTest::depth).max().orElse(0);
    }
    return 0;
  }

  static Arbitrary<Where> where() {
    return Arbitraries.lazyOf(
        SluiceModelPropertyTest::leaf, SluiceModelPropertyTest::leaf, SluiceModelPropertyTest::leaf,
        () -> where().list().ofMinSize(1).ofMaxSize(3).map(parts -> new Where(
            new JsonObject().put("$and", new JsonArray(parts.stream().map(Where::json).toList())),
            row -> parts.stream().allMatch(p -> p.matches().test(row)))),
        () -> where().list().ofMinSize(1).ofMaxSize(3).map(parts -> new Where(
            new JsonObject().put("$or", new JsonArray(parts.stream().map(Where::json).toList())),
            row -> parts.stream().anyMatch(p -> p.matches().test(row)))),
        () -> where().map(inner -> new Where(new JsonObject().put("$not", inner.json()),
            row -> !inner.matches().test(row))));
  }

  static Arbitrary<Where> leaf() {
    Arbitrary<Integer> n = Arbitraries.integers().between(-1, 21);
    return Arbitraries.oneOf(
        n.map(v -> new Where(new JsonObject().put("id", new JsonObject().put("$gt", v)), row -> row.id() > v)),
        n.map(v -> new Where(new JsonObject().put("id", new JsonObject().put("$lt", v)), row -> row.id() < v)),
        Arbitraries.of(STRINGS).map(v -> new Where(new JsonObject().put("s", v), row -> row.s().equals(v))),
        Arbitraries.of(true, false).map(v -> new Where(new JsonObject().put("b", v), row -> row.b() == v)),
        Arbitraries.of(WORDS).list().ofMinSize(1).ofMaxSize(2).map(words -> new Where(
            new JsonObject().put("t", new JsonObject().put("$match", String.join(" ", words))),
            row -> row.tokens().stream().anyMatch(words::contains))),
        Arbitraries.of(true, false).map(v -> new Where(
            new JsonObject().put("d", new JsonObject().put("$defined", v)), row -> (row.d() != null) == v)));
  }
}
