package io.sluice.bus;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The order in which a lane starts its tasks, on a hand-cranked executor. */
class FairSchedulerTest {
  private final ArrayDeque<Runnable> threads = new ArrayDeque<>();
  private final List<String> started = new ArrayList<>();
  private final List<Long> waits = new ArrayList<>();

  private final FairScheduler scheduler = new FairScheduler("test", 1, threads::add, new FairScheduler.Meters() {
    @Override
    public void waited(long nanos) {
      waits.add(nanos);
    }

    @Override
    public void served(long nanos) {
    }
  });

  @Test
  void keysTakeTurnsWhateverTheirQueues() {
    for (int i = 1; i <= 4; i++) {
      submit("import", "i" + i);
    }
    submit("small", "s1");
    submit("other", "o1");
    submit("small", "s2");
    assertThat(scheduler.queued()).isEqualTo(7);
    assertThat(threads).as("one thread for a one-thread lane").hasSize(1);

    threads.poll().run();

    assertThat(started).containsExactly("i1", "s1", "o1", "i2", "s2", "i3", "i4");
    assertThat(scheduler.queued()).isZero();
    assertThat(waits).hasSize(7);
  }

  @Test
  void anImportMayTakeSeveralTasksPerTurn() {
    FairScheduler shared = new FairScheduler("test", 1, threads::add, new FairScheduler.Meters() {
      @Override
      public void waited(long nanos) {
      }

      @Override
      public void served(long nanos) {
      }
    }, key -> key.equals("import") ? 3 : 1);
    for (int i = 1; i <= 7; i++) {
      String name = "i" + i;
      shared.submit("import", () -> started.add(name));
    }
    shared.submit("small", () -> started.add("s1"));
    shared.submit("small", () -> started.add("s2"));
    threads.poll().run();

    assertThat(started).as("three of the import's tasks per turn, one of the small table's")
        .containsExactly("i1", "i2", "i3", "s1", "i4", "i5", "i6", "s2", "i7");
  }

  @Test
  void aTaskThatThrowsCostsTheLaneNoThread() {
    scheduler.submit("a", () -> {
      throw new IllegalStateException("boom");
    });
    submit("a", "after");
    threads.poll().run();
    assertThat(started).containsExactly("after");

    submit("b", "later");
    assertThat(threads).as("the thread was given back, so a new one starts").hasSize(1);
    threads.poll().run();
    assertThat(started).containsExactly("after", "later");
  }

  @Test
  void aBusyKeyNeverHoldsTheSpareThread() throws Exception {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newCachedThreadPool();
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.Semaphore importRunning = new java.util.concurrent.Semaphore(0);
    java.util.concurrent.CountDownLatch smallRan = new java.util.concurrent.CountDownLatch(1);
    try {
      // three threads, one key at most two: the import's five tasks take two and queue three
      FairScheduler lane = new FairScheduler("test", 3, 2, pool, new FairScheduler.Meters() {
        @Override
        public void waited(long nanos) {
        }

        @Override
        public void served(long nanos) {
        }
      }, key -> 1);
      for (int i = 0; i < 5; i++) {
        lane.submit("import", () -> {
          importRunning.release();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
      }
      assertThat(importRunning.tryAcquire(2, 10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(lane.queued()).as("the import's tasks beyond its share wait").isEqualTo(3);

      lane.submit("small", smallRan::countDown);
      assertThat(smallRan.await(10, java.util.concurrent.TimeUnit.SECONDS))
          .as("another key's task runs while the import's two are held").isTrue();
      assertThat(importRunning.availablePermits()).as("no third import task started").isZero();

      release.countDown();
      assertThat(importRunning.tryAcquire(3, 10, java.util.concurrent.TimeUnit.SECONDS))
          .as("the import's queued tasks run once its first ones end").isTrue();
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }

  private void submit(String key, String name) {
    scheduler.submit(key, () -> started.add(name));
  }
}
