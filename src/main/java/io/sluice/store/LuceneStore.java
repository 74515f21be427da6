package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.engine.Predicate;
import io.sluice.errors.ApiError;
import io.sluice.ingest.BatchParser;
import io.sluice.ingest.Json;
import io.sluice.ingest.LineBatchParser;
import io.sluice.ingest.ParsedRow;
import io.sluice.metrics.Metrics;
import io.sluice.query.PropositionParser;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.Names;
import io.sluice.schema.SchemaParser;
import io.sluice.schema.TableSchema;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import org.apache.lucene.document.Document;
import org.apache.lucene.index.IndexableField;
import org.apache.lucene.index.CodecReader;
import org.apache.lucene.index.DocValuesType;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FieldInfos;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.PostingsEnum;
import org.apache.lucene.index.SlowCodecReaderWrapper;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.TopFieldCollectorManager;
import org.apache.lucene.search.TopFieldDocs;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded store: one Lucene index per table under {@code <data>/tables/<id>/}, and the {@link Catalog}.
 *
 * <p>Thread-safety: any number of threads may call it. Data operations hold the catalog's read lock while
 * they touch an index; schema operations hold its write lock, so a table never changes shape under a write.
 * Writes return a future completed by the table's group commit.
 */
public final class LuceneStore implements TableStore {
  private static final Logger LOG = LoggerFactory.getLogger(LuceneStore.class);
  /** Lucene's indexing buffer per table: an eighth of the heap, 16..64 MB, so small heaps keep room for requests. */
  private static final double RAM_BUFFER_MB =
      Math.max(16, Math.min(64, Runtime.getRuntime().maxMemory() / 8 / (1024 * 1024)));

  /** Suffix of the in-memory key of an index being built to replace a table's (never a valid table name). */
  private static final String STAGING = "\u0000staging";

  private final Path dataDir;
  private final DirectoryFactory directories;
  private final Catalog catalog;
  private final int maxResultLimit;
  private final ExecutorService commitExecutor;
  private final ScheduledExecutorService commitTimer;
  private final Options options;
  private final Metrics metrics;
  private final ReentrantReadWriteLock catalogLock = new ReentrantReadWriteLock();
  private final Map<String, Catalog.Entry> entries;
  private final Map<String, TableIndex> indexes = new LinkedHashMap<>();
  private final Map<String, TableAnalyzer> analyzers = new LinkedHashMap<>();
  /** Set when writing the catalog failed: see {@link #saveCatalog(Map)}. */
  private volatile Throwable catalogFailure;
  /**
   * Internal ids of tables rebuilt with their rows (a dropped column): old id → new id, so that an import that
   * started on the old index goes on into the new one. A dropped or replaced table has no entry: its imports end.
   */
  private final Map<String, String> rebuiltIds = new java.util.HashMap<>();

  /**
   * commitIntervalMs: how often a table with logged writes gets a Lucene commit; walMaxBytes: a table whose
   * write-ahead log grows past this is committed at once. Both bound how much a restart replays.
   */
  public record Options(long commitIntervalMs, long walMaxBytes) {
    public static final Options DEFAULTS = new Options(5_000, 64L * 1024 * 1024);
  }

  public LuceneStore(Path dataDir, int maxResultLimit) {
    this(dataDir, maxResultLimit, DirectoryFactory.FILE_SYSTEM, Metrics.noop());
  }

  public LuceneStore(Path dataDir, int maxResultLimit, DirectoryFactory directories) {
    this(dataDir, maxResultLimit, directories, Metrics.noop());
  }

  public LuceneStore(Path dataDir, int maxResultLimit, DirectoryFactory directories, Metrics metrics) {
    this(dataDir, maxResultLimit, directories, metrics, Options.DEFAULTS);
  }

