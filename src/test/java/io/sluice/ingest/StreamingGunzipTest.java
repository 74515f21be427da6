package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.TestSeeds;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestSeeds.class)
class StreamingGunzipTest {

  private static final long NO_LIMIT = Long.MAX_VALUE;

  /** Collects the output and checks the chunk size contract. */
  private static final class Sink {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int calls;

    void accept(Buffer b) {
      assertThat(b.length()).isBetween(1, StreamingGunzip.OUT_CHUNK);
      bytes.writeBytes(b.getBytes());
      calls++;
    }
  }

  // ------------------------------------------------------------------------------------------ helpers

  static byte[] gzip(byte[] data) {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
      gz.write(data);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return bos.toByteArray();
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      bos.writeBytes(p);
    }
    return bos.toByteArray();
  }

  static byte[] ndjson(int rows, long seed) {
    Random r = new Random(seed);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < rows; i++) {
      sb.append("{\"id\":").append(i).append(",\"name\":\"user").append(r.nextInt(100000))
          .append("\",\"score\":").append(r.nextDouble()).append("}\n");
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  static byte[] rawDeflate(byte[] data) {
    Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    d.setInput(data);
    d.finish();
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    while (!d.finished()) {
      bos.write(buf, 0, d.deflate(buf));
    }
    d.end();
    return bos.toByteArray();
  }

  /** A gzip member with FEXTRA, FNAME, FCOMMENT and FHCRC, built by hand. */
  static byte[] gzipWithAllHeaderFields(byte[] data, boolean goodHeaderCrc) {
    ByteArrayOutputStream h = new ByteArrayOutputStream();
    h.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 0x04 | 0x08 | 0x10 | 0x02, 1, 2, 3, 4, 0, 3});
    byte[] extra = "AB\u0003\u0000xyz".getBytes(StandardCharsets.ISO_8859_1); // one subfield, 3 bytes
    h.write(extra.length & 0xff);
    h.write(extra.length >> 8);
    h.writeBytes(extra);
    h.writeBytes("data.ndjson\0".getBytes(StandardCharsets.ISO_8859_1));
    h.writeBytes("a comment\0".getBytes(StandardCharsets.ISO_8859_1));
    CRC32 hc = new CRC32();
    hc.update(h.toByteArray());
    int crc16 = (int) (hc.getValue() & 0xffff) ^ (goodHeaderCrc ? 0 : 1);
    h.write(crc16 & 0xff);
    h.write(crc16 >> 8);
    h.writeBytes(rawDeflate(data));
    CRC32 c = new CRC32();
    c.update(data);
    writeLe32(h, c.getValue());
    writeLe32(h, data.length);
    return h.toByteArray();
  }

  static void writeLe32(ByteArrayOutputStream o, long v) {
    for (int i = 0; i < 4; i++) {
      o.write((int) (v >> (8 * i)) & 0xff);
    }
  }

  static byte[] run(byte[] input, int[] chunkSizes) {
    Sink sink = new Sink();
    StreamingGunzip g = new StreamingGunzip(NO_LIMIT, NO_LIMIT, sink::accept);
    int p = 0;
    int i = 0;
    while (p < input.length) {
      int n = Math.min(chunkSizes[i++ % chunkSizes.length], input.length - p);
      g.feed(Buffer.buffer(Arrays.copyOfRange(input, p, p + n)));
      p += n;
    }
    g.finish();
    assertThat(g.compressedBytes()).isEqualTo(input.length);
    assertThat(g.decompressedBytes()).isEqualTo(sink.bytes.size());
    return sink.bytes.toByteArray();
  }

  static byte[] run(byte[] input, int chunkSize) {
    return run(input, new int[] {chunkSize});
  }

  static byte[] runSplitAt(byte[] input, int split) {
    Sink sink = new Sink();
    StreamingGunzip g = new StreamingGunzip(NO_LIMIT, NO_LIMIT, sink::accept);
    g.feed(Buffer.buffer(Arrays.copyOfRange(input, 0, split)));
    g.feed(Buffer.buffer(Arrays.copyOfRange(input, split, input.length)));
    g.finish();
    return sink.bytes.toByteArray();
  }

  /** Feeds the input in one chunk then finishes; returns the exception thrown by either. */
  static ImportFormatException failure(byte[] input, long maxBytes, long maxRatio) {
    StreamingGunzip g = new StreamingGunzip(maxBytes, maxRatio, b -> { });
    try {
      g.feed(Buffer.buffer(input));
      g.finish();
    } catch (ImportFormatException e) {
      return e;
    }
    throw new AssertionError("no ImportFormatException");
  }

  // ------------------------------------------------------------------------------------------ tests

  @Test
  void singleMember() {
    byte[] data = ndjson(5000, 1);
    byte[] gz = gzip(data);
    assertThat(run(gz, gz.length)).isEqualTo(data);
    assertThat(run(gz, 8192)).isEqualTo(data);
  }

  @Test
  void largeOutputComesInChunksOfAtMost64KiB() {
    byte[] data = ndjson(20000, 2); // ~1 MB, compresses well
    byte[] gz = gzip(data);
    Sink sink = new Sink();
    StreamingGunzip g = new StreamingGunzip(NO_LIMIT, NO_LIMIT, sink::accept);
    g.feed(Buffer.buffer(gz));
    g.finish();
    assertThat(sink.bytes.toByteArray()).isEqualTo(data);
    assertThat(sink.calls).isGreaterThanOrEqualTo(data.length / StreamingGunzip.OUT_CHUNK);
  }

  @Test
  void multiMember() {
    byte[] a = ndjson(300, 3);
    byte[] b = ndjson(500, 4);
    byte[] c = new byte[0];
    byte[] gz = concat(gzip(a), gzip(c), gzip(b));
    assertThat(run(gz, gz.length)).isEqualTo(concat(a, c, b));
    assertThat(run(gz, 7)).isEqualTo(concat(a, c, b));
  }

  @Test
  void headerWithExtraNameCommentAndHeaderCrc() {
    byte[] data = ndjson(100, 5);
    byte[] gz = gzipWithAllHeaderFields(data, true);
    assertThat(run(gz, gz.length)).isEqualTo(data);
    assertThat(run(gz, 1)).isEqualTo(data);

    assertThatThrownBy(() -> run(gzipWithAllHeaderFields(data, false), 1000))
        .isInstanceOf(ImportFormatException.class).hasMessageContaining("header CRC");
  }

  @Test
  void everySplitPointAndOneByteChunks() {
    byte[] a = ndjson(20, 6);
    byte[] b = ndjson(15, 7);
    byte[] expected = concat(a, b, a);
    byte[] gz = concat(gzipWithAllHeaderFields(a, true), gzip(b), gzip(a), new byte[3]);
    for (int split = 0; split <= gz.length; split++) {
      assertThat(runSplitAt(gz, split)).as("split at %d", split).isEqualTo(expected);
    }
    assertThat(run(gz, 1)).isEqualTo(expected);
  }

  @Test
  void randomChunkSizes() {
    long seed = TestSeeds.seed("StreamingGunzipTest.randomChunkSizes");
    Random r = new Random(seed);
    byte[] a = ndjson(3000, seed);
    byte[] b = ndjson(10, seed + 1);
    byte[] expected = concat(a, b);
    byte[] gz = concat(gzip(a), gzipWithAllHeaderFields(b, true));
    for (int round = 0; round < 50; round++) {
      int[] sizes = new int[37];
      int max = 1 + r.nextInt(round < 25 ? 64 : 100_000);
      for (int i = 0; i < sizes.length; i++) {
        sizes[i] = 1 + r.nextInt(max);
      }
      assertThat(run(gz, sizes)).as("seed %d round %d", seed, round).isEqualTo(expected);
    }
  }

  @Test
  void truncatedAnywhereFails() {
    byte[] gz = gzipWithAllHeaderFields(ndjson(50, 8), true);
    for (int cut = 1; cut < gz.length; cut++) {
      byte[] prefix = Arrays.copyOf(gz, cut);
      assertThat(failure(prefix, NO_LIMIT, NO_LIMIT)).as("cut at %d", cut).isNotNull();
    }
    assertThat(failure(Arrays.copyOf(gz, 12), NO_LIMIT, NO_LIMIT)).hasMessageContaining("truncated")
        .hasMessageContaining("header");
    assertThat(failure(Arrays.copyOf(gz, gz.length - 20), NO_LIMIT, NO_LIMIT)).hasMessageContaining("truncated")
        .hasMessageContaining("compressed data");
    assertThat(failure(Arrays.copyOf(gz, gz.length - 3), NO_LIMIT, NO_LIMIT)).hasMessageContaining("truncated")
        .hasMessageContaining("trailer");
  }

  @Test
  void truncatedSecondMemberFails() {
    byte[] gz = concat(gzip(ndjson(10, 9)), gzip(ndjson(10, 10)));
    ImportFormatException e = failure(Arrays.copyOf(gz, gz.length - 1), NO_LIMIT, NO_LIMIT);
    assertThat(e).hasMessageContaining("member 2");
  }

  @Test
  void wrongCrcOrSizeFails() {
    byte[] gz = gzip(ndjson(100, 11));
    byte[] badCrc = gz.clone();
    badCrc[gz.length - 8] ^= 1;
    assertThat(failure(badCrc, NO_LIMIT, NO_LIMIT)).hasMessageContaining("CRC mismatch");
    byte[] badSize = gz.clone();
    badSize[gz.length - 4] ^= 1;
    assertThat(failure(badSize, NO_LIMIT, NO_LIMIT)).hasMessageContaining("size mismatch");
  }

  @Test
  void corruptDeflateDataFailsWithOffset() {
    byte[] gz = gzip(new byte[0]);
    byte[] bad = concat(Arrays.copyOf(gz, 10), new byte[] {(byte) 0xff, (byte) 0xff, 0, 0, 0, 0, 0, 0, 0, 0});
    assertThat(failure(bad, NO_LIMIT, NO_LIMIT)).hasMessageContaining("corrupt").hasMessageContaining("offset");
  }

  @Test
  void notGzipNorNdjson() {
    assertThat(failure(new byte[] {'P', 'K', 3, 4, 0, 0}, NO_LIMIT, NO_LIMIT))
        .hasMessage("the file is not gzip (first bytes 0x50 0x4b) nor plain NDJSON, JSON or CSV text")
        .hasNoCause();
    assertThat(failure(new byte[] {0x1f, 0x00, 1}, NO_LIMIT, NO_LIMIT))
        .hasMessage("the file is not gzip (first bytes 0x1f 0x00) nor plain NDJSON, JSON or CSV text");
    assertThat(failure(new byte[] {0x1f}, NO_LIMIT, NO_LIMIT)).hasMessageContaining("not gzip");
    assertThat(new ImportFormatException("x").getStackTrace()).isEmpty();
  }

  @Test
  void failureIsSticky() {
    StreamingGunzip g = new StreamingGunzip(NO_LIMIT, NO_LIMIT, b -> { });
    assertThatThrownBy(() -> g.feed(Buffer.buffer(new byte[] {(byte) 0x1f, 0x00, 1}))).isInstanceOf(ImportFormatException.class);
    assertThatThrownBy(() -> g.feed(Buffer.buffer("{}"))).isInstanceOf(ImportFormatException.class);
    assertThatThrownBy(g::finish).isInstanceOf(ImportFormatException.class);
  }

  @Test
  void trailingZeroPaddingToleratedButNotGarbage() {
    byte[] data = ndjson(10, 12);
    byte[] gz = gzip(data);
    assertThat(run(concat(gz, new byte[512]), 100)).isEqualTo(data);
    assertThat(failure(concat(gz, new byte[] {'x'}), NO_LIMIT, NO_LIMIT)).hasMessageContaining("after gzip member 1");
    assertThat(failure(concat(gz, new byte[] {0, 0, 7}), NO_LIMIT, NO_LIMIT)).hasMessageContaining("padding");
  }

  @Test
  void plainNdjsonPassesThrough() {
    byte[] data = concat(" \r\n\t".getBytes(StandardCharsets.UTF_8), ndjson(5000, 13));
    assertThat(run(data, 1)).isEqualTo(data);
    assertThat(run(data, 3)).isEqualTo(data); // whitespace chunk first, then '{'
    assertThat(run(data, 1000)).isEqualTo(data);
    assertThat(run(data, data.length)).isEqualTo(data); // > 64 KiB: sliced
    assertThat(run(new byte[0], 1)).isEmpty();
    assertThat(run("\n\n  ".getBytes(StandardCharsets.UTF_8), 1)).hasSize(4);
  }

  @Test
  void plainNdjsonObeysMaxBytes() {
    byte[] data = ndjson(100, 14);
    assertThat(failure(data, 100, NO_LIMIT)).hasMessageContaining("limit of 100 bytes");
  }

  private static byte[] bomb; // 200 MB of zeros, gzipped to ~200 KB

  private static synchronized byte[] bomb() {
    if (bomb == null) {
      ByteArrayOutputStream bos = new ByteArrayOutputStream();
      try (GZIPOutputStream gz = new GZIPOutputStream(bos, 64 * 1024)) {
        byte[] zeros = new byte[1024 * 1024];
        for (int i = 0; i < 200; i++) {
          gz.write(zeros);
        }
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      bomb = bos.toByteArray();
    }
    return bomb;
  }

  private static StreamingGunzip feedBomb(long maxBytes, long maxRatio, long[] produced) {
    byte[] gz = bomb();
    StreamingGunzip g = new StreamingGunzip(maxBytes, maxRatio, b -> produced[0] += b.length());
    int chunk = 64 * 1024;
    for (int p = 0; p < gz.length; p += chunk) {
      g.feed(Buffer.buffer(Arrays.copyOfRange(gz, p, Math.min(gz.length, p + chunk))));
    }
    g.finish();
    return g;
  }

  @Test
  void bombStoppedByRatio() {
    assertThat(bomb().length).isLessThan(400_000);
    long[] produced = {0};
    assertThatThrownBy(() -> feedBomb(NO_LIMIT, 100, produced))
        .isInstanceOf(ImportFormatException.class)
        .hasMessage("compression ratio over 100: refusing a possible gzip bomb");
    assertThat(produced[0]).isLessThanOrEqualTo(StreamingGunzip.RATIO_CHECK_FROM + StreamingGunzip.OUT_CHUNK);
  }

  @Test
  void bombStoppedByMaxBytes() {
    long[] produced = {0};
    long max = 10_000_000;
    assertThatThrownBy(() -> feedBomb(max, NO_LIMIT, produced))
        .isInstanceOf(ImportFormatException.class)
        .hasMessageContaining("limit of 10000000 bytes");
    assertThat(produced[0]).isLessThanOrEqualTo(max).isGreaterThan(max - StreamingGunzip.OUT_CHUNK);
  }

  @Test
  void bombWithinLimitsIsDecompressed() {
    long[] produced = {0};
    StreamingGunzip g = feedBomb(NO_LIMIT, 2000, produced);
    assertThat(produced[0]).isEqualTo(200L * 1024 * 1024);
    assertThat(g.decompressedBytes()).isEqualTo(produced[0]);
    assertThat(g.compressedBytes()).isEqualTo(bomb().length);
  }

  @Test
  void zeroOrNegativeLimitsMeanNoLimit() {
    byte[] zeros = new byte[4 * 1024 * 1024]; // ratio ~1000
    assertThat(run(gzip(zeros), 65536)).isEqualTo(zeros); // run() uses Long.MAX_VALUE limits
    long[] produced = {0};
    StreamingGunzip g = new StreamingGunzip(0, -1, b -> produced[0] += b.length());
    g.feed(Buffer.buffer(gzip(zeros)));
    g.finish();
    assertThat(produced[0]).isEqualTo(zeros.length);
  }

  @Test
  void normalDataOverMaxBytesFails() {
    byte[] data = ndjson(5000, 15);
    ImportFormatException e = failure(gzip(data), data.length - 1, NO_LIMIT);
    assertThat(e).hasMessageContaining("limit of " + (data.length - 1) + " bytes");
    byte[] gz = gzip(data);
    assertThat(run(gz, 1000)).isEqualTo(data);
    List<Integer> sizes = new ArrayList<>();
    StreamingGunzip exact = new StreamingGunzip(data.length, NO_LIMIT, b -> sizes.add(b.length()));
    exact.feed(Buffer.buffer(gz));
    exact.finish();
    assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(data.length);
  }
}
