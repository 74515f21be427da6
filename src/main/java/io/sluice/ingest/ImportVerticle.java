package io.sluice.ingest;

import io.sluice.bus.Addresses;
import io.sluice.bus.StoreClient;
import io.sluice.bus.StoreOp;
import io.sluice.bus.StoreRequest;
import io.sluice.config.SluiceConfig;
import io.sluice.engine.FileUploadStore;
import io.sluice.engine.ImportLeases;
import io.sluice.engine.UploadStore;
import io.sluice.engine.NodeState;
import io.sluice.engine.StorageException;
import io.sluice.errors.ApiError;
import io.sluice.metrics.Metrics;
import io.sluice.files.DurableFiles;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the file-import jobs of this node: their state machine (Initiated → Uploaded → Started → Running →
 * Finished | FinishedInError | Cancelled), their files under {@code <data>/uploads/}, and running them through an
 * {@link ImportSink}. One worker instance, so job state is confined to one thread and the gunzip and line
 * splitting of imports never run on an event loop.
 *
 * <p>Job state is persisted at every transition. At start, a job that was Started or Running resumes: its
 * input is read again from the beginning, batches already in the store are recounted, the rest are written,
 * so it ends with every good row exactly once. A job that cannot resume ends FinishedInError.
 *
 * <p>In a cluster ({@link ImportLeases}), a triggered job belongs to no node until one claims its lease: every node
 * polls for claimable jobs every {@code cluster.lease.heartbeat.ms} (and at once after a trigger), runs the jobs it
 * claimed, extends their leases (saving their progress) at the same pace, and gives each lease up when its job
 * ends or the node stops. A node that stops heartbeating loses its leases after {@code cluster.lease.timeout.ms};
 * another node claims the job and resumes it from the store's checkpoint. Jobs not held here are read from the
 * store.
 */
