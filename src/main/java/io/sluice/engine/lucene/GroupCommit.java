package io.sluice.engine.lucene;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * Shares one durable commit among every writer that asks while another commit is in flight.
 *
 * <p>A caller first applies its change to the writer, then calls {@link #request()}. Its promise is taken by
 * the next commit that <em>starts</em> after the call, so the change is always part of the commit that
 * completes it. At most one commit per index runs at a time; callers arriving meanwhile form the next group.
 */
final class GroupCommit {
  interface CommitAction {
    void commit() throws Exception;
  }

  private final Executor executor;
  private final CommitAction action;
  private List<Promise<Void>> waiting = new ArrayList<>();
  private boolean running;

  GroupCommit(Executor executor, CommitAction action) {
    this.executor = executor;
    this.action = action;
  }

  Future<Void> request() {
    Promise<Void> promise = Promise.promise();
    boolean start;
    synchronized (this) {
      waiting.add(promise);
      start = !running;
      running = true;
    }
    if (start) {
      executor.execute(this::runGroups);
    }
    return promise.future();
  }

  private void runGroups() {
    while (true) {
      List<Promise<Void>> group;
      synchronized (this) {
        if (waiting.isEmpty()) {
          running = false;
          return;
        }
        group = waiting;
        waiting = new ArrayList<>();
      }
      Throwable failure = null;
      try {
        action.commit();
      } catch (Throwable t) {
        failure = t;
      }
      for (Promise<Void> promise : group) {
        if (failure == null) {
          promise.complete();
        } else {
          promise.fail(failure);
        }
      }
    }
  }
}
