package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The progress line: fits its width, keeps its layout while it runs, and shows a rate only once it is known. */
class ProgressLineTest {
  private static final long MIB = 1 << 20;

  @Test
  void anImportLineFitsEightyColumnsAndKeepsItsBarWidthFromStartToEnd() {
    ProgressLine line = new ProgressLine("rows", 1, 23);
    line.estimated(true);
    long max = 12_345_678;
    List<String> lines = new ArrayList<>();
    for (long done = 0; done <= max; done += max / 37) {
      long millis = 100 + done / 3;
      lines.add(line.render("Import", 0, done, max, millis, true, done / 1000 + " rejected", 80));
    }
    line.estimated(false);
    lines.add(line.render("Import", 0, max, max, 5_000_000, false, "Finished, 2345 rejected", 80));
    for (String text : lines) {
      assertThat(text.length()).as(text).isLessThanOrEqualTo(80);
      assertThat(text.indexOf(']') - text.indexOf('[') - 1).as(text).isGreaterThanOrEqualTo(ProgressLine.MIN_BAR)
          .isEqualTo(lines.get(0).indexOf(']') - lines.get(0).indexOf('[') - 1);
    }
    assertThat(lines.get(1)).contains(" 334k/≈12M  2997 rows/s").contains("ETA 1h06m")
        .endsWith(" 333 rejected");
    assertThat(lines.get(lines.size() - 1)).startsWith("Import 100% [====").contains(" 12M/12M ")
        .contains(" in 1h23m").endsWith("Finished, 2345 rejected");
  }

  @Test
  void theRateIsUnknownRatherThanWrongAtFirst() {
    ProgressLine line = new ProgressLine("MiB", MIB, 0);
    String early = line.render("Upload", 0, 3 * MIB, 23 * MIB, 120, true, null, 80);
    assertThat(early).contains("? MiB/s").contains("ETA     ?").contains(" 3.0/23.0 ");
    // 1.9 s for 19 MiB is 10 MiB/s (whole seconds would say 19)
    assertThat(line.render("Upload", 0, 19 * MIB, 23 * MIB, 1900, true, null, 80)).contains("10.0 MiB/s")
        .contains("ETA    0s");
    // a finished upload has a rate even if it was fast
    String done = line.render("Upload", 0, 23 * MIB, 23 * MIB, 250, false, null, 80);
    assertThat(done).contains("100%").contains("92.0 MiB/s").contains(" in    0s");
    assertThat(done.length()).isEqualTo(early.length());
    assertThat(line.render("Upload", 0, 0, 23 * MIB, 5000, true, null, 80)).contains("? MiB/s");
  }

  @Test
  void unknownTotalsAndNarrowTerminals() {
    ProgressLine rows = new ProgressLine("rows", 1, 23);
    String unknown = rows.render("Import", 0, 4200, -1, 2000, true, "Running, 0 rejected", 80);
    assertThat(unknown).contains("  ?% [").contains("4200/? ").contains("2100 rows/s").contains("ETA     ?");
    String narrow = rows.render("Import", 0, 4200, 10_000, 2000, true, "Running, 0 rejected", 40);
    assertThat(narrow).hasSize(40).endsWith("…");
  }

  @Test
  void durationsTakeAtMostFiveColumns() {
    assertThat(ProgressLine.duration(44)).isEqualTo("44s");
    assertThat(ProgressLine.duration(125)).isEqualTo("2m05s");
    assertThat(ProgressLine.duration(3560)).isEqualTo("59m");
    assertThat(ProgressLine.duration(3720)).isEqualTo("1h02m");
    assertThat(ProgressLine.duration(80_000)).isEqualTo("22h");
    assertThat(ProgressLine.duration(273_600)).isEqualTo("3d04h");
  }
}
