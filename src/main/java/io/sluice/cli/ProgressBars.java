package io.sluice.cli;

import java.io.PrintWriter;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress bars on stderr. On a terminal the bar redraws in place; otherwise (redirected output, CI logs, tests)
 * it prints a plain ASCII line every few seconds and a last one when it closes, and never touches the terminal.
 */
final class ProgressBars {
  static final int LOG_INTERVAL_MILLIS = 5_000;
  private static final int LOG_WIDTH = 120;

  private ProgressBars() {
  }

  /** max ≤ 0: unknown. unit: e.g. " rows" with size 1, or " MiB" with size 1 << 20. */
  static ProgressBar create(SluiceCli root, PrintWriter err, boolean quiet, String task, long max, String unit,
      long unitSize) {
    ProgressBarBuilder builder = ProgressBar.builder().setTaskName(task).setInitialMax(max > 0 ? max : -1)
        .setUnit(unit, unitSize).showSpeed();
    if (quiet) {
      builder.setConsumer(new DelegatingProgressBarConsumer(line -> { }, LOG_WIDTH))
          .setUpdateIntervalMillis(60_000);
    } else if (root.interactive) {
      builder.setUpdateIntervalMillis(250);
    } else {
      String[] last = {null};
      builder.setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(LOG_INTERVAL_MILLIS)
          .setConsumer(new DelegatingProgressBarConsumer(line -> {
            String text = line.strip();
            if (!text.equals(last[0])) {
              last[0] = text;
              err.println(text);
              err.flush();
            }
          }, LOG_WIDTH));
    }
    return builder.build();
  }
}