  /** {@code metrics} receives rows ingested and rejected per table and the latency of every commit. */
  public LuceneStore(Path dataDir, int maxResultLimit, DirectoryFactory directories, Metrics metrics,
      Options options) {
    this.options = options;
    this.directories = directories;
    this.dataDir = dataDir;
    this.metrics = metrics;
    this.catalog = new Catalog(dataDir);
    this.maxResultLimit = maxResultLimit;
    this.commitExecutor = Executors.newCachedThreadPool(runnable -> {
      Thread thread = new Thread(runnable, "sluice-commit");
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
    this.entries = catalog.load();
    for (Map.Entry<String, Catalog.Entry> entry : entries.entrySet()) {
      openIndex(entry.getKey(), entry.getValue());
    }
    removeOrphanDirectories();
    upgradeTextLayouts();
    this.commitTimer = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "sluice-commit-timer");
      thread.setDaemon(true);
      return thread;
    });
    commitTimer.scheduleWithFixedDelay(this::commitLoggedTables, options.commitIntervalMs(),
        options.commitIntervalMs(), TimeUnit.MILLISECONDS);
    LOG.info("store open at {} with {} tables", dataDir.toAbsolutePath(), entries.size());
  }

  // ---------------------------------------------------------------- schema

  @Override
  public JsonObject schema() {
    return read(() -> {
      JsonObject tables = new JsonObject();
      entries.forEach((name, entry) -> tables.put(name, entry.schema().toJson()));
      return new JsonObject().put("schema", tables);
    });
  }

  @Override
  public JsonObject putSchema(JsonObject body) {
    Map<String, TableSchema> tables = SchemaParser.parseDatabase(body);
    return write(() -> {
      tables.forEach((name, schema) -> checkLinks(name, schema, tables));
      Map<String, Catalog.Entry> old = new LinkedHashMap<>(entries);
      Map<String, Catalog.Entry> fresh = new LinkedHashMap<>();
      tables.forEach((name, schema) -> fresh.put(name, new Catalog.Entry(newId(), schema)));
      for (Map.Entry<String, Catalog.Entry> e : fresh.entrySet()) {
        openIndex(e.getKey() + STAGING, e.getValue());
      }
      saveCatalog(fresh);
      old.forEach((name, entry) -> dropIndex(name));
      entries.clear();
      entries.putAll(fresh);
      for (String name : fresh.keySet()) {
        indexes.put(name, indexes.remove(name + STAGING));
        analyzers.put(name, analyzers.remove(name + STAGING));
      }
      return schemaUnlocked();
    });
  }

  @Override
  public JsonObject deleteSchema() {
    return write(() -> {
      List<String> names = new ArrayList<>(entries.keySet());
      entries.clear();
      saveCatalog(entries);
      names.forEach(this::dropIndex);
      return new JsonObject().put("deleted", new JsonArray(names));
    });
  }

  @Override
  public JsonObject table(String table) {
    return read(() -> entry(table).schema().toJson());
  }

  @Override
  public String tableId(String table) {
    return read(() -> entry(table).id());
  }

  /**
   * The current name of the table an import started on: its internal id, followed through rebuilds that kept the
   * rows, found under any name (a rename carries the import along). A table dropped or replaced since (by a
   * table or whole-schema PUT, a drop, a rename or copy over it) is gone with the rows the import stored: 409.
   * Under the catalog lock.
   */
  private String currentName(String table, String tableId) {
    if (tableId == null) {
      return table;
    }
    String id = tableId;
    for (int hops = 0; rebuiltIds.containsKey(id) && hops < 1000; hops++) {
      id = rebuiltIds.get(id);
    }
    for (Map.Entry<String, Catalog.Entry> e : entries.entrySet()) {
      if (e.getValue().id().equals(id)) {
        return e.getKey();
      }
    }
    throw new ApiError(409, "table '" + table + "' was dropped or replaced while the import ran", null,
        TableStore.TABLE_REPLACED);
  }

  @Override
  public JsonObject putTable(String table, JsonObject body) {
    TableSchema schema = SchemaParser.parseTable(table, body);
    return write(() -> {
      Map<String, TableSchema> view = schemasUnlocked();
      view.put(table, schema);
      checkLinks(table, schema, view);
      Catalog.Entry existing = entries.get(table);
      if (existing != null) {
        if (existing.schema().equals(schema)) {
          return schema.toJson();
        }
        long rows = rowCount(table);
        if (rows > 0) {
          throw ApiError.conflict("table '" + table + "' has " + rows + " rows and a different schema; delete its"
              + " rows or the table first, or add columns one by one with PUT /api/v1/schema/" + table + "/<column>");
        }
        checkNotLinkedTo(table, schema);
        replaceTable(table, new Catalog.Entry(newId(), schema));
      } else {
        Catalog.Entry entry = new Catalog.Entry(newId(), schema);
        openIndex(table, entry);
        entries.put(table, entry);
        saveCatalog();
      }
      return schema.toJson();
    });
  }

  @Override
  public JsonObject deleteTable(String table) {
    return write(() -> {
      if (!entries.containsKey(table)) { // idempotent, as in Aito; decided under the catalog lock
        return new JsonObject().put("deleted", new JsonArray());
      }
      for (Map.Entry<String, Catalog.Entry> other : entries.entrySet()) {
        if (other.getKey().equals(table)) {
          continue;
        }
        other.getValue().schema().columns().forEach((column, col) -> {
          if (table.equals(col.linkTable())) {
            throw ApiError.conflict("table '" + table + "' is linked from column '" + column + "' of table '"
                + other.getKey() + "'; drop that column or table first");
          }
        });
      }
      entries.remove(table);
      saveCatalog();
      dropIndex(table);
      return new JsonObject().put("deleted", new JsonArray().add(table));
    });
  }

  @Override
  public JsonObject column(String table, String column) {
    return read(() -> column(entry(table).schema(), table, column).toJson());
  }

  @Override
  public JsonObject putColumn(String table, String column, JsonObject body) {
    ColumnSchema parsed = SchemaParser.parseColumn(table, column, body);
    return write(() -> {
      TableSchema schema = entry(table).schema();
      ColumnSchema existing = schema.column(column);
      if (parsed.equals(existing)) {
        return parsed.toJson();
      }
      TableSchema updated = schema.withColumn(column, parsed);
      Map<String, TableSchema> view = schemasUnlocked();
      view.put(table, updated);
      checkLinks(table, updated, view);
      long rows = rowCount(table);
      if (rows > 0 && existing != null) {
        throw ApiError.conflict("column '" + column + "' of table '" + table + "' already exists with another type"
            + " and the table has " + rows + " rows; drop the column first");
      }
      if (rows > 0 && !parsed.nullable()) {
        throw ApiError.conflict("cannot add non-nullable column '" + column + "' to table '" + table + "' which has "
            + rows + " rows; declare it \"nullable\": true");
      }
      if (rows == 0 && existing != null) {
        replaceTable(table, new Catalog.Entry(newId(), updated));
      } else {
        entries.put(table, new Catalog.Entry(entries.get(table).id(), updated));
        analyzers.get(table).update(updated);
        saveCatalog();
      }
      return parsed.toJson();
    });
  }

  @Override
  public JsonObject deleteColumn(String table, String column) {
    return write(() -> {
      if (!entries.containsKey(table) || entries.get(table).schema().column(column) == null) { // idempotent too
        return new JsonObject().put("deleted", new JsonArray());
      }
      TableSchema schema = entry(table).schema();
      if (schema.columns().size() == 1) {
        throw ApiError.badRequest("cannot drop '" + column + "', the last column of table '" + table
            + "'; delete the table instead");
      }
      checkNotLinkTarget(table, column);
      TableSchema updated = schema.withoutColumn(column);
      // Old documents still carry the column's index fields; rewriting keeps a later column of the same
      // name from matching stale values.
      String oldId = entries.get(table).id();
      Catalog.Entry rebuilt = new Catalog.Entry(newId(), updated);
      installTable(table, rebuilt, target -> rewriteRows(indexes.get(table), target, updated, column));
      rebuiltIds.put(oldId, rebuilt.id()); // the rows moved: running imports follow them
      return new JsonObject().put("deleted", new JsonArray().add(table + "." + column));
    });
  }

  @Override
  public JsonObject rename(JsonObject body) {
    String from = requiredName(body, "from");
    String to = requiredName(body, "rename");
    boolean replace = body.getBoolean("replace", false);
    return write(() -> {
      Catalog.Entry entry = entry(from);
      if (from.equals(to)) {
        return new JsonObject().put("from", from).put("rename", to);
      }
      if (entries.containsKey(to) && !replace) {
        throw ApiError.conflict("table '" + to + "' exists; pass \"replace\": true to overwrite it");
      }
      Map<String, Catalog.Entry> next = new LinkedHashMap<>();
      for (Map.Entry<String, Catalog.Entry> e : entries.entrySet()) {
        if (e.getKey().equals(to)) {
          continue;
        }
        String name = e.getKey().equals(from) ? to : e.getKey();
        next.put(name, new Catalog.Entry(e.getValue().id(), relink(e.getValue().schema(), from, to)));
      }
      saveCatalog(next);
      if (entries.containsKey(to)) {
        dropIndex(to);
      }
      entries.clear();
      entries.putAll(next);
      indexes.put(to, indexes.remove(from));
      analyzers.put(to, analyzers.remove(from));
      return new JsonObject().put("from", from).put("rename", to).put("schema", entry.schema().toJson());
    });
  }

  @Override
  public JsonObject copy(JsonObject body) {
    String from = requiredName(body, "from");
    String to = requiredName(body, "copy");
    boolean replace = body.getBoolean("replace", false);
    return write(() -> {
      Catalog.Entry source = entry(from);
      if (from.equals(to)) {
        throw ApiError.badRequest("cannot copy table '" + from + "' onto itself");
      }
      if (entries.containsKey(to) && !replace) {
        throw ApiError.conflict("table '" + to + "' exists; pass \"replace\": true to overwrite it");
      }
      Catalog.Entry entry = new Catalog.Entry(newId(), source.schema());
      installTable(to, entry, target -> {
        indexes.get(from).exclusive(searcher -> {
          List<CodecReader> readers = new ArrayList<>();
          for (LeafReaderContext leaf : searcher.getIndexReader().leaves()) {
            readers.add(SlowCodecReaderWrapper.wrap(leaf.reader()));
          }
          target.writer().addIndexes(readers.toArray(new CodecReader[0]));
          return null;
        });
        target.resetSequence();
      });
      return new JsonObject().put("from", from).put("copy", to).put("schema", entry.schema().toJson());
    });
  }

  // ---------------------------------------------------------------- rows

  @Override
  public Future<JsonObject> insertOne(String table, byte[] body) {
    ParsedRow[] row = new ParsedRow[1];
    return writeRows(table, null, new TableIndex.Logged(false, body), schema -> {
      row[0] = BatchParser.parseOne(table, schema, body);
      return new Rows(1, List.of(row[0]));
    }, count -> objectOf(row[0]));
  }

  /**
   * Validates the whole array first (all or nothing). A body up to {@link #PARSE_ONCE_BYTES} is read once into
   * typed rows; a larger one is read again row by row while indexing, so it never holds more than one parsed
   * row besides its body. Both take the fast path ({@link BatchParser#plainCount}) when every row is plainly
   * valid, else trees, which report what is wrong.
   */
  @Override
  public Future<JsonObject> insertBatch(String table, byte[] body) {
    return writeRows(table, null, new TableIndex.Logged(true, body), schema -> batchRows(table, schema, body),
        count -> new JsonObject().put("total", count));
  }

  private static final int PARSE_ONCE_BYTES = 1024 * 1024;

  static Rows batchRows(String table, TableSchema schema, byte[] body) {
    if (body.length <= PARSE_ONCE_BYTES) {
      List<ParsedRow> parsed = BatchParser.plainParsed(schema, body);
      if (parsed != null) {
        return new Rows(parsed.size(), parsed);
      }
    } else {
      int plain = BatchParser.plainCount(schema, body);
      if (plain >= 0) {
        return new Rows(plain, BatchParser.plainRows(schema, body));
      }
    }
    return new Rows(BatchParser.validateArray(table, schema, body), BatchParser.rows(body));
  }

  @Override
  public Future<JsonObject> appendLines(String table, JsonObject args, byte[] payload) {
    long firstLine = args.getLong("firstLine", 1L);
    String job = args.getString("job");
    Long batch = args.getLong("batch");
    boolean validateOnly = args.getBoolean("validateOnly", false);
    boolean deferCommit = args.getBoolean("deferCommit", false);
    TableIndex.ImportMarker marker = job == null || batch == null ? null : new TableIndex.ImportMarker(job, batch);
    LineBatchParser.Result[] parsed = new LineBatchParser.Result[1];
    String[] name = {table};
    return writeRows(table, args.getString("tableId"), name, marker, deferCommit ? DEFER : null, schema -> {
      parsed[0] = LineBatchParser.parse(table, schema, payload, firstLine);
      if (!validateOnly) {
        metrics.rowsRejected(table, parsed[0].failedCount());
      }
      return validateOnly ? new Rows(0, List.of()) : new Rows(parsed[0].rows().size(), parsed[0].rows());
    }, count -> {
      List<ParsedRow> valid = parsed[0].rows();
      JsonObject reply = new JsonObject()
          .put("table", name[0]) // its current name: a rename carries the import along
          .put("appended", valid.size())
          .put("failedCount", parsed[0].failedCount())
          .put("failures", parsed[0].failures());
      if (!valid.isEmpty()) {
        reply.put("last", objectOf(valid.get(valid.size() - 1)));
      }
      return reply;
    });
  }

  @Override
  public JsonObject importedBatches(String table, String job) {
    return read(() -> {
      entry(table);
      try {
        JsonArray batches = indexes.get(table).withSearcher(searcher -> {
          Set<Long> found = new java.util.TreeSet<>();
          Query query = new org.apache.lucene.search.TermQuery(new org.apache.lucene.index.Term(Fields.IMPORT_JOB, job));
          for (LeafReaderContext leaf : searcher.getIndexReader().leaves()) {
            NumericDocValues values = leaf.reader().getNumericDocValues(Fields.IMPORT_BATCH);
            org.apache.lucene.search.Weight weight = searcher.createWeight(searcher.rewrite(query),
                org.apache.lucene.search.ScoreMode.COMPLETE_NO_SCORES, 1f);
            org.apache.lucene.search.Scorer scorer = weight.scorer(leaf);
            if (values == null || scorer == null) {
              continue;
            }
            org.apache.lucene.search.DocIdSetIterator docs = scorer.iterator();
            for (int doc = docs.nextDoc(); doc != org.apache.lucene.search.DocIdSetIterator.NO_MORE_DOCS;
                doc = docs.nextDoc()) {
              if (values.advanceExact(doc)) {
                found.add(values.longValue());
              }
            }
          }
          return new JsonArray(new ArrayList<>(found));
        });
        return new JsonObject().put("batches", batches);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /** Valid rows to append: how many, and the rows themselves (possibly parsed lazily while indexing). */
  private record Rows(int count, Iterable<ParsedRow> rows) {
  }

  private interface RowSource {
    Rows rows(TableSchema schema);
  }

  private interface Reply<T> {
    T of(int count);
  }

  /** For {@link #writeRows}: reply once indexed, the caller will {@link #sync}. */
  private static final TableIndex.Logged DEFER = new TableIndex.Logged(false, new byte[0]);

  /**
   * Parses, appends and waits until durable: for a logged write (row API) until the write-ahead log is
   * synced, for import rows (logged null) until a Lucene commit. The reply is built before waiting, so the
   * parsed rows are garbage as soon as they are indexed: memory held per waiting write is only its reply.
   * With {@link #DEFER} the reply comes once the rows are indexed, not yet durable: the caller must
   * {@link #sync}.
   */
  private <T> Future<T> writeRows(String table, TableIndex.ImportMarker marker, TableIndex.Logged logged,
      RowSource source, Reply<T> reply) {
    return writeRows(table, null, new String[] {table}, marker, logged, source, reply);
  }

  /** tableId: the internal id an import started on (null: the table now named so); name: gets the current name. */
  private <T> Future<T> writeRows(String requested, String tableId, String[] name, TableIndex.ImportMarker marker,
      TableIndex.Logged logged, RowSource source, Reply<T> reply) {
    boolean deferCommit = logged == DEFER;
    checkCatalog();
    TableIndex index;
    T result;
    int stored;
    String table = requested;
    catalogLock.readLock().lock();
    try {
      name[0] = currentName(requested, tableId);
      table = name[0];
      TableSchema schema = entry(table).schema();
      index = indexes.get(table);
      Rows rows;
      try {
        rows = source.rows(schema);
      } catch (ApiError invalid) {
        if (invalid.status() == 400) {
          // A refused batch lists its bad rows (the first 50); a single bad row has no list.
          metrics.rowsRejected(table, invalid.errors() == null ? 1 : invalid.errors().size());
        }
        throw invalid;
      }
      if (rows.count() == 0) {
        return Future.succeededFuture(reply.of(0));
      }
      index.append(schema, rows.count(), rows.rows(), marker, deferCommit ? null : logged);
      stored = rows.count();
      result = reply.of(stored);
    } catch (IOException e) {
      return Future.failedFuture(storageFailure(table, e));
    } finally {
      catalogLock.readLock().unlock();
    }
    String written = table;
    if (deferCommit) {
      // Counted when indexed: the import's own sync follows within import.commit.interval.ms.
      metrics.rowsIngested(written, stored);
      return Future.succeededFuture(result);
    }
    return (logged != null ? index.logged() : index.durable()).map(v -> {
      metrics.rowsIngested(written, stored);
      return result;
    }).recover(this::mapFailure);
  }

  @Override
  public Future<JsonObject> sync(String table) {
    return sync(table, null);
  }

  @Override
  public Future<JsonObject> sync(String requested, String tableId) {
    TableIndex index;
    String table;
    catalogLock.readLock().lock();
    try {
      table = currentName(requested, tableId);
      entry(table);
      index = indexes.get(table);
    } finally {
      catalogLock.readLock().unlock();
    }
    Future<JsonObject> durable = index.durable().map(v -> new JsonObject().put("table", table))
        .recover(this::mapFailure);
    if (tableId == null) {
      return durable;
    }
    // The commit may complete on an index dropped meanwhile (its rows went with it): check again after it.
    return durable.compose(reply -> {
      catalogLock.readLock().lock();
      try {
        return Future.succeededFuture(reply.put("table", currentName(requested, tableId)));
      } finally {
        catalogLock.readLock().unlock();
      }
    });
  }

  @Override
  public Future<JsonObject> delete(JsonObject body) {
    // A misspelt "where" must not delete every row as an absent one does.
    onlyKeys(body, "a delete", DELETE_KEYS);
    String table = requiredName(body, "from");
    checkCatalog();
    TableIndex index;
    int count;
    catalogLock.readLock().lock();
    try {
      TableSchema schema = entry(table).schema();
      index = indexes.get(table);
      Query query = query(table, schema, body.getValue("where"));
      count = index.delete(query);
    } catch (IOException e) {
      return Future.failedFuture(storageFailure(table, e));
    } finally {
      catalogLock.readLock().unlock();
    }
    if (count == 0) {
      return Future.succeededFuture(new JsonObject().put("total", 0));
    }
    return index.logged().map(v -> new JsonObject().put("total", count)).recover(this::mapFailure);
  }

  @Override
  public Future<JsonObject> optimize(String table) {
    TableIndex index;
    catalogLock.readLock().lock();
    try {
      entry(table);
      index = indexes.get(table);
      index.optimize();
    } catch (IOException e) {
      return Future.failedFuture(storageFailure(table, e));
    } finally {
      catalogLock.readLock().unlock();
    }
    return index.durable().map(v -> new JsonObject().put("message", "table '" + table + "' optimized"))
        .recover(this::mapFailure);
  }

  // ---------------------------------------------------------------- search

  @Override
  public JsonObject search(JsonObject body) {
    onlyKeys(body, "a search", SEARCH_KEYS);
    String table = requiredName(body, "from");
    int offset = nonNegative(body, "offset", 0);
    int limit = nonNegative(body, "limit", 10);
    if (limit > maxResultLimit) {
      throw ApiError.badRequest("'limit' " + limit + " is over the maximum " + maxResultLimit
          + "; page with 'offset'");
    }
    if ((long) offset + limit > Integer.MAX_VALUE - 1) {
      throw ApiError.badRequest("'offset' + 'limit' is too large");
    }
    List<String> select = selectList(body.getValue("select"));
    return read(() -> {
      TableSchema schema = entry(table).schema();
      Query query = query(table, schema, body.getValue("where"));
      Sort sort = LuceneQueries.sort(parser(table, schema).orderBy(body.getValue("orderBy")), schema);
      if (select != null) {
        select.forEach(field -> checkSelect(table, schema, field));
      }
      try {
        return indexes.get(table).withSearcher(searcher -> {
          JsonArray hits = new JsonArray();
          long total;
          // The collector allocates a queue of offset + limit entries up front: never more than the index
          // holds, or a large offset (any read-only key may send one) exhausts the heap.
          int maxDoc = searcher.getIndexReader().maxDoc();
          if (limit == 0 || offset >= maxDoc) {
            total = searcher.count(query);
          } else {
            TopFieldDocs top = searcher.search(query,
                new TopFieldCollectorManager(sort, Math.min(offset + limit, maxDoc), null, Integer.MAX_VALUE));
            total = top.totalHits.value;
            StoredFields stored = searcher.storedFields();
            for (int i = offset; i < top.scoreDocs.length; i++) {
              ScoreDoc hit = top.scoreDocs[i];
              JsonObject row = new JsonObject(new String(
                  stored.document(hit.doc).getBinaryValue(Fields.SOURCE).bytes,
                  java.nio.charset.StandardCharsets.UTF_8));
              hits.add(select == null ? row : project(table, schema, row, select));
            }
          }
          return new JsonObject().put("offset", offset).put("total", total).put("hits", hits);
        });
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  private static List<String> selectList(Object select) {
    if (select == null) {
      return null;
    }
    if (!(select instanceof JsonArray array)) {
      throw ApiError.badRequest("'select' must be an array of column names or link paths");
    }
    if (array.size() > MAX_SELECT) {
      throw ApiError.badRequest("'select' lists " + array.size() + " fields; at most " + MAX_SELECT
          + " are allowed");
    }
    List<String> fields = new ArrayList<>();
    for (Object field : array) {
      if (!(field instanceof String name)) {
        throw ApiError.badRequest("'select' must list column names as strings, got " + field);
      }
      fields.add(name);
    }
    return fields;
  }

  private void checkSelect(String table, TableSchema schema, String field) {
    int dot = field.indexOf('.');
    if (dot < 0) {
      column(schema, table, field);
      return;
    }
    ColumnSchema link = column(schema, table, field.substring(0, dot));
    if (link.link() == null) {
      throw ApiError.badRequest("'" + field + "' in 'select': column '" + field.substring(0, dot) + "' of table '"
          + table + "' is not a link");
    }
    column(entry(linkTable(table, link)).schema(), linkTable(table, link), field.substring(dot + 1));
  }

  private JsonObject project(String table, TableSchema schema, JsonObject row, List<String> select) {
    JsonObject result = new JsonObject();
    Map<String, JsonObject> linked = new LinkedHashMap<>();
    for (String field : select) {
      int dot = field.indexOf('.');
      if (dot < 0) {
        result.put(field, row.getValue(field));
        continue;
      }
      String linkColumn = field.substring(0, dot);
      JsonObject target = linked.computeIfAbsent(linkColumn,
          c -> linkedRow(table, schema.column(c), row.getValue(c)));
      result.put(field, target == null ? null : target.getValue(field.substring(dot + 1)));
    }
    return result;
  }

  private JsonObject linkedRow(String table, ColumnSchema link, Object key) {
    if (key == null) {
      return null;
    }
    String target = linkTable(table, link);
    JsonObject where = new JsonObject().put(link.linkColumn(), key);
    JsonObject found = search(new JsonObject().put("from", target).put("where", where).put("limit", 1));
    JsonArray hits = found.getJsonArray("hits");
    return hits.isEmpty() ? null : hits.getJsonObject(0);
  }

  private PropositionParser parser(String table, TableSchema schema) {
    return new PropositionParser(table, schema, this::schemaOrNull);
  }

  /** The Lucene query of a where-clause on the table, its link paths resolved on the linked tables. */
  private Query query(String table, TableSchema schema, Object where) {
    return LuceneQueries.translate(resolveLinks(parser(table, schema).where(where)), table, schema);
  }

  private TableSchema schemaOrNull(String table) {
    Catalog.Entry entry = entries.get(table);
    return entry == null ? null : entry.schema();
  }

  /** Each link path becomes the keys of the linked table's rows that match its inner predicate. */
  private Predicate resolveLinks(Predicate where) {
    return PropositionParser.resolveLinks(where, link -> {
      String target = link.targetTable();
      TableSchema schema = entry(target).schema();
      ColumnSchema keyColumn = column(schema, target, link.targetColumn());
      Query query = LuceneQueries.translate(resolveLinks(link.inner()), target, schema);
      try {
        return indexes.get(target).withSearcher(
            searcher -> collectValues(searcher, query, link.targetColumn(), keyColumn));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  private static Set<Object> collectValues(IndexSearcher searcher, Query query, String column, ColumnSchema schema)
      throws IOException {
    Set<Object> values = new HashSet<>();
    StoredFields stored = searcher.storedFields();
    searcher.search(query, new org.apache.lucene.search.SimpleCollector() {
      private int docBase;

      @Override
      protected void doSetNextReader(LeafReaderContext context) {
        docBase = context.docBase;
      }

      @Override
      public void collect(int doc) throws IOException {
        Document document = stored.document(docBase + doc);
        JsonNode row = Json.MAPPER.readTree(document.getBinaryValue(Fields.SOURCE).bytes);
        JsonNode value = row.get(column);
        if (value == null || value.isNull()) {
          return;
        }
        values.add(switch (schema.type()) {
          case INT, LONG -> value.asLong();
          case DECIMAL -> value.asDouble();
          case BOOLEAN -> value.asBoolean();
          default -> value.asText();
        });
      }

      @Override
      public org.apache.lucene.search.ScoreMode scoreMode() {
        return org.apache.lucene.search.ScoreMode.COMPLETE_NO_SCORES;
      }
    });
    return values;
  }

  // ---------------------------------------------------------------- health and lifecycle

  @Override
  public String failure() {
    if (catalogFailure != null) {
      return "catalog: " + catalogFailure;
    }
    catalogLock.readLock().lock();
    try {
      for (Map.Entry<String, TableIndex> e : indexes.entrySet()) {
        Throwable failure = e.getValue().latchedFailure();
        if (failure != null) {
          return "table '" + e.getKey() + "': " + failure;
        }
      }
      return null;
    } finally {
      catalogLock.readLock().unlock();
    }
  }

  private void commitLoggedTables() {
    List<TableIndex> open;
    catalogLock.readLock().lock();
    try {
      open = new ArrayList<>(indexes.values());
    } finally {
      catalogLock.readLock().unlock();
    }
    // Failures latch in the index and surface on the next write and in /health.
    open.forEach(TableIndex::commitIfLogged);
  }

  @Override
  public void close() {
    commitTimer.shutdownNow();
    catalogLock.writeLock().lock();
    try {
      indexes.values().forEach(LuceneStore::closeQuietly);
      indexes.clear();
      commitExecutor.shutdown();
    } finally {
      catalogLock.writeLock().unlock();
    }
  }

  // ---------------------------------------------------------------- helpers

  private interface Action<T> {
    T run();
  }

  private <T> T read(Action<T> action) {
    catalogLock.readLock().lock();
    try {
      return action.run();
    } finally {
      catalogLock.readLock().unlock();
    }
  }

  private <T> T write(Action<T> action) {
    catalogLock.writeLock().lock();
    try {
      checkCatalog();
      return action.run();
    } finally {
      catalogLock.writeLock().unlock();
    }
  }

  private Catalog.Entry entry(String table) {
    Catalog.Entry entry = table == null ? null : entries.get(table);
    if (entry == null) {
      throw ApiError.notFound("table '" + table + "' not found");
    }
    return entry;
  }

  private static ColumnSchema column(TableSchema schema, String table, String column) {
    ColumnSchema col = schema.column(column);
    if (col == null) {
      throw ApiError.notFound("column '" + column + "' not found in table '" + table + "'");
    }
    return col;
  }

  private static String linkTable(String table, ColumnSchema link) {
    return "this".equals(link.linkTable()) ? table : link.linkTable();
  }

  private JsonObject schemaUnlocked() {
    JsonObject tables = new JsonObject();
    entries.forEach((name, entry) -> tables.put(name, entry.schema().toJson()));
    return new JsonObject().put("schema", tables);
  }

  private Map<String, TableSchema> schemasUnlocked() {
    Map<String, TableSchema> view = new LinkedHashMap<>();
    entries.forEach((name, entry) -> view.put(name, entry.schema()));
    return view;
  }

  private static void checkLinks(String table, TableSchema schema, Map<String, TableSchema> tables) {
    schema.columns().forEach((column, col) -> {
      if (col.link() == null) {
        return;
      }
      String target = linkTable(table, col);
      TableSchema targetSchema = target.equals(table) ? schema : tables.get(target);
      if (targetSchema == null) {
        throw ApiError.badRequest("column '" + column + "' of table '" + table + "' links to '" + col.link()
            + "' but table '" + target + "' does not exist");
      }
      if (targetSchema.column(col.linkColumn()) == null) {
        throw ApiError.badRequest("column '" + column + "' of table '" + table + "' links to '" + col.link()
            + "' but table '" + target + "' has no column '" + col.linkColumn() + "'");
      }
    });
  }

  private void checkNotLinkedTo(String table, TableSchema replacement) {
    entries.forEach((name, entry) -> entry.schema().columns().forEach((column, col) -> {
      if (!name.equals(table) && table.equals(col.linkTable()) && replacement.column(col.linkColumn()) == null) {
        throw ApiError.conflict("column '" + column + "' of table '" + name + "' links to '" + col.link()
            + "', which the new schema of '" + table + "' lacks");
      }
    }));
  }

  private void checkNotLinkTarget(String table, String column) {
    entries.forEach((name, entry) -> entry.schema().columns().forEach((c, col) -> {
      String target = "this".equals(col.linkTable()) ? name : col.linkTable();
      if (table.equals(target) && column.equals(col.linkColumn()) && !(name.equals(table) && c.equals(column))) {
        throw ApiError.conflict("column '" + column + "' of table '" + table + "' is linked from column '" + c
            + "' of table '" + name + "'; drop that link first");
      }
    }));
  }

  private static TableSchema relink(TableSchema schema, String from, String to) {
    Map<String, ColumnSchema> columns = new LinkedHashMap<>();
    schema.columns().forEach((name, col) -> columns.put(name, from.equals(col.linkTable())
        ? new ColumnSchema(col.type(), col.nullable(), to + "." + col.linkColumn(), col.analyzer())
        : col));
    return new TableSchema(columns);
  }

  private long rowCount(String table) {
    try {
      return indexes.get(table).rowCount();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void replaceTable(String table, Catalog.Entry entry) {
    installTable(table, entry, target -> { });
  }

  private interface IndexFiller {
    void fill(TableIndex target) throws IOException;
  }

  /**
   * Builds a table's new index beside the old one and swaps it in: the catalog names the new directory only
   * once it is filled and committed, so a crash midway leaves the old table (and an orphan removed at start).
   */
  private void installTable(String table, Catalog.Entry entry, IndexFiller filler) {
    String staging = table + STAGING;
    openIndex(staging, entry);
    TableIndex target = indexes.get(staging);
    try {
      filler.fill(target);
      target.commitAndRefresh();
    } catch (IOException | RuntimeException e) {
      closeQuietly(indexes.remove(staging));
      analyzers.remove(staging);
      deleteRecursively(target.path());
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
    entries.put(table, entry);
    saveCatalog();
    dropIndex(table);
    indexes.put(table, indexes.remove(staging));
    analyzers.put(table, analyzers.remove(staging));
  }



  /**
   * Indexes written before Text columns kept their exact value as binary doc values (an indexed {@code c$raw}
   * term with sorted doc values) are rebuilt once, at start: Lucene refuses to change a field's doc-values type
   * within an index, and queries read {@code c$raw} as binary values. The rows are rebuilt from their stored
   * source into a new index that replaces the old one as a dropped column's rewrite does, keeping each row's
   * bytes, sequence number and import marker.
   */
  private void upgradeTextLayouts() {
    for (Map.Entry<String, Catalog.Entry> e : new ArrayList<>(entries.entrySet())) {
      String table = e.getKey();
      TableSchema schema = e.getValue().schema();
      TableIndex index = indexes.get(table);
      try {
        if (!hasSortedTextRaw(index, schema)) {
          continue;
        }
        long rows = index.rowCount();
        LOG.info("table '{}': rebuilding its {} rows for the binary doc-values layout of Text columns", table, rows);
        installTable(table, new Catalog.Entry(newId(), schema), target -> rewriteRows(index, target, schema, null));
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
   * layout upgrade, see upgradeTextLayouts).
   */
  private static void rewriteRows(TableIndex source, TableIndex target, TableSchema schema, String droppedColumn)
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
          BytesRef ref = stored.document(doc).getBinaryValue(Fields.SOURCE);
          byte[] bytes = Arrays.copyOfRange(ref.bytes, ref.offset, ref.offset + ref.length);
          JsonNode row = Json.MAPPER.readTree(bytes);
          if (droppedColumn != null) {
            ((ObjectNode) row).remove(droppedColumn);
            bytes = Json.MAPPER.writeValueAsBytes(row);
          }
          long seq = seqs != null && seqs.advanceExact(doc) ? seqs.longValue() : doc;
          List<IndexableField> rewritten = DocumentBuilder.build(layout, new ParsedRow(row, bytes), seq);
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

  private void openIndex(String key, Catalog.Entry entry) {
    TableAnalyzer analyzer = new TableAnalyzer(entry.schema());
    try {
      Path path = catalog.tablePath(entry.id());
      if (!Files.isDirectory(path)) {
        // The new directory's entry must be durable before the catalog names it, or a power loss after the
        // acknowledgement leaves the catalog naming a table whose index and log are gone.
        Files.createDirectories(path);
        DurableFiles.fsyncDirectory(path.getParent());
      }
      indexes.put(key, new TableIndex(path, directories.open(path), directories, entry.schema(), analyzer,
          commitExecutor, RAM_BUFFER_MB, options.walMaxBytes(), metrics.commitLatency()));
      analyzers.put(key, analyzer);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open index of table " + key + " at " + catalog.tablePath(entry.id()), e);
    }
  }

  private void dropIndex(String table) {
    TableIndex index = indexes.remove(table);
    analyzers.remove(table);
    if (index == null) {
      return;
    }
    closeQuietly(index);
    deleteRecursively(index.path());
  }

  private void saveCatalog() {
    saveCatalog(entries);
  }

  /**
   * A catalog that failed to be written (or fsynced) is final, like a table's storage failure: what is on disk
   * may be the old or the new version, and the tables in memory may differ from both, so every later write is
   * refused until a restart reads the catalog again.
   */
  private void saveCatalog(Map<String, Catalog.Entry> tables) {
    try {
      catalog.save(tables);
    } catch (UncheckedIOException e) {
      catalogFailure = e;
      LOG.error("writing the catalog failed; writes are refused until restart", e);
      checkCatalog();
    }
  }

  private void checkCatalog() {
    Throwable failure = catalogFailure;
    if (failure != null) {
      throw TableIndex.storageError(failure, "the catalog could not be stored, writes are refused until restart: ");
    }
  }

  private void removeOrphanDirectories() {
    Set<String> known = new HashSet<>();
    entries.values().forEach(e -> known.add(e.id()));
    try (Stream<Path> dirs = Files.list(dataDir.resolve(Catalog.TABLES_DIR))) {
      dirs.filter(dir -> !known.contains(dir.getFileName().toString())).forEach(dir -> {
        LOG.info("removing {}: no table refers to it (left by an interrupted schema change)", dir);
        deleteRecursively(dir);
      });
    } catch (IOException e) {
      LOG.warn("cannot list table directories", e);
    }
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

  private static String newId() {
    return UUID.randomUUID().toString().replace("-", "");
  }

  private static final List<String> DELETE_KEYS = List.of("from", "where");
  private static final List<String> SEARCH_KEYS = List.of("from", "where", "select", "orderBy", "offset", "limit");
  /** Most fields in a search's 'select' (each link path among them reads a linked row per hit). */
  static final int MAX_SELECT = 1024;

  private static void onlyKeys(JsonObject body, String what, List<String> keys) {
    if (body == null) {
      return;
    }
    for (String key : body.fieldNames()) {
      if (!keys.contains(key)) {
        throw ApiError.badRequest("unknown field '" + (key.length() > 64 ? key.substring(0, 64) + "…" : key)
            + "' in " + what + "; expected " + String.join(", ", keys));
      }
    }
  }

  private static String requiredName(JsonObject body, String key) {
    Object value = body == null ? null : body.getValue(key);
    if (!(value instanceof String name)) {
      throw ApiError.badRequest("'" + key + "' is required and must be a table name");
    }
    return Names.requireTable(name);
  }

  private static int nonNegative(JsonObject body, String key, int fallback) {
    Object value = body.getValue(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Integer || value instanceof Long) || ((Number) value).longValue() < 0
        || ((Number) value).longValue() > Integer.MAX_VALUE) {
      throw ApiError.badRequest("'" + key + "' must be a non-negative integer, got " + value);
    }
    return ((Number) value).intValue();
  }

  private static JsonObject objectOf(ParsedRow row) {
    return new JsonObject(new String(row.source(), java.nio.charset.StandardCharsets.UTF_8));
  }

  private ApiError storageFailure(String table, IOException e) {
    LOG.error("storage of table '{}' failed", table, e);
    return TableIndex.storageError(e, "storage of table '" + table + "' failed: ");
  }

  private <T> Future<T> mapFailure(Throwable failure) {
    if (failure instanceof ApiError) {
      return Future.failedFuture(failure);
    }
    LOG.error("commit failed", failure);
    return Future.failedFuture(TableIndex.storageError(failure, "commit failed, the write was not stored: "));
  }
}
