package io.sluice.cli;

import java.io.BufferedReader;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongConsumer;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/** Reading NDJSON files that may be gzipped (recognised by their magic bytes, not their name). */
final class NdjsonFiles {
  private static final int BUFFER = 1 << 16;

  private NdjsonFiles() {
  }

  static boolean isGzip(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return in.read() == 0x1f && in.read() == 0x8b;
    }
  }

  /** The decompressed content (multi-member gzip or plain) as UTF-8 lines, without a leading byte order mark. */
  static BufferedReader openLines(Path file) throws IOException {
    BufferedReader reader =
        new BufferedReader(new InputStreamReader(open(file, null, BUFFER), StandardCharsets.UTF_8), BUFFER);
    try {
      // The server skips a UTF-8 byte order mark (Windows exports); it would otherwise glue onto the first key.
      reader.mark(1);
      if (reader.read() != '\uFEFF') {
        reader.reset();
      }
    } catch (IOException e) {
      reader.close();
      throw e;
    }
    return reader;
  }

  /** gzipBuffer: compressed bytes read ahead at a time (small when the bytes consumed must be known closely). */
  private static InputStream open(Path file, CountingInputStream[] raw, int gzipBuffer) throws IOException {
    boolean gzip = isGzip(file);
    CountingInputStream counting = new CountingInputStream(Files.newInputStream(file));
    if (raw != null) {
      raw[0] = counting;
    }
    try {
      return gzip ? new GZIPInputStream(counting, gzipBuffer) : counting;
    } catch (IOException e) {
      counting.close();
      throw e;
    }
  }

  /** A row count: exact when the whole file fit in the sample; rows &lt; 0 when unknown. */
  record RowEstimate(long rows, boolean exact) {
  }

  /**
   * Row count of the file: exact if the whole file fits in the first {@code sampleLines} lines, else extrapolated
   * from the file bytes those lines took (compressed bytes for gzip). A damaged file gives the lines before the
   * damage (the import itself will report it).
   */
  static RowEstimate estimateRows(Path file, long sampleLines) throws IOException {
    CountingInputStream[] raw = new CountingInputStream[1];
    long size = Files.size(file);
    long lines = 0;
    try (InputStream in = open(file, raw, 512)) {
      byte[] buffer = new byte[4096];
      int last = '\n';
      int n;
      while ((n = in.read(buffer)) > 0) {
        for (int i = 0; i < n; i++) {
          if (buffer[i] == '\n') {
            lines++;
          }
        }
        last = buffer[n - 1];
        if (lines >= sampleLines) {
          long consumed = Math.max(1, raw[0].count());
          return new RowEstimate(Math.max(lines, Math.round((double) lines * size / consumed)), false);
        }
      }
      return new RowEstimate(lines + (last != '\n' ? 1 : 0), true);
    } catch (IOException damaged) {
      // a damaged gzip: the server will say so; until then the lines seen are the best guess
      return new RowEstimate(lines > 0 ? lines : -1, false);
    }
  }

  /** Gzips {@code file} into {@code target}, reporting the bytes of {@code file} read so far. */
  static void gzip(Path file, Path target, LongConsumer progress) throws IOException {
    try (InputStream in = Files.newInputStream(file);
        OutputStream out = new GZIPOutputStream(Files.newOutputStream(target), BUFFER)) {
      byte[] buffer = new byte[BUFFER];
      long total = 0;
      int n;
      while ((n = in.read(buffer)) > 0) {
        out.write(buffer, 0, n);
        total += n;
        progress.accept(total);
      }
    }
  }

  /** Counts the bytes read through it, e.g. to report upload progress. */
  static final class CountingInputStream extends FilterInputStream {
    private final LongConsumer listener;
    private long count;

    CountingInputStream(InputStream in) {
      this(in, c -> { });
    }

    CountingInputStream(InputStream in, LongConsumer listener) {
      super(in);
      this.listener = listener;
    }

    long count() {
      return count;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        listener.accept(++count);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count += n;
        listener.accept(count);
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = super.skip(n);
      count += skipped;
      return skipped;
    }
  }
}
