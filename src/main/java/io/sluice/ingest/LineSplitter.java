package io.sluice.ingest;

import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.util.Objects;

/**
 * Push-style splitter of a byte stream into '\n'-terminated lines (a trailing '\r' is stripped), for NDJSON.
 * Chunks of any size and boundaries go in through {@link #feed(Buffer)}; every complete line comes out,
 * synchronously and in order, through the {@link LineHandler}. Line numbers start at 1 and count every line,
 * blank ones included (they are delivered as empty buffers; the handler decides to skip them).
 *
 * <p>A line longer than {@code maxLineBytes} (not counting its "\n" or "\r\n") is never buffered past the
 * limit: its first {@value #PREFIX_BYTES} bytes are kept, the rest is skipped up to the next '\n', and then
 * {@link LineHandler#tooLong} gets its number, total length and that prefix. The memory retained between calls
 * is thus bounded by about {@code maxLineBytes}, whatever the input.
 *
 * <p>Delivered buffers are owned by the receiver: they stay valid after the call (they are slices of a private
 * copy of the chunk, or fresh copies for lines spanning chunks). Not thread-safe: use from one thread.
 */
public final class LineSplitter {

  /** Receives the lines. */
  public interface LineHandler {

    /** A complete line, without its "\n" or "\r\n"; empty for a blank line. */
    void line(long lineNumber, Buffer line);

    /** A line longer than the limit: its total length (without "\n"/"\r\n") and its first bytes. */
    void tooLong(long lineNumber, long length, Buffer prefix);

    /** A record that cannot become a row (e.g. a CSV record with the wrong number of fields). */
    default void invalid(long lineNumber, String message, String text) {
      line(lineNumber, Buffer.buffer());
    }
  }

  /** How many bytes of a too-long line are kept as its prefix. */
  public static final int PREFIX_BYTES = 200;

  private static final int INITIAL_CARRY = 1024;
  private static final int KEEP_CARRY = 64 * 1024;

  private final int maxLineBytes;
  private final LineHandler handler;

  /** Start of the current, incomplete line (from earlier chunks); at most maxLineBytes + 1 bytes. */
  private byte[] carry;
  private int carryLen;

  /** Inside a too-long line: bytes seen so far, its prefix (up to PREFIX_BYTES), its last byte seen. */
  private boolean skipping;
  private long skipLen;
  private byte[] skipPrefix;
  private int skipPrefixLen;
  private byte skipLast;

  private long lines;
  private boolean finished;

  public LineSplitter(int maxLineBytes, LineHandler handler) {
    if (maxLineBytes <= 0 || maxLineBytes == Integer.MAX_VALUE) {
      throw new IllegalArgumentException("maxLineBytes must be positive and below Integer.MAX_VALUE");
    }
    this.maxLineBytes = maxLineBytes;
    this.handler = Objects.requireNonNull(handler, "handler");
    this.carry = new byte[initialCarry()];
  }

  /** Feeds the next chunk; calls the handler for each line it completes. */
  public void feed(Buffer chunk) {
    if (finished) {
      throw new IllegalStateException("feed after finish");
    }
    int len = chunk.length();
    if (len == 0) {
      return;
    }
    byte[] a = chunk.getBytes(); // private copy: lines can be slices of it
    int s = 0;
    if (skipping || carryLen > 0) {
      int nl = indexOfNewline(a, 0, len);
      if (nl < 0) {
        if (skipping) {
          addToPrefix(a, 0, len);
          skipLen += len;
          skipLast = a[len - 1];
        } else {
          appendToCarry(a, 0, len);
        }
        return;
      }
      if (skipping) {
        addToPrefix(a, 0, nl);
        boolean cr = nl > 0 ? a[nl - 1] == '\r' : skipLast == '\r';
        endSkipping(skipLen + nl - (cr ? 1 : 0));
      } else {
        completeCarriedLine(a, nl);
      }
      s = nl + 1;
    }
    Buffer owned = null;
    int max = maxLineBytes;
    while (s < len) {
      int nl = indexOfNewline(a, s, len);
      if (nl < 0) {
        appendToCarry(a, s, len);
        return;
      }
      int e = nl > s && a[nl - 1] == '\r' ? nl - 1 : nl;
      int n = e - s;
      if (n > max) {
        handler.tooLong(++lines, n, Buffer.buffer(copy(a, s, Math.min(PREFIX_BYTES, n))));
      } else {
        if (owned == null) {
          owned = BufferInternal.buffer(Unpooled.wrappedBuffer(a)); // a is ours already: no second copy
        }
        handler.line(++lines, owned.slice(s, e));
      }
      s = nl + 1;
    }
  }

