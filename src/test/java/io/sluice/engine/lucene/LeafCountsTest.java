package io.sluice.engine.lucene;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.TestSeeds;
import java.io.IOException;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.IntPoint;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.FilterWeight;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.QueryVisitor;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.Weight;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.junit.jupiter.api.Test;

/** Kept per-segment counts against Lucene's own count, as segments come, merge and lose rows. */
class LeafCountsTest {

  @Test
  void totalsMatchLuceneAsSegmentsComeMergeAndLoseRows() throws Exception {
    long seed = TestSeeds.seed("LeafCountsTest");
    Random random = new Random(seed);
    // Counted ahead too (recent), on merged segments and on new searchers, as the table's index does.
    try (ByteBuffersDirectory dir = new ByteBuffersDirectory();
        IndexWriter writer = new IndexWriter(dir, new IndexWriterConfig().setMergedSegmentWarmer(recent::warm))) {
      DirectoryReader reader = DirectoryReader.open(writer);
      int id = 0;
      for (int round = 0; round < 30; round++) {
        for (int i = random.nextInt(300); i > 0; i--, id++) {
          Document doc = new Document();
          doc.add(new StringField("id", Integer.toString(id), Field.Store.NO));
          doc.add(new StringField("category", random.nextBoolean() ? "books" : "toys", Field.Store.NO));
          doc.add(new IntPoint("age", random.nextInt(100)));
          writer.addDocument(doc);
        }
        for (int i = random.nextInt(20); i > 0 && id > 0; i--) {
          writer.deleteDocuments(new Term("id", Integer.toString(random.nextInt(id))));
        }
        if (random.nextInt(5) == 0) {
          writer.forceMerge(1 + random.nextInt(3));
        }
        DirectoryReader newer = DirectoryReader.openIfChanged(reader, writer);
        if (newer != null) {
          reader.close();
          reader = newer;
        }
        IndexSearcher searcher = new IndexSearcher(reader);
        if (random.nextBoolean()) {
          recent.warm(searcher);
        }
        for (Query query : queries()) {
          for (int again = 0; again < 2; again++) {
            assertThat(LeafCounts.count(searcher, query, recent)).as("seed %d, round %d, %s", seed, round, query)
                .isEqualTo(searcher.count(query));
          }
        }
      }
      reader.close();
    }
  }

  /** Segments counted with {@link #books} or {@link #toys}, counted ahead for {@link #recent}'s table. */
  private final AtomicInteger counted = new AtomicInteger();
  private final Query books = new CountingQuery(new TermQuery(new Term("category", "books")), counted);
  private final Query toys = new CountingQuery(new TermQuery(new Term("category", "toys")), counted);
  private final LeafCounts.Recent recent = new LeafCounts.Recent(TimeUnit.MINUTES.toNanos(10));

  @Test
  void newSegmentsAreCountedForTheQueriesOfLateBeforeASearchNeedsThem() throws Exception {
    try (ByteBuffersDirectory dir = new ByteBuffersDirectory();
        IndexWriter writer = new IndexWriter(dir, new IndexWriterConfig().setMergedSegmentWarmer(recent::warm))) {
      add(writer, 0, 100);
      DirectoryReader reader = DirectoryReader.open(writer);
      assertThat(LeafCounts.count(searcher(reader), books, recent)).isEqualTo(50);
      assertThat(counted.get()).isEqualTo(1);

      // a commit's refresh: the new segment is counted as the searcher is made, not by the search
      add(writer, 100, 100);
      DirectoryReader refreshed = DirectoryReader.openIfChanged(reader, writer);
      IndexSearcher searcher = searcher(refreshed);
      recent.warm(searcher);
      assertThat(counted.get()).isEqualTo(2);
      assertThat(LeafCounts.count(searcher, books, recent)).isEqualTo(100);
      assertThat(counted.get()).as("no segment left to count for the search").isEqualTo(2);

      // a merge: counted on the merge thread, and the searcher after it opens the merged segment anew
      writer.forceMerge(1);
      DirectoryReader merged = DirectoryReader.openIfChanged(refreshed, writer);
      assertThat(merged.leaves()).hasSize(1);
      assertThat(counted.get()).as("the merged segment counted by the warmer").isEqualTo(3);
      assertThat(LeafCounts.count(searcher(merged), books, recent)).isEqualTo(100);
      assertThat(counted.get()).isEqualTo(3);

      // rows deleted: the segment is counted again, with its deletions
      writer.deleteDocuments(new Term("id", "0"), new Term("id", "2"), new Term("id", "3"));
      DirectoryReader deleted = DirectoryReader.openIfChanged(merged, writer);
      assertThat(LeafCounts.count(searcher(deleted), books, recent)).isEqualTo(98);
      assertThat(counted.get()).isEqualTo(4);

      // a query not searched is not counted ahead
      assertThat(LeafCounts.count(searcher(deleted), toys, recent)).isEqualTo(99);
      assertThat(counted.get()).isEqualTo(5);
      for (DirectoryReader r : List.of(reader, refreshed, merged, deleted)) {
        r.close();
      }
    }
  }

