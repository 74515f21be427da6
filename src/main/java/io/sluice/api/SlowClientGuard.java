package io.sluice.api;

import io.vertx.core.Vertx;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Ends a long request body that trickles in: the stream endpoint and upload URLs have no whole-request deadline
 * (a large import may rightly take hours), and a connection's idle timeout is reset by every byte, so a client
 * sending one byte every few seconds would hold a connection, a request budget and an import slot forever.
 *
 * <p>Checked on a timer (never blocking the event loop): the body must not stop for stream.idle.timeout.seconds,
 * and each such period must bring at least stream.min.bytes.per.second on average. Time while Sluice itself holds
 * the client back ({@code heldBack}: the import window or the file's write queue is full, so the request is
 * paused) does not count against the client.
 */
final class SlowClientGuard {
  private final Vertx vertx;
  private final long idleNanos;
  private final long minBytesPerSecond;
  private final LongSupplier bytes;
  private final BooleanSupplier heldBack;
  private final BooleanSupplier finished;
  private final Consumer<String> violated;
  private final long timer;
  private long lastBytes;
  private long lastByteAt;
  private long windowStart;
  private long windowBytes;

  /**
   * bytes: body bytes received so far; heldBack: whether Sluice paused the request; finished: the body ended (the
   * guard stops); violated: called once with the reason, on the event loop of the caller.
   */
  SlowClientGuard(Vertx vertx, int idleSeconds, long minBytesPerSecond, LongSupplier bytes, BooleanSupplier heldBack,
      BooleanSupplier finished, Consumer<String> violated) {
    this.vertx = vertx;
    this.idleNanos = idleSeconds * 1_000_000_000L;
    this.minBytesPerSecond = minBytesPerSecond;
    this.bytes = bytes;
    this.heldBack = heldBack;
    this.finished = finished;
    this.violated = violated;
    long now = System.nanoTime();
    lastByteAt = now;
    windowStart = now;
    this.timer = vertx.setPeriodic(Math.max(100, Math.min(1000, idleSeconds * 250L)), id -> check());
  }

  void stop() {
    vertx.cancelTimer(timer);
  }

  private void check() {
    if (finished.getAsBoolean()) {
      stop();
      return;
    }
    long now = System.nanoTime();
    long received = bytes.getAsLong();
    if (received != lastBytes) {
      windowBytes += received - lastBytes;
      lastBytes = received;
      lastByteAt = now;
    }
    if (heldBack.getAsBoolean()) {
      lastByteAt = now; // our pause, not the client's
      windowStart = now;
      windowBytes = 0;
      return;
    }
    double idleSeconds = idleNanos / 1e9;
    if (now - lastByteAt >= idleNanos) {
      stop();
      violated.accept("no data arrived for " + fmt(idleSeconds) + " s (stream.idle.timeout.seconds)");
      return;
    }
    if (now - windowStart >= idleNanos) {
      double seconds = (now - windowStart) / 1e9;
      if (minBytesPerSecond > 0 && windowBytes < minBytesPerSecond * seconds) {
        stop();
        violated.accept("the body arrived at " + fmt(windowBytes / seconds) + " bytes/s over the last "
            + fmt(seconds) + " s, under the minimum of " + minBytesPerSecond + " (stream.min.bytes.per.second)");
        return;
      }
      windowStart = now;
      windowBytes = 0;
    }
  }

  private static String fmt(double value) {
    return value == Math.rint(value) ? Long.toString((long) value) : String.format("%.1f", value);
  }
}
