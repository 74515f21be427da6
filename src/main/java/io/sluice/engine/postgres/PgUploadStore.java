package io.sluice.engine.postgres;

import io.sluice.engine.UploadStore;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;

/**
 * Uploads in PostgreSQL, so every node sharing the database reads them: {@code _upload_chunk} (job, seq, bytes;
 * primary key job and seq) in the engine's schema. A writer sends chunks of {@link #CHUNK_BYTES} as the body
 * arrives, one statement at a time, each committed before the next; with two chunks queued it reports its queue
 * full, so a fast client is paused and memory stays flat. A reader fetches one chunk per demand, in order.
 * Statements are the reactive client's: nothing blocks a thread.
 */
public final class PgUploadStore implements UploadStore {
  static final String TABLE = "_upload_chunk";
  /** Large enough that a statement's round trip is small beside its bytes, small enough to hold a few. */
  public static final int CHUNK_BYTES = 1 << 20;
  private static final int MAX_QUEUED = 2;

  private final Pool pool;
  private final String table;

  PgUploadStore(Pool pool, String table) {
    this.pool = pool;
    this.table = table;
  }

  static String createTable(String table) {
    return "CREATE TABLE IF NOT EXISTS " + table + " (job text NOT NULL, seq integer NOT NULL, bytes bytea NOT NULL,"
        + " PRIMARY KEY (job, seq))";
  }

  @Override
  public boolean shared() {
    return true;
  }

  @Override
  public Future<Writer> begin(String id) {
    return delete(id).map(v -> new ChunkWriter(id));
  }

  @Override
  public Future<Reader> open(String id, long bytes) {
    return pool.preparedQuery("SELECT count(*), coalesce(sum(length(bytes)), 0), coalesce(max(seq), -1) FROM "
        + table + " WHERE job = $1").execute(Tuple.of(id)).compose(rows -> {
          Row row = rows.iterator().next();
          long chunks = row.getLong(0);
          long size = row.getLong(1);
          if (size != bytes || row.getInteger(2) != chunks - 1) {
            return Future.failedFuture(new IOException(chunks == 0 && bytes > 0
                ? "the uploaded file is gone; upload it again"
                : "the uploaded file is " + size + " bytes in " + chunks + " chunks but " + bytes
                    + " were acknowledged; upload it again"));
          }
          return Future.succeededFuture(new ChunkReader(id, (int) chunks));
        });
  }

  @Override
  public Future<Void> delete(String id) {
    return pool.preparedQuery("DELETE FROM " + table + " WHERE job = $1").execute(Tuple.of(id)).mapEmpty();
  }

  @Override
  public void deletePartial(String id) {
    // kept: another node may be receiving it
  }

  /** Chunks are inserted in order, one statement after the other; {@link #end} waits for the last. */
  private final class ChunkWriter implements Writer {
    private final String id;
    private Buffer pending = Buffer.buffer();
    private int seq;
    private int queued;
    private Future<Void> last = Future.succeededFuture();
    private Handler<Void> drain;

    ChunkWriter(String id) {
      this.id = id;
    }

    @Override
    public void write(Buffer chunk) {
      pending.appendBuffer(chunk);
      if (pending.length() >= CHUNK_BYTES) {
        send();
      }
    }

    private void send() {
      Buffer bytes = pending;
      pending = Buffer.buffer();
      int at = seq++;
      queued++;
      last = last.compose(v -> pool.preparedQuery("INSERT INTO " + table + " (job, seq, bytes) VALUES ($1, $2, $3)")
          .execute(Tuple.of(id, at, bytes)).<Void>mapEmpty()).andThen(ar -> {
            queued--;
            Handler<Void> handler = drain;
            if (handler != null && !writeQueueFull()) {
              drain = null;
              handler.handle(null);
            }
          });
    }

    @Override
    public boolean writeQueueFull() {
      return queued >= MAX_QUEUED;
    }

    @Override
    public void drainHandler(Handler<Void> handler) {
      this.drain = handler;
    }

    @Override
    public Future<Void> end() {
      if (pending.length() > 0) {
        send();
      }
      return last;
    }

    @Override
    public Future<Void> abort() {
      pending = Buffer.buffer();
      return last.otherwiseEmpty().compose(v -> delete(id));
    }
  }

  /** One chunk fetched per step while there is demand; handlers run on the context that opened it. */
  private final class ChunkReader implements Reader {
    private final String id;
    private final int chunks;
    private int next;
    private long demand = Long.MAX_VALUE;
    private boolean reading;
    private boolean closed;
    private Handler<Buffer> handler;
    private Handler<Void> endHandler;
    private Handler<Throwable> exceptionHandler;

    ChunkReader(String id, int chunks) {
      this.id = id;
      this.chunks = chunks;
    }

    private void read() {
      if (reading || closed || demand == 0 || handler == null) {
        return;
      }
      if (next >= chunks) {
        closed = true;
        if (endHandler != null) {
          endHandler.handle(null);
        }
        return;
      }
      reading = true;
      pool.preparedQuery("SELECT bytes FROM " + table + " WHERE job = $1 AND seq = $2").execute(Tuple.of(id, next))
          .onComplete(ar -> {
            reading = false;
            if (closed) {
              return;
            }
            if (ar.failed() || ar.result().size() == 0) {
              closed = true;
              if (exceptionHandler != null) {
                exceptionHandler.handle(ar.failed() ? ar.cause()
                    : new IOException("chunk " + next + " of the uploaded file is gone; upload it again"));
              }
              return;
            }
            next++;
            if (demand != Long.MAX_VALUE) {
              demand--;
            }
            handler.handle(ar.result().iterator().next().getBuffer(0));
            read();
          });
    }

    @Override
    public Future<Void> close() {
      closed = true;
      return Future.succeededFuture();
    }

    @Override
    public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
      this.exceptionHandler = handler;
      return this;
    }

    @Override
    public ReadStream<Buffer> handler(Handler<Buffer> handler) {
      this.handler = handler;
      read();
      return this;
    }

    @Override
    public ReadStream<Buffer> pause() {
      demand = 0;
      return this;
    }

    @Override
    public ReadStream<Buffer> resume() {
      return fetch(Long.MAX_VALUE);
    }

    @Override
    public ReadStream<Buffer> fetch(long amount) {
      demand = amount == Long.MAX_VALUE || demand > Long.MAX_VALUE - amount ? Long.MAX_VALUE : demand + amount;
      read();
      return this;
    }

    @Override
    public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
      this.endHandler = endHandler;
      return this;
    }
  }
}
