package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sluice.TestPostgres;
import io.sluice.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Background work runs niced (Linux, {@code store.background.nice}), on either engine: after an import, the
 * threads that stored its batches (and on Lucene those that committed them) run at the configured niceness, and
 * the threads that serve requests (HTTP loops, both store lanes) at the server's own. Whether that makes searches
 * faster during an import is for the benchmark to say (bench.sh --mixed), not a test.
 */
@ExtendWith(VertxExtension.class)
class BackgroundPriorityTest {
  private static final int NICE = 7;

  @TempDir
  Path dataDir;

  @Test
  void importBatchesAndCommitsRunNicedAndRequestThreadsDoNot(Vertx vertx) {
    assumeTrue(Files.isSymbolicLink(Path.of("/proc/thread-self")) && onPath("renice"),
        "thread priorities are lowered on Linux with renice only");
    int ownNice = niceOf(Path.of("/proc/thread-self/stat"));
    assumeTrue(ownNice == 0, "the test runs at the default priority");
    Set<String> before = threadIds();
    TestServer server = new TestServer(vertx, dataDir, Map.of("import.batch.rows", 2,
        "store.background.nice", NICE)).start();
    try {
      assertThat(server.put("/api/v1/schema/events", new JsonObject(
          "{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"},\"text\":{\"type\":\"Text\"}}}")).status())
          .isEqualTo(200);
      StringBuilder file = new StringBuilder();
      for (int i = 0; i < 20; i++) {
        file.append("{\"id\":").append(i).append(",\"text\":\"row ").append(i).append("\"}\n");
      }
      JsonObject initiated = server.post("/api/v1/data/events/file", new JsonObject()).json();
      assertThat(server.upload(initiated.getString("url"), Buffer.buffer(file.toString())).status()).isEqualTo(200);
      String id = initiated.getString("id");
      assertThat(server.post("/api/v1/data/events/file/" + id, new JsonObject()).status()).isEqualTo(200);
      assertThat(server.awaitImport("events", id).getJsonObject("status").getString("phase")).isEqualTo("Finished");
      assertThat(server.search(new JsonObject().put("from", "events")).total()).isEqualTo(20);

      Map<String, List<Integer>> nice = niceByThreadName(before);
      assertThat(nice.get("sluice-backgrou")).as("the threads that stored the import's batches: %s", nice)
          .isNotEmpty().containsOnly(NICE);
      if (!TestPostgres.chosen()) {
        assertThat(nice.get("sluice-commit")).as("Lucene's commit threads: %s", nice).isNotEmpty().containsOnly(NICE);
      }
      assertThat(nice.get("sluice-store-re")).as("the read lane: %s", nice).isNotEmpty().containsOnly(0);
      assertThat(nice.get("sluice-store-wr")).as("the write lane, which serves small writes too: %s", nice)
          .isNotEmpty().containsOnly(0);
      assertThat(nice.getOrDefault("vert.x-eventloo", List.of())).as("the HTTP event loops: %s", nice)
          .allMatch(n -> n == 0);
    } finally {
      server.stop();
    }
  }

  private static Set<String> threadIds() {
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      return tasks.map(task -> task.getFileName().toString()).collect(Collectors.toSet());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Niceness of this JVM's threads started since {@code before} (earlier tests' servers leave none running, but
   * a thread pool's threads may linger), by their kernel name: the Java name's first 15 characters.
   */
  private static Map<String, List<Integer>> niceByThreadName(Set<String> before) {
    Map<String, List<Integer>> byName = new TreeMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      tasks.filter(task -> !before.contains(task.getFileName().toString())).forEach(task -> {
        try {
          String stat = Files.readString(task.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          byName.computeIfAbsent(name.replaceAll("-\\d+$", ""), k -> new ArrayList<>()).add(niceOf(stat));
        } catch (IOException ended) {
          // a thread that ended while listed
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return byName;
  }

  private static int niceOf(Path stat) {
    try {
      return niceOf(Files.readString(stat));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Field 19 of proc(5)'s stat (the fields after the name start at field 3). */
  private static int niceOf(String stat) {
    return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]);
  }

  private static boolean onPath(String command) {
    return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        .anyMatch(dir -> Files.isExecutable(Path.of(dir, command)));
  }
}
