package io.sluice.api;

import io.sluice.engine.ClusterMembers;
import io.sluice.engine.NodeState;
import io.sluice.engine.StorageException;
import io.sluice.errors.ApiError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Long requests run as jobs (Aito's {@code /api/v1/jobs}): started at once, polled, their result kept for
 * {@link #RESULT_TTL} after they finish. Shared by every HTTP verticle of the node. With a node state, a job is
 * stored when it starts (before the 201) and again with its result, so results survive a restart (and nodes
 * sharing a PostgreSQL store see each other's); node state blocks, so it is only touched on worker threads.
 */
public final class Jobs {
  private static final Logger LOG = LoggerFactory.getLogger(Jobs.class);
  static final Duration RESULT_TTL = Duration.ofHours(1);
  private static final int MAX_JOBS = 10_000;
  private static final NodeState.Kind KIND = NodeState.Kind.API_JOBS;

  private static final class Job {
    final String id;
    final String path;
    final Instant startedAt;
    /** The node running it, in a cluster ({@link ClusterMembers#self()}); null on a single node. */
    String node;
    volatile Instant finishedAt;
    volatile JsonObject result;
    volatile ApiError error;

    Job(String id, String path, Instant startedAt) {
      this.id = id;
      this.path = path;
      this.startedAt = startedAt;
    }

    JsonObject status() {
      JsonObject json = new JsonObject().put("id", id).put("path", path).put("startedAt", startedAt.toString());
      if (finishedAt != null) {
        json.put("finishedAt", finishedAt.toString()).put("expiresAt", expiresAt().toString());
      }
      return json;
    }

    Instant expiresAt() {
      return (finishedAt != null ? finishedAt : startedAt).plus(RESULT_TTL);
    }

    /** What is stored: the status, and the result or error once finished. */
    JsonObject toJson() {
      JsonObject json = status();
      json.remove("expiresAt");
      if (node != null) {
        json.put("node", node);
      }
      if (result != null) {
        json.put("result", result);
      }
      if (error != null) {
        json.put("error", error.toJson());
      }
      return json;
    }

    static Job fromJson(JsonObject json) {
      Job job = new Job(json.getString("id"), json.getString("path"), Instant.parse(json.getString("startedAt")));
      job.node = json.getString("node");
      String finished = json.getString("finishedAt");
      job.finishedAt = finished == null ? null : Instant.parse(finished);
      job.result = json.getJsonObject("result");
      JsonObject error = json.getJsonObject("error");
      job.error = error == null ? null : ApiError.fromJson(error);
      return job;
    }
  }

  private final Map<String, Job> jobs = new ConcurrentHashMap<>();
  private final Vertx vertx;
  private final NodeState state;
  /** The cluster's live nodes; null on a single node, whose unfinished jobs at start are all its own. */
  private final ClusterMembers members;

  /** Jobs in memory only: a restart forgets them. */
  public Jobs() {
    this(null, null, null);
  }

  private Jobs(Vertx vertx, NodeState state, ClusterMembers members) {
    this.vertx = vertx;
    this.state = state;
    this.members = members;
  }

  /**
   * Jobs kept in {@code state}, with the results stored there that have not expired. A job stored as started
   * but never finished was cut off by a stop of its node: it answers so. In a cluster ({@code members} not null)
   * that is only a job whose node is gone: the others' running jobs are read from the state when asked for, as
   * their nodes save them. Blocking: call it on a worker.
   */
  public static Jobs load(Vertx vertx, NodeState state, ClusterMembers members) {
    Jobs loaded = new Jobs(vertx, state, members);
    Instant now = Instant.now();
    for (Map.Entry<String, String> stored : state.list(KIND).entrySet()) {
      Job job;
      try {
        job = Job.fromJson(new JsonObject(stored.getValue()));
      } catch (RuntimeException e) {
        LOG.warn("ignoring unreadable job {}: {}", stored.getKey(), e.getMessage());
        continue;
      }
      if (job.finishedAt == null && loaded.running(job)) {
        continue; // another live node's: it saves the end
      }
      if (job.expiresAt().isBefore(now)) {
        state.delete(KIND, stored.getKey());
      } else if (members == null || job.finishedAt != null) {
        loaded.jobs.put(job.id, interruptedIfUnfinished(job));
      } // else cut off by a node gone: answered so when asked for, from the state (see job(id))
    }
    return loaded;
  }

  /**
   * Whether a job saved unfinished still runs: on a single node never (the node that ran it stopped); in a cluster
   * while its node is registered (a job saved without a node, by an earlier version, is taken for cut off).
   * Blocking.
   */
  private boolean running(Job job) {
    return members != null && job.node != null && members.alive(job.node);
  }

  private static Job interruptedIfUnfinished(Job job) {
    if (job.finishedAt == null) {
      job.error = new ApiError(503, "job " + job.id + " was cut off by a server stop before it finished; its"
          + " operation may or may not have taken effect: check, then run it again", null, "JobInterrupted");
      job.finishedAt = job.startedAt;
    }
    return job;
  }

  /** Starts the operation once the job is stored; the job's status, or a 503 when it cannot be stored. */
  public Future<JsonObject> start(String path, Supplier<Future<JsonObject>> operation) {
    expire();
    if (jobs.size() >= MAX_JOBS) {
      throw new ApiError(429, "too many jobs kept (" + MAX_JOBS + "); fetch results or wait for them to expire");
    }
    Job job = new Job(UUID.randomUUID().toString(), path, Instant.now());
    job.node = members == null ? null : members.self();
    return save(job).map(saved -> {
      jobs.put(job.id, job);
      Future<JsonObject> future;
      try {
        future = operation.get();
      } catch (RuntimeException e) {
        future = Future.failedFuture(e);
      }
      future.onComplete(ar -> {
        if (ar.succeeded()) {
          job.result = ar.result();
        } else {
          job.error = ar.cause() instanceof ApiError e ? e : new ApiError(500, "job failed: " + ar.cause());
        }
        job.finishedAt = Instant.now();
        // the operation is done whatever happens here; an unsaved result is still served from memory
        save(job).onFailure(e -> LOG.warn("cannot store the result of job {}: {}", job.id, e.getMessage()));
      });
      return job.status();
    });
  }

  public Future<JsonObject> status(String id) {
    return job(id).map(Job::status);
  }

  /** The finished job's response, or its error as the endpoint itself would have answered. */
  public Future<JsonObject> result(String id) {
    return job(id).map(job -> {
      if (job.finishedAt == null) {
        throw ApiError.conflict("job " + id + " has not finished; poll GET /api/v1/jobs/" + id);
      }
      if (job.error != null) {
        throw job.error;
      }
      return job.result;
    });
  }

  /**
   * From memory, else from the node state (a job another node sharing the store started). In a cluster, one saved
   * unfinished whose node is gone was cut off; not kept so, since a node thawed after a pause longer than the
   * registry's timeout comes back and may still save its result.
   */
  private Future<Job> job(String id) {
    Job known = jobs.get(id);
    if (known != null || state == null || !validId(id)) {
      return known != null ? Future.succeededFuture(known) : Future.failedFuture(notFound(id));
    }
    return vertx.executeBlocking(() -> {
      String stored = state.get(KIND, id);
      if (stored == null) {
        return null;
      }
      Job job = Job.fromJson(new JsonObject(stored));
      if (members != null && job.finishedAt == null && !running(job)) {
        return new Found(interruptedIfUnfinished(job), false);
      }
      return new Found(job, job.finishedAt != null);
    }, false).transform(ar -> {
      if (ar.failed()) {
        return Future.failedFuture(unavailable("read", ar.cause()));
      }
      if (ar.result() == null) {
        return Future.failedFuture(notFound(id));
      }
      Job job = ar.result().job();
      if (job.finishedAt != null && job.expiresAt().isBefore(Instant.now())) {
        return Future.failedFuture(notFound(id));
      }
      if (ar.result().saved()) {
        jobs.putIfAbsent(id, job); // its node saved its end: it no longer changes
      }
      return Future.succeededFuture(job);
    });
  }

  /** A job read from the state; saved: its end was saved by its node (not judged cut off by this one). */
  private record Found(Job job, boolean saved) {
  }

  private static boolean validId(String id) {
    try {
      return UUID.fromString(id).toString().equals(id);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static ApiError notFound(String id) {
    return ApiError.notFound("job '" + id + "' not found (results are kept " + RESULT_TTL.toMinutes()
        + " minutes after a job finishes)");
  }

  private Future<Void> save(Job job) {
    if (state == null) {
      return Future.succeededFuture();
    }
    String body = job.toJson().encode();
    return vertx.<Void>executeBlocking(() -> {
      state.put(KIND, job.id, body);
      return null;
    }, false).recover(e -> Future.failedFuture(unavailable("store", e)));
  }

  private static ApiError unavailable(String what, Throwable e) {
    String cause = e instanceof StorageException s && s.kind() == StorageException.Kind.DISK_FULL ? "DiskFull"
        : e instanceof StorageException s2 && s2.kind() == StorageException.Kind.UNAVAILABLE ? "StoreUnavailable"
        : "StorageFailure";
    return new ApiError(503, "cannot " + what + " the job: " + e.getMessage(), null, cause);
  }

  private void expire() {
    Instant now = Instant.now();
    jobs.values().removeIf(job -> {
      boolean expired = job.finishedAt != null && job.expiresAt().isBefore(now);
      if (expired && state != null) {
        vertx.executeBlocking(() -> {
          state.delete(KIND, job.id);
          return null;
        }, false).onFailure(e -> LOG.warn("cannot delete expired job {}: {}", job.id, e.getMessage()));
      }
      return expired;
    });
  }
}
