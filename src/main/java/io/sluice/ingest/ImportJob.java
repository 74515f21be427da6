package io.sluice.ingest;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;

/**
 * One file import: its phase and progress, saved in the node state at each transition ({@code
 * <data>/imports/<id>.json} with the Lucene store).
 */
final class ImportJob {
  /** Aito's phases, and Cancelled (a Sluice extension: ended by DELETE …/file/{id}), terminal like the two Finished. */
  enum Phase { Initiated, Uploaded, Started, Running, Finished, FinishedInError, Cancelled }

  final String id;
  String table; // follows a rename while the import runs
  final Instant createdAt;
  final Instant expires;
  Phase phase = Phase.Initiated;
  long bytes;
  boolean uploading;
  /** Every rejected line of the current run (on disk); null before the job ran or after a restart. */
  ImportErrorLog errorLog;
  String sourceUrl;
  Instant startedAt;
  Instant finishedAt;
  String message;
  ImportProgress progress = new ImportProgress();
  /** Stored rows over the job's runs (persisted at each transition, sampled in memory between them). */
  ProgressHistory history = new ProgressHistory();
  /** The pipeline of a running job (not persisted): its input bytes show how far the file has been read. */
  ImportSink sink;
  /** The open input of a running job (not persisted), released when the job ends or the server stops. */
  ImportVerticle.Input input;
  /** Input bytes read by the last run, kept when it ends. */
  long bytesRead;
  int batchRows;
  int batchBytes;
  String format = "auto";
  /** Why the job is paused (its state could not be saved), until it runs again; not persisted. */
  String waiting;
  /**
   * The Idempotency-Key scope of the request that initiated the job (null: none) and its format, so a retry of
   * the start returns this job; persisted in the job's own file, the record is durable with the job.
   */
  String idempotencyScope;
  /** Where the upload is kept when only one node can read it (cluster: that node's address); null: anywhere. */
  String place;
  /** This node holds the job's lease (cluster mode; not persisted). */
  boolean leased;
  /** The lease went to another node while this one ran the job: it ends here without saving anything. */
  boolean leaseLost;
  /** A cancel was asked for (not persisted: until the job's end is persisted, the cancel is not acknowledged). */
  boolean cancelling;
  /** Cancel requests waiting for the job's end to be persisted; answered with its final status. */
  final java.util.List<io.vertx.core.Promise<JsonObject>> cancelWaiters = new java.util.ArrayList<>();

  ImportJob(String id, String table, Instant createdAt, Instant expires) {
    this.id = id;
    this.table = table;
    this.createdAt = createdAt;
    this.expires = expires;
  }

  boolean finished() {
    return phase == Phase.Finished || phase == Phase.FinishedInError || phase == Phase.Cancelled;
  }

  long bytesRead() {
    return sink != null ? sink.inputBytes() : bytesRead;
  }

  boolean triggered() {
    return phase.compareTo(Phase.Started) >= 0;
  }

  /** docs/api.md §3 status body, with the Sluice extension {@code progress} (the stored rows over time). */
  JsonObject statusJson() {
    JsonObject status = new JsonObject()
        .put("phase", phase.name())
        .put("finished", finished())
        .put("completedCount", progress.completed())
        .put("failedCount", progress.failedCount());
    Instant end = finishedAt != null ? finishedAt : Instant.now();
    if (startedAt != null) {
      long millis = Math.max(1, Duration.between(startedAt, end).toMillis());
      status.put("throughput", Math.round(progress.completed() * 1000.0 / millis))
          .put("startedAt", startedAt.toString());
    } else {
      status.put("throughput", 0);
    }
    if (finishedAt != null) {
      status.put("finishedAt", finishedAt.toString())
          .put("totalDuration", Duration.between(startedAt != null ? startedAt : createdAt, finishedAt).toMillis());
    }
    // Without nulls, like every row the API returns; also for jobs recorded before that rule.
    status.put("lastSuccessfulElement", Rows.withoutNulls(progress.lastSuccessfulElement()));
    JsonObject errors = progress.errorsJson();
    if (message != null) {
      errors.put("message", message + "; " + errors.getString("message"));
    }
    if (waiting != null) {
      errors.put("message", "paused: " + waiting + "; it resumes once its state can be saved; "
          + errors.getString("message"));
    }
    return new JsonObject().put("status", status).put("errors", errors).put("progress", history.toJson());
  }

  JsonObject toJson() {
    return new JsonObject()
        .put("id", id).put("table", table).put("phase", phase.name())
        .put("createdAt", createdAt.toString()).put("expires", expires.toString())
        .put("bytes", bytes).put("bytesRead", bytesRead()).put("sourceUrl", sourceUrl)
        .put("startedAt", startedAt == null ? null : startedAt.toString())
        .put("finishedAt", finishedAt == null ? null : finishedAt.toString())
        .put("message", message)
        .put("place", place)
        .put("batchRows", batchRows).put("batchBytes", batchBytes).put("format", format)
        .put("idempotencyScope", idempotencyScope)
        .put("progress", progress.toJson())
        .put("history", history.persisted());
  }

  static ImportJob fromJson(JsonObject json) {
    ImportJob job = new ImportJob(json.getString("id"), json.getString("table"),
        Instant.parse(json.getString("createdAt")), Instant.parse(json.getString("expires")));
    job.phase = Phase.valueOf(json.getString("phase"));
    job.bytes = json.getLong("bytes", 0L);
    job.bytesRead = json.getLong("bytesRead", 0L);
    job.sourceUrl = json.getString("sourceUrl");
    job.startedAt = json.getString("startedAt") == null ? null : Instant.parse(json.getString("startedAt"));
    job.finishedAt = json.getString("finishedAt") == null ? null : Instant.parse(json.getString("finishedAt"));
    job.message = json.getString("message");
    job.place = json.getString("place");
    job.batchRows = json.getInteger("batchRows", 0);
    job.batchBytes = json.getInteger("batchBytes", 0);
    job.format = json.getString("format", "auto");
    job.idempotencyScope = json.getString("idempotencyScope");
    job.progress = ImportProgress.fromJson(json.getJsonObject("progress"));
    job.history = ProgressHistory.fromPersisted(json.getJsonObject("history"));
    return job;
  }
}
