package io.sluice.engine.lucene;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ingest.BatchParser;
import io.sluice.engine.Row;
import io.sluice.engine.RowBatch;
import io.sluice.metrics.Metrics;
import io.sluice.schema.SchemaParser;
import io.sluice.schema.TableSchema;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replay corner that a crash hits only rarely: a Lucene commit that already holds writes logged in the
 * generation it names as the start of replay (the writes slipped in between the log's roll and the commit's
 * flush). Here such commits are made on purpose (a commit straight on the writer, no roll), then the process
 * "dies" (the writer is rolled back, nothing else is closed) and the index is reopened.
 */
class WriteAheadLogTest {
  private static final TableSchema SCHEMA = SchemaParser.parseTable("t", new JsonObject(
      "{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"},\"note\":{\"type\":\"Text\"}}}"));

  @TempDir
  Path dir;

  private final ExecutorService executor = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    executor.shutdownNow();
  }

  @Test
  void replaySkipsRowsTheLastCommitAlreadyHoldsAndRedoesDeletes() throws Exception {
    TableIndex index = open();
    append(index, 0, 10);
    index.writer().commit(); // holds rows 0..9, names the generation that logged them
    append(index, 10, 5);
    delete(index, 3, 11); // removes 3..11: some committed, some not yet
    index.writer().commit(); // holds all of it, still naming the same generation
    append(index, 15, 2); // logged only
    crash(index);

    TableIndex reopened = open();
    try {
      assertThat(ids(reopened)).containsExactly(0L, 1L, 2L, 12L, 13L, 14L, 15L, 16L);
    } finally {
      reopened.close();
    }
  }

  @Test
  void aDeleteReplayedAfterLaterRowsOnlyRemovesWhatItRemovedThen() throws Exception {
    TableIndex index = open();
    append(index, 0, 4);
    delete(index, 0, 100); // removes 0..3
    append(index, 4, 4); // 4..7 would match the same where-clause
    crash(index); // no commit at all: everything comes from the log

    TableIndex reopened = open();
    try {
      assertThat(ids(reopened)).containsExactly(4L, 5L, 6L, 7L);
    } finally {
      reopened.close();
    }
  }

  private TableIndex open() throws Exception {
    return new TableIndex(dir, FSDirectory.open(dir), DirectoryFactory.FILE_SYSTEM, SCHEMA,
        new TableAnalyzer(SCHEMA), executor, 16, Long.MAX_VALUE, Metrics.noop().commitLatency(), BatchParser::redo);
  }

  private static void append(TableIndex index, int firstId, int count) throws Exception {
    StringBuilder body = new StringBuilder("[");
    for (int id = firstId; id < firstId + count; id++) {
      body.append(id == firstId ? "" : ",").append("{\"id\":").append(id).append(",\"note\":\"row ").append(id)
          .append("\"}");
    }
    byte[] bytes = body.append(']').toString().getBytes(StandardCharsets.UTF_8);
    List<Row> rows = BatchParser.plainParsed(SCHEMA, bytes);
    index.append(SCHEMA, rows.size(), rows, null, new RowBatch.Redo(true, bytes));
    index.logged().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static void delete(TableIndex index, long fromId, long toIdInclusive) throws Exception {
    index.delete(LongPoint.newRangeQuery("id", fromId, toIdInclusive));
    index.logged().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** As after kill -9: what is not committed or logged is gone; the log file is simply left behind. */
  private static void crash(TableIndex index) throws Exception {
    index.writer().rollback();
  }

  private static List<Long> ids(TableIndex index) throws Exception {
    return index.withSearcher(searcher -> {
      List<Long> ids = new java.util.ArrayList<>();
      for (var leaf : searcher.getIndexReader().leaves()) {
        var values = leaf.reader().getNumericDocValues("id");
        var live = leaf.reader().getLiveDocs();
        for (int doc = values.nextDoc(); doc != org.apache.lucene.search.DocIdSetIterator.NO_MORE_DOCS;
            doc = values.nextDoc()) {
          if (live == null || live.get(doc)) {
            ids.add(values.longValue());
          }
        }
      }
      ids.sort(null);
      return ids;
    });
  }
}
