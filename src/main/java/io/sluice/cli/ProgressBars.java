package io.sluice.cli;

import java.io.PrintWriter;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * Progress bars on stderr, drawn by {@link ProgressLine}. On a terminal the bar redraws in place at the terminal's
 * width; otherwise (redirected output, CI logs, tests) it prints a plain line of at most {@value #LOG_WIDTH}
 * columns every few seconds and a last one when it closes, and never touches the terminal.
 */
final class ProgressBars {
  static final int LOG_INTERVAL_MILLIS = 5_000;
  static final int LOG_WIDTH = 80;

  private ProgressBars() {
  }

  /** max ≤ 0: unknown. */
  static ProgressBar create(SluiceCli root, PrintWriter err, boolean quiet, String task, long max, ProgressLine line) {
    ProgressBarBuilder builder = ProgressBar.builder().setTaskName(task).setInitialMax(max > 0 ? max : -1)
        .setRenderer(line);
    if (quiet) {
      builder.setConsumer(new DelegatingProgressBarConsumer(text -> { }, LOG_WIDTH))
          .setUpdateIntervalMillis(60_000);
    } else if (root.interactive) {
      builder.setUpdateIntervalMillis(250);
    } else {
      String[] last = {null};
      builder.setUpdateIntervalMillis(LOG_INTERVAL_MILLIS)
          .setConsumer(new DelegatingProgressBarConsumer(text -> {
            String stripped = text.strip();
            if (!stripped.equals(last[0])) {
              last[0] = stripped;
              err.println(stripped);
              err.flush();
            }
          }, LOG_WIDTH));
    }
    return builder.build();
  }
}
