import io.sluice.ingest.LineBatchParser;
import io.sluice.ingest.LineSplitter;
import io.sluice.ingest.StreamingGunzip;
import io.sluice.schema.SchemaParser;
import io.sluice.schema.TableSchema;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The ceiling of a file import on this machine: what one thread does with the same .ndjson.gz before any
 * indexing, using Sluice's own classes from target/sluice.jar, batched as the import batches it:
 * StreamingGunzip → LineSplitter → lines joined into batches of import.batch.rows / import.batch.bytes →
 * LineBatchParser.parse (Jackson parse + RowValidator). One warm-up pass, then N timed passes.
 *
 * <p>Usage: {@code java -cp target/sluice.jar:<classes> Ceiling schema.json data.ndjson.gz [passes] [batchRows]
 * [batchBytes]}. Prints one JSON object on standard output.
 */
public final class Ceiling {
  private static final int READ_CHUNK = 64 * 1024;

  private long rows;
  private long failed;
  private long lines;
  private Buffer batch = Buffer.buffer();
  private long batchFirstLine = -1;
  private int batchLines;
  private final String table = "bench";
  private final TableSchema schema;
  private final int batchRows;
  private final int batchBytes;

  private Ceiling(TableSchema schema, int batchRows, int batchBytes) {
    this.schema = schema;
    this.batchRows = batchRows;
    this.batchBytes = batchBytes;
  }

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: Ceiling schema.json data.ndjson.gz [passes] [batchRows] [batchBytes]");
      System.exit(2);
    }
    TableSchema schema = SchemaParser.parseTable("bench", new JsonObject(Files.readString(Path.of(args[0]))));
    Path gz = Path.of(args[1]);
    int passes = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    int batchRows = args.length > 3 ? Integer.parseInt(args[3]) : 2000;
    int batchBytes = args.length > 4 ? Integer.parseInt(args[4]) : 4 * 1024 * 1024;

    long compressed = Files.size(gz);
    Ceiling warm = new Ceiling(schema, batchRows, batchBytes);
    long decompressed = warm.run(gz); // warm-up pass (JIT, page cache)
    long expectedRows = warm.rows;
    if (warm.failed != 0) {
      throw new IllegalStateException(warm.failed + " rows failed validation in the benchmark file");
    }
    double[] seconds = new double[passes];
    for (int p = 0; p < passes; p++) {
      Ceiling c = new Ceiling(schema, batchRows, batchBytes);
      long start = System.nanoTime();
      c.run(gz);
      seconds[p] = (System.nanoTime() - start) / 1e9;
      if (c.rows != expectedRows) {
        throw new IllegalStateException("pass " + p + " parsed " + c.rows + " rows, expected " + expectedRows);
      }
    }
    double[] sorted = seconds.clone();
    Arrays.sort(sorted);
    double best = sorted[0];
    double median = sorted[sorted.length / 2];
    JsonArray all = new JsonArray();
    for (double s : seconds) {
      all.add(Math.round(s * 1000) / 1000.0);
    }
    JsonObject out = new JsonObject()
        .put("rows", expectedRows)
        .put("compressedBytes", compressed)
        .put("decompressedBytes", decompressed)
        .put("passes", all)
        .put("bestSeconds", best)
        .put("medianSeconds", median)
        .put("rowsPerSec", Math.round(expectedRows / median))
        .put("rowsPerSecBest", Math.round(expectedRows / best))
        .put("mbPerSec", Math.round(decompressed / median / 1e6 * 10) / 10.0)
        .put("compressedMbPerSec", Math.round(compressed / median / 1e6 * 10) / 10.0)
        .put("threads", 1)
        .put("batchRows", batchRows)
        .put("batchBytes", batchBytes);
    System.out.println(out.encode());
  }

  /** One pass over the file; returns the decompressed byte count. */
  private long run(Path gz) throws IOException {
    LineSplitter splitter = new LineSplitter(1024 * 1024, new LineSplitter.LineHandler() {
      @Override
      public void line(long lineNumber, Buffer line) {
        addLine(lineNumber, line);
      }

      @Override
      public void tooLong(long lineNumber, long length, Buffer prefix) {
        failed++;
        addLine(lineNumber, Buffer.buffer());
      }
    });
    StreamingGunzip gunzip = new StreamingGunzip(0, 0, splitter::feed);
    try (InputStream in = new FileInputStream(gz.toFile())) {
      while (true) {
        byte[] chunk = new byte[READ_CHUNK];
        int n = in.readNBytes(chunk, 0, READ_CHUNK);
        if (n <= 0) {
          break;
        }
        gunzip.feed(Buffer.buffer(n == READ_CHUNK ? chunk : Arrays.copyOf(chunk, n)));
      }
    }
    gunzip.finish();
    splitter.finish();
    flush();
    lines = splitter.lines();
    return gunzip.decompressedBytes();
  }

  private void addLine(long lineNumber, Buffer line) {
    if (batchFirstLine < 0) {
      batchFirstLine = lineNumber;
    }
    if (batchLines > 0) {
      batch.appendByte((byte) '\n');
    }
    batch.appendBuffer(line);
    batchLines++;
    if (batchLines >= batchRows || batch.length() >= batchBytes) {
      flush();
    }
  }

  private void flush() {
    if (batchLines == 0) {
      return;
    }
    LineBatchParser.Result result = LineBatchParser.parse(table, schema, batch.getBytes(), batchFirstLine);
    rows += result.rows().size();
    failed += result.failedCount();
    batch = Buffer.buffer(Math.min(batchBytes, 1 << 20));
    batchFirstLine = -1;
    batchLines = 0;
  }
}
