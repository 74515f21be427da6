package io.sluice.engine;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * Where the files PUT to signed upload URLs are kept until their import ends: files under this node's data
 * directory ({@link FileUploadStore}: a single server, Lucene or PostgreSQL), or the shared PostgreSQL store (a
 * cluster: any node may receive an upload and any node may import it, even after the receiving node died).
 *
 * <p>Every method returns at once; the futures complete on the caller's context. Writing and reading keep memory
 * flat with backpressure.
 */
public interface UploadStore {

  /** Whether every node sharing the store reads the uploads (then any node may run an uploaded import). */
  boolean shared();

  /** Starts receiving upload {@code id}'s bytes, replacing what an earlier attempt left. */
  Future<Writer> begin(String id);

  /**
   * Upload {@code id}'s bytes, from the first; fails (with a message for the job's status) when the upload is gone
   * or is not the {@code bytes} long that were acknowledged.
   */
  Future<Reader> open(String id, long bytes);

  /** Deletes the upload, received or partial, if there is one. */
  Future<Void> delete(String id);

  /**
   * Deletes what an upload cut by a stop or crash of this node left behind; a shared store keeps it (another node
   * may be receiving that upload), overwritten by the next attempt or deleted with the job.
   */
  void deletePartial(String id);

  /** An upload being received: {@link #end} makes it complete and durable. */
  interface Writer {
    void write(Buffer chunk);

    /** Stop feeding it until the drain handler is called. */
    boolean writeQueueFull();

    void drainHandler(Handler<Void> handler);

    /** Everything written is durable (and the upload readable by {@link #open}) once this succeeds. */
    Future<Void> end();

    /** Gives up the attempt: what it wrote is deleted. */
    Future<Void> abort();
  }

  /** An upload's bytes as a stream; {@link #close} releases it however far it was read. */
  interface Reader extends ReadStream<Buffer> {
    Future<Void> close();
  }
}