  @Test
  void countingAheadThatFailsLeavesTheCountToTheSearch() throws Exception {
    try (ByteBuffersDirectory dir = new ByteBuffersDirectory();
        IndexWriter writer = new IndexWriter(dir, new IndexWriterConfig())) {
      add(writer, 0, 100);
      DirectoryReader reader = DirectoryReader.open(writer);
      assertThat(LeafCounts.count(searcher(reader), books, recent)).isEqualTo(50);
      add(writer, 100, 100);
      DirectoryReader refreshed = DirectoryReader.openIfChanged(reader, writer);
      counted.set(FAIL);
      recent.warm(searcher(refreshed)); // a commit's refresh goes on
      counted.set(0);
      assertThat(LeafCounts.count(searcher(refreshed), books, recent)).isEqualTo(100);
      assertThat(counted.get()).as("the new segment counted by the search").isEqualTo(1);
      reader.close();
      refreshed.close();
    }
  }

  /** Rows {@code from} to {@code from + n - 1}, every other one in "books", then flushed as a segment. */
  private static void add(IndexWriter writer, int from, int n) throws Exception {
    for (int id = from; id < from + n; id++) {
      Document doc = new Document();
      doc.add(new StringField("id", Integer.toString(id), Field.Store.NO));
      doc.add(new StringField("category", id % 2 == 0 ? "books" : "toys", Field.Store.NO));
      writer.addDocument(doc);
    }
    writer.flush();
  }

  /** Without Lucene's query cache, which would count from its own bit sets. */
  private static IndexSearcher searcher(IndexReader reader) {
    IndexSearcher searcher = new IndexSearcher(reader);
    searcher.setQueryCache(null);
    return searcher;
  }

  /** Set as a {@link CountingQuery}'s count, makes counting with it fail. */
  private static final int FAIL = -1_000;

  /** A query that counts the segments counted with it (LeafCounts asks its weight once per segment). */
  private static final class CountingQuery extends Query {
    private final Query inner;
    private final AtomicInteger counted;

    CountingQuery(Query inner, AtomicInteger counted) {
      this.inner = inner;
      this.counted = counted;
    }

    @Override
    public Weight createWeight(IndexSearcher searcher, ScoreMode scoreMode, float boost) throws IOException {
      return new FilterWeight(this, inner.createWeight(searcher, scoreMode, boost)) {
        @Override
        public int count(LeafReaderContext leaf) throws IOException {
          if (counted.get() == FAIL) {
            throw new IllegalStateException("a count failing on purpose");
          }
          counted.incrementAndGet();
          return in.count(leaf);
        }
      };
    }

    @Override
    public void visit(QueryVisitor visitor) {
      inner.visit(visitor);
    }

    @Override
    public String toString(String field) {
      return "counting(" + inner.toString(field) + ")";
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof CountingQuery q && q.inner.equals(inner) && q.counted == counted;
    }

    @Override
    public int hashCode() {
      return inner.hashCode();
    }
  }

  private static List<Query> queries() {
    Query books = new TermQuery(new Term("category", "books"));
    Query adults = IntPoint.newRangeQuery("age", 30, Integer.MAX_VALUE);
    return List.of(new MatchAllDocsQuery(), books, adults, new BooleanQuery.Builder()
        .add(books, BooleanClause.Occur.FILTER).add(adults, BooleanClause.Occur.FILTER).build());
  }
}
