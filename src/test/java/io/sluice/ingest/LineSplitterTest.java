package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.TestSeeds;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestSeeds.class)
class LineSplitterTest {

  /** Records lines as "n:text" and too-long lines as "n:TOO LONG length:prefix". */
  private static final class Recorder implements LineSplitter.LineHandler {
    final List<String> events = new ArrayList<>();
    final List<Buffer> buffers = new ArrayList<>();
    long expectedNext = 1;

    @Override
    public void line(long lineNumber, Buffer line) {
      assertThat(lineNumber).isEqualTo(expectedNext++);
      buffers.add(line);
      events.add(lineNumber + ":" + line.toString(StandardCharsets.UTF_8));
    }

    @Override
    public void tooLong(long lineNumber, long length, Buffer prefix) {
      assertThat(lineNumber).isEqualTo(expectedNext++);
      assertThat(prefix.length()).isLessThanOrEqualTo(LineSplitter.PREFIX_BYTES);
      events.add(lineNumber + ":TOO LONG " + length + ":" + prefix.toString(StandardCharsets.UTF_8));
    }
  }

  private static List<String> split(int max, byte[] input, int[] chunkSizes) {
    Recorder r = new Recorder();
    LineSplitter s = new LineSplitter(max, r);
    int p = 0;
    int i = 0;
    while (p < input.length) {
      int n = Math.min(chunkSizes[i++ % chunkSizes.length], input.length - p);
      s.feed(Buffer.buffer(Arrays.copyOfRange(input, p, p + n)));
      p += n;
    }
    s.finish();
    assertThat(s.lines()).isEqualTo(r.events.size());
    return r.events;
  }

  private static List<String> split(int max, String input, int chunkSize) {
    return split(max, input.getBytes(StandardCharsets.UTF_8), new int[] {chunkSize});
  }

  private static List<String> splitAt(int max, byte[] input, int at) {
    Recorder r = new Recorder();
    LineSplitter s = new LineSplitter(max, r);
    s.feed(Buffer.buffer(Arrays.copyOfRange(input, 0, at)));
    s.feed(Buffer.buffer(Arrays.copyOfRange(input, at, input.length)));
    s.finish();
    return r.events;
  }

  @Test
  void simpleLines() {
    assertThat(split(100, "{\"a\":1}\n{\"b\":2}\n", 1000)).containsExactly("1:{\"a\":1}", "2:{\"b\":2}");
    assertThat(split(100, "", 1000)).isEmpty();
    assertThat(split(100, "\n", 1000)).containsExactly("1:");
  }

  @Test
  void blankLinesAreCountedAndCrlfStripped() {
    String in = "a\r\n\r\n\nb\r\n\n";
    List<String> expected = List.of("1:a", "2:", "3:", "4:b", "5:");
    for (int chunk = 1; chunk <= in.length(); chunk++) {
      assertThat(split(100, in, chunk)).as("chunk %d", chunk).isEqualTo(expected);
    }
  }

  @Test
  void lastLineWithoutNewline() {
    assertThat(split(100, "a\nlast", 1000)).containsExactly("1:a", "2:last");
    assertThat(split(100, "a\nlast", 1)).containsExactly("1:a", "2:last");
    assertThat(split(100, "a\nlast\r", 2)).containsExactly("1:a", "2:last");
    assertThat(split(100, "a\n", 1)).containsExactly("1:a");
  }

  @Test
  void everySplitPointGivesTheSameLines() {
    byte[] in = "{\"x\":1}\r\n\n{\"y\":\"hello\"}\n0123456789012345\n{\"z\":3}\r\nend".getBytes(StandardCharsets.UTF_8);
    List<String> expected = split(10, in, new int[] {in.length});
    assertThat(expected).containsExactly("1:{\"x\":1}", "2:", "3:TOO LONG 13:{\"y\":\"hello\"}",
        "4:TOO LONG 16:0123456789012345", "5:{\"z\":3}", "6:end");
    for (int at = 0; at <= in.length; at++) {
      assertThat(splitAt(10, in, at)).as("split at %d", at).isEqualTo(expected);
    }
    assertThat(split(10, in, new int[] {1})).isEqualTo(expected);
  }

