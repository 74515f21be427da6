package io.sluice.engine.postgres;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Exact totals of a table being appended to without counting all of it again. Rows are numbered by a sequence
 * ({@code _seq}) as they are inserted, but appends commit out of that order, so a snapshot's rows are not a prefix
 * of the numbers. This engine's own appends are the only ones on a single node, though, and it knows which are in
 * flight: an append that starts after another completed gets higher numbers (the sequence hands out rising
 * numbers, one at a time, no per-session cache). So below the <em>settled bound</em> — the highest number
 * completed when the oldest append in flight started, or the highest completed when none is — every row is
 * committed for good, and stays so until a delete or a schema change. A search counts its condition's matches up
 * to the bound once, keeps that count, and from then on counts only the rows above it: the total is still exact.
 *
 * <p>Beyond that, a condition searched lately is <em>watched</em>: each append counts its own matches of it as it
 * inserts them ({@link #appending}) and answers its transaction id. A search's count, taken with its statement's
 * snapshot, then becomes a <em>live total</em>: every append that commits after it adds its matches, one its
 * snapshot already saw adds nothing. A search of a live total counts nothing at all: during an import the rows
 * above the bound are the pages the appends are writing, and a count of them waited on their locks.
 *
 * <p>Only where this engine writes alone: a cluster's other nodes append behind its back, so the engine does not
 * use this there. Anything that could change the rows below a bound (deletes, column changes, copies, drops, a
 * failed append whose outcome is unknown) ends every kept count. Thread-safe: all state under this object's lock.
 */
final class PrefixCounts {
  /** Conditions kept at most (least recently used go first). */
  static final int KEPT = 1_024;
  /** How long a statement whose client is gone may yet run and commit: longer than any append takes. */
  static final long UNKNOWN_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
  /** A kept count searched within this long is kept up with the appends ({@link #appended}). */
  static final long HOT_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
  /** Row numbers settled beyond a hot kept count's bound before it is refreshed. */
  static final long REFRESH_ROWS = 10_000;
  /**
   * Refreshes running at once, all tables: each holds a read connection, and searches must still find one (a
   * dashboard of many conditions would otherwise refresh them all after every append).
   */
  static final int MAX_REFRESHING = 2;
  /** Conditions of a table each append counts its matches of, the most recently searched. */
  static final int WATCHED = 4;
  /** Completed appends remembered per table, for a live total whose search ran beside them. */
  static final int RECENT = 256;

  private final Map<String, Frontier> frontiers = new HashMap<>();
  private final LinkedHashMap<Key, Counted> counted = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, Counted> eldest) {
      return size() > KEPT;
    }
  };
  /** Advanced when a change that could touch settled rows starts and when it ends. */
  private long generation;
  private int changing;
  private long changeUnknownUntil = System.nanoTime();
  private int refreshing;

  /** A search condition on one table, its parameters compared by value (arrays as lists). */
  record Key(String table, String condition, List<Object> params) {
    static Key of(String table, String condition, List<Object> params) {
      List<Object> values = new ArrayList<>(params.size());
      params.forEach(p -> values.add(comparable(p)));
      return new Key(table, condition, values);
    }

    private static Object comparable(Object value) {
      if (value instanceof Object[] array) {
        List<Object> items = new ArrayList<>(array.length);
        for (Object item : array) {
          items.add(comparable(item));
        }
        return items;
      }
      return value == null ? null : value.getClass().getName() + ":" + value;
    }
  }

  /** A kept count; {@code params} the condition's own, for the refreshes. */
  private static final class Counted {
    final long bound;
    final long count;
    final long generation;
    final List<Object> params;
    long used = System.nanoTime();
    boolean refreshing;

    Counted(long bound, long count, long generation, List<Object> params) {
      this.bound = bound;
      this.count = count;
      this.generation = generation;
      this.params = params;
    }
  }

  /**
   * What a search (or a refresh) counts: the matches at or below {@code from} are {@code base} (kept), those above
   * {@code from} up to {@code bound} are to be counted and kept with it, and those above {@code bound} counted
   * only. from is -1 when nothing is kept (the count starts at the first row). {@code params}: the condition's.
   * {@code live}: the condition's live total, nothing to count (-1: none); {@code mark}: the table's completed
   * appends when planned.
   */
  record Plan(Key key, List<Object> params, long from, long base, long bound, long generation, long started,
      boolean quiet, long live, long mark) {}

  /** A condition appends count their matches of: its SQL (placeholders from $1) in its key, and its parameters. */
  record Watch(Key key, List<Object> params) {
    String condition() {
      return key.condition();
    }
  }

  /** An append under way: where it started ({@link Frontier#floors}) and the conditions it counts. */
  record Append(long floor, List<Watch> watched) {}

  /** What a PostgreSQL snapshot saw ({@code txid_current_snapshot()}: xmin:xmax:running,...), by transaction id. */
  record Snapshot(long xmin, long xmax, Set<Long> running) {
    static Snapshot parse(String text) {
      String[] parts = text.split(":", -1);
      Set<Long> running = new HashSet<>();
      if (parts.length > 2 && !parts[2].isEmpty()) {
        for (String xid : parts[2].split(",")) {
          running.add(Long.parseLong(xid));
        }
      }
      return new Snapshot(Long.parseLong(parts[0]), Long.parseLong(parts[1]), running);
    }

    /** The transaction had committed (or ended) when the snapshot was taken. */
    boolean saw(long xid) {
      return xid < xmin || xid < xmax && !running.contains(xid);
    }
  }

  /** An append that committed: its transaction and its matches of each condition it counted. */
  private record Completion(long number, long xid, List<Key> keys, long[] matches) {}

  /** An exact total as of {@code snapshot} plus the matches of every append committed after it. */
  private static final class Live {
    final Snapshot snapshot;
    long total;

    Live(Snapshot snapshot, long total) {
      this.snapshot = snapshot;
      this.total = total;
    }
  }

  /** A watched condition and when a search last asked for it. */
  private static final class Watched {
    final Watch watch;
    long used = System.nanoTime();

    Watched(Watch watch) {
      this.watch = watch;
    }
  }

  private static final class Frontier {
    long completed;
    long started;
    /** Floors of the appends in flight (the highest completed number when each started), with their counts. */
    final TreeMap<Long, Integer> floors = new TreeMap<>();
    /**
     * An append's connection failed under it: its rows may still commit (PostgreSQL finishing a statement whose
     * client is gone), with numbers nobody knows. Until then (nanoTime) nothing of the table is settled.
     */
    long unknownUntil = System.nanoTime();
    /**
     * The table's rows as the acknowledged appends left them (-1: not known): from its creation (none) or from a
     * count no append ran beside, plus what each append stored since. No scan: the gauges' count of a table being
     * imported counted every new row again every 10 s.
     */
    long rows = -1;
    /** Watched conditions, least recently searched first. */
    final LinkedHashMap<Key, Watched> watched = new LinkedHashMap<>(8, 0.75f, true);
    final Map<Key, Live> live = new HashMap<>();
    /** Appends committed so far (the number of the latest), and the last {@link #RECENT} of them. */
    long completions;
    final ArrayDeque<Completion> recent = new ArrayDeque<>();

    /** The append is no longer in flight. */
    void ended(Append append) {
      floors.merge(append.floor(), -1, (a, b) -> a + b == 0 ? null : a + b);
    }

    boolean unknown() {
      return System.nanoTime() - unknownUntil < 0;
    }

    long settled() {
      if (unknown()) {
        return 0;
      }
      return floors.isEmpty() ? completed : floors.firstKey();
    }
  }

  /**
   * The plan of a search on {@code key} (its condition's parameters {@code params}), or null while a change is
   * under way (count everything then).
   */
  synchronized Plan plan(String table, String condition, List<Object> params) {
    if (changeUnderWay()) {
      return null;
    }
    Key key = Key.of(table, condition, params);
    Frontier frontier = frontiers.computeIfAbsent(key.table(), t -> new Frontier());
    long bound = frontier.settled();
    Counted kept = counted.get(key);
    boolean usable = kept != null && kept.generation == generation && kept.bound <= bound;
    if (usable) {
      kept.used = System.nanoTime();
    }
    Live live = frontier.unknown() ? null : frontier.live.get(key);
    Watched watched = frontier.watched.get(key);
    if (watched != null) {
      watched.used = System.nanoTime();
    }
    return new Plan(key, new ArrayList<>(params), usable ? kept.bound : -1, usable ? kept.count : 0, bound,
        generation, frontier.started, frontier.floors.isEmpty(), live == null ? -1 : live.total,
        frontier.completions);
  }

  /**
   * The search's statement has run: {@code settledCount} matches at or below the plan's bound, {@code highest}
   * the highest number it saw (or -1). False when a change began meanwhile and a kept count went into the total:
   * the caller counts again without it.
   */
  synchronized boolean counted(Plan plan, long settledCount, long highest) {
    return counted(plan, settledCount, -1, highest, null);
  }

  /**
   * As {@link #counted(Plan, long, long)}; {@code total} (or -1) the whole count, which settles the table's row
   * count when the condition is every row ({@link #ALL}) and no append ran beside the statement; {@code snapshot}
   * the statement's: the condition is watched from now on and its total, exact as of the snapshot, lives on with
   * the appends' counts.
   */
  synchronized boolean counted(Plan plan, long settledCount, long total, long highest, Snapshot snapshot) {
    boolean unchanged = changing == 0 && generation == plan.generation;
    if (!unchanged) {
      return plan.from < 0;
    }
    if (snapshot != null && total >= 0) {
      live(plan, total, snapshot);
    }
    Counted before = counted.get(plan.key);
    if (plan.bound > 0 && (before == null || before.generation != plan.generation || before.bound <= plan.bound)) {
      Counted kept = new Counted(plan.bound, settledCount, plan.generation, plan.params);
      if (before != null) {
        kept.used = before.used;
        kept.refreshing = before.refreshing;
      }
      counted.put(plan.key, kept);
    }
    Frontier frontier = frontiers.get(plan.key.table());
    // No append of this engine ran between the plan and now: every row the statement saw is committed, and no
    // other is in flight, so its highest number is settled (after a restart, or after a failed append).
    if (frontier != null && plan.quiet && frontier.started == plan.started && !frontier.unknown()) {
      if (highest >= 0) {
        frontier.completed = Math.max(frontier.completed, highest);
      }
      if (total >= 0 && plan.key.condition().equals(ALL) && plan.key.params().isEmpty()) {
        frontier.rows = total;
      }
    }
    return true;
  }

  /** The condition of every row. */
  static final String ALL = "TRUE";

  /** Deletes, column changes and the like under way, or one whose connection failed lately (it may yet commit). */
  private boolean changeUnderWay() {
    return changing > 0 || System.nanoTime() - changeUnknownUntil < 0;
  }

  /** The table was created empty. */
  synchronized void created(String table) {
    Frontier frontier = new Frontier();
    frontier.rows = 0;
    frontiers.put(table, frontier);
  }

  /** The table's rows as its acknowledged appends left them, or -1 when not known (count them). */
  synchronized long rows(String table) {
    Frontier frontier = frontiers.get(table);
    return frontier == null || changing > 0 ? -1 : frontier.rows;
  }

  /**
   * An append to {@code table} starts: its floor and the conditions it is to count its matches of, to hand back to
   * {@link #appended} or {@link #failed}.
   */
  synchronized Append appending(String table) {
    Frontier frontier = frontiers.computeIfAbsent(table, t -> new Frontier());
    frontier.started++;
    frontier.floors.merge(frontier.completed, 1, Integer::sum);
    long now = System.nanoTime();
    frontier.watched.values().removeIf(w -> now - w.used >= HOT_NANOS);
    List<Watch> watched = new ArrayList<>(frontier.watched.size());
    frontier.watched.values().forEach(w -> watched.add(w.watch));
    return new Append(frontier.completed, watched);
  }

  /** As {@link #appended(String, Append, long, int, long, long[])}, its transaction not known. */
  synchronized List<Plan> appended(String table, Append append, long highest, int stored) {
    return appended(table, append, highest, stored, -1, new long[0]);
  }

  /**
   * The append committed, {@code highest} its highest number and {@code stored} rows, in transaction {@code xid}
   * (-1: not known), {@code matches} its matches of each condition it counted. Returns the refreshes due.
   */
  synchronized List<Plan> appended(String table, Append append, long highest, int stored, long xid,
      long[] matches) {
    Frontier frontier = frontiers.get(table);
    if (frontier == null) {
      return List.of();
    }
    frontier.ended(append);
    frontier.completed = Math.max(frontier.completed, highest);
    if (frontier.rows >= 0) {
      frontier.rows += stored;
    }
    List<Key> keys = new ArrayList<>(append.watched().size());
    append.watched().forEach(w -> keys.add(w.key()));
    Completion completion = new Completion(++frontier.completions, xid, keys, matches);
    frontier.recent.addLast(completion);
    if (frontier.recent.size() > RECENT) {
      frontier.recent.removeFirst();
    }
    frontier.live.entrySet().removeIf(live -> !add(live.getValue(), live.getKey(), completion));
    return due(table, frontier);
  }

  /** The append failed and PostgreSQL rolled it back: it stored nothing. */
  synchronized void failed(String table, Append append) {
    Frontier frontier = frontiers.get(table);
    if (frontier != null) {
      frontier.ended(append);
    }
  }

  /**
   * The search's total, exact as of its statement's snapshot, becomes the condition's live total, with the
   * appends that committed since the plan and that the snapshot did not see. The condition is watched from now.
   */
  private void live(Plan plan, long total, Snapshot snapshot) {
    Frontier frontier = frontiers.get(plan.key.table());
    if (frontier == null) {
      return;
    }
    if (!frontier.watched.containsKey(plan.key)) {
      frontier.watched.put(plan.key, new Watched(new Watch(plan.key, plan.params)));
      while (frontier.watched.size() > WATCHED) {
        Key eldest = frontier.watched.keySet().iterator().next();
        frontier.watched.remove(eldest);
        frontier.live.remove(eldest);
      }
    }
    if (frontier.unknown() || plan.mark < frontier.completions - frontier.recent.size()) {
      return; // an append that ran beside the search is forgotten (or unknown): whether the snapshot saw it is not
    }
    Live live = new Live(snapshot, total);
    for (Completion completion : frontier.recent) {
      if (completion.number() > plan.mark && !add(live, plan.key, completion)) {
        return;
      }
    }
    frontier.live.put(plan.key, live);
  }

  /** Adds the append's matches unless the live total's snapshot saw it; false when it did not count them. */
  private static boolean add(Live live, Key key, Completion completion) {
    if (completion.xid() >= 0 && live.snapshot.saw(completion.xid())) {
      return true;
    }
    int at = completion.keys().indexOf(key);
    if (completion.xid() < 0 || at < 0) {
      return false;
    }
    live.total += completion.matches()[at];
    return true;
  }

  /**
   * Kept counts of {@code table} searched lately whose bound the settled rows passed by {@link #REFRESH_ROWS}: a
   * search then counts only what settled since their refresh, not all that settled since the search before it
   * (on the benchmark, half a second of a 90k-rows/s import: ~40 ms of a 50 ms search).
   */
  private List<Plan> due(String table, Frontier frontier) {
    if (changeUnderWay()) {
      return List.of();
    }
    long bound = frontier.settled();
    long now = System.nanoTime();
    List<Plan> due = null;
    for (Map.Entry<Key, Counted> entry : counted.entrySet()) {
      Counted kept = entry.getValue();
      if (refreshing < MAX_REFRESHING && entry.getKey().table().equals(table) && !kept.refreshing
          && kept.generation == generation && bound - kept.bound >= REFRESH_ROWS && now - kept.used < HOT_NANOS
          && !frontier.live.containsKey(entry.getKey())) {
        kept.refreshing = true;
        refreshing++;
        if (due == null) {
          due = new ArrayList<>();
        }
        due.add(new Plan(entry.getKey(), kept.params, kept.bound, kept.count, bound, generation, frontier.started,
            false, -1, frontier.completions));
      }
    }
    return due == null ? List.of() : due;
  }

  /** A refresh ended (its count kept by {@link #counted}, or failed). */
  synchronized void refreshed(Plan refresh) {
    refreshing--;
    Counted kept = counted.get(refresh.key());
    if (kept != null) {
      kept.refreshing = false;
    }
  }

  /**
   * The append lost its connection: committed or not, nobody can say yet. Nothing
   * of the table is settled (every search counts all) for {@link #UNKNOWN_NANOS}, by when it has ended either way.
   */
  synchronized void lost(String table, Append append) {
    Frontier frontier = frontiers.get(table);
    if (frontier != null) {
      frontier.ended(append);
      frontier.unknownUntil = System.nanoTime() + UNKNOWN_NANOS;
      frontier.rows = -1;
      forget(table);
    }
  }

  /** A change that may touch settled rows (a delete, a column change, a copy, a drop) starts. */
  synchronized void changeStarted() {
    changing++;
    generation++;
    frontiers.values().forEach(frontier -> frontier.live.clear());
  }

  /**
   * ... and ended: done or refused, or {@code lost} (its connection failed: it may yet commit, so no count is kept
   * for {@link #UNKNOWN_NANOS}).
   */
  synchronized void changeEnded(String table, boolean lost) {
    changing--;
    generation++;
    counted.clear();
    frontiers.values().forEach(frontier -> frontier.live.clear());
    for (Map.Entry<String, Frontier> frontier : frontiers.entrySet()) {
      if (table == null || table.equals(frontier.getKey())) {
        frontier.getValue().rows = -1;
      }
    }
    if (lost) {
      changeUnknownUntil = System.nanoTime() + UNKNOWN_NANOS;
    }
  }

  /** The table is gone. */
  synchronized void dropped(String table) {
    frontiers.remove(table);
    forget(table);
  }

  /** The settled bound of {@code table} now (tests). */
  synchronized long settled(String table) {
    Frontier frontier = frontiers.get(table);
    return frontier == null ? 0 : frontier.settled();
  }

  /** The highest bound of {@code table}'s kept counts, or -1 (tests). */
  synchronized long keptBound(String table) {
    long bound = -1;
    for (Map.Entry<Key, Counted> entry : counted.entrySet()) {
      if (entry.getKey().table().equals(table)) {
        bound = Math.max(bound, entry.getValue().bound);
      }
    }
    return bound;
  }

  /** Live totals of {@code table} (tests). */
  synchronized int live(String table) {
    Frontier frontier = frontiers.get(table);
    return frontier == null ? 0 : frontier.live.size();
  }

  /** Counts kept (tests, metrics). */
  synchronized int kept() {
    return counted.size();
  }

  private void forget(String table) {
    Frontier frontier = frontiers.get(table);
    if (frontier != null) {
      frontier.live.clear();
    }
    for (Iterator<Key> keys = counted.keySet().iterator(); keys.hasNext();) {
      if (keys.next().table().equals(table)) {
        keys.remove();
      }
    }
  }
}
