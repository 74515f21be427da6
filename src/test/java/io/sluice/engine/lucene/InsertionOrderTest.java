package io.sluice.engine.lucene;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.TestSeeds;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.lucene.analysis.core.KeywordAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexOrDocValuesQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.LRUQueryCache;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The pages {@link InsertionOrder} finds are those of a sort on the sequence number, whatever the segments hold. */
@ExtendWith(TestSeeds.class)
class InsertionOrderTest {

  @Test
  void pagesAsASortOnTheSequenceNumberOverRunsMergesAndDeletions() throws IOException {
    Random random = TestSeeds.random("InsertionOrderTest.pages");
    try (Directory dir = new ByteBuffersDirectory()) {
      IndexWriterConfig config = new IndexWriterConfig(new KeywordAnalyzer());
      try (IndexWriter writer = new IndexWriter(dir, config)) {
        long next = 0;
        for (int segment = 0; segment < 12; segment++) {
          // Each segment: chunks of ascending numbers, the chunks in a shuffled order (as concurrent appends and
          // merges leave them); some segments wholly shuffled (more runs than worth splitting).
          List<long[]> chunks = new ArrayList<>();
          int chunkCount = 1 + random.nextInt(5);
          for (int c = 0; c < chunkCount; c++) {
            int size = 1 + random.nextInt(120);
            long[] seqs = new long[size];
            for (int i = 0; i < size; i++) {
              seqs[i] = next++;
            }
            chunks.add(seqs);
          }
          Collections.shuffle(chunks, random);
          List<Long> order = new ArrayList<>();
          chunks.forEach(chunk -> {
            for (long seq : chunk) {
              order.add(seq);
            }
          });
          if (random.nextInt(4) == 0) {
            Collections.shuffle(order, random);
          }
          for (long seq : order) {
            writer.addDocument(doc(seq));
          }
          writer.commit();
          if (random.nextInt(3) == 0) {
            writer.deleteDocuments(new Term("third", "yes"));
          }
          if (random.nextInt(4) == 0) {
            writer.forceMerge(1 + random.nextInt(3));
          }
        }
        // A number far below the rest, added last: the run holding it must be found whatever its position. In a
        // segment of its own, which no merge takes in (one finishing as the writer closed made a single segment).
        writer.getConfig().setMergePolicy(NoMergePolicy.INSTANCE);
        writer.addDocument(doc(-5));
        writer.commit();
      }
      try (DirectoryReader reader = DirectoryReader.open(dir)) {
        assertThat(reader.leaves()).hasSizeGreaterThan(1);
        for (boolean cached : new boolean[] {false, true}) {
          IndexSearcher searcher = new IndexSearcher(reader);
          searcher.setQueryCache(cached ? new LRUQueryCache(100, 1 << 20, leaf -> true, Float.POSITIVE_INFINITY)
              : null);
          for (Query query : queries()) {
            for (int i = 0; i < 40; i++) {
              int offset = random.nextInt(4) == 0 ? random.nextInt(reader.maxDoc() + 10) : random.nextInt(20);
              int limit = 1 + random.nextInt(random.nextBoolean() ? 15 : reader.maxDoc() + 10);
              assertThat(page(searcher, query, offset, limit))
                  .as("%s, offset %d, limit %d, query cache %s", query, offset, limit, cached)
                  .isEqualTo(sorted(searcher, query, offset, limit));
            }
          }
        }
      }
    }
  }

  private static Document doc(long seq) {
    Document doc = new Document();
    doc.add(new NumericDocValuesField(Fields.SEQ, seq));
    doc.add(new StringField("parity", seq % 2 == 0 ? "even" : "odd", Field.Store.NO));
    doc.add(new StringField("third", seq % 3 == 0 ? "yes" : "no", Field.Store.NO));
    long n = Math.floorMod(seq * 7, 100);
    doc.add(new LongPoint("n", n));
    doc.add(new NumericDocValuesField("n", n));
    return doc;
  }

  private static List<Query> queries() {
    return List.of(new MatchAllDocsQuery(), new MatchNoDocsQuery(), new TermQuery(new Term("parity", "odd")),
        new BooleanQuery.Builder()
            .add(new TermQuery(new Term("parity", "even")), BooleanClause.Occur.MUST)
            .add(new TermQuery(new Term("third", "no")), BooleanClause.Occur.MUST).build(),
        // Two-phase: matches are confirmed from doc values.
        NumericDocValuesField.newSlowRangeQuery(Fields.SEQ, 50, 400),
        // As the engine's ranges: points, or doc values under a cheaper lead.
        new IndexOrDocValuesQuery(LongPoint.newRangeQuery("n", 20, 90),
            NumericDocValuesField.newSlowRangeQuery("n", 20, 90)),
        new BooleanQuery.Builder()
            .add(new TermQuery(new Term("parity", "odd")), BooleanClause.Occur.MUST)
            .add(new IndexOrDocValuesQuery(LongPoint.newRangeQuery("n", 30, 100),
                NumericDocValuesField.newSlowRangeQuery("n", 30, 100)), BooleanClause.Occur.FILTER).build());
  }

  private static List<Long> page(IndexSearcher searcher, Query query, int offset, int limit) throws IOException {
    List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
    List<Long> seqs = new ArrayList<>();
    for (InsertionOrder.Hit hit : InsertionOrder.page(searcher, query, offset, limit)) {
      assertThat(hit.doc()).isLessThan(leaves.get(hit.leaf()).reader().maxDoc());
      seqs.add(hit.seq());
    }
    return seqs;
  }

  private static List<Long> sorted(IndexSearcher searcher, Query query, int offset, int limit) throws IOException {
    ScoreDoc[] hits = searcher.search(query, offset + limit, new Sort(new SortField(Fields.SEQ, SortField.Type.LONG)))
        .scoreDocs;
    List<Long> seqs = new ArrayList<>();
    for (int i = offset; i < hits.length; i++) {
      seqs.add((Long) ((org.apache.lucene.search.FieldDoc) hits[i]).fields[0]);
    }
    return seqs;
  }
}
