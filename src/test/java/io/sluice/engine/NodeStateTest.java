package io.sluice.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.TestPostgres;
import io.sluice.TestServer;
import io.sluice.engine.NodeState.Kind;
import io.sluice.engine.postgres.PgEngine;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Both node-state implementations keep the same contract: documents by kind and id, first writer wins. */
class NodeStateTest {
  private static Vertx vertx;
  private static PgEngine engine;
  @TempDir
  static Path dataDir;

  @BeforeAll
  static void open() {
    vertx = Vertx.vertx();
    engine = new PgEngine(vertx, TestPostgres.freshDatabase(), 4, "sluice");
    engine.loadCatalog(); // opens the schema and its internal tables
  }

  @AfterAll
  static void close() {
    engine.close();
    TestServer.await(vertx.close());
  }

  static Stream<NodeState> states() {
    return Stream.of(new FileNodeState(dataDir), engine.nodeState());
  }

  @ParameterizedTest
  @MethodSource("states")
  void documentsByKindAndId(NodeState state) {
    String a = java.util.UUID.randomUUID().toString();
    String b = java.util.UUID.randomUUID().toString();
    assertThat(state.get(Kind.IMPORT_JOBS, a)).isNull();
    state.put(Kind.IMPORT_JOBS, a, "{\"n\":1}");
    state.put(Kind.IMPORT_JOBS, b, "{\"n\":2}");
    state.put(Kind.IMPORT_JOBS, a, "{\"n\":3}");
    state.put(Kind.API_JOBS, a, "{\"other\":true}");
    assertThat(state.get(Kind.IMPORT_JOBS, a)).isEqualTo("{\"n\":3}");
    assertThat(state.list(Kind.IMPORT_JOBS)).containsEntry(a, "{\"n\":3}").containsEntry(b, "{\"n\":2}");
    assertThat(state.list(Kind.API_JOBS)).containsEntry(a, "{\"other\":true}").doesNotContainKey(b);
    state.delete(Kind.IMPORT_JOBS, a);
    state.delete(Kind.IMPORT_JOBS, a); // deleting what is gone is no error
    assertThat(state.get(Kind.IMPORT_JOBS, a)).isNull();
    assertThat(state.get(Kind.API_JOBS, a)).isEqualTo("{\"other\":true}");
    assertThat(state.where(Kind.IMPORT_JOBS, a)).contains(a).doesNotContain("{");
  }

  @ParameterizedTest
  @MethodSource("states")
  void theFirstOfWritersRacingWins(NodeState state) throws Exception {
    state.delete(Kind.UPLOAD_SECRET, NodeState.SINGLE);
    int writers = 4;
    CyclicBarrier start = new CyclicBarrier(writers);
    List<CompletableFuture<String>> stored = new ArrayList<>();
    for (int i = 0; i < writers; i++) {
      String mine = "secret-" + i;
      stored.add(CompletableFuture.supplyAsync(() -> {
        try {
          start.await();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
        return state.putIfAbsent(Kind.UPLOAD_SECRET, NodeState.SINGLE, mine);
      }));
    }
    List<String> answers = stored.stream().map(CompletableFuture::join).toList();
    assertThat(answers).as("every writer is told the same winner").containsOnly(answers.get(0));
    assertThat(state.get(Kind.UPLOAD_SECRET, NodeState.SINGLE)).isEqualTo(answers.get(0));
    assertThat(state.putIfAbsent(Kind.UPLOAD_SECRET, NodeState.SINGLE, "late")).isEqualTo(answers.get(0));
  }

  @Test
  void filesKeepTheirOldPlacesAndSecretsAreOwnerOnly() throws Exception {
    Path dir = Files.createDirectory(dataDir.resolve("layout"));
    FileNodeState files = new FileNodeState(dir);
    files.put(Kind.API_KEYS, NodeState.SINGLE, "{}");
    files.put(Kind.UPLOAD_SECRET, NodeState.SINGLE, "ab");
    files.put(Kind.IMPORT_JOBS, "j1", "{}");
    files.put(Kind.API_JOBS, "j2", "{}");
    assertThat(dir.resolve("keys.json")).exists();
    assertThat(dir.resolve("upload-secret")).hasContent("ab");
    assertThat(dir.resolve("imports/j1.json")).exists();
    assertThat(dir.resolve("jobs/j2.json")).exists();
    if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("keys.json"))))
          .isEqualTo("rw-------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("upload-secret"))))
          .isEqualTo("rw-------");
    }
    // files beside a kind's documents that are not documents are not listed
    Files.writeString(dir.resolve("imports/j1.errors.ndjson"), "{}\n");
    Files.writeString(dir.resolve("imports/j3.json.tmp"), "{");
    assertThat(files.list(Kind.IMPORT_JOBS)).isEqualTo(Map.of("j1", "{}"));
    assertThatThrownBy(() -> files.put(Kind.IMPORT_JOBS, "../escape", "{}"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> files.get(Kind.API_KEYS, "other")).isInstanceOf(IllegalArgumentException.class);
  }
}
