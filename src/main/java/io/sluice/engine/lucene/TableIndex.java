package io.sluice.engine.lucene;

import io.sluice.engine.KeyRecord;
import io.sluice.engine.Row;
import io.sluice.engine.RowBatch;
import io.sluice.engine.RowDecoder;
import io.sluice.engine.StorageException;
import io.sluice.schema.TableSchema;
import io.vertx.core.Future;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexCommit;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.KeepOnlyLastCommitDeletionPolicy;
import org.apache.lucene.index.SnapshotDeletionPolicy;
import org.apache.lucene.index.IndexableField;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.SearcherFactory;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.SimpleCollector;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.FixedBitSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One table's Lucene index: the only writer of its directory.
 *
 * <p>Lifecycle: opened by {@link LuceneEngine} when the table is created or at start, closed when the table is
 * dropped or the store stops. Thread-safety: appends, deletes and searches may run on any thread at once;
 * {@link #exclusive()} serialises operations that need a quiescent index (delete counting, copy, rewrite).
 *
 * <p>Durable vs committed vs visible: a row write or delete is first appended to the table's
 * {@link WriteAheadLog} and then applied to the writer, under the read lock; it is durable (and acknowledged)
 * once a shared fsync of the log covers it ({@link #logged()}). Lucene commits run in the background, by time
 * ({@code store.commit.interval.ms}) and log size ({@code store.wal.max.bytes}); each records in its commit data
 * the first log generation it may not hold, and opening the index replays the log from there. Import rows are
 * not logged: their checkpoint is in the rows, and the import waits for a Lucene commit ({@link #durable()}).
 *
 * <p>Visibility: every change a search could see (a logged append, a delete, a commit, which also covers import
 * rows and rewrites) takes the next <em>change generation</em> once the writer holds it, before it is
 * acknowledged. A search first makes sure its searcher covers the generation current when the search started:
 * if not, it refreshes under {@code refreshLock}, recording the generation read before the refresh (the refresh
 * sees every change that took a generation up to then). So a search that starts after a write's reply sees the
 * write whatever other searches run meanwhile; concurrent searches share one refresh, and a search when nothing
 * changed costs two volatile reads. A commit while the table is being searched refreshes the searcher itself
 * before it completes instead of taking a generation ({@link #refreshAfterCommit}), so searches do not wait for
 * the rows an import buffered between its commits.
 *
 * <p>Replay is exact although a commit may hold part of the generation it names: rows carry their sequence
 * number, so a replayed row already in the index is skipped, and a delete is logged as the sequence numbers it
 * removed, so replaying it cannot touch a row written after it.
 *
 * <p>An I/O failure is latched: every later write is refused with 503 until restart. Searches go on from the
 * writer while it is healthy, else from the last commit (then rows acknowledged since that commit are back
 * only after the restart replays the log).
 */
final class TableIndex implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(TableIndex.class);
  /** Commit data: the first write-ahead log generation the commit may not hold. */
  private static final String WAL_FROM = "sluice.walFrom";
  private static final byte LOG_BATCH = 1;
  private static final byte LOG_ONE = 2;
  private static final byte LOG_DELETE = 3;
  private static final byte LOG_ABORT = 4;
  /**
   * A logged write that carries a checkpoint (an Idempotency-Key's record): replay must restore the mark with the
   * rows, or a crash after the reply would keep the rows and forget the key, and a retry would write them again.
   */
  private static final byte LOG_BATCH_MARKED = 5;
  private static final byte LOG_ONE_MARKED = 6;
  /** A delete that stores an Idempotency-Key's record (see {@link #keyRecords}). */
  private static final byte LOG_DELETE_RECORDED = 7;
  /** Commit data: the unexpired {@link #keyRecords}, as JSON. */
  private static final String KEY_RECORDS = "sluice.keyRecords";

  private final Path path;
  private final Directory directory;
  private final IndexWriter writer;
  private volatile SearcherManager searchers;
  private boolean readingCommitOnly;
  private final AtomicLong nextSeq;
  private final GroupCommit groupCommit;
  private final WriteAheadLog wal;
  private final GroupCommit walSync;
  private final long walMaxBytes;
  private final AtomicBoolean sizeCommitPending = new AtomicBoolean();
  private final AtomicBoolean flushing = new AtomicBoolean();
  /**
   * Set by a delete (and by a refused append, whose added part Lucene deletes) until a commit applies it: the
   * writer's own count ({@link #rowCountUnrefreshed}) includes deleted rows until a flush applies their deletes.
   */
  private final AtomicBoolean deletesPending = new AtomicBoolean();
  private final Executor flushExecutor;
  private final long backgroundFlushBytes;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private volatile Throwable latched;
  /** The last change generation (see Visibility above): writes need no reader each, searches refresh lazily. */
  private final AtomicLong changes = new AtomicLong();
  /** The change generation the current searcher is known to cover; written under {@link #refreshLock}. */
  private volatile long covered;
  private final Object refreshLock = new Object();
  /** How long after a search commits keep refreshing the searcher themselves ({@link #refreshAfterCommit}). */
  private static final long EAGER_REFRESH_AFTER_SEARCH_NANOS = TimeUnit.SECONDS.toNanos(30);
  private volatile long lastSearchNanos = System.nanoTime() - EAGER_REFRESH_AFTER_SEARCH_NANOS;
  /** Queries searched as long as commits refresh for the searches: new segments are counted for them ahead. */
  private final LeafCounts.Recent recentCounts = new LeafCounts.Recent(EAGER_REFRESH_AFTER_SEARCH_NANOS);
  /** Searchers whose new segments have their runs and counts found by the thread that refreshes. */
  private final SearcherFactory warming = new SearcherFactory() {
    @Override
    public IndexSearcher newSearcher(IndexReader reader, IndexReader previous) throws IOException {
      InsertionOrder.warm(reader);
      IndexSearcher searcher = super.newSearcher(reader, previous);
      recentCounts.warm(searcher);
      return searcher;
    }
  };
  private volatile boolean closing;
  private final Timer commitLatency;
  private final RowDecoder decoder;
  /**
   * Idempotency-Key records of deletes by job: a delete leaves no row to carry the record, so it lives in the
   * delete's log record and, from the next commit on, in the commit data (written under the lock that orders
   * the log against commits, so a commit holds exactly the records of the generations before it).
   */
  private final Map<String, KeyRecord> keyRecords = new java.util.concurrent.ConcurrentHashMap<>();

  /** decoder: reads the rows of logged writes again on replay (see {@link RowBatch#redo}). */
  TableIndex(Path path, Directory directory, DirectoryFactory files, TableSchema schema, Analyzer analyzer,
      Executor commitExecutor, double ramBufferMb, long walMaxBytes, Timer commitLatency, RowDecoder decoder)
      throws IOException {
    this.path = path;
    this.decoder = decoder;
    this.commitLatency = commitLatency;
    this.directory = directory;
    IndexWriterConfig config = new IndexWriterConfig(analyzer)
        .setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND)
        .setCodec(new SluiceCodec())
        .setRAMBufferSizeMB(ramBufferMb)
        // Indexing threads serve requests: they must not help flush other buffers (commits, background).
        .setCheckPendingFlushUpdate(false)
        // Backups keep a commit's files from deletion while they copy them, however many commits follow.
        .setIndexDeletionPolicy(new SnapshotDeletionPolicy(new KeepOnlyLastCommitDeletionPolicy()))
        .setCommitOnClose(false)
        // On the merge thread, before a merged segment is searched (see InsertionOrder, LeafCounts.Recent).
        .setMergedSegmentWarmer(merged -> {
          InsertionOrder.warm(merged);
          recentCounts.warm(merged);
        });
    this.writer = new IndexWriter(directory, config);
    if (!DirectoryReader.indexExists(directory)) {
      writer.commit();
    }
    this.walMaxBytes = walMaxBytes;
    this.flushExecutor = commitExecutor;
    this.backgroundFlushBytes = (long) (ramBufferMb * 1024 * 1024 / 2);
    this.wal = new WriteAheadLog(path, files);
    loadKeyRecords();
    long lastLogged = replay(schema);
    this.searchers = new SearcherManager(writer, warming);
    this.nextSeq = new AtomicLong(Math.max(maxSeq(), lastLogged) + 1);
    this.groupCommit = new GroupCommit(commitExecutor, this::commitNow);
    this.walSync = new GroupCommit(commitExecutor, this::forceLog);
    // Leaves the log with one empty generation: what was replayed is now in a commit.
    commitNow();
  }

  Path path() {
    return path;
  }

  Directory directory() {
    return directory;
  }

  IndexWriter writer() {
    return writer;
  }

  /** Which import batch rows belong to (see {@link Fields#IMPORT_JOB}); null for other writes. */
  record ImportMarker(String job, long batch, BytesRef jobTerm) {
    ImportMarker(String job, long batch) {
      this(job, batch, new BytesRef(job)); // encoded once for all the batch's rows
    }
  }

  /** Adds the fields that say which import batch a row (built by {@link DocumentBuilder}) belongs to. */
  static void mark(List<IndexableField> fields, ImportMarker marker) {
    fields.add(new StringField(Fields.IMPORT_JOB, marker.jobTerm(), Field.Store.NO));
    fields.add(new NumericDocValuesField(Fields.IMPORT_BATCH, marker.batch()));
  }

  /**
   * Adds {@code count} valid rows as one atomic block. logged: the body to write ahead (then durable once
   * {@link #logged()} completes), or null for import rows (durable once {@link #durable()} completes). Rows may
   * be produced lazily: each becomes a document only as the writer consumes it.
   */
  int append(TableSchema schema, int count, Iterable<Row> rows, ImportMarker marker, RowBatch.Redo logged)
      throws IOException {
    checkWritable();
    lock.readLock().lock();
    try {
      // Sequence numbers are taken under the lock that orders appends against deletes and commits (see replay).
      long firstSeq = nextSeq.getAndAdd(count);
      if (logged != null) {
        appendLog(logRecord(logged, firstSeq, count, marker));
      }
      try {
        writer.addDocuments(documents(schema, rows, firstSeq, marker));
      } catch (IOException | RuntimeException e) {
        deletesPending.set(true);
        if (logged != null) {
          abortLogged(firstSeq);
        }
        latch(e);
        throw e;
      }
      if (logged != null) {
        changes.incrementAndGet();
        commitIfLogIsLarge();
      }
    } finally {
      lock.readLock().unlock();
    }
    flushInBackgroundIfLarge();
    return count;
  }

  /**
   * Writes the largest indexing buffer to a segment on another thread once the buffers reach half of the RAM
   * buffer, so the request whose document crosses the limit does not pay for the flush (seconds for a full
   * buffer). The writer's own flush at the full RAM buffer remains as the backstop.
   */
  private void flushInBackgroundIfLarge() {
    if (writer.ramBytesUsed() > backgroundFlushBytes && latched == null && flushing.compareAndSet(false, true)) {
      flushExecutor.execute(() -> {
        try {
          while (writer.isOpen() && writer.ramBytesUsed() > backgroundFlushBytes && writer.flushNextBuffer()) {
            // one buffer per call: the largest, until the rest fit under the threshold
          }
        } catch (org.apache.lucene.store.AlreadyClosedException closing) {
          // the table was dropped or the store stopped meanwhile: its close committed or discarded the buffer
        } catch (IOException | RuntimeException e) {
          latch(e);
          LOG.error("{}: background flush failed", path, e);
        } finally {
          flushing.set(false);
        }
      });
    }
  }

  private static Iterable<List<IndexableField>> documents(TableSchema schema, Iterable<Row> rows, long firstSeq,
      ImportMarker marker) {
    return () -> new Iterator<>() {
      private final Iterator<Row> source = rows.iterator();
      private final DocumentBuilder.Layout layout = DocumentBuilder.layout(schema);
      private long seq = firstSeq;

      @Override
      public boolean hasNext() {
        return source.hasNext();
      }

      @Override
      public List<IndexableField> next() {
        Row row = source.next();
        List<IndexableField> doc = DocumentBuilder.build(layout, row, seq++);
        if (marker != null) {
          mark(doc, marker);
        }
        return doc;
      }
    };
  }

  /** Completes when every logged write made before the call is durable in the write-ahead log. */
  Future<Void> logged() {
    if (latched != null) {
      return Future.failedFuture(unavailable());
    }
    return walSync.request();
  }

  /** Commits in the background if anything was logged since the last commit (the periodic commit). */
  void commitIfLogged() {
    if (latched == null && wal.bytesSinceRoll() > 0) {
      groupCommit.request();
    }
  }

  /** Completes when everything written before the call is committed to disk and visible to searches. */
  Future<Void> durable() {
    if (latched != null) {
      return Future.failedFuture(unavailable());
    }
    return groupCommit.request();
  }

  /** The record a delete stored for {@code job}, or null. */
  KeyRecord keyRecord(String job) {
    return keyRecords.get(job);
  }

  int delete(Query query) throws IOException {
    return delete(query, null);
  }

  /**
   * Deletes the matching rows and returns how many there were; durable once {@link #logged()} completes. With a
   * record, the delete is logged even when nothing matches, so the record is durable with it.
   */
  int delete(Query query, KeyRecord record) throws IOException {
    checkWritable();
    lock.writeLock().lock();
    try {
      deletesPending.set(true);
      // Under the exclusive lock no append can slip in between collecting and deleting.
      searchers.maybeRefreshBlocking();
      IndexSearcher searcher = searchers.acquire();
      long[] seqs;
      try {
        seqs = matchingSeqs(searcher, query);
      } finally {
        searchers.release(searcher);
      }
      if (record != null) {
        record = new KeyRecord(record.job(), record.batch(), seqs.length, record.expires());
      }
      if (seqs.length > 0 || record != null) {
        byte[] job = record == null ? new byte[0] : record.job().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuffer entry = record == null ? logHeader(LOG_DELETE, 0, seqs.length, seqs.length * 8)
            : logHeader(LOG_DELETE_RECORDED, 0, seqs.length, seqs.length * 8 + 28 + job.length);
        for (long seq : seqs) {
          entry.putLong(seq);
        }
        if (record != null) {
          entry.putLong(record.batch()).putLong(record.total()).putLong(record.expires()).putInt(job.length).put(job);
        }
        appendLog(entry.array());
        if (record != null) {
          keyRecords.put(record.job(), record);
        }
        // The query again, not the sequence numbers: under the exclusive lock it matches exactly the rows
        // counted and logged above (a Lucene delete never touches documents added after it), and it uses the
        // index where a set of sequence numbers would scan every row's doc value.
        writer.deleteDocuments(query);
        changes.incrementAndGet();
        commitIfLogIsLarge();
      }
      return seqs.length;
    } catch (IOException | RuntimeException e) {
      latch(e);
      throw e;
    } finally {
      lock.writeLock().unlock();
    }
  }

  private static long[] matchingSeqs(IndexSearcher searcher, Query query) throws IOException {
    long[][] seqs = {new long[64]};
    int[] count = {0};
    searcher.search(query, new SimpleCollector() {
      private NumericDocValues values;

      @Override
      protected void doSetNextReader(LeafReaderContext context) throws IOException {
        values = context.reader().getNumericDocValues(Fields.SEQ);
      }

      @Override
      public void collect(int doc) throws IOException {
        if (values != null && values.advanceExact(doc)) {
          if (count[0] == seqs[0].length) {
            seqs[0] = java.util.Arrays.copyOf(seqs[0], count[0] * 2);
          }
          seqs[0][count[0]++] = values.longValue();
        }
      }

      @Override
      public ScoreMode scoreMode() {
        return ScoreMode.COMPLETE_NO_SCORES;
      }
    });
    return java.util.Arrays.copyOf(seqs[0], count[0]);
  }

  void optimize() throws IOException {
    checkWritable();
    try {
      writer.forceMerge(1);
    } catch (IOException | RuntimeException e) {
      latch(e);
      throw e;
    }
  }

  /** The queries searched lately, whose counts each new segment gets before it is searched. */
  LeafCounts.Recent recentCounts() {
    return recentCounts;
  }

  /** A user's search: as {@link #withSearcher}, and commits refresh for searches for a while (see there). */
  <T> T search(SearchFunction<T> function) throws IOException {
    lastSearchNanos = System.nanoTime();
    return withSearcher(function);
  }

  <T> T withSearcher(SearchFunction<T> function) throws IOException {
    if (latched != null && (readingCommitOnly || writer.getTragicException() != null || !writer.isOpen())) {
      readLastCommit();
    } else if (latched != null) {
      // The writer holds only logged rows, so refreshing shows no refused write; if the refresh itself
      // fails (a full disk), what was visible stays visible.
      try {
        coverChanges();
      } catch (IOException | RuntimeException e) {
        LOG.warn("{}: cannot refresh the searcher after a storage failure: {}", path, e.toString());
      }
    } else {
      coverChanges();
    }
    SearcherManager searchers = this.searchers;
    IndexSearcher searcher = searchers.acquire();
    try {
      return function.apply(searcher);
    } finally {
      searchers.release(searcher);
    }
  }

  /**
   * While searches arrive, a commit refreshes the searcher itself instead of leaving it to the next search: that
   * refresh writes out every row buffered since the last one, and an import buffers seconds of rows between its
   * commits, so a search that had to refresh waited up to a second. Right after a commit little is buffered,
   * and a search meanwhile goes on with the searcher it has: nothing the commit adds was acknowledged yet (an
   * import's rows count as stored only once {@link #durable()} completes, i.e. after this refresh). An unsearched
   * table keeps the lazy refresh, so writes alone do not pay for a segment per commit.
   */
  private void refreshAfterCommit() throws IOException {
    synchronized (refreshLock) {
      long covering = changes.get();
      searchers.maybeRefreshBlocking();
      covered = Math.max(covered, covering);
    }
  }

  private boolean searchedRecently() {
    return !closing && System.nanoTime() - lastSearchNanos < EAGER_REFRESH_AFTER_SEARCH_NANOS;
  }

  /** Refreshes the searcher unless it already covers every change made before the call. */
  private void coverChanges() throws IOException {
    long wanted = changes.get();
    if (covered >= wanted) {
      return;
    }
    synchronized (refreshLock) {
      if (covered >= wanted) {
        return; // a search that waited here behind a refresh that covered us
      }
      long covering = changes.get();
      searchers.maybeRefreshBlocking();
      covered = covering;
    }
  }

  interface SearchFunction<T> {
    T apply(IndexSearcher searcher) throws IOException;
  }

  /** Runs an action while no append or delete is in progress (they wait). */
  <T> T exclusive(SearchFunction<T> action) throws IOException {
    lock.writeLock().lock();
    try {
      searchers.maybeRefreshBlocking();
      return withSearcher(action);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * Commits documents added straight to {@link #writer()} (copy, column rewrite) and makes them visible to
   * searches; without the refresh, searches and {@link #rowCount()} would see the index as it was opened.
   */
  void commitAndRefresh() throws IOException {
    commitNow();
  }

  /**
   * The rows appended so far, committed or not. The searcher is refreshed first: an acknowledged append may
   * still be waiting for its commit (and the refresh after it), and a schema change that counted only
   * refreshed rows would replace a table whose rows were just acknowledged. Callers hold the catalog write
   * lock, so no append is in progress.
   */
  long rowCount() throws IOException {
    searchers.maybeRefreshBlocking();
    return withSearcher(searcher -> (long) searcher.getIndexReader().numDocs());
  }

  /**
   * The rows appended so far, as {@link #rowCount()} but without refreshing the searcher when no delete is
   * pending: for the gauges, counted every metrics.refresh.ms. A refresh writes every indexing buffer out as a
   * segment; one every 10 s while rows arrive cost the batch endpoint up to a fifth more CPU per row in
   * flushes of small segments and commits of more files (docs/performance.md). The writer counts buffered rows too.
   */
  long rowCountUnrefreshed() throws IOException {
    if (deletesPending.get()) {
      return rowCount();
    }
    return writer.getDocStats().numDocs;
  }

  /** After documents were added with their own sequence numbers (copy, rewrite), continue after them. */
  void resetSequence() throws IOException {
    nextSeq.set(Math.max(nextSeq.get(), maxSeq() + 1));
  }

  /**
   * Commits everything the writer holds and keeps that commit's files until {@link #releaseSnapshot}: the
   * table's part of a backup. With no write in progress (the core's lock), the commit holds every acknowledged
   * row, so the write-ahead log from the generation it names is empty at this point and need not be copied. A
   * latched table refuses: its last commit may lack logged rows only a restart replays.
   */
  IndexCommit snapshotCommit() throws IOException {
    checkWritable();
    commitNow();
    return snapshots().snapshot();
  }

  /** Copies the files of a snapshotted commit into {@code target} (a new directory) and syncs them. */
  long copyCommit(IndexCommit commit, Path target) throws IOException {
    long bytes = 0;
    try (FSDirectory out = FSDirectory.open(target)) {
      List<String> names = new java.util.ArrayList<>(commit.getFileNames());
      for (String name : names) {
        out.copyFrom(directory, name, name, IOContext.DEFAULT);
        bytes += out.fileLength(name);
      }
      out.sync(names);
      out.syncMetaData();
    }
    return bytes;
  }

  void releaseSnapshot(IndexCommit commit) throws IOException {
    snapshots().release(commit);
    if (writer.isOpen()) {
      writer.deleteUnusedFiles();
    }
  }

  private SnapshotDeletionPolicy snapshots() {
    return (SnapshotDeletionPolicy) writer.getConfig().getIndexDeletionPolicy();
  }

  Throwable latchedFailure() {
    return latched;
  }

  /**
   * A Lucene commit: the log rolls to a new generation while no write is in progress, so every older
   * generation is in the writer and thus in this commit, which names the new generation as where replay
   * starts; the older generations are deleted once the commit is durable.
   */
  private void commitNow() throws IOException {
    long start = System.nanoTime();
    try {
      long from;
      lock.writeLock().lock();
      try {
        from = wal.roll();
        deletesPending.set(false); // the commit below applies every delete made before this point
        writer.setLiveCommitData(Map.of(WAL_FROM, Long.toString(from), KEY_RECORDS, keyRecordsJson()).entrySet());
      } finally {
        lock.writeLock().unlock();
      }
      sizeCommitPending.set(false);
      writer.commit();
      wal.deleteBefore(from);
      commitLatency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      if (searchedRecently()) {
        refreshAfterCommit();
      } else {
        changes.incrementAndGet();
      }
    } catch (IOException | RuntimeException e) {
      latch(e);
      throw e;
    }
  }

  private void forceLog() throws IOException {
    try {
      wal.force();
    } catch (IOException | RuntimeException e) {
      latch(e);
      throw e;
    }
  }

  private void appendLog(byte[] record) throws IOException {
    try {
      wal.append(record);
    } catch (IOException | RuntimeException e) {
      latch(e);
      throw e;
    }
  }

  /** Best effort: marks a logged batch the writer refused, so replay skips it; failing that, we latch. */
  private void abortLogged(long firstSeq) {
    try {
      wal.append(logHeader(LOG_ABORT, firstSeq, 0, 0).array());
    } catch (IOException e) {
      latch(e);
    }
  }

  /** A row write's log record: its rows' body, and its checkpoint when it has one. */
  private static byte[] logRecord(RowBatch.Redo logged, long firstSeq, int count, ImportMarker marker) {
    byte[] body = logged.body();
    if (marker == null) {
      return logHeader(logged.batch() ? LOG_BATCH : LOG_ONE, firstSeq, count, body.length).put(body).array();
    }
    BytesRef job = marker.jobTerm();
    return logHeader(logged.batch() ? LOG_BATCH_MARKED : LOG_ONE_MARKED, firstSeq, count,
        12 + job.length + body.length)
        .putLong(marker.batch()).putInt(job.length).put(job.bytes, job.offset, job.length).put(body).array();
  }

  private static ByteBuffer logHeader(byte kind, long seq, int count, int bodyLength) {
    return ByteBuffer.allocate(13 + bodyLength).put(kind).putLong(seq).putInt(count);
  }

  private void loadKeyRecords() {
    for (Map.Entry<String, String> data : writer.getLiveCommitData()) {
      if (KEY_RECORDS.equals(data.getKey())) {
        new io.vertx.core.json.JsonObject(data.getValue()).forEach(entry -> {
          io.vertx.core.json.JsonArray values = (io.vertx.core.json.JsonArray) entry.getValue();
          keyRecords.put(entry.getKey(), new KeyRecord(entry.getKey(), values.getLong(0), values.getLong(1),
              values.getLong(2)));
        });
      }
    }
  }

  /** The unexpired records, for the commit data; expired ones are dropped here, which bounds them. */
  private String keyRecordsJson() {
    long now = System.currentTimeMillis() / 1000;
    keyRecords.values().removeIf(record -> record.expires() < now);
    io.vertx.core.json.JsonObject json = new io.vertx.core.json.JsonObject();
    keyRecords.forEach((job, record) -> json.put(job, new io.vertx.core.json.JsonArray()
        .add(record.batch()).add(record.total()).add(record.expires())));
    return json.encode();
  }

  private void commitIfLogIsLarge() {
    if (wal.bytesSinceRoll() > walMaxBytes && sizeCommitPending.compareAndSet(false, true)) {
      groupCommit.request();
    }
  }

  /**
   * Re-applies what the log holds beyond the last commit; returns the highest sequence number it wrote (-1:
   * none). Two passes: the first finds refused batches and the range of sequence numbers, the second applies.
   */
  private long replay(TableSchema schema) throws IOException {
    long from = 0;
    for (Map.Entry<String, String> data : writer.getLiveCommitData()) {
      if (WAL_FROM.equals(data.getKey())) {
        from = Long.parseLong(data.getValue());
      }
    }
    Set<Long> aborted = new HashSet<>();
    long[] range = {Long.MAX_VALUE, -1};
    int[] frames = {0};
    wal.replay(from, payload -> {
      ByteBuffer record = ByteBuffer.wrap(payload);
      byte kind = record.get();
      long seq = record.getLong();
      int count = record.getInt();
      frames[0]++;
      if (kind == LOG_ABORT) {
        aborted.add(seq);
      } else if (kind != LOG_DELETE && kind != LOG_DELETE_RECORDED && count > 0) {
        range[0] = Math.min(range[0], seq);
        range[1] = Math.max(range[1], seq + count - 1);
      }
    });
    if (frames[0] == 0) {
      return -1;
    }
    FixedBitSet present = presentSeqs(range[0], range[1]);
    DocumentBuilder.Layout layout = DocumentBuilder.layout(schema);
    long[] rowsAndDeletes = {0, 0};
    wal.replay(from, payload -> {
      ByteBuffer record = ByteBuffer.wrap(payload);
      byte kind = record.get();
      long seq = record.getLong();
      int count = record.getInt();
      if (kind == LOG_DELETE || kind == LOG_DELETE_RECORDED) {
        long[] seqs = new long[count];
        for (int i = 0; i < count; i++) {
          seqs[i] = record.getLong();
        }
        if (count > 0) {
          writer.deleteDocuments(NumericDocValuesField.newSlowSetQuery(Fields.SEQ, seqs));
        }
        if (kind == LOG_DELETE_RECORDED) {
          long batch = record.getLong();
          long total = record.getLong();
          long expires = record.getLong();
          byte[] job = new byte[record.getInt()];
          record.get(job);
          String name = new String(job, java.nio.charset.StandardCharsets.UTF_8);
          keyRecords.put(name, new KeyRecord(name, batch, total, expires));
        }
        rowsAndDeletes[1]++;
      } else if ((kind == LOG_BATCH || kind == LOG_ONE || kind == LOG_BATCH_MARKED || kind == LOG_ONE_MARKED)
          && !aborted.contains(seq)) {
        ImportMarker marker = null;
        if (kind == LOG_BATCH_MARKED || kind == LOG_ONE_MARKED) {
          long batch = record.getLong();
          byte[] job = new byte[record.getInt()];
          record.get(job);
          marker = new ImportMarker(new String(job, java.nio.charset.StandardCharsets.UTF_8), batch);
        }
        byte[] body = java.util.Arrays.copyOfRange(payload, record.position(), payload.length);
        Iterable<Row> rows = decoder.decode(schema,
            new RowBatch.Redo(kind == LOG_BATCH || kind == LOG_BATCH_MARKED, body));
        long next = seq;
        for (Row row : rows) {
          long rowSeq = next++;
          // A row the last commit already holds is skipped; it may have been deleted since (then it is
          // written again here and the logged delete that follows removes it again).
          if (present == null || !present.get(Math.toIntExact(rowSeq - range[0]))) {
            List<IndexableField> doc = DocumentBuilder.build(layout, row, rowSeq);
            if (marker != null) {
              mark(doc, marker);
            }
            writer.addDocument(doc);
            rowsAndDeletes[0]++;
          }
        }
      }
    });
    LOG.info("{}: replayed {} rows and {} deletes from the write-ahead log (generations from {})", path,
        rowsAndDeletes[0], rowsAndDeletes[1], from);
    return range[1];
  }

  /** Which sequence numbers in [min, max] the index holds now (null: none). */
  private FixedBitSet presentSeqs(long min, long max) throws IOException {
    if (max < min) {
      return null;
    }
    FixedBitSet present = new FixedBitSet(Math.toIntExact(max - min + 1));
    try (DirectoryReader reader = DirectoryReader.open(writer)) {
      for (LeafReaderContext leaf : reader.leaves()) {
        NumericDocValues values = leaf.reader().getNumericDocValues(Fields.SEQ);
        org.apache.lucene.util.Bits live = leaf.reader().getLiveDocs();
        if (values == null) {
          continue;
        }
        for (int doc = values.nextDoc(); doc != NumericDocValues.NO_MORE_DOCS; doc = values.nextDoc()) {
          long seq = values.longValue();
          if (seq >= min && seq <= max && (live == null || live.get(doc))) {
            present.set(Math.toIntExact(seq - min));
          }
        }
      }
    }
    return present;
  }

  /**
   * After a failure the writer's buffered state is suspect (and refreshing from it may write files): serve
   * exactly the last commit, which holds every acknowledged write, from the directory instead.
   */
  private synchronized void readLastCommit() throws IOException {
    if (!readingCommitOnly) {
      SearcherManager old = searchers;
      searchers = new SearcherManager(directory, warming);
      readingCommitOnly = true;
      old.close();
    }
  }

  private void latch(Throwable failure) {
    if (failure instanceof IOException || writer.getTragicException() != null || !writer.isOpen()) {
      if (latched == null) {
        latched = failure;
      }
    }
  }

  private void checkWritable() {
    if (latched != null) {
      throw unavailable();
    }
  }

  private StorageException unavailable() {
    return storageError(latched, "table storage failed and refuses writes until restart: ");
  }

  /** The engine's failure: whether the disk is full or storage failed otherwise, in the cause's words. */
  static StorageException storageError(Throwable failure, String prefix) {
    if (failure instanceof StorageException known) {
      return known;
    }
    return new StorageException(isDiskFull(failure) ? StorageException.Kind.DISK_FULL : StorageException.Kind.FAILED,
        prefix + failure.getMessage(), failure);
  }

  static boolean isDiskFull(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("No space left on device")) {
        return true;
      }
    }
    return false;
  }

  private long maxSeq() throws IOException {
    long max = -1;
    try (DirectoryReader reader = DirectoryReader.open(writer)) {
      for (LeafReaderContext leaf : reader.leaves()) {
        NumericDocValues values = leaf.reader().getNumericDocValues(Fields.SEQ);
        if (values == null) {
          continue;
        }
        while (values.nextDoc() != NumericDocValues.NO_MORE_DOCS) {
          max = Math.max(max, values.longValue());
        }
      }
    }
    return max;
  }

  /** Commits what is buffered (unless latched) and releases the directory. */
  @Override
  public void close() throws IOException {
    closing = true; // the last commit below must not refresh the searchers closed before it
    try {
      searchers.close();
      if (writer.isOpen() && latched == null) {
        commitNow();
      }
    } finally {
      try {
        if (writer.isOpen()) {
          writer.rollback();
        }
      } finally {
        try {
          wal.close();
        } finally {
          directory.close();
        }
      }
    }
  }
}