  /** End of input: a last line without '\n' is delivered too, if non-empty. */
  public void finish() {
    if (finished) {
      return;
    }
    finished = true;
    if (skipping) {
      endSkipping(skipLen - (skipLast == '\r' ? 1 : 0));
    } else if (carryLen > 0) {
      int n = carryLen - (carry[carryLen - 1] == '\r' ? 1 : 0);
      if (n > maxLineBytes) {
        handler.tooLong(++lines, n, Buffer.buffer(copy(carry, 0, Math.min(PREFIX_BYTES, n))));
      } else {
        handler.line(++lines, Buffer.buffer(copy(carry, 0, n)));
      }
      carryLen = 0;
    }
    carry = null;
  }

  /** Lines delivered so far, blank and too-long ones included. */
  public long lines() {
    return lines;
  }

  /** Bytes currently retained between calls (for tests of the memory bound). */
  int retainedBytes() {
    return (carry == null ? 0 : carry.length) + (skipPrefix == null ? 0 : skipPrefix.length);
  }

  // ---------------------------------------------------------------------------------------------------------

  private static int indexOfNewline(byte[] a, int from, int to) {
    for (int i = from; i < to; i++) {
      if (a[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  /** The carried bytes plus a[0..nl) form a line. */
  private void completeCarriedLine(byte[] a, int nl) {
    boolean cr = nl > 0 ? a[nl - 1] == '\r' : carry[carryLen - 1] == '\r';
    long n = (long) carryLen + nl - (cr ? 1 : 0);
    if (n > maxLineBytes) {
      handler.tooLong(++lines, n, Buffer.buffer(joined(a, (int) Math.min(PREFIX_BYTES, n))));
    } else {
      handler.line(++lines, Buffer.buffer(joined(a, (int) n)));
    }
    carryLen = 0;
    shrinkCarry();
  }

  /** The first n bytes of carry followed by a. */
  private byte[] joined(byte[] a, int n) {
    byte[] line = new byte[n];
    int fromCarry = Math.min(carryLen, n);
    System.arraycopy(carry, 0, line, 0, fromCarry);
    System.arraycopy(a, 0, line, fromCarry, n - fromCarry);
    return line;
  }

  /** Keeps a[s..e), the start of an incomplete line, or switches to skipping if the line is now too long. */
  private void appendToCarry(byte[] a, int s, int e) {
    int n = e - s;
    long total = (long) carryLen + n;
    // maxLineBytes + 1: the last byte may be a '\r' that the coming '\n' makes part of the terminator
    if (total > (long) maxLineBytes + 1) {
      skipping = true;
      skipPrefix = new byte[PREFIX_BYTES];
      skipPrefixLen = 0;
      addToPrefix(carry, 0, carryLen);
      addToPrefix(a, s, e);
      skipLen = total;
      skipLast = a[e - 1];
      carryLen = 0;
      shrinkCarry();
      return;
    }
    if (total > carry.length) {
      long cap = Math.max(total, (long) carry.length * 2);
      byte[] bigger = new byte[(int) Math.min(cap, (long) maxLineBytes + 1)];
      System.arraycopy(carry, 0, bigger, 0, carryLen);
      carry = bigger;
    }
    System.arraycopy(a, s, carry, carryLen, n);
    carryLen = (int) total;
  }

  /** Completes the prefix of a too-long line with a[s..e), as far as it has room. */
  private void addToPrefix(byte[] a, int s, int e) {
    int n = Math.min(e - s, PREFIX_BYTES - skipPrefixLen);
    if (n > 0) {
      System.arraycopy(a, s, skipPrefix, skipPrefixLen, n);
      skipPrefixLen += n;
    }
  }

  private void endSkipping(long length) {
    // the prefix may hold a '\r' of the terminator when the line is shorter than PREFIX_BYTES
    byte[] prefix = copy(skipPrefix, 0, (int) Math.min(skipPrefixLen, length));
    skipping = false;
    skipPrefix = null;
    skipLen = 0;
    handler.tooLong(++lines, length, Buffer.buffer(prefix));
  }

  private void shrinkCarry() {
    if (carry.length > KEEP_CARRY) {
      carry = new byte[initialCarry()];
    }
  }

  private int initialCarry() {
    return Math.min(INITIAL_CARRY, maxLineBytes + 1);
  }

  private static byte[] copy(byte[] a, int from, int n) {
    byte[] c = new byte[n];
    System.arraycopy(a, from, c, 0, n);
    return c;
  }
}
