package io.sluice.engine.lucene;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.engine.Row;
import io.sluice.ingest.BatchParser;
import io.sluice.metrics.Metrics;
import io.sluice.schema.SchemaParser;
import io.sluice.schema.TableSchema;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.FilterDirectory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexOutput;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A search on a table an import is writing must not wait for the rows the import buffered since its last commit:
 * refreshing the searcher writes them out as a segment, which took up to a second per search during a large
 * import. Here writing segment files is held; a search that had to refresh would wait for it.
 */
class SearchDuringImportTest {
  private static final TableSchema SCHEMA = SchemaParser.parseTable("t", new JsonObject(
      "{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"},\"note\":{\"type\":\"Text\"}}}"));

  @TempDir
  Path dir;

  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final HeldSegments held = new HeldSegments();

  @AfterEach
  void stop() {
    held.release();
    executor.shutdownNow();
  }

  @Test
  void aSearchSeesCommittedImportRowsWithoutWritingOutTheRowsBufferedSince() throws Exception {
    TableIndex index = open();
    try {
      assertThat(count(index)).isZero(); // the table is being searched
      importRows(index, 0, 10, 1);
      durable(index);
      importRows(index, 10, 5, 2); // buffered, not committed

      held.hold();
      Future<Long> search = executor.submit(() -> count(index));
      assertThat(search.get(30, TimeUnit.SECONDS)).as("the rows of the completed commit").isEqualTo(10);

      held.release();
      durable(index);
      assertThat(count(index)).isEqualTo(15);
    } finally {
      held.release();
      index.close();
    }
  }

  @Test
  void anUnsearchedTableShowsAnImportsRowsOnceTheyAreDurable() throws Exception {
    TableIndex index = open();
    try {
      long before = index.withSearcher(searcher -> (long) searcher.getIndexReader().numDocs()); // not a user's search
      assertThat(before).isZero();
      importRows(index, 0, 10, 1);
      durable(index);
      assertThat(count(index)).isEqualTo(10);
      importRows(index, 10, 5, 2);
      durable(index);
      assertThat(count(index)).isEqualTo(15);
    } finally {
      index.close();
    }
  }

  private TableIndex open() throws Exception {
    return new TableIndex(dir, held.wrap(FSDirectory.open(dir)), DirectoryFactory.FILE_SYSTEM, SCHEMA,
        new TableAnalyzer(SCHEMA), executor, 16, Long.MAX_VALUE, Metrics.noop().commitLatency(), BatchParser::redo);
  }

  /** Import rows: not logged, durable with the next commit. */
  private static void importRows(TableIndex index, int firstId, int count, long batch) throws Exception {
    StringBuilder body = new StringBuilder("[");
    for (int id = firstId; id < firstId + count; id++) {
      body.append(id == firstId ? "" : ",").append("{\"id\":").append(id).append(",\"note\":\"row ").append(id)
          .append("\"}");
    }
    List<Row> rows = BatchParser.plainParsed(SCHEMA, body.append(']').toString().getBytes(StandardCharsets.UTF_8));
    index.append(SCHEMA, rows.size(), rows, new TableIndex.ImportMarker("job", batch), null);
  }

  private static void durable(TableIndex index) throws Exception {
    index.durable().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static long count(TableIndex index) throws IOException {
    return index.search(searcher -> (long) searcher.getIndexReader().numDocs());
  }

  /** A directory whose new files (segments, commit points) wait while held. */
  private static final class HeldSegments {
    private volatile CountDownLatch gate = new CountDownLatch(0);

    void hold() {
      gate = new CountDownLatch(1);
    }

    void release() {
      gate.countDown();
    }

    Directory wrap(Directory directory) {
      return new FilterDirectory(directory) {
        @Override
        public IndexOutput createOutput(String name, IOContext context) throws IOException {
          try {
            gate.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while held", e);
          }
          return super.createOutput(name, context);
        }
      };
    }
  }
}
