package io.sluice.engine.lucene;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.TestSeeds;
import java.util.List;
import java.util.Random;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.IntPoint;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.junit.jupiter.api.Test;

/** Kept per-segment counts against Lucene's own count, as segments come, merge and lose rows. */
class LeafCountsTest {

  @Test
  void totalsMatchLuceneAsSegmentsComeMergeAndLoseRows() throws Exception {
    long seed = TestSeeds.seed("LeafCountsTest");
    Random random = new Random(seed);
    try (ByteBuffersDirectory dir = new ByteBuffersDirectory();
        IndexWriter writer = new IndexWriter(dir, new IndexWriterConfig())) {
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
        for (Query query : queries()) {
          for (int again = 0; again < 2; again++) {
            assertThat(LeafCounts.count(searcher, query)).as("seed %d, round %d, %s", seed, round, query)
                .isEqualTo(searcher.count(query));
          }
        }
      }
      reader.close();
    }
  }

  private static List<Query> queries() {
    Query books = new TermQuery(new Term("category", "books"));
    Query adults = IntPoint.newRangeQuery("age", 30, Integer.MAX_VALUE);
    return List.of(new MatchAllDocsQuery(), books, adults, new BooleanQuery.Builder()
        .add(books, BooleanClause.Occur.FILTER).add(adults, BooleanClause.Occur.FILTER).build());
  }
}