  @Test
  void randomChunksOfRandomLines() {
    long seed = TestSeeds.seed("LineSplitterTest.randomChunksOfRandomLines");
    Random r = new Random(seed);
    StringBuilder sb = new StringBuilder();
    List<String> expected = new ArrayList<>();
    int max = 300;
    for (int i = 1; i <= 2000; i++) {
      int len = r.nextInt(10) == 0 ? 0 : r.nextInt(r.nextInt(20) == 0 ? 2000 : 310);
      StringBuilder line = new StringBuilder();
      for (int k = 0; k < len; k++) {
        line.append((char) ('a' + r.nextInt(26)));
      }
      String l = line.toString();
      sb.append(l).append(r.nextBoolean() ? "\r\n" : "\n");
      expected.add(len > max ? i + ":TOO LONG " + len + ":" + l.substring(0, LineSplitter.PREFIX_BYTES) : i + ":" + l);
    }
    byte[] in = sb.toString().getBytes(StandardCharsets.US_ASCII);
    for (int round = 0; round < 30; round++) {
      int[] sizes = new int[53];
      int bound = 1 + r.nextInt(round < 10 ? 50 : 70_000);
      for (int i = 0; i < sizes.length; i++) {
        sizes[i] = 1 + r.nextInt(bound);
      }
      assertThat(split(max, in, sizes)).as("seed %d round %d", seed, round).isEqualTo(expected);
    }
  }

  @Test
  void tooLongLineIsReportedAndTheNextLineKeepsItsNumber() {
    String longLine = "x".repeat(30);
    String in = "short\n" + longLine + "\nnext\n";
    List<String> expected = List.of("1:short", "2:TOO LONG 30:" + longLine, "3:next");
    assertThat(split(10, in, 1000)).isEqualTo(expected);
    assertThat(split(10, in, 1)).isEqualTo(expected);
    assertThat(split(10, in, 7)).isEqualTo(expected);
    // the prefix is capped
    String huge = "y".repeat(5000);
    assertThat(split(100, huge + "\r\nok", 333))
        .containsExactly("1:TOO LONG 5000:" + "y".repeat(LineSplitter.PREFIX_BYTES), "2:ok");
    // too long and unterminated at the end
    assertThat(split(100, "a\n" + huge, 64)).containsExactly("1:a", "2:TOO LONG 5000:" + "y".repeat(200));
  }

  @Test
  void lineOfExactlyTheLimit() {
    String ok = "z".repeat(50);
    for (int chunk : new int[] {1, 7, 50, 51, 52, 1000}) {
      assertThat(split(50, ok + "\r\n" + ok + "z\n" + ok + "\n" + ok + "\r", chunk)).as("chunk %d", chunk)
          .containsExactly("1:" + ok, "2:TOO LONG 51:" + ok + "z", "3:" + ok, "4:" + ok);
    }
  }

  @Test
  void deliveredBuffersStayValidWhenTheCallerReusesItsChunk() {
    Recorder r = new Recorder();
    LineSplitter s = new LineSplitter(100, r);
    Buffer chunk = Buffer.buffer("abc\ndef\ngh");
    s.feed(chunk);
    for (int i = 0; i < chunk.length(); i++) {
      chunk.setByte(i, (byte) '#');
    }
    Buffer chunk2 = Buffer.buffer("i\njk\n");
    s.feed(chunk2);
    chunk2.setByte(0, (byte) '#');
    s.finish();
    assertThat(r.buffers).extracting(b -> b.toString(StandardCharsets.UTF_8)).containsExactly("abc", "def", "ghi", "jk");
  }

  @Test
  void fiftyMegabyteLineWithOneMebibyteLimitStaysBounded() {
    int max = 1024 * 1024;
    Recorder r = new Recorder();
    LineSplitter s = new LineSplitter(max, r);
    s.feed(Buffer.buffer("{\"first\":1}\n"));
    byte[] x = new byte[64 * 1024];
    Arrays.fill(x, (byte) 'x');
    long total = 50L * 1024 * 1024;
    int peak = 0;
    for (long fed = 0; fed < total; fed += x.length) {
      s.feed(Buffer.buffer(x));
      peak = Math.max(peak, s.retainedBytes());
    }
    s.feed(Buffer.buffer("\r\n{\"after\":2}\n"));
    s.finish();
    assertThat(peak).isLessThanOrEqualTo(max + 1 + LineSplitter.PREFIX_BYTES);
    assertThat(s.retainedBytes()).isLessThan(100_000);
    assertThat(r.events).containsExactly("1:{\"first\":1}", "2:TOO LONG " + total + ":" + "x".repeat(200),
        "3:{\"after\":2}");
    assertThat(s.lines()).isEqualTo(3);
  }

  @Test
  void hugeLineInOneChunkIsNotCopied() {
    int max = 1000;
    Recorder r = new Recorder();
    LineSplitter s = new LineSplitter(max, r);
    byte[] big = new byte[5_000_001];
    Arrays.fill(big, (byte) 'q');
    big[big.length - 1] = '\n';
    s.feed(Buffer.buffer(big));
    assertThat(s.retainedBytes()).isLessThanOrEqualTo(max + 1);
    s.feed(Buffer.buffer("w"));
    s.finish();
    assertThat(r.events).containsExactly("1:TOO LONG 5000000:" + "q".repeat(200), "2:w");
  }
}
