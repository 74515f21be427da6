package io.sluice.engine.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.TestPostgres;
import io.sluice.TestSeeds;
import io.sluice.core.Database;
import io.sluice.engine.FileUploadStore;
import io.sluice.engine.UploadStore;
import io.sluice.metrics.Metrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The contract of both upload stores (files under data.dir, PostgreSQL chunks): the bytes written come back
 * whole, in order, through pauses on both sides; a body of several chunks keeps the writer's queue bounded; a new
 * attempt replaces an earlier one, an abort or a delete leaves nothing, and an upload not of the acknowledged size
 * is refused.
 */
@ExtendWith(TestSeeds.class)
class UploadStoreTest {
  @TempDir
  Path dataDir;
  private Vertx vertx;
  private Context context;
  private ExecutorService workers;
  private PgEngine engine;
  private final Random random = TestSeeds.random("UploadStoreTest");

  private UploadStore store(String kind) throws Exception {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    if (kind.equals("files")) {
      Files.createDirectories(dataDir.resolve(FileUploadStore.DIR));
      return new FileUploadStore(vertx, dataDir);
    }
    workers = Executors.newFixedThreadPool(2);
    engine = new PgEngine(vertx, TestPostgres.freshDatabase(), 4, 2, "sluice", true);
    new Database(engine, 1000, Metrics.noop(), 86_400, workers); // opens the engine: creates its tables
    return engine.nodeState().uploads();
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (engine != null) {
      engine.close();
    }
    if (workers != null) {
      workers.shutdownNow();
      workers.awaitTermination(10, TimeUnit.SECONDS);
    }
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  @ParameterizedTest
  @ValueSource(strings = {"files", "postgres"})
  void bytesComeBackWholeThroughPausesAndALargeBodyIsWrittenInChunks(String kind) throws Exception {
    UploadStore store = store(kind);
    assertThat(store.shared()).isEqualTo(kind.equals("postgres"));
    String small = UUID.randomUUID().toString();
    byte[] few = bytes(100);
    assertThat(write(store, small, few)).isZero();
    assertThat(read(store, small, few.length)).isEqualTo(few);

    String large = UUID.randomUUID().toString();
    byte[] many = bytes(3 * PgUploadStore.CHUNK_BYTES + random.nextInt(PgUploadStore.CHUNK_BYTES));
    int held = write(store, large, many);
    if (store.shared()) {
      assertThat(held).as("the writer held the body back; %s", TestSeeds.replay()).isPositive();
    }
    assertThat(read(store, large, many.length)).as(TestSeeds.replay()).isEqualTo(many);
    assertThat(read(store, small, few.length)).as("another upload untouched").isEqualTo(few);
  }

  @ParameterizedTest
  @ValueSource(strings = {"files", "postgres"})
  void aNewAttemptReplacesTheLastAndAbortsAndDeletesLeaveNothing(String kind) throws Exception {
    UploadStore store = store(kind);
    String id = UUID.randomUUID().toString();
    write(store, id, bytes(PgUploadStore.CHUNK_BYTES + 10));
    byte[] again = bytes(10);
    write(store, id, again);
    assertThat(read(store, id, again.length)).isEqualTo(again);
    assertThatThrownBy(() -> read(store, id, again.length + 1)).hasMessageContaining("were acknowledged");

    await(store.delete(id));
    assertThatThrownBy(() -> read(store, id, again.length)).hasMessageContaining("gone");

    String cut = UUID.randomUUID().toString();
    await(onContext(() -> store.begin(cut).compose(writer -> {
      writer.write(Buffer.buffer(bytes(PgUploadStore.CHUNK_BYTES + 10)));
      return writer.abort();
    })));
    assertThatThrownBy(() -> read(store, cut, PgUploadStore.CHUNK_BYTES + 10)).hasMessageContaining("gone");
  }

  /** Writes the bytes in random pieces, honouring the writer's backpressure; returns how often it held back. */
  private int write(UploadStore store, String id, byte[] bytes) throws Exception {
    int[] held = {0};
    await(onContext(() -> store.begin(id).compose(writer -> {
      Promise<Void> fed = Promise.promise();
      feed(writer, bytes, 0, held, fed);
      return fed.future().compose(v -> writer.end());
    })));
    return held[0];
  }

  private void feed(UploadStore.Writer writer, byte[] bytes, int from, int[] held, Promise<Void> fed) {
    int at = from;
    while (at < bytes.length) {
      int length = Math.min(bytes.length - at, 1 + random.nextInt(64 * 1024));
      writer.write(Buffer.buffer().appendBytes(bytes, at, length));
      at += length;
      if (writer.writeQueueFull()) {
        held[0]++;
        int next = at;
        writer.drainHandler(v -> feed(writer, bytes, next, held, fed));
        return;
      }
    }
    fed.complete();
  }

  /** Reads the upload, pausing now and then as a slow consumer would. */
  private byte[] read(UploadStore store, String id, long size) throws Exception {
    Buffer read = Buffer.buffer();
    await(onContext(() -> store.open(id, size).compose(reader -> {
      Promise<Void> ended = Promise.promise();
      reader.exceptionHandler(ended::tryFail);
      reader.endHandler(v -> ended.tryComplete());
      reader.handler(chunk -> {
        read.appendBuffer(chunk);
        if (random.nextInt(4) == 0) {
          reader.pause();
          vertx.setTimer(1, t -> reader.resume());
        }
      });
      return ended.future().eventually(reader::close);
    })));
    return read.getBytes();
  }

  private <T> Future<T> onContext(java.util.function.Supplier<Future<T>> work) {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> work.get().onComplete(done));
    return done.future();
  }

  private static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  private byte[] bytes(int n) {
    byte[] bytes = new byte[n];
    random.nextBytes(bytes);
    return bytes;
  }
}
