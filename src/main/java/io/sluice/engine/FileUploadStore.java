package io.sluice.engine;

import io.sluice.files.DurableFiles;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.streams.ReadStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Uploads as files under {@code data.dir/uploads}: received into {@code id.part}, fsynced, then renamed to
 * {@code id.upload} (directory fsynced), so a complete upload is never confused with a cut one. Only this node
 * reads them.
 */
public final class FileUploadStore implements UploadStore {
  private static final Logger LOG = LoggerFactory.getLogger(FileUploadStore.class);
  public static final String DIR = "uploads";

  private final Vertx vertx;
  private final Path dir;

  public FileUploadStore(Vertx vertx, Path dataDir) {
    this.vertx = vertx;
    this.dir = dataDir.resolve(DIR);
  }

  public static Path uploadFile(Path dataDir, String id) {
    return dataDir.resolve(DIR).resolve(id + ".upload");
  }

  public static Path partFile(Path dataDir, String id) {
    return dataDir.resolve(DIR).resolve(id + ".part");
  }

  private Path upload(String id) {
    return dir.resolve(id + ".upload");
  }

  private Path part(String id) {
    return dir.resolve(id + ".part");
  }

  @Override
  public boolean shared() {
    return false;
  }

  @Override
  public Future<Writer> begin(String id) {
    Path part = part(id);
    return vertx.fileSystem().open(part.toString(), new OpenOptions().setWrite(true).setCreate(true)
        .setTruncateExisting(true)).map(file -> new Writer() {
          @Override
          public void write(Buffer chunk) {
            file.write(chunk);
          }

          @Override
          public boolean writeQueueFull() {
            return file.writeQueueFull();
          }

          @Override
          public void drainHandler(Handler<Void> handler) {
            file.drainHandler(handler);
          }

          @Override
          public Future<Void> end() {
            // Vert.x writes by the file's name on the default file system; the fsyncs go through the data
            // directory's own paths (tests simulate power loss there).
            return file.close().compose(v -> vertx.executeBlocking(() -> {
              DurableFiles.fsync(part);
              Files.move(part, upload(id), StandardCopyOption.ATOMIC_MOVE);
              DurableFiles.fsyncDirectory(dir);
              return null;
            }, false));
          }

          @Override
          public Future<Void> abort() {
            return file.close().otherwiseEmpty().compose(v -> vertx.executeBlocking(() -> {
              deleteQuietly(part);
              return null;
            }, false));
          }
        });
  }

  @Override
  public Future<Reader> open(String id, long bytes) {
    Path file = upload(id);
    if (!Files.exists(file)) {
      return Future.failedFuture(new IOException("the uploaded file is gone; upload it again"));
    }
    try {
      // A file that lost bytes since its upload was acknowledged (a storage fault) must not import as fewer rows.
      long size = Files.size(file);
      if (size != bytes) {
        return Future.failedFuture(new IOException("the uploaded file is " + size + " bytes but " + bytes
            + " were acknowledged; the disk lost part of it, upload it again"));
      }
    } catch (IOException e) {
      return Future.failedFuture(new IOException("cannot read the uploaded file: " + e.getMessage()));
    }
    return vertx.fileSystem().open(file.toString(), new OpenOptions().setRead(true).setWrite(false))
        .map(f -> new FileReader(f.setReadBufferSize(64 * 1024)));
  }

  @Override
  public Future<Void> delete(String id) {
    deleteQuietly(part(id));
    deleteQuietly(upload(id));
    return Future.succeededFuture();
  }

  @Override
  public void deletePartial(String id) {
    deleteQuietly(part(id));
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      LOG.warn("cannot delete {}", file, e);
    }
  }

  private record FileReader(AsyncFile file) implements Reader {
    @Override
    public Future<Void> close() {
      file.pause(); // a failed pipe resumes its source to drain it: stop reading before closing
      return file.close().otherwiseEmpty();
    }

    @Override
    public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
      file.exceptionHandler(handler);
      return this;
    }

    @Override
    public ReadStream<Buffer> handler(Handler<Buffer> handler) {
      file.handler(handler);
      return this;
    }

    @Override
    public ReadStream<Buffer> pause() {
      file.pause();
      return this;
    }

    @Override
    public ReadStream<Buffer> resume() {
      file.resume();
      return this;
    }

    @Override
    public ReadStream<Buffer> fetch(long amount) {
      file.fetch(amount);
      return this;
    }

    @Override
    public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
      file.endHandler(endHandler);
      return this;
    }
  }
}
