package io.sluice.ingest;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Fuzzes the NDJSON line pipeline of imports as {@link ImportSink} wires it: bytes in arbitrary chunks →
 * {@link StreamingGunzip} → {@link LineSplitter}. Acceptable: an {@link ImportFormatException}, or output that
 * is exactly right — plain NDJSON (and any other plain input accepted) passed through unchanged, gzip decoded as the JDK decodes it (and every
 * gzip file the JDK writes decoded), and lines numbered 1, 2, 3, … with the content, lengths and too-long
 * prefixes a simple reference split gives, whatever the chunking. Delivered line buffers must stay valid.
 *
 * <p>Input layout (FuzzedDataProvider): max line bytes, mode (0: the bytes as they are; 1: gzipped by the
 * JDK; 2: two gzip members and zero padding), output limit, chunking seed, then the payload. Without
 * {@code JAZZER_FUZZ} the inputs under
 * {@code src/test/resources/io/sluice/ingest/LinePipelineFuzzTestInputs/pipeline/} are replayed; see
 * docs/fuzzing.md.
 */
class LinePipelineFuzzTest {
  /** Plain input that is not NDJSON: it may be refused, or (other text formats) passed through unchanged. */
  private static final byte[] NOT_NDJSON = new byte[0];

  @FuzzTest(maxDuration = "2m")
  void pipeline(FuzzedDataProvider data) throws IOException {
    int maxLine = data.consumeInt(1, 300);
    int mode = data.consumeInt(0, 2);
    boolean limited = data.consumeBoolean();
    long seed = data.consumeLong();
    byte[] payload = data.consumeRemainingAsBytes();

    byte[] input;
    byte[] expected; // the decoded bytes when known up front, else null
    switch (mode) {
      case 1 -> {
        input = gzip(payload);
        expected = payload;
      }
      case 2 -> {
        int cut = payload.length / 2;
        byte[] first = gzip(Arrays.copyOfRange(payload, 0, cut));
        byte[] second = gzip(Arrays.copyOfRange(payload, cut, payload.length));
        input = Arrays.copyOf(first, first.length + second.length + (int) (seed & 3));
        System.arraycopy(second, 0, input, first.length, second.length);
        expected = payload;
      }
      default -> {
        input = payload;
        expected = plainExpected(payload);
      }
    }
    long limit = limited ? 1 + (seed >>> 8) % (payload.length + 2) : 1L << 30; // 0 would mean no limit

    // the pipeline, fed in chunks chosen by the seed
    ByteArrayOutputStream decoded = new ByteArrayOutputStream();
    List<String> events = new ArrayList<>();
    List<Buffer> lineBuffers = new ArrayList<>();
    List<byte[]> lineCopies = new ArrayList<>();
    long[] next = {1};
    LineSplitter splitter = new LineSplitter(maxLine, new LineSplitter.LineHandler() {
      @Override
      public void line(long lineNumber, Buffer line) {
        number(lineNumber);
        lineBuffers.add(line);
        lineCopies.add(line.getBytes());
        events.add(lineNumber + " line " + hex(line.getBytes()));
      }

      @Override
      public void tooLong(long lineNumber, long length, Buffer prefix) {
        number(lineNumber);
        events.add(lineNumber + " tooLong " + length + " " + hex(prefix.getBytes()));
      }

      private void number(long lineNumber) {
        if (lineNumber != next[0]++) {
          throw new AssertionError("line " + lineNumber + " delivered, expected " + (next[0] - 1));
        }
      }
    });
    StreamingGunzip gunzip = new StreamingGunzip(limit, 0, chunk -> {
      if (chunk.length() > StreamingGunzip.OUT_CHUNK) {
        throw new AssertionError("an output chunk of " + chunk.length() + " bytes");
      }
      decoded.writeBytes(chunk.getBytes());
      splitter.feed(chunk);
    });
    Random random = new Random(seed);
    int maxChunk = switch (random.nextInt(4)) {
      case 0 -> 1;
      case 1 -> 8;
      case 2 -> 300;
      default -> Math.max(1, input.length);
    };
    try {
      int p = 0;
      while (p < input.length) {
        int n = Math.min(input.length - p, 1 + random.nextInt(maxChunk));
        gunzip.feed(Buffer.buffer(Arrays.copyOfRange(input, p, p + n)));
        p += n;
        if (random.nextInt(8) == 0) {
          gunzip.feed(Buffer.buffer()); // empty chunks happen too
        }
      }
      gunzip.finish();
    } catch (ImportFormatException e) {
      if (e.getMessage() == null || e.getMessage().isEmpty()) {
        throw new AssertionError("an ImportFormatException without a message", e);
      }
      if (expected != null && expected != NOT_NDJSON && expected.length <= limit) {
        throw new AssertionError("refused a valid input (mode " + mode + ", " + input.length + " bytes): "
            + e.getMessage(), e);
      }
      return;
    }
    splitter.finish();

    // the decoded bytes
    byte[] out = decoded.toByteArray();
    if (out.length > limit || gunzip.decompressedBytes() != out.length
        || gunzip.compressedBytes() != input.length) {
      throw new AssertionError("counters: " + out.length + " bytes out (limit " + limit + "), decompressedBytes "
          + gunzip.decompressedBytes() + ", compressedBytes " + gunzip.compressedBytes() + " of " + input.length);
    }
    byte[] reference = expected == NOT_NDJSON ? input : expected; // accepted plain text passes unchanged
    if (reference == null) { // raw input that starts like gzip: the JDK must agree with what we accepted
      reference = jdkGunzip(input);
      if (reference == null) {
        throw new AssertionError("accepted gzip input that the JDK refuses: " + hex(input));
      }
    }
    if (!Arrays.equals(out, reference)) {
      throw new AssertionError("decoded " + hex(out) + ", expected " + hex(reference));
    }

    // the lines
    List<String> want = referenceLines(out, maxLine);
    if (!events.equals(want)) {
      throw new AssertionError("maxLine " + maxLine + ", chunks up to " + maxChunk + ": lines " + events
          + ", expected " + want);
    }
    if (splitter.lines() != want.size()) {
      throw new AssertionError("lines() is " + splitter.lines() + ", expected " + want.size());
    }
    for (int i = 0; i < lineBuffers.size(); i++) {
      if (!Arrays.equals(lineBuffers.get(i).getBytes(), lineCopies.get(i))) {
        throw new AssertionError("line buffer " + i + " changed after it was delivered");
      }
    }
    if (splitter.retainedBytes() != 0) {
      throw new AssertionError("the splitter retains " + splitter.retainedBytes() + " bytes after finish");
    }
  }

