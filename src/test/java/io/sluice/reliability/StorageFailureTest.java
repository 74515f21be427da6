package io.sluice.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.TestServer;
import io.sluice.engine.lucene.DirectoryFactory;
import io.sluice.engine.lucene.LogFile;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.FilterDirectory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexOutput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * I/O failures are never acknowledged: a write whose files cannot be written or synced (here: a disk that is
 * "full") gets a 503 naming the cause, the store refuses further writes until restart while reads go on, and
 * nothing acknowledged before is lost.
 */
@ExtendWith(VertxExtension.class)
class StorageFailureTest {
  @TempDir
  Path dataDir;

  static final AtomicBoolean DISK_FULL = new AtomicBoolean();

  /** A directory whose new files and syncs fail while {@link #DISK_FULL} is set. */
  static final class FullDiskDirectory extends FilterDirectory {
    FullDiskDirectory(Directory in) {
      super(in);
    }

    private void check() throws IOException {
      checkSpace();
    }

    @Override
    public IndexOutput createOutput(String name, IOContext context) throws IOException {
      check();
      return super.createOutput(name, context);
    }

    @Override
    public IndexOutput createTempOutput(String prefix, String suffix, IOContext context) throws IOException {
      check();
      return super.createTempOutput(prefix, suffix, context);
    }

    @Override
    public void sync(java.util.Collection<String> names) throws IOException {
      check();
      super.sync(names);
    }
  }

  /** Lucene directories and write-ahead log files that fail while {@link #DISK_FULL} is set. */
  static final class FullDisk implements DirectoryFactory {
    @Override
    public Directory open(Path path) throws IOException {
      return new FullDiskDirectory(FSDirectory.open(path));
    }

    @Override
    public LogFile createLog(Path path) throws IOException {
      checkSpace();
      LogFile file = LogFile.create(path);
      return new LogFile() {
        @Override
        public void write(ByteBuffer bytes) throws IOException {
          checkSpace();
          file.write(bytes);
        }

        @Override
        public void force() throws IOException {
          checkSpace();
          file.force();
        }

        @Override
        public void close() throws IOException {
          file.close();
        }
      };
    }
  }

  static void checkSpace() throws IOException {
    if (DISK_FULL.get()) {
      throw new IOException("No space left on device");
    }
  }

  @Test
  void diskFullIsA503NeverAnAcknowledgementAndRecoversAfterRestart(Vertx vertx) {
    DISK_FULL.set(false);
    TestServer server = new TestServer(vertx, dataDir).withDirectories(new FullDisk()).start();
    try {
      server.put("/api/v1/schema/t", new JsonObject("{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"}}}"));
      assertThat(server.post("/api/v1/data/t/batch", new JsonArray("[{\"id\":1},{\"id\":2}]")).status()).isEqualTo(200);

      DISK_FULL.set(true);
      var failed = server.post("/api/v1/data/t/batch", new JsonArray("[{\"id\":3}]"));
      assertThat(failed.status()).as(failed.toString()).isEqualTo(503);
      assertThat(failed.header("x-error-cause")).isEqualTo("DiskFull");
      assertThat(failed.json().getString("message")).contains("disk is full");

      // Latched: refused even once space returns, reads still served, health says degraded.
      DISK_FULL.set(false);
      var refused = server.post("/api/v1/data/t/batch", new JsonArray("[{\"id\":4}]"));
      assertThat(refused.status()).isEqualTo(503);
      assertThat(refused.json().getString("message")).contains("until restart");
      var health = server.get("/api/v1/health");
      assertThat(health.status()).isEqualTo(503);
      assertThat(health.json().getString("status")).isEqualTo("degraded");
      assertThat(server.search(new JsonObject().put("from", "t")).json().getLong("total")).isEqualTo(2);

      server.restart();
      assertThat(server.get("/api/v1/health").status()).isEqualTo(200);
      var ids = server.search(new JsonObject().put("from", "t").put("orderBy", "id")).json().getJsonArray("hits");
      assertThat(ids.stream().map(h -> ((JsonObject) h).getInteger("id"))).as("acknowledged rows only")
          .containsExactly(1, 2);
      assertThat(server.post("/api/v1/data/t/batch", new JsonArray("[{\"id\":5}]")).status()).isEqualTo(200);
    } finally {
      DISK_FULL.set(false);
      server.stop();
    }
  }
}
