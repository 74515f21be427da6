package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.BenchRows;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NdjsonFilesTest {
  @TempDir
  Path dir;

  @Test
  void countsSmallFilesExactly() throws IOException {
    Path plain = Files.write(dir.resolve("a.ndjson"), "{\"a\":1}\n{\"a\":2}\n{\"a\":3}".getBytes());
    assertThat(NdjsonFiles.estimateRows(plain, 100)).isEqualTo(new NdjsonFiles.RowEstimate(3, true));
    Path gzip = Files.write(dir.resolve("a.gz"), BenchRows.gzip(BenchRows.ndjson(1, 500, Map.of())));
    assertThat(NdjsonFiles.isGzip(gzip)).isTrue();
    assertThat(NdjsonFiles.isGzip(plain)).isFalse();
    assertThat(NdjsonFiles.estimateRows(gzip, 1000)).isEqualTo(new NdjsonFiles.RowEstimate(500, true));
  }

  @Test
  void extrapolatesLargeFilesFromTheSample() throws IOException {
    Path plain = Files.write(dir.resolve("b.ndjson"), BenchRows.ndjson(2, 50_000, Map.of()));
    Path gzip = Files.write(dir.resolve("b.gz"), BenchRows.gzip(Files.readAllBytes(plain)));
    for (Path file : new Path[] {plain, gzip}) {
      NdjsonFiles.RowEstimate estimate = NdjsonFiles.estimateRows(file, 5_000);
      assertThat(estimate.exact()).isFalse();
      assertThat(estimate.rows()).as(file.toString()).isBetween(45_000L, 55_000L);
    }
  }

  @Test
  void gzipRoundTrips() throws IOException {
    Path plain = Files.write(dir.resolve("c.ndjson"), BenchRows.ndjson(3, 100, Map.of()));
    Path gzip = dir.resolve("c.ndjson.gz");
    long[] progress = {0};
    NdjsonFiles.gzip(plain, gzip, read -> progress[0] = read);
    assertThat(progress[0]).isEqualTo(Files.size(plain));
    assertThat(NdjsonFiles.isGzip(gzip)).isTrue();
    try (var lines = NdjsonFiles.openLines(gzip)) {
      assertThat(lines.lines().count()).isEqualTo(100);
    }
  }
}
