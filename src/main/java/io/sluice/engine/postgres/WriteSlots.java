package io.sluice.engine.postgres;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Fair shares of the write pool's connections among tables. The pool itself serves waiters first come, first
 * served, so an import with its credit window of batches in flight would queue a whole window in front of a
 * small write to another table. Here each table waits in a queue of its own; a freed slot goes to the next table
 * in turn, and one table holds at most {@code perTable} slots, so while one import runs a write to another table
 * finds a free connection, and with several busy tables it waits for at most one statement of each.
 *
 * <p>Thread-safety: {@link #run} may be called from any thread (store workers; event loops when a statement
 * completes and starts the next). A statement runs on the thread that freed its slot or called {@link #run}:
 * it must only start asynchronous work.
 */
final class WriteSlots {
  private final int slots;
  private final int perTable;
  private int running;
  private final Map<String, Integer> runningByTable = new HashMap<>();
  private final Map<String, ArrayDeque<Runnable>> queues = new HashMap<>();
  /** Tables with queued statements, in the order they are served. */
  private final ArrayDeque<String> order = new ArrayDeque<>();

  /** slots: the write pool's size; one table gets at most slots - 1 of them (at least 1). */
  WriteSlots(int slots) {
    this(slots, slots - 1);
  }

  /** ... and at most {@code perTable} (kept below slots, at least 1). */
  WriteSlots(int slots, int perTable) {
    this.slots = Math.max(1, slots);
    this.perTable = Math.max(1, Math.min(perTable, slots - 1));
  }

  /** Runs {@code statement} when a slot is free and it is {@code table}'s turn; the slot is held until it completes. */
  <T> Future<T> run(String table, Supplier<Future<T>> statement) {
    Promise<T> done = Promise.promise();
    Runnable start = () -> {
      Future<T> result;
      try {
        result = statement.get();
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onComplete(ar -> {
        finished(table);
        done.handle(ar);
      });
    };
    synchronized (this) {
      queues.computeIfAbsent(table, t -> {
        order.add(t);
        return new ArrayDeque<>();
      }).add(start);
    }
    startReady();
    return done.future();
  }

  /** Statements waiting for a slot (all tables). */
  synchronized int queued() {
    int n = 0;
    for (ArrayDeque<Runnable> queue : queues.values()) {
      n += queue.size();
    }
    return n;
  }

  private void finished(String table) {
    synchronized (this) {
      running--;
      runningByTable.merge(table, -1, (a, b) -> a + b == 0 ? null : a + b);
    }
    startReady();
  }

  private void startReady() {
    while (true) {
      Runnable next = null;
      synchronized (this) {
        if (running >= slots) {
          return;
        }
        // the first table in turn that is under its share; a table at its share keeps its place
        for (int i = 0, n = order.size(); i < n && next == null; i++) {
          String table = order.poll();
          if (runningByTable.getOrDefault(table, 0) >= perTable) {
            order.add(table);
            continue;
          }
          ArrayDeque<Runnable> queue = queues.get(table);
          next = queue.poll();
          if (queue.isEmpty()) {
            queues.remove(table);
          } else {
            order.add(table);
          }
          running++;
          runningByTable.merge(table, 1, Integer::sum);
        }
        if (next == null) {
          return;
        }
      }
      next.run();
    }
  }
}
