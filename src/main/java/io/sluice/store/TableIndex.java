package io.sluice.store;

import io.sluice.errors.ApiError;
import io.sluice.ingest.ParsedRow;
import io.sluice.schema.TableSchema;
import io.vertx.core.Future;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.store.Directory;

/**
 * One table's Lucene index: the only writer of its directory.
 *
 * <p>Lifecycle: opened by {@link LuceneStore} when the table is created or at start, closed when the table is
 * dropped or the store stops. Thread-safety: appends, deletes and searches may run on any thread at once;
 * {@link #exclusive()} serialises operations that need a quiescent index (delete counting, copy, rewrite).
 *
 * <p>Flush vs commit vs visible: appended documents are buffered by the writer, made durable by the group
 * commit (fsync), and made visible by refreshing the searcher before the first search that follows a commit,
 * so a search after an acknowledged write always sees it. An I/O failure in a commit is latched: every later write is refused with
 * 503 until restart, while searches of what was committed go on.
 */
final class TableIndex implements Closeable {
  private final Path path;
  private final Directory directory;
  private final IndexWriter writer;
  private volatile SearcherManager searchers;
  private boolean readingCommitOnly;
  private final AtomicLong nextSeq;
  private final GroupCommit groupCommit;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private volatile Throwable latched;
  /** Set by each commit; the next search refreshes. Refreshing lazily spares imports a reader per commit. */
  private volatile boolean stale;
  private final Timer commitLatency;

  TableIndex(Path path, Directory directory, Analyzer analyzer, Executor commitExecutor, double ramBufferMb,
      Timer commitLatency) throws IOException {
    this.path = path;
    this.commitLatency = commitLatency;
    this.directory = directory;
    IndexWriterConfig config = new IndexWriterConfig(analyzer)
        .setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND)
        .setRAMBufferSizeMB(ramBufferMb)
        .setCommitOnClose(false);
    this.writer = new IndexWriter(directory, config);
    if (!DirectoryReader.indexExists(directory)) {
      writer.commit();
    }
    this.searchers = new SearcherManager(writer, null);
    this.nextSeq = new AtomicLong(maxSeq() + 1);
    this.groupCommit = new GroupCommit(commitExecutor, this::commitNow);
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
  record ImportMarker(String job, long batch) {
  }

  /**
   * Adds {@code count} valid rows as one atomic block; durable only once {@link #durable()} completes. Rows may
   * be produced lazily: each becomes a document only as the writer consumes it.
   */
  int append(TableSchema schema, int count, Iterable<ParsedRow> rows, ImportMarker marker) throws IOException {
    checkWritable();
    long firstSeq = nextSeq.getAndAdd(count);
    Iterable<Document> docs = () -> new Iterator<>() {
      private final Iterator<ParsedRow> source = rows.iterator();
      private long seq = firstSeq;

      @Override
      public boolean hasNext() {
        return source.hasNext();
      }

      @Override
      public Document next() {
        ParsedRow row = source.next();
        Document doc = DocumentBuilder.build(schema, row, seq++);
        if (marker != null) {
          doc.add(new StringField(Fields.IMPORT_JOB, marker.job(), Field.Store.NO));
          doc.add(new NumericDocValuesField(Fields.IMPORT_BATCH, marker.batch()));
        }
        return doc;
      }
    };
    lock.readLock().lock();
    try {
      writer.addDocuments(docs);
    } catch (IOException | RuntimeException e) {
      latch(e);
      throw e;
    } finally {
      lock.readLock().unlock();
    }
    return count;
  }

  /** Completes when everything written before the call is committed to disk and visible to searches. */
  Future<Void> durable() {
    if (latched != null) {
      return Future.failedFuture(unavailable());
    }
    return groupCommit.request();
  }

  /** Deletes the matching rows and returns how many there were; durable once {@link #durable()} completes. */
  int delete(Query query) throws IOException {
    checkWritable();
    lock.writeLock().lock();
    try {
      // Under the exclusive lock no append can slip in between counting and deleting.
      searchers.maybeRefreshBlocking();
      IndexSearcher searcher = searchers.acquire();
      int count;
      try {
        count = searcher.count(query);
      } finally {
        searchers.release(searcher);
      }
      if (count > 0) {
        writer.deleteDocuments(query);
      }
      return count;
    } catch (IOException | RuntimeException e) {
      latch(e);
      throw e;
    } finally {
      lock.writeLock().unlock();
    }
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

  <T> T withSearcher(SearchFunction<T> function) throws IOException {
    if (latched != null) {
      readLastCommit();
    } else if (stale) {
      stale = false;
      searchers.maybeRefreshBlocking();
    }
    SearcherManager searchers = this.searchers;
    IndexSearcher searcher = searchers.acquire();
    try {
      return function.apply(searcher);
    } finally {
      searchers.release(searcher);
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

  /** After documents were added with their own sequence numbers (copy, rewrite), continue after them. */
  void resetSequence() throws IOException {
    nextSeq.set(Math.max(nextSeq.get(), maxSeq() + 1));
  }

  Throwable latchedFailure() {
    return latched;
  }

  private void commitNow() throws IOException {
    long start = System.nanoTime();
    try {
      writer.commit();
      commitLatency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      stale = true;
    } catch (IOException | RuntimeException e) {
      latch(e);
      throw e;
    }
  }

  /**
   * After a failure the writer's buffered state is suspect (and refreshing from it may write files): serve
   * exactly the last commit, which holds every acknowledged write, from the directory instead.
   */
  private synchronized void readLastCommit() throws IOException {
    if (!readingCommitOnly) {
      SearcherManager old = searchers;
      searchers = new SearcherManager(directory, null);
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

  private ApiError unavailable() {
    return storageError(latched, "table storage failed and refuses writes until restart: ");
  }

  /** A 503 whose {@code x-error-cause} says whether the disk is full or storage failed otherwise. */
  static ApiError storageError(Throwable failure, String prefix) {
    boolean full = isDiskFull(failure);
    return new ApiError(503, prefix + failure.getMessage() + (full ? " (the disk is full: free space, then restart)"
        : ""), null, full ? "DiskFull" : "StorageFailure");
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
    try {
      searchers.close();
      if (writer.isOpen() && latched == null) {
        writer.commit();
      }
    } finally {
      try {
        if (writer.isOpen()) {
          writer.rollback();
        }
      } finally {
        directory.close();
      }
    }
  }
}
