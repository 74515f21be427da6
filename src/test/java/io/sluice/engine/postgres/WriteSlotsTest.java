package io.sluice.engine.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The write pool's shares, with statements the test completes by hand. */
class WriteSlotsTest {

  /** Statements started so far, by table, each completed when the test says. */
  private final List<String> started = new ArrayList<>();
  private final List<Promise<Void>> running = new ArrayList<>();

  private Future<Void> submit(WriteSlots slots, String table) {
    return slots.run(table, () -> {
      Promise<Void> done = Promise.promise();
      started.add(table);
      running.add(done);
      return done.future();
    });
  }

  @Test
  void oneTableLeavesASlotForOthers() {
    WriteSlots slots = new WriteSlots(4);
    for (int i = 0; i < 8; i++) {
      submit(slots, "import");
    }
    assertThat(started).as("one table holds at most pool size - 1").hasSize(3);
    Future<Void> small = submit(slots, "small");
    assertThat(started).as("another table's write starts at once").hasSize(4).endsWith("small");
    assertThat(slots.queued()).isEqualTo(5);
    running.get(3).complete();
    assertThat(small.succeeded()).isTrue();
    assertThat(started).as("the import takes its slot back only up to its share").hasSize(4);
    running.get(0).complete();
    assertThat(started).hasSize(5).endsWith("import");
  }

  @Test
  void aTablesShareCanBeSmallerThanThePool() {
    WriteSlots slots = new WriteSlots(8, 2);
    for (int i = 0; i < 5; i++) {
      submit(slots, "import");
    }
    assertThat(started).as("the import's share").hasSize(2);
    submit(slots, "other");
    submit(slots, "other");
    assertThat(started).hasSize(4).endsWith("other", "other");
    assertThat(new WriteSlots(3, 5).run("a", () -> Future.succeededFuture(1)).succeeded()).isTrue();
  }

  @Test
  void busyTablesTakeTurnsSoANewcomerWaitsForOneStatementOfEach() {
    WriteSlots slots = new WriteSlots(2);
    for (int i = 0; i < 5; i++) {
      submit(slots, "a");
      submit(slots, "b");
    }
    assertThat(started).containsExactly("a", "b");
    submit(slots, "c");
    running.get(0).complete(); // a's statement ends: its slot goes to the next table in turn
    running.get(1).complete();
    assertThat(started.subList(2, started.size())).as("after one of a and one of b, c's turn comes")
        .containsExactly("a", "b");
    running.get(2).complete();
    assertThat(started.get(4)).isEqualTo("c");
  }

  @Test
  void aStatementThatThrowsFreesItsSlot() {
    WriteSlots slots = new WriteSlots(1);
    Future<Void> failed = slots.run("t", () -> {
      throw new IllegalStateException("no statement");
    });
    assertThat(failed.failed()).isTrue();
    submit(slots, "t");
    assertThat(started).containsExactly("t");
  }
}
