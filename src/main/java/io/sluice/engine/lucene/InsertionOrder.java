package io.sluice.engine.lucene;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.TwoPhaseIterator;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.Bits;

/**
 * The first rows of a search in insertion order ({@link Fields#SEQ} ascending) without visiting every match.
 *
 * <p>Why: a sort collector reads the sequence number of every matching row, so a search matching a million rows
 * cost tens of milliseconds for ten hits, even though the total comes from Lucene's query cache in a few. Rows are
 * added in nearly ascending sequence order: a flushed segment holds one ascending run, a merged one the few runs of
 * the segments it concatenated. Each segment's runs (first document and first sequence number of each) are found
 * once, by one pass over its sequence numbers, and kept while the segment lives. A search then visits runs by their
 * first sequence number, takes at most the wanted count of matches from each (a run is ascending, so its first
 * matches are its smallest), and stops at the first run that starts above the worst row it keeps.
 *
 * <p>The result is what a sort on {@link Fields#SEQ} then document would give: ties (which a table's unique sequence
 * numbers do not have) broken by document. A segment whose order is too scattered to be worth splitting is one run
 * read whole.
 */
final class InsertionOrder {

  /** Beyond this many runs a segment is read whole: past it, seeking each run costs more than it saves. */
  private static final int MAX_RUNS = 64;

  private static final Map<IndexReader.CacheKey, Runs> RUNS = new ConcurrentHashMap<>();

  private InsertionOrder() {
  }

  /** A hit: a segment's document and its sequence number. */
  record Hit(int leaf, int doc, long seq) {
  }

  private static final Comparator<Hit> ORDER = Comparator.comparingLong(Hit::seq)
      .thenComparingInt(Hit::leaf).thenComparingInt(Hit::doc);

  /** The matches of {@code query} in insertion order from {@code offset}, at most {@code limit} of them. */
  static List<Hit> page(IndexSearcher searcher, Query query, int offset, int limit) throws IOException {
    int wanted = offset + limit;
    Weight weight = searcher.createWeight(searcher.rewrite(query), ScoreMode.COMPLETE_NO_SCORES, 1f);
    List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
    List<Segment> segments = new ArrayList<>();
    for (LeafReaderContext leaf : leaves) {
      Runs runs = runs(leaf.reader());
      for (int i = 0; i < runs.starts.length; i++) {
        segments.add(new Segment(leaf, runs, i));
      }
    }
    segments.sort(Comparator.comparingLong(Segment::first));
    // Worst kept hit on top, so it is the one replaced.
    PriorityQueue<Hit> kept = new PriorityQueue<>(Math.min(wanted, 1024), ORDER.reversed());
    Cursor[] cursors = new Cursor[leaves.size()];
    for (Segment run : segments) {
      if (kept.size() == wanted && run.first() > kept.peek().seq()) {
        break; // every later run starts higher still
      }
      collect(weight, run, cursors, wanted, kept);
    }
    Hit[] sorted = kept.toArray(new Hit[0]);
    Arrays.sort(sorted, ORDER);
    return offset >= sorted.length ? List.of() : Arrays.asList(sorted).subList(offset, sorted.length);
  }

  /** Where a segment's matches were read up to: reused while the runs read lie ahead of it (iterators go forward). */
  private static final class Cursor {
    final DocIdSetIterator matches;
    final NumericDocValues seqs;

    Cursor(DocIdSetIterator matches, NumericDocValues seqs) {
      this.matches = matches;
      this.seqs = seqs;
    }
  }

  private static Cursor cursor(Weight weight, LeafReaderContext leaf, Cursor[] cursors, int start) throws IOException {
    Cursor cursor = cursors[leaf.ord];
    // The sequence numbers never run ahead of the matches they were read for.
    if (cursor != null && cursor.matches.docID() < start) {
      return cursor;
    }
    Scorer scorer = weight.scorer(leaf);
    NumericDocValues seqs = leaf.reader().getNumericDocValues(Fields.SEQ);
    if (scorer == null || seqs == null) {
      return null;
    }
    TwoPhaseIterator twoPhase = scorer.twoPhaseIterator();
    cursor = new Cursor(twoPhase == null ? scorer.iterator() : TwoPhaseIterator.asDocIdSetIterator(twoPhase), seqs);
    cursors[leaf.ord] = cursor;
    return cursor;
  }

