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

  private void submit(String key, String name) {
    scheduler.submit(key, () -> started.add(name));
  }
}
