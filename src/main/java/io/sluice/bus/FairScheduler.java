package io.sluice.bus;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one lane's store work on at most {@code threads} threads at once, fairly across keys (a table, an import
 * job): each key has its own queue and a free thread takes the next task of the key after the one it served last,
 * so a small write waits for at most one task of each other busy key, not for a queue of them (an import keeps
 * its whole credit window queued). A key's share may be more than one task per turn ({@code turns}: e.g. an import
 * job starts n batches in a row while others wait, so n small writes of others cost it one turn of n batches).
 * Several tasks of one key may run at once (the store allows it), at most {@code perKey}: with more threads than
 * that, a busy key (an import whose batches each take a thread for parsing and analysis) never holds every thread,
 * and a task of another key starts at once instead of waiting for one of its tasks to end.
 *
 * <p>Thread-safety: {@link #submit} may be called from any thread. Tasks run on {@code executor}, which must
 * have at least {@code threads} threads; a task that throws is logged and does not stop the lane.
 */
public final class FairScheduler {
  private static final Logger LOG = LoggerFactory.getLogger(FairScheduler.class);

  /** What the scheduler reports of itself; see {@link io.sluice.metrics.Metrics#lane}. */
  public interface Meters {
    /** A task joined the lane behind {@code ahead} waiting tasks. */
    default void arrived(long ahead) {
    }

    void waited(long nanos);

    void served(long nanos);
  }

  private record Queued(Runnable task, long since) {
  }

  private final String name;
  private final int threads;
  private final Executor executor;
  private final Meters meters;
  private final ToIntFunction<String> turns;
  /** The key that started the last task, and how many of its tasks started in a row. */
  private String current;
  private int streak;
  private final Map<String, ArrayDeque<Queued>> queues = new HashMap<>();
  /** Keys with queued tasks, in the order they are served. */
  private final ArrayDeque<String> order = new ArrayDeque<>();
  private final AtomicLong queued = new AtomicLong();
  private int running;
  private final int perKey;
  /** Tasks running now, by key (keys with none are absent). */
  private final Map<String, Integer> runningByKey = new HashMap<>();

  public FairScheduler(String name, int threads, Executor executor, Meters meters) {
    this(name, threads, executor, meters, key -> 1);
  }

  /** turns: how many tasks a key may start in a row while other keys wait (at least 1). */
  public FairScheduler(String name, int threads, Executor executor, Meters meters, ToIntFunction<String> turns) {
    this(name, threads, threads, executor, meters, turns);
  }

  /** perKey: how many of the {@code threads} one key's tasks may hold at once (1 to threads). */
  public FairScheduler(String name, int threads, int perKey, Executor executor, Meters meters,
      ToIntFunction<String> turns) {
    if (threads < 1) {
      throw new IllegalArgumentException(name + ": a lane needs at least one thread, got " + threads);
    }
    if (perKey < 1 || perKey > threads) {
      throw new IllegalArgumentException(name + ": a key may hold 1 to " + threads + " threads, not " + perKey);
    }
    this.name = name;
    this.threads = threads;
    this.perKey = perKey;
    this.executor = executor;
    this.meters = meters;
    this.turns = turns;
  }

  /** Queues {@code task} behind the earlier tasks of {@code key}. */
  public void submit(String key, Runnable task) {
    boolean start;
    long ahead;
    synchronized (this) {
      queues.computeIfAbsent(key, k -> {
        order.add(k);
        return new ArrayDeque<>();
      }).add(new Queued(task, System.nanoTime()));
      ahead = queued.getAndIncrement();
      start = running < threads;
      if (start) {
        running++;
      }
    }
    meters.arrived(ahead);
    if (start) {
      executor.execute(this::serve);
    }
  }

  /** Tasks waiting for a thread. */
  public long queued() {
    return queued.get();
  }

  private void serve() {
    while (true) {
      Queued next;
      String key = null;
      synchronized (this) {
        // the first key in turn under its share; a key at its share keeps its place
        for (java.util.Iterator<String> keys = order.iterator(); keys.hasNext(); ) {
          String candidate = keys.next();
          if (runningByKey.getOrDefault(candidate, 0) < perKey) {
            keys.remove();
            key = candidate;
            break;
          }
        }
        if (key == null) {
          running--; // what is queued waits for a running task of its key, whose thread serves it next
          return;
        }
        runningByKey.merge(key, 1, Integer::sum);
        streak = key.equals(current) ? streak + 1 : 1;
        current = key;
        ArrayDeque<Queued> queue = queues.get(key);
        next = queue.poll();
        if (queue.isEmpty()) {
          queues.remove(key);
        } else if (streak < turns.applyAsInt(key)) {
          order.addFirst(key); // its turn goes on
        } else {
          order.add(key); // its next task waits for one turn of every other key
          streak = 0;
        }
        queued.decrementAndGet();
      }
      long start = System.nanoTime();
      meters.waited(start - next.since());
      try {
        next.task().run();
      } catch (Throwable e) {
        // Tasks answer their own failures; one that escapes must not cost the lane a thread.
        LOG.error("{}: a task failed", name, e);
      } finally {
        meters.served(System.nanoTime() - start);
        synchronized (this) {
          runningByKey.merge(key, -1, (a, b) -> a + b == 0 ? null : a + b);
        }
      }
    }
  }

  @Override
  public String toString() {
    return name + " (" + threads + " threads, " + queued.get() + " queued)";
  }
}