  private static void collect(Weight weight, Segment run, Cursor[] cursors, int wanted, PriorityQueue<Hit> kept)
      throws IOException {
    LeafReaderContext leaf = run.leaf();
    Cursor cursor = cursor(weight, leaf, cursors, run.start());
    if (cursor == null) {
      return;
    }
    DocIdSetIterator matches = cursor.matches;
    NumericDocValues seqs = cursor.seqs;
    Bits live = leaf.reader().getLiveDocs();
    int end = run.end();
    boolean ascending = run.ascending();
    for (int doc = matches.advance(run.start()); doc < end; doc = matches.nextDoc()) {
      if ((live != null && !live.get(doc)) || !seqs.advanceExact(doc)) {
        continue;
      }
      long seq = seqs.longValue();
      if (kept.size() == wanted) {
        Hit worst = kept.peek();
        if (seq > worst.seq() || (seq == worst.seq() && ORDER.compare(new Hit(leaf.ord, doc, seq), worst) > 0)) {
          if (ascending) {
            return; // the rest of this run comes later still
          }
          continue;
        }
        kept.poll();
      }
      kept.add(new Hit(leaf.ord, doc, seq));
    }
  }

  /** Run {@code index} of a segment. */
  private record Segment(LeafReaderContext leaf, Runs runs, int index) {
    long first() {
      return runs.firsts[index];
    }

    int start() {
      return runs.starts[index];
    }

    int end() {
      return index + 1 < runs.starts.length ? runs.starts[index + 1] : leaf.reader().maxDoc();
    }

    boolean ascending() {
      return runs.ascending;
    }
  }

  /**
   * A segment's ascending runs of sequence numbers: where each starts and its first (smallest) number. When not
   * ascending, one run of the whole segment with its smallest number.
   */
  private record Runs(int[] starts, long[] firsts, boolean ascending) {
  }

  /**
   * Finds the runs of the segments not seen before, so that searches do not: called where new segments appear (a
   * refreshed searcher, a merged segment before it is searched), on the thread that made them.
   */
  static void warm(IndexReader reader) throws IOException {
    for (LeafReaderContext leaf : reader.leaves()) {
      runs(leaf.reader());
    }
  }

  static void warm(LeafReader reader) throws IOException {
    runs(reader);
  }

  private static Runs runs(LeafReader reader) throws IOException {
    IndexReader.CacheHelper helper = reader.getCoreCacheHelper();
    if (helper == null) {
      return scan(reader);
    }
    Runs cached = RUNS.get(helper.getKey());
    if (cached != null) {
      return cached;
    }
    // Two searches may both scan a new segment; either result is the same.
    Runs runs = scan(reader);
    if (RUNS.putIfAbsent(helper.getKey(), runs) == null) {
      helper.addClosedListener(RUNS::remove);
    }
    return runs;
  }

  /** Deleted rows count too: the runs describe documents, and a search skips the deleted ones itself. */
  private static Runs scan(LeafReader reader) throws IOException {
    NumericDocValues seqs = reader.getNumericDocValues(Fields.SEQ);
    int maxDoc = reader.maxDoc();
    if (seqs == null) {
      return new Runs(new int[] {0}, new long[] {Long.MIN_VALUE}, false);
    }
    // Room for one run past the limit: that one only marks the segment as read whole.
    int[] starts = new int[MAX_RUNS + 1];
    long[] firsts = new long[MAX_RUNS + 1];
    int runs = 0;
    long previous = Long.MAX_VALUE;
    long min = Long.MAX_VALUE;
    int expected = 0;
    boolean dense = true;
    for (int doc = seqs.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = seqs.nextDoc()) {
      dense &= doc == expected++;
      long seq = seqs.longValue();
      min = Math.min(min, seq);
      if (seq < previous && runs <= MAX_RUNS) {
        starts[runs] = doc;
        firsts[runs] = seq;
        runs++;
      }
      previous = seq;
    }
    if (runs == 0) {
      return new Runs(new int[] {0}, new long[] {Long.MAX_VALUE}, true); // no documents
    }
    if (!dense || expected != maxDoc || runs > MAX_RUNS) {
      // A document without a sequence number (none is written so) or too many runs: read it whole.
      return new Runs(new int[] {0}, new long[] {dense ? min : Long.MIN_VALUE}, false);
    }
    starts[0] = 0;
    return new Runs(Arrays.copyOf(starts, runs), Arrays.copyOf(firsts, runs), true);
  }
}
