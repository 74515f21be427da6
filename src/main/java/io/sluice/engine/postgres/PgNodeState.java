package io.sluice.engine.postgres;

import io.sluice.engine.ClusterMembers;
import io.sluice.engine.ImportLeases;
import io.sluice.engine.NodeState;
import io.sluice.engine.UploadStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Node state in PostgreSQL, so the nodes sharing a database share it: one row per document in {@code _state}
 * (kind, id, body, updated_at; primary key kind and id) in the engine's schema, created with its catalog. Every
 * write is one statement, committed (synchronous_commit on) before it returns; first-writer-wins is
 * {@code INSERT … ON CONFLICT DO NOTHING}. Failures are the engine's: an unreachable server is
 * {@code UNAVAILABLE} and shows in its health.
 *
 * <p>In a cluster, the import leases ({@link ImportLeases}) are two columns of the jobs' rows: {@code holder}, the
 * id of the engine instance (one per node start) running the job, and {@code lease_until}, on PostgreSQL's clock.
 * A claim is one {@code UPDATE} of rows picked {@code FOR UPDATE SKIP LOCKED}, so nodes claiming together never
 * take one job twice, and every later write of a held job's row is conditional on {@code holder}. The cluster's
 * members ({@link ClusterMembers}) are rows of {@code _node} (id, alive_until, import_slots).
 */
public final class PgNodeState implements NodeState {
  static final String TABLE = "_state";
  static final String NODES = "_node";

  private final PgEngine engine;
  private final Pool pool;
  private final String table;
  /**
   * Where statements are issued: the client completes a future on its caller's context, and a caller blocked on
   * a worker context (the import verticle) would never see it completed; an event loop of our own always does.
   */
  private final Context context;

  /** This node's lease holder id; null when the database is not shared (no leases). */
  private final String holder;

  /** Uploads every node reads (a cluster); null: kept in files by the receiving node. */
  private final UploadStore uploads;

  /** The cluster's live nodes ({@link ClusterMembers}): one row per node start. */
  private final String nodes;

  /** Serialises triggers (a transaction lock), so the cluster's queue is counted and grown by one at a time. */
  private final long triggerLockKey;

  PgNodeState(PgEngine engine, Vertx vertx, Pool pool, String table, String nodes, String holder,
      UploadStore uploads) {
    this.engine = engine;
    this.uploads = uploads;
    this.holder = holder;
    this.pool = pool;
    this.table = table;
    this.nodes = nodes;
    this.triggerLockKey = 0x534C5451L << 32 | (table.hashCode() & 0xFFFFFFFFL);
    this.context = ((VertxInternal) vertx).createEventLoopContext();
  }

  static String createTable(String table) {
    return "CREATE TABLE IF NOT EXISTS " + table + " (kind text NOT NULL, id text NOT NULL, body text NOT NULL,"
        + " updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (kind, id))";
  }

  /** The lease columns, added to tables of earlier versions too. */
  static String leaseColumns(String table) {
    return "ALTER TABLE " + table + " ADD COLUMN IF NOT EXISTS holder text,"
        + " ADD COLUMN IF NOT EXISTS lease_until timestamptz,"
        // apart from the body, which the holder rewrites at every heartbeat
        + " ADD COLUMN IF NOT EXISTS cancel_requested boolean NOT NULL DEFAULT false";
  }

