package io.sluice.api;

import io.sluice.errors.ApiError;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Long requests run as jobs (Aito's {@code /api/v1/jobs}): started at once, polled, their result kept for
 * {@link #RESULT_TTL} after they finish. Shared by every HTTP verticle of the node; jobs live in memory, so a
 * restart forgets them (the operations they ran are durable on their own).
 */
public final class Jobs {
  static final Duration RESULT_TTL = Duration.ofHours(1);
  private static final int MAX_JOBS = 10_000;

  private static final class Job {
    final String id;
    final String path;
    final Instant startedAt = Instant.now();
    volatile Instant finishedAt;
    volatile JsonObject result;
    volatile ApiError error;

    Job(String id, String path) {
      this.id = id;
      this.path = path;
    }

    JsonObject status() {
      JsonObject json = new JsonObject().put("id", id).put("path", path).put("startedAt", startedAt.toString());
      if (finishedAt != null) {
        json.put("finishedAt", finishedAt.toString()).put("expiresAt", finishedAt.plus(RESULT_TTL).toString());
      }
      return json;
    }
  }

  private final Map<String, Job> jobs = new ConcurrentHashMap<>();

  public JsonObject start(String path, Supplier<Future<JsonObject>> operation) {
    expire();
    if (jobs.size() >= MAX_JOBS) {
      throw new ApiError(429, "too many jobs kept (" + MAX_JOBS + "); fetch results or wait for them to expire");
    }
    Job job = new Job(UUID.randomUUID().toString(), path);
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
    });
    return job.status();
  }

  public JsonObject status(String id) {
    return job(id).status();
  }

  /** The finished job's response, or its error as the endpoint itself would have answered. */
  public JsonObject result(String id) {
    Job job = job(id);
    if (job.finishedAt == null) {
      throw ApiError.conflict("job " + id + " has not finished; poll GET /api/v1/jobs/" + id);
    }
    if (job.error != null) {
      throw job.error;
    }
    return job.result;
  }

  private Job job(String id) {
    Job job = jobs.get(id);
    if (job == null) {
      throw ApiError.notFound("job '" + id + "' not found (results are kept " + RESULT_TTL.toMinutes()
          + " minutes after a job finishes)");
    }
    return job;
  }

  private void expire() {
    Instant now = Instant.now();
    jobs.values().removeIf(job -> job.finishedAt != null && job.finishedAt.plus(RESULT_TTL).isBefore(now));
  }
}
