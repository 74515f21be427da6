package io.sluice.ingest;

import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Push-style, non-blocking decoder for an import upload that is either gzip (RFC 1952, possibly several
 * concatenated members) or plain NDJSON. Compressed chunks of any size and boundaries go in through
 * {@link #feed(Buffer)}; decompressed chunks of at most {@value #OUT_CHUNK} bytes come out through the output
 * consumer, synchronously, on the calling thread. Nothing but a small fixed state (one 64 KiB inflate buffer,
 * the zlib window) is retained between calls.
 *
 * <p>Format detection looks at the first bytes: {@code 0x1f 0x8b} is gzip; a first non-whitespace byte
 * {@code '{'} (or an input that is empty or only whitespace) is plain NDJSON, passed through unchanged (the
 * output buffers are then slices of the input chunks, no copy); anything else is refused.
 *
 * <p>Gzip bomb guards, checked after every inflate step of at most 64 KiB so a bomb is stopped before its
 * next output chunk is emitted: the total output may not exceed {@code maxDecompressedBytes} (this limit also
 * applies to plain NDJSON input), and once at least 1 MiB has been produced the ratio of output bytes to the
 * compressed bytes consumed so far may not exceed {@code maxRatio}.
 *
 * <p>Any problem with the input throws {@link ImportFormatException}; after that the instance is dead and
 * every further {@code feed}/{@code finish} throws the same exception. Not thread-safe: use from one thread
 * (e.g. the event loop that reads the file or request).
 */
public final class StreamingGunzip {

  /** Maximum size of one output chunk. */
  public static final int OUT_CHUNK = 64 * 1024;

  /** The ratio check starts once this many bytes have been decompressed. */
  static final long RATIO_CHECK_FROM = 1024 * 1024;

  private static final int FHCRC = 0x02;
  private static final int FEXTRA = 0x04;
  private static final int FNAME = 0x08;
  private static final int FCOMMENT = 0x10;
  private static final int FRESERVED = 0xe0;

  private enum Mode { DETECT, PLAIN, GZIP }

  private enum State { HEADER, BODY, TRAILER, BETWEEN, PADDING }

  private enum Hdr { FIXED, XLEN, EXTRA, NAME, COMMENT, HCRC }

  private final long maxDecompressedBytes;
  private final long maxRatio;
  private final Consumer<Buffer> output;

  private Mode mode = Mode.DETECT;
  private State state;
  private long compressed;
  private long decompressed;
  private boolean finished;
  private ImportFormatException failure;

  // gzip member state
  private Inflater inflater;
  private byte[] out;
  private final CRC32 memberCrc = new CRC32();
  private final CRC32 headerCrc = new CRC32();
  private long memberOut;
  private int member; // 1-based index of the current (or last) member
  private Hdr hdr;
  private final byte[] small = new byte[10]; // fixed header, XLEN, HCRC or trailer bytes being collected
  private int smallLen;
  private int flags;
  private int extraLeft;

  /**
   * @param maxDecompressedBytes largest total output; 0 or less: no limit
   * @param maxRatio largest ratio of output bytes to compressed bytes consumed (checked from 1 MiB of output
   *     on); 0 or less: no limit
   * @param output receives the decompressed chunks (at most 64 KiB each), synchronously
   */
  public StreamingGunzip(long maxDecompressedBytes, long maxRatio, Consumer<Buffer> output) {
    this.maxDecompressedBytes = maxDecompressedBytes > 0 ? maxDecompressedBytes : Long.MAX_VALUE;
    this.maxRatio = maxRatio > 0 ? maxRatio : Long.MAX_VALUE;
    this.output = Objects.requireNonNull(output, "output");
  }

  /**
   * Feeds the next compressed (or plain) chunk; calls the output zero or more times with decompressed chunks
   * (at most 64 KiB each).
   *
   * @throws ImportFormatException on bad input or when a limit is exceeded
   */
  public void feed(Buffer chunk) {
    if (failure != null) {
      throw failure;
    }
    if (finished) {
      throw new IllegalStateException("feed after finish");
    }
    int len = chunk.length();
    if (len == 0) {
      return;
    }
    long chunkStart = compressed;
    compressed += len;
    if (mode == Mode.PLAIN) {
      passThrough(chunk, len);
      return;
    }
    if (mode == Mode.DETECT) {
      int i = 0;
      while (i < len && isWhitespace(chunk.getByte(i))) {
        i++;
      }
      if (i == len) {
        passThrough(chunk, len); // only whitespace so far: it can only be NDJSON (or garbage)
        return;
      }
      byte b = chunk.getByte(i);
      if (b == '{' || b == '[' || looksLikeText(chunk, i, len)) {
        mode = Mode.PLAIN;
        passThrough(chunk, len);
        return;
      }
      if (b != 0x1f || chunkStart + i != 0) {
        throw fail(notGzip(b, i + 1 < len ? chunk.getByte(i + 1) : null));
      }
      mode = Mode.GZIP;
      member = 1;
      startMember();
    }
    gunzip(chunk.getBytes(), len, chunkStart);
  }

  /**
   * End of input.
   *
   * @throws ImportFormatException if the gzip stream is truncated (inside a member header, its compressed data
   *     or its trailer)
   */
  public void finish() {
    if (failure != null) {
      throw failure;
    }
    if (finished) {
      return;
    }
    finished = true;
    if (mode != Mode.GZIP) {
      return; // empty, whitespace-only or NDJSON
    }
    switch (state) {
      case HEADER:
        if (member == 1 && hdr == Hdr.FIXED && smallLen == 1) {
          throw fail(notGzip((byte) 0x1f, null));
        }
        throw fail("truncated gzip file: it ends inside the header of member " + member);
      case BODY:
        throw fail("truncated gzip file: it ends inside the compressed data of member " + member + " (after "
            + decompressed + " decompressed bytes)");
      case TRAILER:
        throw fail("truncated gzip file: it ends inside the trailer of member " + member);
      default:
        release();
    }
  }

  /** Input bytes fed so far. */
  public long compressedBytes() {
    return compressed;
  }

  /** Output bytes produced so far. */
  public long decompressedBytes() {
    return decompressed;
  }

  /**
   * Frees the native inflater early (e.g. when the import is abandoned). Optional: {@link #finish()} and
   * failures do it too, and an abandoned inflater is eventually freed by the JDK. No {@code feed} may follow.
   */
  public void close() {
    if (failure == null) {
      finished = true;
    }
    release();
  }

  // ---------------------------------------------------------------------------------------------------------

  private void passThrough(Buffer chunk, int len) {
    if (decompressed + len > maxDecompressedBytes) {
      throw fail(overLimit());
    }
    decompressed += len;
    if (len <= OUT_CHUNK) {
      output.accept(chunk);
    } else {
      for (int s = 0; s < len; s += OUT_CHUNK) {
        output.accept(chunk.slice(s, Math.min(len, s + OUT_CHUNK)));
      }
    }
  }

  private void startMember() {
    state = State.HEADER;
    hdr = Hdr.FIXED;
    smallLen = 0;
    flags = 0;
    headerCrc.reset();
  }

  private void gunzip(byte[] a, int end, long base) {
    int p = 0;
    while (p < end) {
      switch (state) {
        case HEADER:
          p = header(a, p, end, base);
          break;
        case BODY:
          p = inflate(a, p, end, base);
          break;
        case TRAILER: {
          int n = Math.min(8 - smallLen, end - p);
          System.arraycopy(a, p, small, smallLen, n);
          smallLen += n;
          p += n;
          if (smallLen == 8) {
            checkTrailer();
            state = State.BETWEEN;
          }
          break;
        }
        case BETWEEN: {
          byte b = a[p];
          if (b == 0x1f) {
            member++;
            startMember(); // the header parser consumes the magic
          } else if (b == 0) {
            state = State.PADDING;
            p++;
          } else {
            throw fail("unexpected data after gzip member " + member + " at byte offset " + (base + p) + " ("
                + hex(b) + ")");
          }
          break;
        }
        case PADDING:
          while (p < end && a[p] == 0) {
            p++;
          }
          if (p < end) {
            throw fail("unexpected data after the zero padding that follows gzip member " + member
                + " at byte offset " + (base + p) + " (" + hex(a[p]) + ")");
          }
          break;
        default:
          throw new IllegalStateException();
      }
    }
  }

  /** Parses (part of) a member header; returns the new position. */
  private int header(byte[] a, int p, int end, long base) {
    while (p < end) {
      switch (hdr) {
        case FIXED: {
          byte b = a[p];
          switch (smallLen) {
            case 0:
              if (b != 0x1f) {
                throw fail(badMagic(b, base + p));
              }
              break;
            case 1:
              if (b != (byte) 0x8b) {
                if (member == 1) {
                  throw fail(notGzip((byte) 0x1f, b));
                }
                throw fail(badMagic(b, base + p));
              }
              break;
            case 2:
              if (b != 8) {
                throw fail("unsupported gzip compression method " + (b & 0xff) + " in member " + member
                    + " (only deflate, 8, is supported)");
              }
              break;
            case 3:
              if ((b & FRESERVED) != 0) {
                throw fail("invalid gzip header in member " + member + ": reserved flag bits set (" + hex(b) + ")");
              }
              flags = b & 0xff;
              break;
            default:
              break;
          }
          small[smallLen++] = b;
          headerCrc.update(b);
          p++;
          if (smallLen == 10) {
            smallLen = 0;
            nextHeaderPart(Hdr.FIXED);
          }
          break;
        }
        case XLEN: {
          byte b = a[p++];
          small[smallLen++] = b;
          headerCrc.update(b);
          if (smallLen == 2) {
            extraLeft = (small[0] & 0xff) | (small[1] & 0xff) << 8;
            smallLen = 0;
            if (extraLeft > 0) {
              hdr = Hdr.EXTRA;
            } else {
              nextHeaderPart(Hdr.EXTRA);
            }
          }
          break;
        }
        case EXTRA: {
          int n = Math.min(extraLeft, end - p);
          headerCrc.update(a, p, n);
          p += n;
          extraLeft -= n;
          if (extraLeft == 0) {
            nextHeaderPart(Hdr.EXTRA);
          }
          break;
        }
        case NAME:
        case COMMENT: {
          int z = p;
          while (z < end && a[z] != 0) {
            z++;
          }
          if (z < end) {
            headerCrc.update(a, p, z + 1 - p);
            p = z + 1;
            nextHeaderPart(hdr);
          } else {
            headerCrc.update(a, p, end - p);
            p = end;
          }
          break;
        }
        case HCRC: {
          small[smallLen++] = a[p++];
          if (smallLen == 2) {
            int expected = (small[0] & 0xff) | (small[1] & 0xff) << 8;
            if (expected != (int) (headerCrc.getValue() & 0xffff)) {
              throw fail("gzip header CRC mismatch in member " + member);
            }
            smallLen = 0;
            nextHeaderPart(Hdr.HCRC);
          }
          break;
        }
        default:
          throw new IllegalStateException();
      }
      if (state != State.HEADER) {
        return p;
      }
    }
    return p;
  }

  /** Moves on to the header part after {@code done} that the flags call for, or to the compressed data. */
  private void nextHeaderPart(Hdr done) {
    int ord = done.ordinal();
    if (ord < Hdr.XLEN.ordinal() && (flags & FEXTRA) != 0) {
      hdr = Hdr.XLEN;
    } else if (ord < Hdr.NAME.ordinal() && (flags & FNAME) != 0) {
      hdr = Hdr.NAME;
    } else if (ord < Hdr.COMMENT.ordinal() && (flags & FCOMMENT) != 0) {
      hdr = Hdr.COMMENT;
    } else if (ord < Hdr.HCRC.ordinal() && (flags & FHCRC) != 0) {
      hdr = Hdr.HCRC;
    } else {
      startBody();
    }
  }

  private void startBody() {
    if (inflater == null) {
      inflater = new Inflater(true);
      out = new byte[OUT_CHUNK];
    } else {
      inflater.reset();
    }
    memberCrc.reset();
    memberOut = 0;
    state = State.BODY;
  }

  /** Inflates from a[p..end); returns the new position (end unless the member's deflate stream ended). */
  private int inflate(byte[] a, int p, int end, long base) {
    Inflater inf = inflater;
    byte[] o = out;
    inf.setInput(a, p, end - p);
    while (true) {
      int n;
      try {
        n = inf.inflate(o, 0, o.length);
      } catch (DataFormatException e) {
        throw fail("corrupt gzip data in member " + member + " near compressed byte offset "
            + (base + end - inf.getRemaining()) + ": " + e.getMessage());
      }
      if (n > 0) {
        emit(o, n, base + end - inf.getRemaining());
      }
      if (inf.finished()) {
        smallLen = 0;
        state = State.TRAILER;
        return end - inf.getRemaining();
      }
      if (inf.needsInput()) {
        if (n < o.length) {
          return end;
        }
      } else if (n == 0) {
        if (inf.needsDictionary()) {
          throw fail("corrupt gzip data in member " + member + ": the deflate stream asks for a preset dictionary");
        }
        // zlib always progresses when it has both input and output space; be defensive anyway
        throw fail("corrupt gzip data in member " + member + " near compressed byte offset "
            + (base + end - inf.getRemaining()) + ": the inflater makes no progress");
      }
    }
  }

  private void emit(byte[] o, int n, long consumed) {
    long total = decompressed + n;
    if (total > maxDecompressedBytes) {
      throw fail(overLimit());
    }
    if (total >= RATIO_CHECK_FROM && consumed > 0 && total / (double) consumed > maxRatio) {
      throw fail("compression ratio over " + maxRatio + ": refusing a possible gzip bomb");
    }
    decompressed = total;
    memberOut += n;
    memberCrc.update(o, 0, n);
    byte[] copy = new byte[n];
    System.arraycopy(o, 0, copy, 0, n);
    output.accept(BufferInternal.buffer(Unpooled.wrappedBuffer(copy))); // Buffer.buffer(byte[]) would copy again
  }

  private void checkTrailer() {
    long crc = le32(0);
    long isize = le32(4);
    smallLen = 0;
    if (crc != memberCrc.getValue()) {
      throw fail("gzip CRC mismatch in member " + member + ": the data is corrupt");
    }
    if (isize != (memberOut & 0xffffffffL)) {
      throw fail("gzip size mismatch in member " + member + ": the trailer says " + isize + " bytes (mod 2^32), got "
          + memberOut);
    }
  }

  private long le32(int i) {
    return (small[i] & 0xffL) | (small[i + 1] & 0xffL) << 8 | (small[i + 2] & 0xffL) << 16
        | (small[i + 3] & 0xffL) << 24;
  }

  private String overLimit() {
    return "the decompressed data exceeds the limit of " + maxDecompressedBytes + " bytes";
  }

  private String badMagic(byte b, long offset) {
    return "invalid gzip header for member " + member + " at byte offset " + offset + " (" + hex(b) + ")";
  }

  private static String notGzip(byte first, Byte second) {
    return "the file is not gzip (first bytes " + hex(first) + (second == null ? "" : " " + hex(second))
        + ") nor plain NDJSON, JSON or CSV text";
  }

  private static String hex(byte b) {
    return String.format("0x%02x", b & 0xff);
  }

  /** Plain CSV (or other text) input: no control characters among its first bytes. */
  private static boolean looksLikeText(Buffer chunk, int from, int len) {
    if (chunk.getByte(from) == 0x1f) {
      return false;
    }
    for (int j = from; j < Math.min(len, from + 64); j++) {
      byte b = chunk.getByte(j);
      if ((b >= 0 && b < 0x20 && !isWhitespace(b)) || b == 0x7f) {
        return false;
      }
    }
    return true;
  }

  private static boolean isWhitespace(byte b) {
    return b == ' ' || b == '\n' || b == '\r' || b == '\t';
  }

  private ImportFormatException fail(String message) {
    failure = new ImportFormatException(message);
    release();
    return failure;
  }

  private void release() {
    if (inflater != null) {
      inflater.end();
      inflater = null;
      out = null;
    }
  }
}
