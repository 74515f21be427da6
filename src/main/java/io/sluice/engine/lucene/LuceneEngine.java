package io.sluice.engine.lucene;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Timer;
import io.sluice.engine.BackgroundPriority;
import io.sluice.engine.Checkpoint;
import io.sluice.engine.KeyRecord;
import io.sluice.engine.Order;
import io.sluice.engine.Page;
import io.sluice.engine.Predicate;
import io.sluice.engine.Row;
import io.sluice.engine.RowBatch;
import io.sluice.engine.RowDecoder;
import io.sluice.engine.StorageEngine;
import io.sluice.engine.StorageException;
import io.sluice.engine.TableDef;
import io.sluice.engine.TableStats;
import io.sluice.files.DurableFiles;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.TableSchema;
import io.vertx.core.Future;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.lucene.index.CodecReader;
import org.apache.lucene.index.DocValuesType;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FieldInfos;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.index.IndexableField;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.PostingsEnum;
import org.apache.lucene.index.SlowCodecReaderWrapper;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.SimpleCollector;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopFieldCollectorManager;
import org.apache.lucene.search.TopFieldDocs;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded engine: one Lucene index per table under {@code <data>/tables/<id>/} (a {@link TableIndex} with its
 * write-ahead log), and the catalog file ({@link Catalog}). Only Lucene work: the core ({@code io.sluice.core})
 * validates, parses and holds the catalog lock (see {@link StorageEngine}).
 *
 * <p>At open it replays each table's log and rebuilds tables whose Text columns are in an old layout (see
 * {@link #upgradeTextLayouts}). Writes complete by the table's group commit: row API writes once their log
 * record is fsynced, import rows once a Lucene commit holds them.
 */
public final class LuceneEngine implements StorageEngine {
  private static final Logger LOG = LoggerFactory.getLogger(LuceneEngine.class);
  /** Lucene's indexing buffer per table: an eighth of the heap, 16..64 MB, so small heaps keep room for requests. */
  private static final double RAM_BUFFER_MB =
      Math.max(16, Math.min(64, Runtime.getRuntime().maxMemory() / 8 / (1024 * 1024)));
  /** Reads stored sources to drop a column from them; the engine keeps no parser of rows of its own. */
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dataDir;
  private final DirectoryFactory directories;
  private final Catalog catalog;
  private final Options options;
  private final Timer commitLatency;
  private final RowDecoder decoder;
  private final ExecutorService commitExecutor;
  private final ScheduledExecutorService commitTimer;
  /** By table id. Changed only under the core's catalog write lock; read beside it by the commit timer. */
  private final Map<String, TableIndex> indexes = new ConcurrentHashMap<>();
  private final Map<String, TableAnalyzer> analyzers = new ConcurrentHashMap<>();
  private Map<String, TableDef> loaded;
  /** Set when writing the catalog failed: see {@link #saveCatalog}. */
  private volatile Throwable catalogFailure;

  /**
   * commitIntervalMs: how often a table with logged writes gets a Lucene commit; walMaxBytes: a table whose
   * write-ahead log grows past this is committed at once. Both bound how much a restart replays.
   */
  public record Options(long commitIntervalMs, long walMaxBytes) {
    public static final Options DEFAULTS = new Options(5_000, 64L * 1024 * 1024);
  }

  /**
   * decoder: reads logged writes again on replay ({@link RowBatch#redo}); commitLatency: receives the latency of
   * every Lucene commit.
   */
  public LuceneEngine(Path dataDir, DirectoryFactory directories, Options options, Timer commitLatency,
      RowDecoder decoder) {
    this.dataDir = dataDir;
    this.directories = directories;
    this.options = options;
    this.commitLatency = commitLatency;
    this.decoder = decoder;
    this.catalog = new Catalog(dataDir);
    // Commits flush what imports buffered: background work (BackgroundPriority); a small write's log sync waits
    // on disk, not for CPU.
    this.commitExecutor = Executors.newCachedThreadPool(runnable -> {
      Thread thread = new Thread(BackgroundPriority.lowered(runnable), "sluice-commit");
      thread.setDaemon(true);
      return thread;
    });
    try {
      Path tables = dataDir.resolve(Catalog.TABLES_DIR);
      if (!Files.isDirectory(tables)) {
        Files.createDirectories(tables);
        DurableFiles.fsyncDirectory(dataDir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create data directory " + dataDir, e);
    }
    this.commitTimer = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "sluice-commit-timer");
      thread.setDaemon(true);
      return thread;
    });
    commitTimer.scheduleWithFixedDelay(this::commitLoggedTables, options.commitIntervalMs(),
        options.commitIntervalMs(), TimeUnit.MILLISECONDS);
  }

  // ---------------------------------------------------------------- catalog

  /** Opens every table's index (replaying its log) and upgrades old layouts, the first time it is called. */
  @Override
  public synchronized Map<String, TableDef> loadCatalog() {
    if (loaded == null) {
      Map<String, TableDef> tables = catalog.load();
      tables.values().forEach(this::createTable);
      upgradeTextLayouts(tables);
      LOG.info("store open at {} with {} tables", dataDir.toAbsolutePath(), tables.size());
      loaded = tables;
    }
    return new LinkedHashMap<>(loaded);
  }

  /**
   * A catalog that failed to be written (or fsynced) is final, like a table's storage failure: what is on disk
   * may be the old or the new version, so every later write is refused until a restart reads it again.
   */
  @Override
  public void saveCatalog(Map<String, TableDef> tables, Map<String, String> keys) {
    checkCatalog();
    try {
      catalog.save(tables, keys);
    } catch (UncheckedIOException e) {
      catalogFailure = e;
      LOG.error("writing the catalog failed; writes are refused until restart", e);
      checkCatalog();
    }
  }

  @Override
  public synchronized Map<String, String> loadCatalogKeys() {
    loadCatalog();
    return new LinkedHashMap<>(catalog.keys());
  }

  private void checkCatalog() {
    Throwable failure = catalogFailure;
    if (failure != null) {
      throw TableIndex.storageError(failure, "the catalog could not be stored, writes are refused until restart: ");
    }
  }

  @Override
  public void createTable(TableDef table) {
    TableAnalyzer analyzer = new TableAnalyzer(table.schema());
    Path path = catalog.tablePath(table.id());
    try {
      if (!Files.isDirectory(path)) {
        // The new directory's entry must be durable before the catalog names it, or a power loss after the
        // acknowledgement leaves the catalog naming a table whose index and log are gone.
        Files.createDirectories(path);
        DurableFiles.fsyncDirectory(path.getParent());
      }
      indexes.put(table.id(), new TableIndex(path, directories.open(path), directories, table.schema(), analyzer,
          commitExecutor, RAM_BUFFER_MB, options.walMaxBytes(), commitLatency, decoder));
      analyzers.put(table.id(), analyzer);
    } catch (IOException e) {
      throw TableIndex.storageError(e, "cannot open the index at " + path + ": ");
    }
  }

  @Override
  public void copyRows(String fromId, TableDef to) {
    TableIndex target = index(to.id());
    fill(target, () -> {
      index(fromId).exclusive(searcher -> {
        List<CodecReader> readers = new ArrayList<>();
        for (LeafReaderContext leaf : searcher.getIndexReader().leaves()) {
          readers.add(SlowCodecReaderWrapper.wrap(leaf.reader()));
        }
        target.writer().addIndexes(readers.toArray(new CodecReader[0]));
        return null;
      });
      target.resetSequence();
    });
  }

  @Override
  public void copyRowsWithout(String fromId, TableDef to, String droppedColumn) {
    // Old documents still carry the column's index fields; rewriting keeps a later column of the same name
    // from matching stale values.
    TableIndex target = index(to.id());
    fill(target, () -> rewriteRows(index(fromId), target, to.schema(), droppedColumn));
  }

  private interface Filler {
    void fill() throws IOException;
  }

  /** Fills a new index and commits it, so the catalog may name it. */
  private static void fill(TableIndex target, Filler filler) {
    try {
      filler.fill();
      target.commitAndRefresh();
    } catch (IOException e) {
      throw TableIndex.storageError(e, "cannot fill the new index: ");
    }
  }

  @Override
  public void addColumn(String id, TableSchema updated) {
    analyzers.get(id).update(updated);
  }

  @Override
  public void dropTable(String id) {
    TableIndex index = indexes.remove(id);
    analyzers.remove(id);
    if (index == null) {
      return;
    }
    closeQuietly(index);
    deleteRecursively(index.path());
  }

  @Override
  public void dropOrphans(Set<String> knownIds) {
    try (Stream<Path> dirs = Files.list(dataDir.resolve(Catalog.TABLES_DIR))) {
      dirs.filter(dir -> !knownIds.contains(dir.getFileName().toString())).forEach(dir -> {
        LOG.info("removing {}: no table refers to it (left by an interrupted schema change)", dir);
        TableIndex open = indexes.remove(dir.getFileName().toString());
        closeQuietly(open);
        deleteRecursively(dir);
      });
    } catch (IOException e) {
      LOG.warn("cannot list table directories", e);
    }
  }

  @Override
  public long rowCount(String id) {
    try {
      return index(id).rowCount();
    } catch (IOException e) {
      throw TableIndex.storageError(e, "cannot count rows: ");
    }
  }

  /**
   * The table directory's files (index and log) and its log's, summed from the file system: a file Lucene
   * deletes meanwhile (merges, commits) is skipped, so the figure is as of about now, never an error.
   */
  @Override
  public TableStats tableStats(String id, boolean countRows) {
    TableIndex index = indexes.get(id);
    if (index == null) {
      return null;
    }
    long[] bytes = new long[2]; // all, log
    Path wal = index.path().resolve(WriteAheadLog.DIR);
    try {
      Files.walkFileTree(index.path(), new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
          if (attrs.isRegularFile()) {
            bytes[0] += attrs.size();
            if (file.startsWith(wal)) {
              bytes[1] += attrs.size();
            }
          }
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException e) {
          return FileVisitResult.CONTINUE; // deleted since it was listed
        }
      });
    } catch (IOException e) {
      throw TableIndex.storageError(e, "cannot measure the table's files: ");
    }
    long rows;
    try {
      rows = countRows ? index.rowCountUnrefreshed() : -1;
    } catch (IOException e) {
      throw TableIndex.storageError(e, "cannot count rows: ");
    }
    return new TableStats(rows, bytes[0], bytes[1]);
  }

  // ---------------------------------------------------------------- writes

  /**
   * Row API writes (a {@link RowBatch#redo}) are logged and durable once the log is fsynced; import rows (no
   * redo: their checkpoint is in the rows) once a Lucene commit holds them; deferred rows are not logged either.
   */
  @Override
  public Future<Integer> append(TableDef table, RowBatch rows, Checkpoint checkpoint, boolean deferred) {
    TableIndex index = index(table.id());
    RowBatch.Redo redo = deferred ? null : rows.redo();
    TableIndex.ImportMarker marker = checkpoint == null ? null
        : new TableIndex.ImportMarker(checkpoint.job(), checkpoint.batch());
    try {
      index.append(table.schema(), rows.count(), rows.rows(), marker, redo);
    } catch (IOException e) {
      throw TableIndex.storageError(e, "");
    }
    if (deferred) {
      return Future.succeededFuture(rows.count());
    }
    return (redo != null ? index.logged() : index.durable()).map(v -> rows.count())
        .recover(LuceneEngine::commitFailure);
  }

  @Override
  public Future<Void> sync(String id) {
    return index(id).durable().recover(LuceneEngine::commitFailure);
  }

  @Override
  public Future<Long> delete(TableDef table, Predicate where, KeyRecord record) {
    Query query = LuceneQueries.translate(where, null, table.schema());
    TableIndex index = index(table.id());
    long count;
    try {
      count = index.delete(query, record);
    } catch (IOException e) {
      throw TableIndex.storageError(e, "");
    }
    if (count == 0 && record == null) {
      return Future.succeededFuture(0L);
    }
    return index.logged().map(v -> count).recover(LuceneEngine::commitFailure);
  }

  @Override
  public KeyRecord keyRecord(String id, String job) {
    return index(id).keyRecord(job);
  }

  @Override
  public Future<Void> optimize(String id) {
    TableIndex index = index(id);
    try {
      index.optimize();
    } catch (IOException e) {
      throw TableIndex.storageError(e, "");
    }
    return index.durable().recover(LuceneEngine::commitFailure);
  }

  private static <T> Future<T> commitFailure(Throwable failure) {
    if (!(failure instanceof StorageException)) {
      LOG.error("commit failed", failure);
    }
    return Future.failedFuture(TableIndex.storageError(failure, "commit failed, the write was not stored: "));
  }

  // ---------------------------------------------------------------- reads

  @Override
  public Page search(TableDef table, Predicate where, List<Order> order, int offset, int limit) {
    Query query = LuceneQueries.translate(where, null, table.schema());
    Sort sort = LuceneQueries.sort(order, table.schema());
    try {
      TableIndex index = index(table.id());
      return index.search(searcher -> {
        List<byte[]> sources = new ArrayList<>();
        long total;
        // The collector allocates a queue of offset + limit entries up front: never more than the index
        // holds, or a large offset (any read-only key may send one) exhausts the heap.
        int maxDoc = searcher.getIndexReader().maxDoc();
        if (limit == 0 || offset >= maxDoc) {
          total = LeafCounts.count(searcher, query, index.recentCounts());
        } else if (order.isEmpty()) {
          // Counted apart (each segment's count kept per query) and paged without a collector that would read
          // every match's sequence number.
          total = LeafCounts.count(searcher, query, index.recentCounts());
          StoredFields stored = searcher.storedFields();
          List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
          for (InsertionOrder.Hit hit : InsertionOrder.page(searcher, query, offset, Math.min(limit, maxDoc))) {
            int doc = leaves.get(hit.leaf()).docBase + hit.doc();
            sources.add(source(stored.document(doc).getBinaryValue(Fields.SOURCE)));
          }
        } else {
          TopFieldDocs top = searcher.search(query,
              new TopFieldCollectorManager(sort, Math.min(offset + limit, maxDoc), null, Integer.MAX_VALUE));
          total = top.totalHits.value;
          StoredFields stored = searcher.storedFields();
          for (int i = offset; i < top.scoreDocs.length; i++) {
            ScoreDoc hit = top.scoreDocs[i];
            sources.add(source(stored.document(hit.doc).getBinaryValue(Fields.SOURCE)));
          }
        }
        return new Page(total, sources);
      });
    } catch (IOException e) {
      throw TableIndex.storageError(e, "search failed: ");
    }
  }

  /** Read from the rows' sources: the values as sent, whatever the index keeps of them (truncated keywords). */
  @Override
  public Set<Object> values(TableDef table, Predicate where, String column) {
    Query query = LuceneQueries.translate(where, null, table.schema());
    ColumnSchema schema = table.schema().column(column);
    Set<Object> values = new HashSet<>();
    try {
      index(table.id()).withSearcher(searcher -> {
        StoredFields stored = searcher.storedFields();
        searcher.search(query, new SimpleCollector() {
          private int docBase;

          @Override
          protected void doSetNextReader(LeafReaderContext context) {
            docBase = context.docBase;
          }

          @Override
          public void collect(int doc) throws IOException {
            JsonNode row = JSON.readTree(source(stored.document(docBase + doc).getBinaryValue(Fields.SOURCE)));
            JsonNode value = row.get(column);
            if (value == null || value.isNull()) {
              return;
            }
            values.add(switch (schema.type()) {
              case INT, LONG -> value.asLong();
              case DECIMAL -> value.asDouble();
              case BOOLEAN -> value.asBoolean();
              case STRING, TEXT -> value.asText();
            });
          }

          @Override
          public ScoreMode scoreMode() {
            return ScoreMode.COMPLETE_NO_SCORES;
          }
        });
        return null;
      });
    } catch (IOException e) {
      throw TableIndex.storageError(e, "search failed: ");
    }
    return values;
  }

  @Override
  public SortedSet<Long> importedBatches(String id, String job) {
    try {
      return index(id).withSearcher(searcher -> {
        SortedSet<Long> found = new TreeSet<>();
        Query query = new TermQuery(new Term(Fields.IMPORT_JOB, job));
        Weight weight = searcher.createWeight(searcher.rewrite(query), ScoreMode.COMPLETE_NO_SCORES, 1f);
        for (LeafReaderContext leaf : searcher.getIndexReader().leaves()) {
          NumericDocValues values = leaf.reader().getNumericDocValues(Fields.IMPORT_BATCH);
          Scorer scorer = weight.scorer(leaf);
          if (values == null || scorer == null) {
            continue;
          }
          DocIdSetIterator docs = scorer.iterator();
          for (int doc = docs.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = docs.nextDoc()) {
            if (values.advanceExact(doc)) {
              found.add(values.longValue());
            }
          }
        }
        return found;
      });
    } catch (IOException e) {
      throw TableIndex.storageError(e, "cannot read the import's checkpoints: ");
    }
  }

  /** A stored row source as its own array (Lucene may hand out a slice of a larger buffer). */
  static byte[] source(BytesRef ref) {
    return ref.offset == 0 && ref.length == ref.bytes.length ? ref.bytes
        : Arrays.copyOfRange(ref.bytes, ref.offset, ref.offset + ref.length);
  }

  // ---------------------------------------------------------------- health and lifecycle

  /**
   * Per table a fresh commit kept by its {@code SnapshotDeletionPolicy}, and the catalog's bytes, all taken while
   * the core holds every write back; the copy then runs while writes go on (later commits leave the snapshotted
   * files in place). The copy restores as a data directory: {@code catalog.json}, {@code tables/<id>/} with the
   * commit's files and an empty log.
   */
  @Override
  public Snapshot snapshot() {
    checkCatalog();
    Map<String, org.apache.lucene.index.IndexCommit> commits = new LinkedHashMap<>();
    try {
      Path catalogFile = dataDir.resolve(Catalog.FILE);
      byte[] catalogBytes = Files.exists(catalogFile) ? Files.readAllBytes(catalogFile) : null;
      for (Map.Entry<String, TableIndex> e : indexes.entrySet()) {
        commits.put(e.getKey(), e.getValue().snapshotCommit());
      }
      return new Snapshot() {
        @Override
        public long copyTo(Path dir) throws IOException {
          long bytes = 0;
          Path tables = dir.resolve(Catalog.TABLES_DIR);
          Files.createDirectories(tables);
          for (Map.Entry<String, org.apache.lucene.index.IndexCommit> e : commits.entrySet()) {
            Path target = tables.resolve(e.getKey());
            Files.createDirectories(target.resolve("wal"));
            bytes += index(e.getKey()).copyCommit(e.getValue(), target);
            DurableFiles.fsyncDirectory(target);
          }
          DurableFiles.fsyncDirectory(tables);
          if (catalogBytes != null) {
            DurableFiles.writeAtomically(dir, Catalog.FILE, catalogBytes);
            bytes += catalogBytes.length;
          }
          DurableFiles.fsyncDirectory(dir);
          return bytes;
        }

        @Override
        public void close() {
          release(commits);
        }
      };
    } catch (IOException | RuntimeException e) {
      release(commits);
      throw e instanceof StorageException known ? known
          : TableIndex.storageError(e, "the backup snapshot failed: ");
    }
  }

  private void release(Map<String, org.apache.lucene.index.IndexCommit> commits) {
    commits.forEach((id, commit) -> {
      TableIndex index = indexes.get(id);
      if (index != null) {
        try {
          index.releaseSnapshot(commit);
        } catch (IOException | RuntimeException e) {
          LOG.warn("table {}: releasing a backup snapshot failed: {}", id, e.toString());
        }
      }
    });
  }

  @Override
  public String failure() {
    if (catalogFailure != null) {
      return "catalog: " + catalogFailure;
    }
    for (Map.Entry<String, TableIndex> e : indexes.entrySet()) {
      Throwable failure = e.getValue().latchedFailure();
      if (failure != null) {
        return "table " + e.getKey() + ": " + failure;
      }
    }
    return null;
  }

  private void commitLoggedTables() {
    // Failures latch in the index and surface on the next write and in /health.
    new ArrayList<>(indexes.values()).forEach(TableIndex::commitIfLogged);
  }

  @Override
  public void close() {
    commitTimer.shutdownNow();
    indexes.values().forEach(LuceneEngine::closeQuietly);
    indexes.clear();
    commitExecutor.shutdown();
  }

  // ---------------------------------------------------------------- layout upgrade

  /**
   * Indexes written before Text columns kept their exact value as binary doc values (an indexed {@code c$raw}
   * term with sorted doc values) are rebuilt once, at open: Lucene refuses to change a field's doc-values type
   * within an index, and queries read {@code c$raw} as binary values. The rows are rebuilt from their stored
   * source into a new index under a new id that replaces the old one as a dropped column's rewrite does,
   * keeping each row's bytes, sequence number and import marker; the catalog is saved naming it.
   */
  private void upgradeTextLayouts(Map<String, TableDef> tables) {
    for (Map.Entry<String, TableDef> e : new ArrayList<>(tables.entrySet())) {
      String table = e.getKey();
      TableDef old = e.getValue();
      TableIndex index = indexes.get(old.id());
      try {
        if (!hasSortedTextRaw(index, old.schema())) {
          continue;
        }
        LOG.info("table '{}': rebuilding its {} rows for the binary doc-values layout of Text columns", table,
            index.rowCount());
        TableDef rebuilt = new TableDef(UUID.randomUUID().toString().replace("-", ""), old.schema());
        createTable(rebuilt);
        try {
          fill(indexes.get(rebuilt.id()), () -> rewriteRows(index, indexes.get(rebuilt.id()), old.schema(), null));
        } catch (RuntimeException failure) {
          dropTable(rebuilt.id());
          throw failure;
        }
        tables.put(table, rebuilt);
        saveCatalog(tables);
        dropTable(old.id());
        LOG.info("table '{}': rebuilt", table);
      } catch (IOException ex) {
        throw new UncheckedIOException("cannot upgrade the index of table '" + table + "'", ex);
      }
    }
  }

  /**
   * Whether a segment of the index holds a Text column in an old layout: {@code c$raw} indexed and sorted, or
   * the analyzed field with frequencies, positions or norms ({@link DocumentBuilder#TEXT} has none).
   */
  private static boolean hasSortedTextRaw(TableIndex index, TableSchema schema) throws IOException {
    return index.withSearcher(searcher -> {
      for (LeafReaderContext leaf : searcher.getIndexReader().leaves()) {
        FieldInfos infos = leaf.reader().getFieldInfos();
        for (Map.Entry<String, ColumnSchema> column : schema.columns().entrySet()) {
          if (!Fields.hasBinaryRaw(column.getValue())) {
            continue;
          }
          FieldInfo info = infos.fieldInfo(Fields.keywordField(column.getKey(), column.getValue()));
          if (info != null && (info.getDocValuesType() != DocValuesType.BINARY
              || info.getIndexOptions() != IndexOptions.NONE)) {
            return true;
          }
          FieldInfo analyzed = infos.fieldInfo(column.getKey());
          if (analyzed != null && (analyzed.getIndexOptions() != IndexOptions.DOCS || analyzed.hasNorms())) {
            return true;
          }
        }
      }
      return false;
    });
  }

  /**
   * Adds every live row of source to target as {@link DocumentBuilder} lays it out now, with its sequence
   * number and import marker: without droppedColumn (a column drop) or, when it is null, byte for byte (a
   * layout upgrade). The rows' values are read from their sources by the decoder, as replay reads them.
   */
  private void rewriteRows(TableIndex source, TableIndex target, TableSchema schema, String droppedColumn)
      throws IOException {
    DocumentBuilder.Layout layout = DocumentBuilder.layout(schema);
    source.exclusive(searcher -> {
      for (LeafReaderContext leaf : searcher.getIndexReader().leaves()) {
        LeafReader reader = leaf.reader();
        Bits live = reader.getLiveDocs();
        StoredFields stored = reader.storedFields();
        NumericDocValues seqs = reader.getNumericDocValues(Fields.SEQ);
        NumericDocValues batches = reader.getNumericDocValues(Fields.IMPORT_BATCH);
        String[] jobs = importJobs(reader);
        for (int doc = 0; doc < reader.maxDoc(); doc++) {
          if (live != null && !live.get(doc)) {
            continue;
          }
          byte[] bytes = source(stored.document(doc).getBinaryValue(Fields.SOURCE));
          if (droppedColumn != null) {
            JsonNode row = JSON.readTree(bytes);
            ((ObjectNode) row).remove(droppedColumn);
            bytes = JSON.writeValueAsBytes(row);
          }
          long seq = seqs != null && seqs.advanceExact(doc) ? seqs.longValue() : doc;
          List<IndexableField> rewritten = DocumentBuilder.build(layout, decodeOne(schema, bytes), seq);
          if (jobs[doc] != null && batches != null && batches.advanceExact(doc)) {
            TableIndex.mark(rewritten, new TableIndex.ImportMarker(jobs[doc], batches.longValue()));
          }
          target.writer().addDocument(rewritten);
        }
      }
      return null;
    });
    target.resetSequence();
  }

  /** A stored row again, its source byte for byte: read as the one row of a batch, which keeps sources as sent. */
  private Row decodeOne(TableSchema schema, byte[] source) {
    byte[] batch = new byte[source.length + 2];
    batch[0] = '[';
    System.arraycopy(source, 0, batch, 1, source.length);
    batch[batch.length - 1] = ']';
    for (Row row : decoder.decode(schema, new RowBatch.Redo(true, batch))) {
      return new Row(row.values(), source);
    }
    throw new IllegalStateException("a stored row has no source");
  }

  /** The import job id of each document of a segment (null where none): the {@link Fields#IMPORT_JOB} terms. */
  private static String[] importJobs(LeafReader reader) throws IOException {
    String[] jobs = new String[reader.maxDoc()];
    Terms terms = reader.terms(Fields.IMPORT_JOB);
    if (terms == null) {
      return jobs;
    }
    TermsEnum termsEnum = terms.iterator();
    PostingsEnum postings = null;
    for (BytesRef term = termsEnum.next(); term != null; term = termsEnum.next()) {
      String job = term.utf8ToString();
      postings = termsEnum.postings(postings, PostingsEnum.NONE);
      for (int doc = postings.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = postings.nextDoc()) {
        jobs[doc] = job;
      }
    }
    return jobs;
  }

  // ---------------------------------------------------------------- helpers

  TableIndex index(String id) {
    TableIndex index = indexes.get(id);
    if (index == null) {
      throw new StorageException(StorageException.Kind.TABLE_GONE, "no table with id " + id, null);
    }
    return index;
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> {
        try {
          Files.deleteIfExists(path);
        } catch (IOException e) {
          LOG.warn("cannot delete {}", path, e);
        }
      });
    } catch (IOException e) {
      LOG.warn("cannot delete {}", dir, e);
    }
  }

  private static void closeQuietly(TableIndex index) {
    if (index == null) {
      return;
    }
    try {
      index.close();
    } catch (IOException | RuntimeException e) {
      LOG.warn("closing index {} failed", index.path(), e);
    }
  }
}
