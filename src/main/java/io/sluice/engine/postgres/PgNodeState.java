package io.sluice.engine.postgres;

import io.sluice.engine.NodeState;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Node state in PostgreSQL, so the nodes sharing a database share it: one row per document in {@code _state}
 * (kind, id, body, updated_at; primary key kind and id) in the engine's schema, created with its catalog. Every
 * write is one statement, committed (synchronous_commit on) before it returns; first-writer-wins is
 * {@code INSERT … ON CONFLICT DO NOTHING}. Failures are the engine's: an unreachable server is
 * {@code UNAVAILABLE} and shows in its health.
 */
public final class PgNodeState implements NodeState {
  static final String TABLE = "_state";

  private final PgEngine engine;
  private final Pool pool;
  private final String table;
  /**
   * Where statements are issued: the client completes a future on its caller's context, and a caller blocked on
   * a worker context (the import verticle) would never see it completed; an event loop of our own always does.
   */
  private final Context context;

  PgNodeState(PgEngine engine, Vertx vertx, Pool pool, String table) {
    this.engine = engine;
    this.pool = pool;
    this.table = table;
    this.context = ((VertxInternal) vertx).createEventLoopContext();
  }

  static String createTable(String table) {
    return "CREATE TABLE IF NOT EXISTS " + table + " (kind text NOT NULL, id text NOT NULL, body text NOT NULL,"
        + " updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (kind, id))";
  }

  private static String kind(Kind kind) {
    return kind.name().toLowerCase(Locale.ROOT);
  }

  @Override
  public Map<String, String> list(Kind kind) {
    Map<String, String> documents = new HashMap<>();
    for (Row row : run(() -> pool.preparedQuery("SELECT id, body FROM " + table + " WHERE kind = $1")
        .execute(Tuple.of(kind(kind))))) {
      documents.put(row.getString(0), row.getString(1));
    }
    return documents;
  }

  @Override
  public String get(Kind kind, String id) {
    for (Row row : run(() -> pool.preparedQuery("SELECT body FROM " + table + " WHERE kind = $1 AND id = $2")
        .execute(Tuple.of(kind(kind), id)))) {
      return row.getString(0);
    }
    return null;
  }

  @Override
  public void put(Kind kind, String id, String body) {
    run(() -> pool.preparedQuery("INSERT INTO " + table + " (kind, id, body) VALUES ($1, $2, $3)"
        + " ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, updated_at = now()")
        .execute(Tuple.of(kind(kind), id, body)));
  }

  @Override
  public String putIfAbsent(Kind kind, String id, String body) {
    while (true) {
      var inserted = run(() -> pool.preparedQuery("INSERT INTO " + table + " (kind, id, body) VALUES ($1, $2, $3)"
          + " ON CONFLICT (kind, id) DO NOTHING RETURNING id").execute(Tuple.of(kind(kind), id, body)));
      if (inserted.size() > 0) {
        return body;
      }
      String stored = get(kind, id);
      if (stored != null) { // else deleted between the two statements: try again
        return stored;
      }
    }
  }

  @Override
  public void delete(Kind kind, String id) {
    run(() -> pool.preparedQuery("DELETE FROM " + table + " WHERE kind = $1 AND id = $2")
        .execute(Tuple.of(kind(kind), id)));
  }

  @Override
  public String where(Kind kind, String id) {
    return "PostgreSQL table " + table + " (kind " + kind(kind) + ", id " + id + ")";
  }

  private <T> T run(Supplier<Future<T>> statement) {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> {
      try {
        statement.get().onComplete(done);
      } catch (RuntimeException e) {
        done.fail(e);
      }
    });
    return engine.await(done.future());
  }
}
