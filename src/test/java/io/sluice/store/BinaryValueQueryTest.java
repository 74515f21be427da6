package io.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.TestSeeds;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BiPredicate;
import java.util.function.Predicate;
import org.apache.lucene.analysis.core.KeywordAnalyzer;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.LRUQueryCache;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.QueryCachingPolicy;
import org.apache.lucene.search.QueryVisitor;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.util.BytesRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestSeeds.class)
class BinaryValueQueryTest {
  /** Short values over a few bytes, the high ones included, so that signed and unsigned order differ. */
  static final byte[] ALPHABET = {0, 'a', 'b', (byte) 0x7f, (byte) 0x80, (byte) 0xc3, (byte) 0xff};

  static BytesRef random(Random random) {
    byte[] bytes = new byte[random.nextInt(4)];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = ALPHABET[random.nextInt(ALPHABET.length)];
    }
    return new BytesRef(bytes);
  }

  @Test
  void matchesLikeTheirPredicatesOverSegmentsAndDeletions() throws IOException {
    Random random = TestSeeds.random("BinaryValueQueryTest.matches");
    List<BytesRef> values = new ArrayList<>(); // by id; null = no value
    try (Directory dir = new ByteBuffersDirectory()) {
      try (IndexWriter writer = new IndexWriter(dir, new IndexWriterConfig(new KeywordAnalyzer()))) {
        for (int id = 0; id < 600; id++) {
          BytesRef value = random.nextInt(8) == 0 ? null : random(random);
          values.add(value);
          Document doc = new Document();
          doc.add(new StoredField("id", id));
          doc.add(new StringField("key", Integer.toString(id), Field.Store.NO));
          doc.add(new StringField("parity", id % 2 == 0 ? "even" : "odd", Field.Store.NO));
          doc.add(new StringField("third", id % 3 == 0 ? "yes" : "no", Field.Store.NO));
          if (value != null) {
            doc.add(new BinaryDocValuesField("v", value));
          }
          writer.addDocument(doc);
          if (id % 150 == 149) {
            writer.commit();
          }
        }
        for (int id = 0; id < 600; id += 7) {
          writer.deleteDocuments(new Term("key", Integer.toString(id)));
          values.set(id, null);
        }
      }
      try (DirectoryReader reader = DirectoryReader.open(dir)) {
        IndexSearcher searcher = new IndexSearcher(reader);
        searcher.setQueryCache(new LRUQueryCache(100, 1 << 20, leaf -> true, Float.POSITIVE_INFINITY));
        searcher.setQueryCachingPolicy(new QueryCachingPolicy() {
          @Override
          public void onUse(Query query) {
          }

          @Override
          public boolean shouldCache(Query query) {
            return true;
          }
        });
        for (int round = 0; round < 300; round++) {
          BytesRef a = random(random);
          BytesRef b = random(random);
          boolean includeA = random.nextBoolean();
          boolean includeB = random.nextBoolean();
          List<BytesRef> set = List.of(a, b, random(random));
          check(searcher, values, BinaryValueQuery.exact("v", a), v -> v.equals(a));
          check(searcher, values, BinaryValueQuery.oneOf("v", set), set::contains);
          check(searcher, values, BinaryValueQuery.prefix("v", a), v -> startsWith(v, a));
          check(searcher, values, BinaryValueQuery.range("v", a, b, includeA, includeB),
              v -> above(v, a, includeA) && below(v, b, includeB));
          check(searcher, values, BinaryValueQuery.range("v", null, b, false, includeB), v -> below(v, b, includeB));
          check(searcher, values, BinaryValueQuery.range("v", a, null, includeA, false), v -> above(v, a, includeA));
          // In a conjunction, where it only confirms the other clause's candidates.
          Query both = new BooleanQuery.Builder()
              .add(BinaryValueQuery.range("v", a, null, includeA, true), BooleanClause.Occur.FILTER)
              .add(BinaryValueQuery.prefix("v", b), BooleanClause.Occur.FILTER).build();
          check(searcher, values, both, v -> above(v, a, includeA) && startsWith(v, b));
          // Narrowed by candidates: only their documents are checked (ids are values.get(id), see check).
          Query even = new TermQuery(new Term("parity", "even"));
          Query evenAndThird = new BooleanQuery.Builder()
              .add(even, BooleanClause.Occur.FILTER)
              .add(new TermQuery(new Term("third", "yes")), BooleanClause.Occur.FILTER).build();
          checkIds(searcher, values, BinaryValueQuery.prefix("v", a).narrowedBy(even),
              (id, v) -> id % 2 == 0 && startsWith(v, a));
          checkIds(searcher, values, BinaryValueQuery.oneOf("v", set).narrowedBy(evenAndThird),
              (id, v) -> id % 6 == 0 && set.contains(v));
          checkIds(searcher, values, BinaryValueQuery.range("v", a, b, includeA, includeB).narrowedBy(both),
              (id, v) -> above(v, a, includeA) && below(v, b, includeB) && startsWith(v, b));
        }
        checkIds(searcher, values, BinaryValueQuery.exact("v", new BytesRef("a"))
            .narrowedBy(new TermQuery(new Term("parity", "none"))), (id, v) -> false);
        check(searcher, values, BinaryValueQuery.oneOf("v", List.of()), v -> false);
        check(searcher, values, BinaryValueQuery.exact("missing", new BytesRef("a")), v -> false);
        assertThat(searcher.rewrite(BinaryValueQuery.oneOf("v", List.of()))).isInstanceOf(MatchNoDocsQuery.class);
        assertThat(searcher.rewrite(BinaryValueQuery.range("v", new BytesRef("b"), new BytesRef("a"), true, true)))
            .isInstanceOf(MatchNoDocsQuery.class);
        assertThat(searcher.rewrite(BinaryValueQuery.range("v", new BytesRef("a"), new BytesRef("a"), true, false)))
            .isInstanceOf(MatchNoDocsQuery.class);
        assertThat(((LRUQueryCache) searcher.getQueryCache()).getCacheSize()).isPositive();
      }
    }
  }

  private static void check(IndexSearcher searcher, List<BytesRef> values, Query query, Predicate<BytesRef> matches)
      throws IOException {
    checkIds(searcher, values, query, (id, v) -> matches.test(v));
  }

  private static void checkIds(IndexSearcher searcher, List<BytesRef> values, Query query,
      BiPredicate<Integer, BytesRef> matches) throws IOException {
    List<Integer> expected = new ArrayList<>();
    for (int id = 0; id < values.size(); id++) {
      if (values.get(id) != null && matches.test(id, values.get(id))) {
        expected.add(id);
      }
    }
    List<Integer> actual = new ArrayList<>();
    for (ScoreDoc hit : searcher.search(query, values.size()).scoreDocs) {
      actual.add(searcher.storedFields().document(hit.doc).getField("id").numericValue().intValue());
    }
    actual.sort(null);
    assertThat(actual).as(query.toString()).isEqualTo(expected);
    assertThat(searcher.count(query)).as(query.toString()).isEqualTo(expected.size());
  }

  private static boolean startsWith(BytesRef value, BytesRef prefix) {
    return value.length >= prefix.length
        && new BytesRef(value.bytes, value.offset, prefix.length).equals(prefix);
  }

  private static int compareUnsigned(BytesRef x, BytesRef y) {
    for (int i = 0; i < Math.min(x.length, y.length); i++) {
      int c = Integer.compare(x.bytes[x.offset + i] & 0xff, y.bytes[y.offset + i] & 0xff);
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(x.length, y.length);
  }

  private static boolean above(BytesRef value, BytesRef lower, boolean inclusive) {
    int c = compareUnsigned(value, lower);
    return c > 0 || (c == 0 && inclusive);
  }

  private static boolean below(BytesRef value, BytesRef upper, boolean inclusive) {
    int c = compareUnsigned(value, upper);
    return c < 0 || (c == 0 && inclusive);
  }

  @Test
  void equalsHashCodeAndToString() {
    BytesRef a = new BytesRef("a");
    BytesRef b = new BytesRef("b");
    assertThat(BinaryValueQuery.oneOf("f", List.of(b, a, b))).isEqualTo(BinaryValueQuery.oneOf("f", List.of(a, b)))
        .hasSameHashCodeAs(BinaryValueQuery.oneOf("f", List.of(a, b)));
    assertThat(BinaryValueQuery.exact("f", a)).isEqualTo(BinaryValueQuery.oneOf("f", List.of(new BytesRef("a"))))
        .hasSameHashCodeAs(BinaryValueQuery.oneOf("f", List.of(a)));
    assertThat(BinaryValueQuery.exact("f", a)).isNotEqualTo(BinaryValueQuery.exact("g", a))
        .isNotEqualTo(BinaryValueQuery.exact("f", b)).isNotEqualTo(BinaryValueQuery.prefix("f", a))
        .isNotEqualTo(new TermQuery(new Term("f", a)));
    assertThat(BinaryValueQuery.range("f", a, b, true, false)).isEqualTo(BinaryValueQuery.range("f", a, b, true, false))
        .hasSameHashCodeAs(BinaryValueQuery.range("f", a, b, true, false))
        .isNotEqualTo(BinaryValueQuery.range("f", a, b, true, true))
        .isNotEqualTo(BinaryValueQuery.range("f", a, b, false, false))
        .isNotEqualTo(BinaryValueQuery.range("f", a, null, true, false));
    // Open bounds ignore their inclusion flag.
    assertThat(BinaryValueQuery.range("f", null, b, false, true)).isEqualTo(BinaryValueQuery.range("f", null, b, true, true));
    // The query keeps its own copy of the bytes.
    byte[] bytes = {'x'};
    BinaryValueQuery copied = BinaryValueQuery.exact("f", new BytesRef(bytes));
    bytes[0] = 'y';
    assertThat(copied).isEqualTo(BinaryValueQuery.exact("f", new BytesRef("x")));

    Query t = new TermQuery(new Term("g", "t"));
    assertThat(BinaryValueQuery.exact("f", a).narrowedBy(t)).isEqualTo(BinaryValueQuery.exact("f", a).narrowedBy(
        new TermQuery(new Term("g", "t")))).hasSameHashCodeAs(BinaryValueQuery.exact("f", a).narrowedBy(t))
        .isNotEqualTo(BinaryValueQuery.exact("f", a))
        .isNotEqualTo(BinaryValueQuery.exact("f", a).narrowedBy(new TermQuery(new Term("g", "u"))));

    // One leaf for the clause count, candidates included.
    List<Query> leaves = new ArrayList<>();
    BinaryValueQuery.exact("f", a).narrowedBy(new BooleanQuery.Builder()
        .add(t, BooleanClause.Occur.FILTER).add(new TermQuery(new Term("g", "u")), BooleanClause.Occur.FILTER).build())
        .visit(new QueryVisitor() {
          @Override
          public void visitLeaf(Query query) {
            leaves.add(query);
          }

          @Override
          public void consumeTerms(Query query, Term... terms) {
            leaves.add(query);
          }

          @Override
          public QueryVisitor getSubVisitor(BooleanClause.Occur occur, Query parent) {
            return this;
          }
        });
    assertThat(leaves).hasSize(1);

    assertThat(BinaryValueQuery.oneOf("f", List.of(b, a)).toString()).isEqualTo("f:binary{a b}");
    assertThat(BinaryValueQuery.exact("f", a).narrowedBy(t).toString()).isEqualTo("f:binary{a} within (g:t)");
    assertThat(BinaryValueQuery.prefix("f", a).toString("f")).isEqualTo("binary(a*)");
    assertThat(BinaryValueQuery.range("f", a, null, false, true).toString()).isEqualTo("f:binary{a TO *]");
  }
}
