package io.sluice.ingest;

import io.sluice.bus.StoreClient;
import io.sluice.bus.StoreOp;
import io.sluice.bus.StoreRequest;
import io.sluice.errors.ApiError;
import io.sluice.metrics.Metrics;
import io.sluice.store.StreamLines;
import io.sluice.store.TableStore;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.WriteStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The import pipeline as a {@link WriteStream}: bytes in (gzip or plain; NDJSON, a JSON array or CSV) →
 * {@link StreamingGunzip} → a {@link RecordSplitter} ({@link LineSplitter}, {@link JsonArrayElements},
 * {@link CsvRecords}) → batches of JSON rows, one per line → the store, with a credit window of at most
 * {@link Settings#window()} batches in flight. While the window is full {@link #writeQueueFull()} is true, so a
 * {@code pipeTo} pauses the source; each store reply frees a credit and calls the drain handler. Memory is
 * bounded by window × batch bytes whatever the input size.
 *
 * <p>The store replies to a batch once its rows are added to the index (not yet durable), so the window is
 * not held up by commits. Indexed batches wait in {@code pending} (only their small replies) until a
 * {@code SYNC} that was sent after their reply completes, i.e. until a commit that contains them: only then
 * are they counted. One sync is in flight at a time, started at most every {@link Settings#commitIntervalMs()}
 * (and at the end), so an import makes a few large commits instead of one per batch.
 *
 * <p>Progress is counted from sync replies only, so it never runs ahead of what is durable. Batches are
 * numbered deterministically from the start of the input; for a resumed file import, batches already in the
 * store ({@code storedBatches}) are only re-validated to recount, never written twice.
 *
 * <p>Confined to one context: call it from the context that created it (store replies return there).
 */
public final class ImportSink implements WriteStream<Buffer> {

  /** Limits of one import. {@code maxInputBytes} caps the bytes written to the sink (0: no cap). */
  public record Settings(long maxDecompressedBytes, long maxRatio, int maxLineBytes, int batchRows, int batchBytes,
      int window, long maxInputBytes, long commitIntervalMs) {
    public static final long DEFAULT_COMMIT_INTERVAL_MS = 1000;

    public Settings(long maxDecompressedBytes, long maxRatio, int maxLineBytes, int batchRows, int batchBytes,
        int window, long maxInputBytes) {
      this(maxDecompressedBytes, maxRatio, maxLineBytes, batchRows, batchBytes, window, maxInputBytes,
          DEFAULT_COMMIT_INTERVAL_MS);
    }
  }

  /** A batch the store has indexed, waiting for a commit to count it. */
  private record Indexed(long number, long firstLine, int lines, JsonObject reply) {
  }

  /**
   * A stream sent under an Idempotency-Key: each batch carries {@link StreamLines} under {@code job} as its
   * checkpoint; lines in {@code committed} (earlier attempts) are skipped; the body's first line is stream line
   * {@code firstLine} (1: the whole stream again; more: the rest of it, NDJSON only).
   */
  private record Resume(String job, long hour, StreamLines.Ranges committed, long firstLine) {
  }

  private final StoreClient store;
  /** The table's current name: a rename while the import runs carries it along (the store replies the name). */
  private String table;
  /** The internal id of the table the import started on (null: none, by name only); see {@link #bindTo}. */
  private String tableId;
  private final String job;
  private final Settings settings;
  private final Set<Long> storedBatches;
  private final ImportProgress progress;
  private final Metrics metrics;
  private final StreamingGunzip gunzip;
  private final LineSplitter.LineHandler records;
  private final String format;
  private final String tableName;
  private final io.sluice.schema.TableSchema schema;
  private RecordSplitter splitter;
  private boolean atStart = true;
  private Buffer leadingWhitespace = Buffer.buffer();
  private final Promise<Void> done = Promise.promise();

  /** Allocated at a batch's first line: a stream of a few rows, or the end of an import, takes no batch room. */
  private Buffer batch;
  private long batchFirstLine = -1;
  private int batchLines;
  private long nextBatch;
  private int inFlight;
  private final ArrayDeque<Indexed> pending = new ArrayDeque<>();
  private boolean syncing;
  private long lastSyncStart = System.nanoTime();
  private long syncTimer = -1;
  private long inputBytes;
  private boolean ended;
  private Throwable failure;
  private Handler<Void> drainHandler;
  private Handler<Throwable> exceptionHandler;
  private Resume resume;
  private long skippedLines;
  /** Where a file import's batches go: this node's store, or every node's ({@link ImportBatches}). */
  private java.util.function.Function<StoreRequest, Future<JsonObject>> batchSender;

  /** Input formats: "ndjson", "json" (one array of rows), "csv" (header row), or "auto" (by the first byte). */
  public static final Set<String> FORMATS = Set.of("auto", "ndjson", "json", "csv");

  /**
   * @param format one of {@link #FORMATS}
   * @param schema the table's schema, needed to type CSV values (may be null for the JSON formats)
   */
  public ImportSink(StoreClient store, String table, String job, Settings settings, Set<Long> storedBatches,
      ImportProgress progress, String format, io.sluice.schema.TableSchema schema, Metrics metrics) {
    this.format = format == null ? "auto" : format;
    this.tableName = table;
    this.schema = schema;
    this.store = store;
    this.metrics = metrics;
    this.table = table;
    this.job = job;
    this.settings = settings;
    this.storedBatches = storedBatches;
    this.progress = progress;
    this.batchSender = store::call;
    this.records = new LineSplitter.LineHandler() {
      @Override
      public void line(long lineNumber, Buffer line) {
        long number = streamLine(lineNumber);
        if (number > 0) {
          addLine(number, line);
        }
      }

      @Override
      public void tooLong(long lineNumber, long length, Buffer prefix) {
        long number = streamLine(lineNumber);
        if (number > 0) {
          progress.failed(LineBatchParser.failure(number, "line is " + length + " bytes, over the limit of "
              + settings.maxLineBytes() + " (import.max.line.bytes)", prefix.toString()));
          addLine(number, Buffer.buffer());
        }
      }

      @Override
      public void invalid(long lineNumber, String message, String text) {
        long number = streamLine(lineNumber);
        if (number > 0) {
          progress.failed(LineBatchParser.failure(number, message, text));
          addLine(number, Buffer.buffer());
        }
      }
    };
    if (!"auto".equals(this.format)) {
      splitter = splitterFor(this.format);
    }
    this.gunzip = new StreamingGunzip(settings.maxDecompressedBytes(), settings.maxRatio(), this::route);
  }

  /** Decompressed bytes go to the splitter of the format; "auto" decides on the first non-blank byte. */
  private void route(Buffer chunk) {
    if (atStart) {
      atStart = false;
      if (chunk.length() >= 3 && chunk.getByte(0) == (byte) 0xEF && chunk.getByte(1) == (byte) 0xBB
          && chunk.getByte(2) == (byte) 0xBF) {
        chunk = chunk.slice(3, chunk.length()); // a UTF-8 byte order mark (Windows exports) is no content
      }
    }
    if (splitter == null) {
      int i = 0;
      while (i < chunk.length() && isBlank(chunk.getByte(i))) {
        i++;
      }
      if (i == chunk.length() && leadingWhitespace.length() < (1 << 20)) {
        leadingWhitespace.appendBuffer(chunk.copy());
        return;
      }
      byte first = i < chunk.length() ? chunk.getByte(i) : (byte) '{';
      splitter = splitterFor(first == '{' ? "ndjson" : first == '[' ? "json" : "csv");
      if (leadingWhitespace.length() > 0) {
        splitter.feed(leadingWhitespace);
        leadingWhitespace = null;
      }
    }
    splitter.feed(chunk);
  }

  private RecordSplitter splitterFor(String kind) {
    if (resume != null && resume.firstLine() > 1 && !"ndjson".equals(kind)) {
      throw new ImportFormatException("only an NDJSON stream can be resent from a line ('from'); resend the whole "
          + ("csv".equals(kind) ? "CSV" : "JSON array") + " with the same Idempotency-Key instead");
    }
    switch (kind) {
      case "json":
        return new JsonArrayElements(settings.maxLineBytes(), records);
      case "csv":
        if (schema == null) {
          throw new ImportFormatException("CSV input needs the table's schema");
        }
        return new CsvRecords(tableName, schema, settings.maxLineBytes(), records);
      default:
        LineSplitter lines = new LineSplitter(settings.maxLineBytes(), records);
        return new RecordSplitter() {
          @Override
          public void feed(Buffer chunk) {
            lines.feed(chunk);
          }

          @Override
          public void finish() {
            lines.finish();
          }
        };
    }
  }

  private static boolean isBlank(byte b) {
    return b == ' ' || b == '\n' || b == '\r' || b == '\t';
  }

  /**
   * Binds the import to the table instance with this internal id (from {@code GET_TABLE} with {@code withId}): if
   * the table is dropped or replaced while the import runs, the store refuses its next batch or sync and the
   * import ends in error, instead of counting rows that went with the old table or writing into a new one.
   */
  public ImportSink bindTo(String tableId) {
    this.tableId = tableId;
    return this;
  }

  /** Sends the batches (not the syncs) with {@code sender}: a cluster spreads a file import's batches. */
  public ImportSink sendBatchesWith(java.util.function.Function<StoreRequest, Future<JsonObject>> sender) {
    this.batchSender = sender;
    return this;
  }

  /**
   * Makes this a stream under an Idempotency-Key (see {@link Resume}). {@code lines}: the [first, count] ranges
   * its earlier attempts committed; {@code firstLine}: the stream line the body starts at.
   */
  public ImportSink resumeStream(String job, long hour, io.vertx.core.json.JsonArray lines, long firstLine) {
    StreamLines.Ranges committed = new StreamLines.Ranges();
    for (int i = 0; i < lines.size(); i++) {
      io.vertx.core.json.JsonArray range = lines.getJsonArray(i);
      committed.add(range.getLong(0), range.getLong(1));
    }
    this.resume = new Resume(job, hour, committed, firstLine);
    if (firstLine > 1 && splitter != null && !"ndjson".equals(format)) {
      throw new ImportFormatException("only an NDJSON stream can be resent from a line ('from'); resend the whole"
          + " body with the same Idempotency-Key instead");
    }
    return this;
  }

  /**
   * Lines of the stream that need not be sent again, from line 1 without a gap: committed by this attempt or an
   * earlier one (stored, or refused as invalid). 0 without an Idempotency-Key.
   */
  public long committedLines() {
    return resume == null ? 0 : resume.committed().prefix();
  }

  /** Lines skipped because an earlier attempt of the stream committed them. */
  public long skippedLines() {
    return skippedLines;
  }

  /**
   * The stream line of a line of the body, or 0 when an earlier attempt committed it (skipped: the batch being
   * filled ends there, so each batch covers consecutive lines).
   */
  private long streamLine(long bodyLine) {
    if (resume == null) {
      return bodyLine;
    }
    long line = bodyLine + resume.firstLine() - 1;
    if (line > StreamLines.MAX_LINE) {
      throw new ImportFormatException("a stream under an Idempotency-Key holds at most " + StreamLines.MAX_LINE
          + " lines; split it");
    }
    if (resume.committed().contains(line)) {
      flush();
      skippedLines++;
      return 0;
    }
    return line;
  }

  /** The table's current name (it follows a rename). */
  public String table() {
    return table;
  }

  /** Completes when the input has ended and every batch is stored; fails on the first fatal error. */
  public Future<Void> done() {
    return done.future();
  }

  public ImportProgress progress() {
    return progress;
  }

  public long inputBytes() {
    return inputBytes;
  }

  /** The source failed (client gone, read error): stop, keep what is stored, finish once in-flight batches land. */
  public void abort(Throwable cause) {
    fail(cause);
  }

  @Override
  public Future<Void> write(Buffer data) {
    if (failure != null) {
      return Future.failedFuture(failure);
    }
    inputBytes += data.length();
    if (settings.maxInputBytes() > 0 && inputBytes > settings.maxInputBytes()) {
      fail(new ApiError(413, "the input is larger than the limit of " + settings.maxInputBytes() + " bytes"));
      return Future.failedFuture(failure);
    }
    try {
      gunzip.feed(data);
    } catch (ImportFormatException e) {
      fail(e);
      return Future.failedFuture(e);
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> end() {
    if (failure == null && !ended) {
      try {
        gunzip.finish();
        if (splitter == null && leadingWhitespace != null && leadingWhitespace.length() > 0) {
          splitter = splitterFor("ndjson");
          splitter.feed(leadingWhitespace);
        }
        if (splitter != null) {
          splitter.finish();
        }
        flush();
      } catch (ImportFormatException e) {
        fail(e);
      }
    }
    ended = true;
    completeIfIdle();
    return done.future();
  }

  @Override
  public boolean writeQueueFull() {
    return inFlight >= settings.window();
  }

  @Override
  public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
    this.drainHandler = handler;
    return this;
  }

  @Override
  public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    this.exceptionHandler = handler;
    return this;
  }

  @Override
  public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
    return this;
  }

  private void addLine(long lineNumber, Buffer line) {
    if (batchFirstLine < 0) {
      batchFirstLine = lineNumber;
    }
    if (batchLines > 0) {
      batch.appendByte((byte) '\n');
    } else {
      batch = emptyBatch();
    }
    batch.appendBuffer(line);
    batchLines++;
    if (batchLines >= settings.batchRows() || batch.length() >= settings.batchBytes()
        || (resume != null && batchLines >= StreamLines.MAX_COUNT)) {
      flush();
    }
  }

  /**
   * With room for the line that crosses the limit: growing would double the array, and an array past half a G1
   * region is a humongous object, each of which may start a concurrent collection (docs/performance.md).
   */
  private Buffer emptyBatch() {
    return Buffer.buffer(Math.min(settings.batchBytes() + settings.batchBytes() / 4, 1 << 20));
  }

  private void flush() {
    if (batchLines == 0 || failure != null) {
      return;
    }
    long number = nextBatch++;
    JsonObject args = new JsonObject().put("firstLine", batchFirstLine);
    if (job != null) {
      args.put("job", job).put("batch", number).put("validateOnly", storedBatches.contains(number));
    } else if (resume != null) {
      args.put("job", resume.job()).put("batch", StreamLines.encode(resume.hour(), batchFirstLine, batchLines));
    }
    long firstLine = batchFirstLine;
    int lines = batchLines;
    args.put("deferCommit", true);
    if (tableId != null) {
      args.put("tableId", tableId);
    }
    Buffer payload = batch;
    batch = null;
    batchFirstLine = -1;
    batchLines = 0;
    inFlight++;
    int bytes = payload.length();
    metrics.inflight(bytes);
    batchSender.apply(new StoreRequest(StoreOp.APPEND_LINES, table, null, args, payload))
        .onComplete(reply -> {
          metrics.inflight(-bytes);
          stored(number, firstLine, lines, reply);
        });
  }

  private void stored(long number, long firstLine, int lines, AsyncResult<JsonObject> reply) {
    inFlight--;
    if (reply.succeeded()) {
      follow(reply.result());
      pending.add(new Indexed(number, firstLine, lines, reply.result()));
      maybeSync();
    } else {
      fail(reply.cause());
    }
    if (!writeQueueFull() && drainHandler != null && failure == null) {
      Handler<Void> handler = drainHandler;
      handler.handle(null);
    }
    completeIfIdle();
  }

  /** Starts a sync of the pending batches when one is due: the interval has passed, or nothing else will come. */
  private void maybeSync() {
    if (syncing || pending.isEmpty()) {
      return;
    }
    long waitMs = settings.commitIntervalMs() - (System.nanoTime() - lastSyncStart) / 1_000_000;
    boolean last = ended && inFlight == 0;
    if (last || waitMs <= 0) {
      startSync();
      return;
    }
    Context context = Vertx.currentContext();
    if (context == null) {
      startSync();
    } else if (syncTimer < 0) {
      syncTimer = context.owner().setTimer(waitMs, id -> {
        syncTimer = -1;
        maybeSync();
      });
    }
  }

  private void startSync() {
    if (syncTimer >= 0) {
      Vertx vertx = Vertx.currentContext() == null ? null : Vertx.currentContext().owner();
      if (vertx != null) {
        vertx.cancelTimer(syncTimer);
      }
      syncTimer = -1;
    }
    syncing = true;
    lastSyncStart = System.nanoTime();
    List<Indexed> covered = new ArrayList<>(pending);
    pending.clear();
    JsonObject syncArgs = tableId == null ? null : new JsonObject().put("tableId", tableId);
    store.call(new StoreRequest(StoreOp.SYNC, table, null, syncArgs, null)).onComplete(ar -> {
      syncing = false;
      if (ar.succeeded()) {
        follow(ar.result());
        for (Indexed batch : covered) {
          JsonObject result = batch.reply();
          progress.stored(batch.number(), result.getLong("appended"), result.getJsonObject("last"));
          progress.failed(result.getLong("failedCount"), result.getJsonArray("failures"));
          if (resume != null) {
            resume.committed().add(batch.firstLine(), batch.lines());
          }
        }
      } else {
        fail(ar.cause());
      }
      maybeSync();
      completeIfIdle();
    });
  }

  private void follow(JsonObject reply) {
    String current = reply.getString("table");
    if (current != null) {
      table = current;
    }
  }

  private void fail(Throwable cause) {
    if (failure == null) {
      failure = cause;
      if (exceptionHandler != null) {
        exceptionHandler.handle(cause);
      }
    }
    ended = true;
    completeIfIdle();
  }

  private void completeIfIdle() {
    if (ended && inFlight == 0 && !pending.isEmpty()) {
      maybeSync();
    }
    if (ended && inFlight == 0 && !syncing && pending.isEmpty()) {
      if (failure == null) {
        done.tryComplete();
      } else if (failure instanceof ApiError error && TableStore.TABLE_REPLACED.equals(error.errorCause())) {
        // Whatever this import stored went with the old table: the status must not count it.
        long lost = progress.lost();
        done.tryFail(new ApiError(409, error.getMessage() + "; the " + lost + " rows it had stored went with it,"
            + " none are in the table now", null, error.errorCause()));
      } else {
        done.tryFail(failure);
      }
    }
  }
}