  /** Plain input: NDJSON (first non-whitespace byte '{') or only whitespace passes through; gzip magic: unknown. */
  private static byte[] plainExpected(byte[] payload) {
    for (byte b : payload) {
      if (b == ' ' || b == '\n' || b == '\r' || b == '\t') {
        continue;
      }
      if (b == '{') {
        return payload;
      }
      return payload[0] == 0x1f ? null : NOT_NDJSON; // gzip: the JDK decides
    }
    return payload;
  }

  /** Split on '\n'; one trailing '\r' is stripped; a last line without '\n' counts if non-empty. */
  private static List<String> referenceLines(byte[] out, int maxLine) {
    List<String> lines = new ArrayList<>();
    int start = 0;
    long number = 1;
    for (int i = 0; i <= out.length; i++) {
      boolean end = i == out.length;
      if (!end && out[i] != '\n') {
        continue;
      }
      if (end && i == start) {
        break;
      }
      int e = i > start && out[i - 1] == '\r' ? i - 1 : i;
      int n = e - start;
      if (n > maxLine) {
        lines.add(number + " tooLong " + n + " "
            + hex(Arrays.copyOfRange(out, start, start + Math.min(n, LineSplitter.PREFIX_BYTES))));
      } else {
        lines.add(number + " line " + hex(Arrays.copyOfRange(out, start, e)));
      }
      number++;
      start = i + 1;
    }
    return lines;
  }

  private static byte[] gzip(byte[] bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(bytes);
    }
    return out.toByteArray();
  }

  private static byte[] jdkGunzip(byte[] input) {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(input))) {
      return in.readAllBytes();
    } catch (IOException e) {
      return null;
    }
  }

  private static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }
}
