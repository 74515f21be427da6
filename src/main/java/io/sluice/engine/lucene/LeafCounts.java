package io.sluice.engine.lucene;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.search.BulkScorer;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.LeafCollector;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.Scorable;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Weight;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A search's total, each segment's share of it counted once per query and kept while the segment (with its
 * deletions) lives. Lucene's query cache does this only for segments it caches as a bit set, and its policy
 * skips segments under 3 % of the index: on a 10M-row table being imported every flushed segment is that small,
 * so each search counted all of them again, by iteration, beside the import (the count's tail, docs/performance.md).
 * A segment's count here is an int per query.
 */
final class LeafCounts {
  /** Queries kept per segment, least recently used dropped first. */
  static final int QUERIES_PER_LEAF = 32;

  /**
   * By the reader's own key (not its core's): a segment whose deletions change is a new reader with a new key,
   * and the old one's entry goes when that reader closes. The reader a merge warms is the one the next searcher
   * holds (the writer's pool keeps it).
   */
  private static final Map<IndexReader.CacheKey, Map<Query, Integer>> COUNTS = new ConcurrentHashMap<>();
  private static final Logger LOG = LoggerFactory.getLogger(LeafCounts.class);

  private LeafCounts() {
  }

  /**
   * The number of live documents matching {@code query}, as {@link IndexSearcher#count}; {@code recent} remembers
   * the query, so new segments get its count before a search needs it.
   */
  static long count(IndexSearcher searcher, Query query, Recent recent) throws IOException {
    recent.counted(query);
    return count(searcher, query);
  }

  /** The number of live documents matching {@code query}, as {@link IndexSearcher#count}. */
  static long count(IndexSearcher searcher, Query query) throws IOException {
    Query rewritten = searcher.rewrite(query);
    Weight weight = null;
    long total = 0;
    for (LeafReaderContext leaf : searcher.getIndexReader().leaves()) {
      IndexReader.CacheHelper helper = leaf.reader().getReaderCacheHelper();
      Map<Query, Integer> counts = helper == null ? null : counts(helper);
      Integer kept = null;
      if (counts != null) {
        synchronized (counts) {
          kept = counts.get(rewritten);
        }
      }
      if (kept == null) {
        if (weight == null) {
          weight = searcher.createWeight(rewritten, ScoreMode.COMPLETE_NO_SCORES, 1f);
        }
        kept = count(weight, leaf);
        if (counts != null) {
          synchronized (counts) {
            counts.put(rewritten, kept);
          }
        }
      }
      total += kept;
    }
    return total;
  }

  private static Map<Query, Integer> counts(IndexReader.CacheHelper helper) {
    Map<Query, Integer> counts = COUNTS.get(helper.getKey());
    if (counts != null) {
      return counts;
    }
    Map<Query, Integer> created = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Query, Integer> eldest) {
        return size() > QUERIES_PER_LEAF;
      }
    };
    counts = COUNTS.putIfAbsent(helper.getKey(), created);
    if (counts == null) {
      helper.addClosedListener(COUNTS::remove);
      return created;
    }
    return counts;
  }

  private static int count(Weight weight, LeafReaderContext leaf) throws IOException {
    int cheap = weight.count(leaf);
    if (cheap >= 0) {
      return cheap;
    }
    BulkScorer scorer = weight.bulkScorer(leaf);
    if (scorer == null) {
      return 0;
    }
    int[] matches = new int[1];
    scorer.score(new LeafCollector() {
      @Override
      public void setScorer(Scorable scorable) {
      }

      @Override
      public void collect(int doc) {
        matches[0]++;
      }
    }, leaf.reader().getLiveDocs(), 0, DocIdSetIterator.NO_MORE_DOCS);
    return matches[0];
  }

  /**
   * The queries a table was counted with lately (a search's total). Counting them on each new segment before a
   * search sees it, on the thread that makes the segment searchable (an import's commit refreshes the searcher
   * itself, a merge warms its segment on the merge thread), keeps that count off the searches' path: beside an
   * import a search counting the segments of the last commit or merge spent 10-30 ms on it (docs/performance.md).
   */
  static final class Recent {
    /**
     * Queries remembered, the least recently counted dropped first: each costs a count of every new segment,
     * merged ones included, on the commit and merge threads.
     */
    static final int QUERIES = 4;

    private final long withinNanos;
    private final Map<Query, Long> lastCounted = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Query, Long> eldest) {
        return size() > QUERIES;
      }
    };

    /** withinNanos: how long after its last search a query is still counted ahead. */
    Recent(long withinNanos) {
      this.withinNanos = withinNanos;
    }

    synchronized void counted(Query query) {
      lastCounted.put(query, System.nanoTime());
    }

    private synchronized List<Query> lately() {
      long now = System.nanoTime();
      List<Query> lately = new ArrayList<>(lastCounted.size());
      for (Map.Entry<Query, Long> e : lastCounted.entrySet()) {
        if (now - e.getValue() < withinNanos) {
          lately.add(e.getKey());
        }
      }
      return lately;
    }

    /**
     * Counts the queries of late on {@code searcher}'s segments not counted yet. Best effort: it runs inside a
     * commit's refresh or a merge, which must not fail for it; a search counts what is left.
     */
    void warm(IndexSearcher searcher) {
      warm(searcher, lately());
    }

    /** Counts the queries of late on a merged segment, before it is searched. */
    void warm(LeafReader merged) {
      List<Query> lately = lately();
      if (lately.isEmpty()) {
        return;
      }
      IndexSearcher searcher = new IndexSearcher(merged);
      searcher.setQueryCache(null); // counted once here and kept: nothing for Lucene's cache to keep
      warm(searcher, lately);
    }

    private static void warm(IndexSearcher searcher, List<Query> lately) {
      for (Query query : lately) {
        try {
          count(searcher, query);
        } catch (IOException | RuntimeException e) {
          LOG.warn("counting {} ahead of the searches failed: {}", query, e.toString());
        }
      }
    }
  }
}
