package io.sluice.api;

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

  /** Jobs in memory only: a restart forgets them. */
  public Jobs() {
    this(null, null);
  }

  private Jobs(Vertx vertx, NodeState state) {
    this.vertx = vertx;
    this.state = state;
  }

  /**
   * Jobs kept in {@code state}, with the results stored there that have not expired. A job stored as started
   * but never finished was cut off by a stop of its node: it answers so. Blocking: call it on a worker.
   */
  public static Jobs load(Vertx vertx, NodeState state) {
    Jobs loaded = new Jobs(vertx, state);
    Instant now = Instant.now();
    for (Map.Entry<String, String> stored : state.list(KIND).entrySet()) {
      Job job;
      try {
        job = Job.fromJson(new JsonObject(stored.getValue()));
      } catch (RuntimeException e) {
        LOG.warn("ignoring unreadable job {}: {}", stored.getKey(), e.getMessage());
        continue;
      }
      if (job.expiresAt().isBefore(now)) {
        state.delete(KIND, stored.getKey());
      } else {
        loaded.jobs.put(job.id, interruptedIfUnfinished(job));
      }
    }
    return loaded;
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

  /** From memory, else from the node state (a job another node sharing the store started). */
  private Future<Job> job(String id) {
    Job known = jobs.get(id);
    if (known != null || state == null || !validId(id)) {
      return known != null ? Future.succeededFuture(known) : Future.failedFuture(notFound(id));
    }
    return vertx.executeBlocking(() -> state.get(KIND, id), false).transform(ar -> {
      if (ar.failed()) {
        return Future.failedFuture(unavailable("read", ar.cause()));
      }
      if (ar.result() == null) {
        return Future.failedFuture(notFound(id));
      }
      Job job = Job.fromJson(new JsonObject(ar.result()));
      if (job.finishedAt != null) {
        if (job.expiresAt().isBefore(Instant.now())) {
          return Future.failedFuture(notFound(id));
        }
        jobs.putIfAbsent(id, job); // finished: it no longer changes
      }
      return Future.succeededFuture(job);
    });
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