public final class ImportVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ImportVerticle.class);
  static final String JOBS_DIR = "imports";
  static final String UPLOADS_DIR = "uploads";
  /** Jobs listed by {@code GET /api/v1/data/_imports} unless it asks for another number. */
  public static final int DEFAULT_LIST_LIMIT = 100;
  private static final String CANCELLED = "import cancelled";
  private static final String LOST = "this node lost the import's lease";
  /** How long a cancel waits, beyond twice the lease timeout, for another node to end the import. */
  private static final long CANCEL_WAIT_MARGIN_MS = 10_000;

  /** How often jobs paused because their state could not be saved try again. */
  static final long PAUSED_RETRY_MS = 2_000;

  private final SluiceConfig config;
  private final Metrics metrics;
  private final NodeState state;
  private final Path jobsDir;
  private final Path uploadsDir;
  /** Import leases (cluster mode); null: this node runs every import it knows. */
  private final ImportLeases leases;
  /**
   * This node's address, saved with an upload kept in its files so only it claims the import; null when uploads
   * are kept where every node reads them.
   */
  private final String place;
  private final UploadStore uploads;
  private long leaseTimer;
  private final Map<String, ImportJob> jobs = new LinkedHashMap<>();
  private final ArrayDeque<ImportJob> queue = new ArrayDeque<>();
  /** Jobs whose state could not be saved (the store unreachable): queued again every PAUSED_RETRY_MS. */
  private final List<ImportJob> paused = new ArrayList<>();
  private int running;
  private StoreClient store;
  /** Cluster mode: this node's imports' batches go to every node, and this node stores its share. */
  private ImportBatches spread;
  private HttpClient http;
  private MessageConsumer<JsonObject> consumer;
  private long cleanupTimer;
  private long historyTimer;
  private long pausedTimer;
  /** Finished jobs dropped by import.max.history since this verticle started (listed, so a gap is explained). */
  private long dropped;
  /** Set by {@link #stop()}: running jobs are left Running on disk, to resume at the next start. */
  private boolean stopping;
  /** Per running job, its last seconds of {@code {at, stored rows}} samples: its rows/s gauge's window. */
  private final Map<String, ArrayDeque<long[]>> rateWindows = new java.util.HashMap<>();

  /** state: where job state is kept (files under data.dir, or the shared PostgreSQL store). */
  public ImportVerticle(SluiceConfig config, Metrics metrics, NodeState state, UploadStore uploads) {
    this.config = config;
    this.uploads = uploads;
    this.metrics = metrics;
    this.state = state;
    this.jobsDir = config.dataDir().resolve(JOBS_DIR);
    this.uploadsDir = config.dataDir().resolve(UPLOADS_DIR);
    this.leases = config.cluster() == null ? null : state.leases();
    this.place = config.cluster() == null || uploads.shared() ? null
        : config.cluster().host() + ":" + config.cluster().port();
  }

  public static Path uploadFile(Path dataDir, String id) {
    return FileUploadStore.uploadFile(dataDir, id);
  }

  @Override
  public Future<?> start() throws IOException {
    store = new StoreClient(vertx);
    http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(30_000).setIdleTimeout(300));
    Files.createDirectories(jobsDir);
    Files.createDirectories(uploadsDir);
    // Their entries in the data directory: fsyncing a job file's or an upload's directory keeps nothing after a
    // power loss if the directory itself is gone (no table creation may come after them to fsync it).
    DurableFiles.fsyncDirectory(config.dataDir());
    loadJobs();
    trimHistory();
    countPhases();
    // This node's jobs only: on a clustered bus a plain consumer would share the address with every node's.
    consumer = vertx.eventBus().localConsumer(Addresses.IMPORT, this::handle);
    long keepMillis = config.importKeepSeconds() * 1000;
    cleanupTimer = vertx.setPeriodic(Math.max(100, Math.min(60_000, keepMillis / 2)), id -> cleanup());
    historyTimer = vertx.setPeriodic(ProgressHistory.FIRST_INTERVAL_MS, id -> sampleRunning());
    pausedTimer = vertx.setPeriodic(PAUSED_RETRY_MS, id -> retryPaused());
    Future<Void> batchConsumer = Future.succeededFuture();
    if (leases != null) {
      leaseTimer = vertx.setPeriodic(config.cluster().leaseHeartbeatMs(), id -> heartbeat());
      // A node silent for a lease timeout is taken for gone by the leases too; its batches are stored here then.
      spread = new ImportBatches(vertx, store, leases.holder(), config.cluster().leaseTimeoutMs(), metrics);
      batchConsumer = spread.start();
    }
    return Future.all(consumer.completion(), batchConsumer).onSuccess(v -> {
      claim();
      startQueued();
    });
  }

  /**
   * Stops the running jobs where they are: their inputs are closed and their sinks aborted, but they stay Running
   * on disk and resume at the next start (their upload files are kept).
   */
  @Override
  public Future<?> stop() {
    stopping = true;
    vertx.cancelTimer(cleanupTimer);
    vertx.cancelTimer(historyTimer);
    vertx.cancelTimer(pausedTimer);
    vertx.cancelTimer(leaseTimer);
    rateWindows.keySet().forEach(metrics::importEnded);
    rateWindows.clear();
    List<Future<Void>> closed = new ArrayList<>();
    for (ImportJob job : jobs.values()) {
      if (job.sink != null) {
        job.sink.abort(new ImportFormatException("the server is stopping; the import resumes at the next start"));
      }
      if (job.errorLog != null) {
        job.errorLog.close(); // a resumed job starts its list afresh
      }
      closed.add(closeInput(job));
      if (job.leased) {
        // Another node may take it at once, not after the lease timeout; any batch of it still in flight here
        // is refused by the store's lease check.
        try {
          leases.release(job.id, job.toJson().encode());
        } catch (RuntimeException e) {
          LOG.warn("cannot give up the lease of import {} (another node takes it when it expires): {}", job.id,
              e.getMessage());
        }
        job.leased = false;
      }
    }
    Future<Void> batchConsumer = spread == null ? Future.succeededFuture() : spread.stop();
    return Future.join(closed).transform(ignored -> Future.join(consumer.unregister(), batchConsumer))
        .compose(v -> http.close());
  }

  // ---------------------------------------------------------------- messages

  private void handle(Message<JsonObject> message) {
    JsonObject body = message.body();
    Future<JsonObject> result;
    try {
      result = switch (body.getString("op")) {
        case "initiate" -> initiate(body.getString("table"), body.getString("format", "auto"),
            body.getJsonObject("idempotency"));
        case "claimUpload" -> Future.succeededFuture(claimUpload(body.getString("id"), body.getString("table")));
        case "uploaded" -> Future.succeededFuture(uploaded(body.getString("id"), body.getLong("bytes")));
        case "uploadFailed" -> Future.succeededFuture(uploadFailed(body.getString("id")));
        case "trigger" -> Future.succeededFuture(trigger(body.getString("id"), body.getString("table"),
            body.getString("sourceUrl")));
        case "status" -> Future.succeededFuture(status(body.getString("id"), body.getString("table")));
        case "list" -> Future.succeededFuture(list(body.getInteger("limit", DEFAULT_LIST_LIMIT)));
        case "cancel" -> cancel(body.getString("id"), body.getString("table"));
        case "errors" -> Future.succeededFuture(errors(body.getString("id"), body.getString("table")));
        default -> Future.failedFuture(new ApiError(500, "unknown import op " + body.getString("op")));
      };
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        message.reply(ar.result());
      } else {
        ApiError error = ar.cause() instanceof ApiError e ? e : ar.cause() instanceof LeaseLost lost
            ? lost.toApiError() : new ApiError(500, "import failed: " + ar.cause());
        if (error.status() >= 500) {
          LOG.error("import op {} failed", body.getString("op"), ar.cause());
        }
        message.fail(error.status(), error.toJson().encode());
      }
    });
  }

  /**
   * With an Idempotency-Key ({@code {"key", "scope"}}), a start that repeats one whose job is still kept returns
   * that job (marked {@code "replayed"}); the same key with another format → 422. Looked up after the table
   * check, on this verticle's thread, so two concurrent starts with a key make one job.
   */
  private Future<JsonObject> initiate(String table, String format, JsonObject idempotency) {
    return store.call(StoreRequest.table(StoreOp.GET_TABLE, table)).map(schema -> {
      String scope = idempotency == null ? null : idempotency.getString("scope");
      if (scope != null) {
        for (ImportJob earlier : jobs.values()) {
          if (scope.equals(earlier.idempotencyScope) && table.equals(earlier.table)) {
            if (!earlier.format.equals(format)) {
              metrics.idempotency("mismatch");
              throw new ApiError(422, "Idempotency-Key '" + idempotency.getString("key") + "' was already used on"
                  + " table '" + table + "' for a different request; send a new key for a new request", null,
                  "IdempotencyKeyReused");
            }
            metrics.idempotency("replayed");
            return new JsonObject().put("id", earlier.id).put("expires", earlier.expires.getEpochSecond())
                .put("replayed", true);
          }
        }
      }
      Instant now = Instant.now();
      ImportJob job = new ImportJob(UUID.randomUUID().toString(), table, now,
          now.plusSeconds(config.uploadExpirySeconds()));
      job.format = format;
      job.idempotencyScope = scope;
      persist(job); // throws before the job is known: nothing to undo
      if (scope != null) {
        metrics.idempotency("recorded");
      }
      jobs.put(job.id, job);
      return new JsonObject().put("id", job.id).put("expires", job.expires.getEpochSecond());
    });
  }

  private JsonObject claimUpload(String id, String table) {
    refresh(id);
    if (leases != null && uploads.shared() && id != null && !jobs.containsKey(id)) {
      ImportJob stored = stored(id); // initiated on another node: the upload may arrive at any node
      if (stored != null && stored.table.equals(table)) {
        if (stored.phase != ImportJob.Phase.Initiated) {
          throw new ApiError(403, "this upload URL was already used (import " + id + " is " + stored.phase + ")");
        }
        jobs.put(id, stored);
      }
    }
    ImportJob job = jobs.get(id);
    if (job == null || !job.table.equals(table)) {
      throw new ApiError(403, "this upload URL does not belong to a known import");
    }
    if (job.phase != ImportJob.Phase.Initiated || job.uploading) {
      throw new ApiError(403, "this upload URL was already used (import " + id + " is " + job.phase + ")");
    }
    job.uploading = true;
    return new JsonObject().put("id", id);
  }

  private JsonObject uploaded(String id, long bytes) {
    ImportJob job = jobs.get(id);
    if (job == null) {
      throw ApiError.notFound("import " + id + " not found");
    }
    if (job.finished()) { // cancelled while its file was arriving
      job.uploading = false;
      deleteUpload(id);
      throw ApiError.conflict("import " + id + " was cancelled during the upload; nothing of the file was kept");
    }
    job.uploading = false;
    job.bytes = bytes;
    job.phase = ImportJob.Phase.Uploaded;
    job.place = place; // the file is this node's
    try {
      persist(job);
    } catch (ApiError e) { // not acknowledged: as if the upload had failed, the URL may be used again
      job.phase = ImportJob.Phase.Initiated;
      job.bytes = 0;
      deleteUpload(id);
      throw e;
    }
    return new JsonObject().put("id", id).put("bytes", bytes);
  }

  private JsonObject uploadFailed(String id) {
    ImportJob job = jobs.get(id);
    if (job != null) {
      job.uploading = false;
    }
    return new JsonObject();
  }

  private JsonObject trigger(String id, String table, String sourceUrl) {
    refresh(id);
    if (leases != null && id != null && !jobs.containsKey(id)) {
      ImportJob stored = stored(id); // initiated on another node
      if (stored != null && stored.table.equals(table)) {
        if (stored.triggered()) {
          return new JsonObject().put("id", id).put("status", "started");
        }
        jobs.put(id, stored);
      }
    }
    ImportJob job = job(id, table);
    // a cluster counts its queue in the store, with the trigger's save (triggerInCluster)
    if (!job.triggered() && leases == null && running >= config.importMaxJobs()
        && queue.size() >= config.importMaxQueued()) {
      throw new ApiError(429, "too many imports waiting (" + queue.size() + " queued behind " + running
          + " running; import.max.queued); trigger again later");
    }
    if (!job.triggered()) {
      if (sourceUrl != null) {
        if (job.phase != ImportJob.Phase.Initiated || job.uploading) {
          throw ApiError.conflict("import " + id + " already has an uploaded file; trigger it without sourceUrl");
        }
        if (!sourceUrl.startsWith("http://") && !sourceUrl.startsWith("https://")) {
          throw ApiError.badRequest("sourceUrl must be an http:// or https:// URL");
        }
        job.sourceUrl = sourceUrl;
      } else if (job.phase != ImportJob.Phase.Uploaded) {
        throw ApiError.badRequest("nothing to import yet: PUT the file to the upload URL first, or trigger with"
            + " {\"sourceUrl\": \"https://...\"}");
      }
      ImportJob.Phase before = job.phase;
      job.phase = ImportJob.Phase.Started;
      job.batchRows = config.importBatchRows();
      job.batchBytes = config.importBatchBytes();
      boolean saved;
      try {
        saved = leases == null ? persistTrigger(job) : triggerInCluster(job);
      } catch (ApiError e) { // not triggered: the client may trigger again
        job.phase = before;
        job.sourceUrl = null;
        throw e;
      }
      if (!saved) { // triggered, or dropped, by another node meanwhile: its copy counts
        jobs.remove(id);
        ImportJob stored = stored(id);
        if (stored == null || !stored.table.equals(table)) {
          throw ApiError.notFound("import job '" + id + "' not found for table '" + table + "'");
        }
        return new JsonObject().put("id", id).put("status", "started");
      }
      if (leases != null) {
        // the cluster's now: run by the node that claims it (this one, if it has room), read from the store
        jobs.remove(id);
        claim();
      } else {
        queue.add(job);
      }
      startQueued();
    }
    return new JsonObject().put("id", id).put("status", "started");
  }

  private boolean persistTrigger(ImportJob job) {
    persist(job);
    return true;
  }

  /**
   * Saves a trigger in a cluster if its queue has room: at most import.max.queued imports waiting for a node once
   * every node's import.max.jobs are taken, counted in the store over every node's triggers (a single server
   * counts its own queue, in trigger). False: the stored job no longer waited for a trigger.
   */
  private boolean triggerInCluster(ImportJob job) {
    ImportLeases.Trigger done;
    try {
      done = leases.trigger(job.id, job.toJson().encode(), config.importMaxQueued());
    } catch (StorageException e) {
      throw notSaved(job, e);
    }
    return switch (done.outcome()) {
      case SAVED -> true;
      case CHANGED -> false;
      case FULL -> throw new ApiError(429, "too many imports waiting (" + done.waiting() + " queued behind "
          + done.running() + " running in the cluster; import.max.queued); trigger again later");
    };
  }

  /**
   * {@code DELETE /api/v1/data/{table}/file/{id}} (a Sluice extension): ends a job that has not finished as
   * Cancelled, "import cancelled". A queued or not yet triggered job ends at once; a running one stops
   * reading, lets the batches in flight settle (rows committed before stay stored and counted) and ends. Answered
   * with the final status once it is persisted; an already finished job → 409.
   */
  private Future<JsonObject> cancel(String id, String table) {
    refresh(id);
    if (leases != null && id != null && !jobs.containsKey(id)) {
      ImportJob stored = stored(id);
      if (stored != null && stored.table.equals(table) && !stored.finished()) {
        if (stored.triggered()) {
          return cancelElsewhere(stored);
        }
        jobs.put(id, stored); // initiated, or uploaded, on another node: cancelled here
      }
    }
    ImportJob job = job(id, table);
    if (job.finished()) {
      throw ApiError.conflict("import " + id + " already ended " + job.phase + "; only an unfinished import can be"
          + " cancelled");
    }
    Promise<JsonObject> answer = Promise.promise();
    job.cancelWaiters.add(answer);
    if (job.cancelling) {
      return answer.future();
    }
    job.cancelling = true;
    if (job.phase == ImportJob.Phase.Running) {
      // run() sees the flag before its sink exists; once it does, aborting the sink ends it through finish().
      if (job.sink != null) {
        job.sink.abort(new ImportFormatException(CANCELLED));
        closeInput(job);
      }
      return answer.future();
    }
    ImportJob.Phase before = job.phase;
    job.finishedAt = Instant.now();
    job.phase = ImportJob.Phase.Cancelled;
    job.message = CANCELLED + " before it ran; nothing was imported";
    try {
      persist(job);
    } catch (LeaseLost e) {
      job.finishedAt = null;
      job.phase = before;
      job.message = null;
      job.cancelling = false;
      job.cancelWaiters.clear();
      dropLost(job);
      throw e;
    } catch (ApiError e) { // not cancelled: it stays where it was (queued, or waiting for its file)
      job.finishedAt = null;
      job.phase = before;
      job.message = null;
      job.cancelling = false;
      job.cancelWaiters.clear();
      throw e;
    }
    queue.remove(job);
    paused.remove(job);
    deleteUpload(job.id);
    LOG.info("import {} into '{}' cancelled before it ran", job.id, job.table);
    answerCancels(job);
    trimHistory();
    return answer.future();
  }

  /**
   * A cancel of an import triggered in the cluster but not held here: marked in the store for the node holding it,
   * which cancels it at its next heartbeat and saves its end; answered with that end, read from the store. An import
   * nobody holds (queued, or its node gone) is claimed here and ended at once.
   */
  private Future<JsonObject> cancelElsewhere(ImportJob stored) {
    try {
      leases.requestCancel(stored.id);
    } catch (StorageException e) {
      throw new ApiError(503, "cannot cancel import " + stored.id + ": " + e.getMessage(), null,
          e.kind() == StorageException.Kind.UNAVAILABLE ? "StoreUnavailable" : "StorageFailure");
    }
    Promise<JsonObject> answer = Promise.promise();
    // past a lease timeout the holder is gone and its import claimable here; twice that, and a slow store's margin
    followCancel(stored.id, stored.table, System.currentTimeMillis() + 2 * config.cluster().leaseTimeoutMs()
        + CANCEL_WAIT_MARGIN_MS, answer);
    return answer.future();
  }

  private void followCancel(String id, String table, long deadline, Promise<JsonObject> answer) {
    try {
      ImportJob stored = stored(id);
      if (stored == null) {
        answer.fail(ApiError.notFound("import " + id + " not found"));
        return;
      }
      if (stored.finished()) { // ended by its holder: Cancelled, or another end that came first
        answer.complete(stored.statusJson());
        return;
      }
      String claimed = stopping || jobs.containsKey(id) ? null
          : leases.claim(id, config.cluster().leaseTimeoutMs());
      if (claimed != null) {
        answer.complete(endClaimedForCancel(ImportJob.fromJson(new JsonObject(claimed))));
        return;
      }
    } catch (ApiError | StorageException e) {
      LOG.warn("following the cancel of import {}: {}", id, e.getMessage());
    }
    if (stopping || System.currentTimeMillis() > deadline) {
      answer.fail(new ApiError(503, "the cancel of import " + id + " is recorded but its node has not ended it yet;"
          + " it ends Cancelled when that node next looks; poll its status", null, "CancelPending"));
      return;
    }
    vertx.setTimer(config.cluster().leaseHeartbeatMs(), t -> followCancel(id, table, deadline, answer));
  }

  /** A job claimed only to be cancelled: its end is saved (giving the lease up) without running it. */
  private JsonObject endClaimedForCancel(ImportJob job) {
    job.leased = true;
    job.finishedAt = Instant.now();
    boolean ran = job.phase == ImportJob.Phase.Running;
    job.phase = ImportJob.Phase.Cancelled;
    job.message = CANCELLED + (ran ? "; the rows committed before stay stored" : " before it ran; nothing was"
        + " imported");
    try {
      persistEnd(job);
    } catch (LeaseLost e) {
      throw new ApiError(409, e.getMessage(), null, "LeaseLost");
    }
    jobs.put(job.id, job);
    deleteUpload(job.id);
    LOG.info("import {} into '{}' cancelled from this node", job.id, job.table);
    trimHistory();
    return job.statusJson();
  }

  /**
   * Where a job's rejected lines are and how many of their bytes are whole lines: a running job's file grows
   * (served up to its last whole line), a finished one's is complete; none before the job ran.
   */
  private JsonObject errors(String id, String table) {
    ImportJob job = job(id, table);
    Path file = errorsFile(job.id);
    long bytes;
    if (job.errorLog != null && !job.finished()) {
      bytes = job.errorLog.completeBytes();
    } else {
      try {
        bytes = Files.exists(file) ? Files.size(file) : 0;
      } catch (IOException e) {
        bytes = 0;
      }
    }
    return new JsonObject().put("file", file.toAbsolutePath().toString()).put("bytes", bytes);
  }

  private Path errorsFile(String id) {
    return jobsDir.resolve(id + ".errors.ndjson");
  }

  private static void answerCancels(ImportJob job) {
    JsonObject status = job.statusJson();
    job.cancelWaiters.forEach(waiter -> waiter.tryComplete(status));
    job.cancelWaiters.clear();
  }

  /**
   * {@code GET /api/v1/data/_imports} (a Sluice extension): the jobs this node knows (in a cluster, every node's,
   * from the store), newest first, each with the
   * status body of {@code GET /api/v1/data/{table}/file/{id}} plus the upload size and the bytes read so far.
   */
  private JsonObject list(int limit) {
    JsonArray imports = new JsonArray();
    Map<String, ImportJob> listed = new LinkedHashMap<>();
    if (leases != null) { // the cluster's jobs, as saved (a running one's progress at its last heartbeat)
      Map<String, String> stored;
      try {
        stored = state.list(NodeState.Kind.IMPORT_JOBS);
      } catch (StorageException e) {
        throw new ApiError(503, "cannot list the imports: " + e.getMessage(), null,
            e.kind() == StorageException.Kind.UNAVAILABLE ? "StoreUnavailable" : "StorageFailure");
      }
      stored.forEach((id, body) -> {
        try {
          listed.put(id, ImportJob.fromJson(new JsonObject(body)));
        } catch (RuntimeException e) {
          LOG.warn("ignoring unreadable import job {}: {}", id, e.getMessage());
        }
      });
    }
    jobs.forEach((id, job) -> {
      if (job.leased || !listed.containsKey(id)) { // this node's, live (a copy it only loaded may be stale)
        listed.put(id, job);
      }
    });
    listed.values().stream()
        .sorted(Comparator.comparing((ImportJob job) -> job.createdAt).reversed()
            .thenComparing(job -> job.id))
        .limit(limit)
        .forEach(job -> {
          JsonObject status = job.statusJson();
          imports.add(new JsonObject()
              .put("id", job.id)
              .put("table", job.table)
              .put("createdAt", job.createdAt.toString())
              .put("bytes", job.bytes)
              .put("bytesRead", job.bytesRead())
              .put("status", status.getJsonObject("status"))
              .put("errors", status.getJsonObject("errors")));
        });
    return new JsonObject().put("imports", imports).put("dropped", dropped)
        .put("maxHistory", config.importMaxHistory());
  }

  private ImportJob job(String id, String table) {
    ImportJob job = id == null ? null : jobs.get(id);
    if (job != null && job.sink != null && !job.sink.table().equals(job.table)) {
      job.table = job.sink.table(); // renamed while it runs
      persistQuietly(job); // saved again at the job's end
    }
    if (job == null || !job.table.equals(table)) {
      throw ApiError.notFound("import job '" + id + "' not found for table '" + table + "'");
    }
    return job;
  }

  // ---------------------------------------------------------------- running

  private void startQueued() {
    while (running < config.importMaxJobs() && !queue.isEmpty()) {
      run(queue.poll());
    }
  }

  private void run(ImportJob job) {
    running++;
    boolean resuming = job.phase == ImportJob.Phase.Running;
    ImportJob.Phase phaseBefore = job.phase;
    job.phase = ImportJob.Phase.Running;
    Instant firstStart = job.startedAt;
    if (job.startedAt == null) {
      job.startedAt = Instant.now();
      job.history.mark(job.startedAt.toEpochMilli(), 0);
    }
    try {
      persist(job);
    } catch (LeaseLost e) {
      running--;
      job.phase = phaseBefore;
      dropLost(job);
      return;
    } catch (ApiError e) { // not started: nothing ran that the saved state does not cover
      running--;
      job.phase = phaseBefore;
      job.startedAt = firstStart;
      pause(job, e.getMessage());
      return;
    }
    job.waiting = null;
    ImportSink.Settings settings = new ImportSink.Settings(config.importMaxDecompressedBytes(),
        config.importMaxRatio(), config.importMaxLineBytes(),
        job.batchRows > 0 ? job.batchRows : config.importBatchRows(),
        job.batchBytes > 0 ? job.batchBytes : config.importBatchBytes(), config.importWindow(), 0,
        config.importCommitIntervalMs());
    io.sluice.schema.TableSchema[] schema = new io.sluice.schema.TableSchema[1];
    String[] tableId = new String[1];
    boolean[] starting = new boolean[1];
    store.call(StoreRequest.withBody(StoreOp.GET_TABLE, job.table, new JsonObject().put("withId", true)))
        .compose(table -> {
          schema[0] = io.sluice.schema.SchemaParser.parseTable(job.table, table.getJsonObject("schema"));
          tableId[0] = table.getString("id");
          return store.call(StoreRequest.withBody(StoreOp.IMPORTED_BATCHES, job.table,
              new JsonObject().put("job", job.id)));
        })
        .compose(stored -> {
          Set<Long> storedBatches = new HashSet<>();
          JsonArray batches = stored.getJsonArray("batches");
          for (int i = 0; i < batches.size(); i++) {
            storedBatches.add(batches.getLong(i));
          }
          if (resuming || !storedBatches.isEmpty()) {
            LOG.info("resuming import {} into '{}': {} batches already stored", job.id, job.table,
                storedBatches.size());
          }
          if (stopping) {
            return Future.failedFuture(new ImportFormatException("the server is stopping"));
          }
          if (job.cancelling) {
            return Future.failedFuture(new ImportFormatException(CANCELLED));
          }
          if (job.leaseLost) {
            return Future.failedFuture(new ImportFormatException(LOST));
          }
          if (!storedBatches.isEmpty()) {
            return Future.succeededFuture(storedBatches);
          }
          // Nothing of it stored yet: the store may prepare a bulk load, undone by importEnded below.
          starting[0] = true;
          return store.call(StoreRequest.withBody(StoreOp.IMPORT_STARTING, job.table, new JsonObject()
              .put("tableId", tableId[0]).put("job", job.id)))
              .transform(prepared -> {
                if (prepared.failed()) { // the import runs as it would without: its batches meet the same store
                  LOG.warn("import {}: the store could not prepare a bulk load: {}", job.id,
                      prepared.cause().getMessage());
                }
                return Future.succeededFuture(storedBatches);
              });
        })
        .compose(storedBatches -> {
          job.progress = new ImportProgress();
          if (job.errorLog != null) {
            job.errorLog.close();
          }
          job.errorLog = new ImportErrorLog(errorsFile(job.id), config.importErrorsMax());
          job.progress.logEveryFailure(job.errorLog::add);
          ImportSink sink = new ImportSink(store, job.table, job.id, settings, storedBatches, job.progress,
              job.format, schema[0], metrics).bindTo(tableId[0]);
          if (spread != null) {
            sink.sendBatchesWith(spread::send);
          }
          job.sink = sink;
          // From the start of this run: a job that stores its first batches before the first sample shows them.
          rateWindows.put(job.id, new ArrayDeque<>(List.<long[]>of(new long[] {System.currentTimeMillis(),
              job.progress.completed()})));
          return open(job).compose(input -> {
            job.input = input;
            if (stopping) { // stop() ran while the input was opening: it is closed in finish
              return Future.failedFuture(new ImportFormatException("the server is stopping"));
            }
            if (job.cancelling) { // a cancel arrived while the input was opening: it is closed in finish
              return Future.failedFuture(new ImportFormatException(CANCELLED));
            }
            if (job.leaseLost) {
              return Future.failedFuture(new ImportFormatException(LOST));
            }
            input.stream().pipe().endOnFailure(false).to(sink).onFailure(sink::abort);
            return sink.done();
          });
        })
        .transform(ended -> !starting[0] || stopping ? Future.succeededFuture(ended)
            // Before its end is saved: what the store prepared is undone first (PostgreSQL builds the token
            // indexes), so a Finished import's table is as fast to search as any. A stopping server leaves it
            // to the next start.
            : store.call(StoreRequest.withBody(StoreOp.IMPORT_ENDED, job.table, new JsonObject()
                .put("tableId", tableId[0]).put("job", job.id)))
                .transform(undone -> {
                  if (undone.failed()) {
                    LOG.warn("import {}: the store could not finish its bulk load (it does at the next start or"
                        + " optimize): {}", job.id, undone.cause().getMessage());
                  }
                  return Future.succeededFuture(ended);
                }))
        .onComplete(ar -> finish(job, ar.result().cause()));
  }

  /**
   * The job's input, and how to release it however the job ends: a file is closed; a pulled response not read
   * to its end is reset, which closes its connection (else it would stay open, or be read to its end for nothing).
   */
  record Input(ReadStream<Buffer> stream, Supplier<Future<Void>> close) {
  }

  private Future<Input> open(ImportJob job) {
    if (job.sourceUrl != null) {
      return http.request(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(job.sourceUrl))
          .compose(request -> request.send())
          .compose(response -> {
            Future<Void> ended = response.end(); // taken now: end() throws once the response has ended
            Input input = new Input(response, () -> ended.isComplete() ? Future.succeededFuture()
                : response.request().reset().otherwiseEmpty());
            if (response.statusCode() / 100 != 2) {
              input.close().get();
              return Future.failedFuture(new ImportFormatException("fetching " + job.sourceUrl + " answered HTTP "
                  + response.statusCode()));
            }
            return Future.succeededFuture(input);
          });
    }
    // An upload that lost bytes since it was acknowledged (a storage fault) must not import as fewer rows.
    return uploads.open(job.id, job.bytes)
        .recover(failure -> Future.failedFuture(failure instanceof IOException
            ? new ImportFormatException(failure.getMessage())
            : new ImportFormatException("cannot read the uploaded file: " + failure.getMessage())))
        .map(reader -> new Input(reader, reader::close));
  }

  /** Releases the job's input, once; never fails. */
  private Future<Void> closeInput(ImportJob job) {
    Input input = job.input;
    job.input = null;
    if (input == null) {
      return Future.succeededFuture();
    }
    try {
      return input.close().get();
    } catch (RuntimeException e) {
      LOG.warn("cannot close the input of import {}", job.id, e);
      return Future.succeededFuture();
    }
  }

  private void finish(ImportJob job, Throwable failure) {
    running--;
    rateWindows.remove(job.id);
    metrics.importEnded(job.id);
    if (job.errorLog != null) {
      job.errorLog.close();
    }
    Future<Void> closed = closeInput(job);
    if (job.sink != null) {
      job.bytesRead = job.sink.inputBytes();
      job.table = job.sink.table(); // renamed while it ran: the status names the table holding the rows
      job.sink = null;
    }
    if (job.leaseLost) {
      dropLost(job);
      startQueued();
      return;
    }
    if (stopping) {
      LOG.info("import {} into '{}' stopped with the server; it resumes at the next start", job.id, job.table);
      job.cancelWaiters.forEach(waiter -> waiter.tryFail(new ApiError(503, "the server is stopping; import "
          + job.id + " resumes at the next start, cancel it then")));
      job.cancelWaiters.clear();
      return;
    }
    String messageBefore = job.message;
    job.finishedAt = Instant.now();
    job.history.mark(job.finishedAt.toEpochMilli(), job.progress.completed());
    if (failure == null) {
      job.phase = ImportJob.Phase.Finished; // it ended before the cancel took hold: the cancel answers Finished
    } else if (job.cancelling) {
      job.phase = ImportJob.Phase.Cancelled;
      job.message = CANCELLED + "; the " + job.progress.completed() + " rows committed before stay stored";
    } else {
      job.phase = ImportJob.Phase.FinishedInError;
      job.message = "import failed: " + failure.getMessage();
    }
    try {
      persistEnd(job);
    } catch (LeaseLost e) {
      job.finishedAt = null;
      job.phase = ImportJob.Phase.Running;
      job.message = messageBefore;
      dropLost(job);
      startQueued();
      return;
    } catch (ApiError e) {
      // Its end is not saved, so it has not ended: it stays Running (as saved) with its upload, and resumes
      // from the store's checkpoint once its state can be saved again, which recounts the rows stored so far.
      String ended = job.phase + (failure == null ? "" : " (" + failure.getMessage() + ")");
      job.finishedAt = null;
      job.phase = ImportJob.Phase.Running;
      job.message = messageBefore;
      pause(job, "the import ended " + ended + " but that could not be saved: " + e.getMessage());
      startQueued();
      return;
    }
    // Deleted once closed: an open file's disk space is only freed when its last handle goes.
    closed.onComplete(ignored -> deleteUpload(job.id));
    LOG.info("import {} into '{}' {}: {} rows stored, {} failed", job.id, job.table, job.phase,
        job.progress.completed(), job.progress.failedCount());
    answerCancels(job);
    trimHistory();
    startQueued();
  }

  /**
   * A job whose state could not be saved waits, unqueued, until {@link #retryPaused} queues it again; its status
   * says why. Cancels waiting for it are answered 503 (it is not cancelled; cancel again).
   */
  private void pause(ImportJob job, String reason) {
    job.waiting = reason;
    if (!paused.contains(job)) {
      paused.add(job);
    }
    job.cancelling = false;
    job.cancelWaiters.forEach(waiter -> waiter.tryFail(new ApiError(503, "import " + job.id + " is paused: "
        + reason + "; it is not cancelled, cancel it again later", null, "StoreUnavailable")));
    job.cancelWaiters.clear();
    LOG.warn("import {} into '{}' paused, retried every {} ms: {}", job.id, job.table, PAUSED_RETRY_MS, reason);
  }

  private void retryPaused() {
    if (stopping || paused.isEmpty()) {
      return;
    }
    queue.addAll(paused);
    paused.clear();
    startQueued();
  }

  /** A point of every running job's history (the history keeps it only if its interval has passed). */
  private void sampleRunning() {
    long now = System.currentTimeMillis();
    for (ImportJob job : jobs.values()) {
      if (job.sink != null) {
        job.history.sample(now, job.progress.completed());
        sampleRate(job, now);
      }
    }
  }

  /** The job's stored rows per second over the last {@link Metrics#IMPORT_RATE_WINDOW_SECONDS} s of samples. */
  private void sampleRate(ImportJob job, long now) {
    ArrayDeque<long[]> window = rateWindows.computeIfAbsent(job.id, id -> new ArrayDeque<>());
    window.add(new long[] {now, job.progress.completed()});
    while (window.size() > 2 && now - window.peekFirst()[0] > Metrics.IMPORT_RATE_WINDOW_SECONDS * 1000L) {
      window.poll();
    }
    long[] first = window.peekFirst();
    double seconds = (now - first[0]) / 1000.0;
    metrics.importRate(job.id, job.sink.table(), seconds <= 0 ? 0 : (window.peekLast()[1] - first[1]) / seconds);
  }

  // ---------------------------------------------------------------- persistence and cleanup

  private void loadJobs() {
    for (Map.Entry<String, String> stored : state.list(NodeState.Kind.IMPORT_JOBS).entrySet()) {
      try {
        ImportJob job = ImportJob.fromJson(new JsonObject(stored.getValue()));
        jobs.put(job.id, job);
      } catch (RuntimeException e) {
        LOG.warn("ignoring unreadable import job {} ({}): {}", stored.getKey(),
            state.where(NodeState.Kind.IMPORT_JOBS, stored.getKey()), e.getMessage());
      }
    }
    for (ImportJob job : List.copyOf(jobs.values())) {
      uploads.deletePartial(job.id);
      if (job.phase == ImportJob.Phase.Started || job.phase == ImportJob.Phase.Running) {
        if (leases != null) {
          jobs.remove(job.id); // the cluster's: claimed by some node (this one too) once its lease is free
        } else {
          queue.add(job);
        }
      }
    }
  }

  /**
   * Saves the job's state, durably; a 503 naming the cause when it cannot, {@link LeaseLost} when the job's lease
   * went to another node.
   */
  private void persist(ImportJob job) {
    save(job, false);
  }

  /** Saves the job's end: as {@link #persist}, and gives up its lease. */
  private void persistEnd(ImportJob job) {
    save(job, true);
  }

  private void save(ImportJob job, boolean end) {
    countPhases();
    try {
      if (job.leased) {
        String body = job.toJson().encode();
        if (!(end ? leases.release(job.id, body) : leases.save(job.id, body))) {
          throw new LeaseLost(job.id);
        }
        job.leased = !end;
      } else {
        state.put(NodeState.Kind.IMPORT_JOBS, job.id, job.toJson().encode());
      }
    } catch (StorageException e) {
      throw notSaved(job, e);
    }
  }

  private static ApiError notSaved(ImportJob job, StorageException e) {
    String cause = switch (e.kind()) {
      case UNAVAILABLE -> "StoreUnavailable";
      case DISK_FULL -> "DiskFull";
      default -> "StorageFailure";
    };
    return new ApiError(503, "cannot save the state of import " + job.id + ": " + e.getMessage(), null, cause);
  }

  private void persistQuietly(ImportJob job) {
    try {
      persist(job);
    } catch (LeaseLost e) {
      // the heartbeat finds it too, and ends the job here
    } catch (ApiError e) {
      LOG.warn("{}", e.getMessage());
    }
  }

  // ---------------------------------------------------------------- leases (cluster mode)

  /** The job's lease is another node's: nothing of it may be saved from here. */
  private static final class LeaseLost extends RuntimeException {
    LeaseLost(String id) {
      super("import " + id + " is run by another node now (this node lost its lease)");
    }

    ApiError toApiError() {
      return new ApiError(409, getMessage(), null, "LeaseLost");
    }
  }

  /**
   * In a cluster, a job this node knows but has not triggered (loaded at start, or initiated here) may have been
   * triggered, or dropped, by another node since: the store's copy counts then, read by the callers.
   */
  private void refresh(String id) {
    ImportJob known = id == null || leases == null ? null : jobs.get(id);
    if (known == null || known.leased || known.triggered() || known.uploading) {
      return;
    }
    ImportJob stored = stored(id);
    if (stored == null || stored.triggered()) {
      jobs.remove(id);
    } else {
      jobs.put(id, stored); // e.g. uploaded on another node since this one loaded it: triggered here, run there
    }
  }

  /** Claims as many triggered jobs as this node has room for, and queues them. */
  private void claim() {
    if (leases == null || stopping) {
      return;
    }
    int room = config.importMaxJobs() - running - queue.size();
    if (room <= 0) {
      return;
    }
    Map<String, String> claimed;
    try {
      claimed = leases.claim(room, place, config.cluster().leaseTimeoutMs());
    } catch (StorageException e) {
      LOG.warn("cannot look for imports to run: {}", e.getMessage());
      return;
    }
    claimed.forEach((id, body) -> {
      ImportJob job;
      try {
        job = ImportJob.fromJson(new JsonObject(body));
      } catch (RuntimeException e) {
        LOG.warn("claimed import {} cannot be read: {}", id, e.getMessage());
        return;
      }
      job.leased = true;
      LOG.info("claimed import {} into '{}' ({})", id, job.table, job.phase);
      jobs.put(id, job);
      queue.add(job);
    });
    startQueued();
  }

  /** Extends the leases of the jobs this node holds, saving their progress, then claims jobs it has room for. */
  private void heartbeat() {
    if (stopping) {
      return;
    }
    Map<String, ImportJob> held = new LinkedHashMap<>();
    for (ImportJob job : jobs.values()) {
      if (job.leased && !job.finished()) {
        held.put(job.id, job);
      }
    }
    if (!held.isEmpty()) {
      Map<String, String> documents = new LinkedHashMap<>();
      held.forEach((id, job) -> documents.put(id, job.toJson().encode()));
      try {
        Set<String> still = leases.renew(documents, config.cluster().leaseTimeoutMs());
        held.values().stream().filter(job -> !still.contains(job.id)).toList().forEach(this::leaseLost);
      } catch (StorageException e) {
        // not extended: if the store stays away past the timeout, another node may take them (the store's lease
        // check then refuses this node's batches)
        LOG.warn("cannot extend the leases of {} imports: {}", held.size(), e.getMessage());
      }
      cancelRequested();
    }
    claim();
  }

  /** Cancels the held imports another node was asked to cancel (its cancel reads their end from the store). */
  private void cancelRequested() {
    Set<String> requested;
    try {
      requested = leases.cancelsRequested();
    } catch (StorageException e) {
      LOG.warn("cannot look for cancels of this node's imports: {}", e.getMessage());
      return;
    }
    for (String id : requested) {
      ImportJob job = jobs.get(id);
      if (job != null && job.leased && !job.finished() && !job.cancelling) {
        LOG.info("import {} into '{}': cancel requested by another node", id, job.table);
        try {
          cancel(id, job.table).onFailure(e -> LOG.warn("cancelling import {}: {}", id, e.getMessage()));
        } catch (RuntimeException e) { // not saved: the mark stays, tried again at the next heartbeat
          LOG.warn("cancelling import {}: {}", id, e.getMessage());
        }
      }
    }
  }

  /** Another node holds the job now: it stops here, saving nothing (a running one ends through finish). */
  private void leaseLost(ImportJob job) {
    LOG.warn("import {} into '{}' lost its lease (not extended within cluster.lease.timeout.ms); another node"
        + " runs it now", job.id, job.table);
    job.leased = false;
    job.leaseLost = true;
    if (queue.contains(job) || paused.contains(job)) { // not running here
      dropLost(job);
    } else if (job.sink != null) { // running: ends through finish (a run still opening sees the flag)
      job.sink.abort(new ImportFormatException(LOST));
      closeInput(job);
    }
  }

  /** Forgets a job whose lease another node holds: its status is read from the store from now on. */
  private void dropLost(ImportJob job) {
    job.leased = false;
    queue.remove(job);
    paused.remove(job);
    jobs.remove(job.id);
    rateWindows.remove(job.id);
    job.cancelWaiters.forEach(waiter -> waiter.tryFail(new LeaseLost(job.id).toApiError()));
    job.cancelWaiters.clear();
    LOG.info("import {} into '{}' left to the node holding its lease", job.id, job.table);
  }

  /** A job this node does not hold, as stored (by another node sharing the store); null when there is none. */
  private ImportJob stored(String id) {
    String body;
    try {
      body = state.get(NodeState.Kind.IMPORT_JOBS, id);
    } catch (IllegalArgumentException e) { // not an id a job could have
      return null;
    } catch (StorageException e) {
      throw new ApiError(503, "cannot read the state of import " + id + ": " + e.getMessage(), null,
          e.kind() == StorageException.Kind.UNAVAILABLE ? "StoreUnavailable" : "StorageFailure");
    }
    return body == null ? null : ImportJob.fromJson(new JsonObject(body));
  }

  private JsonObject status(String id, String table) {
    refresh(id);
    if (id != null && !jobs.containsKey(id)) {
      ImportJob stored = stored(id);
      if (stored != null && stored.table.equals(table)) {
        return stored.statusJson();
      }
    }
    return job(id, table).statusJson();
  }

  private void forget(ImportJob job) {
    try {
      state.delete(NodeState.Kind.IMPORT_JOBS, job.id);
    } catch (StorageException e) {
      LOG.warn("cannot delete the state of import {} (deleted at a later start): {}", job.id, e.getMessage());
    }
  }

  private void cleanup() {
    Instant now = Instant.now();
    Duration keep = Duration.ofSeconds(config.importKeepSeconds());
    jobs.values().removeIf(job -> {
      boolean expired = !job.triggered() && !job.uploading && job.expires.plus(keep).isBefore(now);
      boolean old = job.finished() && job.finishedAt.plus(keep).isBefore(now);
      if (expired && leases != null && !job.leased) {
        // a copy loaded or initiated here; another node may have received its upload and triggered it since
        ImportJob stored;
        try {
          stored = stored(job.id);
        } catch (ApiError e) {
          return false; // looked at again at the next cleanup
        }
        if (stored != null && stored.triggered()) {
          return true; // the cluster's now: forgotten here only
        }
      }
      if (expired || old) {
        deleteUpload(job.id);
        forget(job);
        deleteQuietly(errorsFile(job.id));
      }
      return expired || old;
    });
    countPhases();
  }

  /**
   * Bounds the history by count as well as by age (import.keep.seconds): past import.max.history finished jobs,
   * the oldest finished ones go with their files. Jobs not finished are never dropped, nor counted.
   */
  private void trimHistory() {
    List<ImportJob> finished = jobs.values().stream().filter(ImportJob::finished)
        .sorted(Comparator.comparing((ImportJob job) -> job.finishedAt != null ? job.finishedAt : Instant.MIN)
            .thenComparing(job -> job.createdAt).thenComparing(job -> job.id))
        .toList();
    int excess = finished.size() - config.importMaxHistory();
    for (int i = 0; i < excess; i++) {
      ImportJob job = finished.get(i);
      jobs.remove(job.id);
      forget(job);
      deleteQuietly(errorsFile(job.id));
      deleteUpload(job.id);
      dropped++;
    }
    if (excess > 0) {
      LOG.info("dropped the {} oldest finished import statuses (import.max.history {})", excess,
          config.importMaxHistory());
      countPhases();
    }
  }

  /** Publishes the number of jobs per phase ({@link Metrics#IMPORT_JOBS}); called at every transition. */
  private void countPhases() {
    Map<String, Long> counts = new LinkedHashMap<>();
    for (ImportJob.Phase phase : ImportJob.Phase.values()) {
      counts.put(phase.name(), 0L);
    }
    for (ImportJob job : jobs.values()) {
      counts.merge(job.phase.name(), 1L, Long::sum);
    }
    metrics.importJobs(counts);
  }

  /** Deletes the job's upload (kept until a later attempt or start when that fails). */
  private void deleteUpload(String id) {
    uploads.delete(id).onFailure(e -> LOG.warn("cannot delete the upload of import {}: {}", id, e.getMessage()));
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      LOG.warn("cannot delete {}", file, e);
    }
  }
}