  /** The cluster's members: a node's registration lasts until {@code alive_until} unless renewed. */
  static String createNodesTable(String nodes) {
    return "CREATE TABLE IF NOT EXISTS " + nodes + " (id text PRIMARY KEY, alive_until timestamptz NOT NULL,"
        + " import_slots integer NOT NULL, started_at timestamptz NOT NULL DEFAULT now())";
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

  @Override
  public UploadStore uploads() {
    return uploads;
  }

  @Override
  public ImportLeases leases() {
    return holder == null ? null : leases;
  }

  @Override
  public ClusterMembers members() {
    return holder == null ? null : members;
  }

  private final ClusterMembers members = new ClusterMembers() {
    private volatile boolean registered;

    @Override
    public String self() {
      return holder;
    }

    @Override
    public void beat(long timeoutMs, int importSlots) {
      if (!registered) { // the rows of starts long gone, once per start
        run(() -> pool.query("DELETE FROM " + nodes + " WHERE alive_until < now() - interval '1 day'").execute());
      }
      run(() -> pool.preparedQuery("INSERT INTO " + nodes + " (id, alive_until, import_slots)"
          + " VALUES ($1, now() + $2::bigint * interval '1 millisecond', $3) ON CONFLICT (id) DO UPDATE"
          + " SET alive_until = excluded.alive_until, import_slots = excluded.import_slots")
          .execute(Tuple.of(holder, timeoutMs, importSlots)));
      registered = true;
    }

    @Override
    public void leave() {
      run(() -> pool.preparedQuery("DELETE FROM " + nodes + " WHERE id = $1").execute(Tuple.of(holder)));
    }

    @Override
    public boolean alive(String node) {
      return run(() -> pool.preparedQuery("SELECT 1 FROM " + nodes + " WHERE id = $1 AND alive_until > now()")
          .execute(Tuple.of(node))).size() > 0;
    }
  };

  private final ImportLeases leases = new ImportLeases() {
    private static final String JOBS = "'import_jobs'";

    @Override
    public String holder() {
      return holder;
    }

    @Override
    public Map<String, String> claim(int max, String place, long timeoutMs) {
      Map<String, String> claimed = new HashMap<>();
      if (max <= 0) {
        return claimed;
      }
      // The oldest triggered first; a row locked by another claim or by a batch's lease check is skipped, not
      // waited for (the batch's node still holds it; it is looked at again at the next poll).
      String sql = "UPDATE " + table + " s SET holder = $1, lease_until = now() + $2::bigint * interval '1 millisecond',"
          + " updated_at = now() FROM (SELECT kind, id FROM " + table + " WHERE kind = " + JOBS
          + " AND (holder IS NULL OR lease_until < now())"
          + " AND body::jsonb->>'phase' IN ('Started', 'Running')"
          + " AND (body::jsonb->>'sourceUrl' IS NOT NULL OR body::jsonb->>'place' IS NULL"
          + " OR body::jsonb->>'place' = $4)"
          + " ORDER BY updated_at LIMIT $3 FOR UPDATE SKIP LOCKED) c"
          + " WHERE s.kind = c.kind AND s.id = c.id RETURNING s.id, s.body";
      for (Row row : run(() -> pool.preparedQuery(sql).execute(Tuple.of(holder, timeoutMs, max, place)))) {
        claimed.put(row.getString(0), row.getString(1));
      }
      return claimed;
    }

    @Override
    public String claim(String id, long timeoutMs) {
      String sql = "UPDATE " + table + " s SET holder = $1, lease_until = now() + $2::bigint * interval '1 millisecond',"
          + " updated_at = now() FROM (SELECT kind, id FROM " + table + " WHERE kind = " + JOBS + " AND id = $3"
          + " AND (holder IS NULL OR lease_until < now()) AND body::jsonb->>'phase' IN ('Started', 'Running')"
          + " FOR UPDATE SKIP LOCKED) c WHERE s.kind = c.kind AND s.id = c.id RETURNING s.body";
      for (Row row : run(() -> pool.preparedQuery(sql).execute(Tuple.of(holder, timeoutMs, id)))) {
        return row.getString(0);
      }
      return null;
    }

    @Override
    public Trigger trigger(String id, String document, int maxQueued) {
      // Under the lock the count cannot move up but by this trigger: two nodes never both take the last place.
      // Claims and ends only move imports from waiting to running, or out.
      String counts = "SELECT count(*), count(*) FILTER (WHERE holder IS NOT NULL AND lease_until >= now()),"
          + " (SELECT coalesce(sum(import_slots), 0) FROM " + nodes + " WHERE alive_until > now())"
          + " FROM " + table + " WHERE kind = " + JOBS + " AND body::jsonb->>'phase' IN ('Started', 'Running')";
      String save = "UPDATE " + table + " SET body = $2, updated_at = now() WHERE kind = " + JOBS + " AND id = $1"
          + " AND body::jsonb->>'phase' IN ('Initiated', 'Uploaded')";
      return run(() -> pool.withTransaction(c -> c.preparedQuery("SELECT pg_advisory_xact_lock($1)")
          .execute(Tuple.of(triggerLockKey))
          .compose(locked -> c.query(counts).execute())
          .compose(rows -> {
            Row row = rows.iterator().next();
            long active = row.getLong(0);
            long running = row.getLong(1);
            long slots = row.getLong(2);
            if (active >= slots + maxQueued) {
              return Future.succeededFuture(new Trigger(Trigger.Outcome.FULL, running, active - running));
            }
            return c.preparedQuery(save).execute(Tuple.of(id, document)).map(saved -> new Trigger(
                saved.rowCount() > 0 ? Trigger.Outcome.SAVED : Trigger.Outcome.CHANGED, running, active - running));
          })));
    }

    @Override
    public boolean requestCancel(String id) {
      return run(() -> pool.preparedQuery("UPDATE " + table + " SET cancel_requested = true WHERE kind = " + JOBS
          + " AND id = $1").execute(Tuple.of(id))).rowCount() > 0;
    }

    @Override
    public Set<String> cancelsRequested() {
      Set<String> ids = new HashSet<>();
      for (Row row : run(() -> pool.preparedQuery("SELECT id FROM " + table + " WHERE kind = " + JOBS
          + " AND holder = $1 AND cancel_requested").execute(Tuple.of(holder)))) {
        ids.add(row.getString(0));
      }
      return ids;
    }

    @Override
    public Set<String> renew(Map<String, String> documents, long timeoutMs) {
      Set<String> held = new HashSet<>();
      String sql = "UPDATE " + table + " SET body = $3, lease_until = now() + $4::bigint * interval '1 millisecond',"
          + " updated_at = now() WHERE kind = " + JOBS + " AND id = $2 AND holder = $1";
      documents.forEach((id, body) -> {
        if (run(() -> pool.preparedQuery(sql).execute(Tuple.of(holder, id, body, timeoutMs))).rowCount() > 0) {
          held.add(id);
        }
      });
      return held;
    }

    @Override
    public boolean save(String id, String document) {
      return run(() -> pool.preparedQuery("UPDATE " + table + " SET body = $3, updated_at = now() WHERE kind = "
          + JOBS + " AND id = $2 AND holder = $1").execute(Tuple.of(holder, id, document))).rowCount() > 0;
    }

    @Override
    public boolean release(String id, String document) {
      return run(() -> pool.preparedQuery("UPDATE " + table + " SET body = $3, holder = NULL, lease_until = NULL,"
          + " updated_at = now() WHERE kind = " + JOBS + " AND id = $2 AND holder = $1")
          .execute(Tuple.of(holder, id, document))).rowCount() > 0;
    }
  };

  /**
   * The statement a file import's batch runs in its transaction on a shared database: a row while this node holds
   * the job's lease, none otherwise; {@code FOR SHARE} keeps a claim by another node from committing before the
   * batch does (the claim skips the row and tries again at its next poll).
   */
  static String leaseCheck(String table) {
    return "SELECT 1 FROM " + table + " WHERE kind = 'import_jobs' AND id = $1 AND holder = $2 FOR SHARE";
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
