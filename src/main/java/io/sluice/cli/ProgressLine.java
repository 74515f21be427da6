package io.sluice.cli;

import java.util.Locale;
import me.tongfei.progressbar.ProgressBarRenderer;
import me.tongfei.progressbar.ProgressState;

/**
 * One progress line that always fits the given width and keeps its layout while it runs:
 * {@code Import  67% [======    ] 340k/≈508k 3778 rows/s ETA   44s 0 rejected}.
 * Numbers are compact (at most 4 columns) and every field is padded to a fixed width, so the bar keeps its width;
 * it gets what the fixed parts and {@code extraReserve} leave (6 to 30 columns), and the extra message is cut to
 * fit. The counts are in the unit the rate names. The rate is measured from the bar's start in milliseconds, and shown as "?" until it means something (under
 * half a second of progress): the library's own counts whole seconds, so 1.9 s of work read as 1 s.
 */
final class ProgressLine implements ProgressBarRenderer {
  static final int MIN_BAR = 6;
  static final int MAX_BAR = 30;
  private static final long MIN_RATE_MILLIS = 500;

  private final String unit;
  private final long unitSize;
  private final int extraReserve;
  private volatile boolean estimated;

  /** unit: e.g. "rows" with unitSize 1, or "MiB" with 1 << 20; extraReserve: columns kept for the extra message. */
  ProgressLine(String unit, long unitSize, int extraReserve) {
    this.unit = unit;
    this.unitSize = unitSize;
    this.extraReserve = extraReserve;
  }

  /** The total is an estimate: shown with '≈'. */
  void estimated(boolean value) {
    estimated = value;
  }

  @Override
  public String render(ProgressState state, int maxLength) {
    return render(state.getTaskName(), state.getStart(), state.getCurrent(), state.isIndefinite() ? -1 : state.getMax(),
        state.getElapsedAfterStart().toMillis(), state.isAlive(), state.getExtraMessage(), maxLength);
  }

  /** max < 1: unknown; alive: false once the bar was closed. */
  String render(String taskName, long start, long current, long max, long millis, boolean alive, String extra,
      int maxLength) {
    boolean known = max > 0;
    String total = known ? amount(max) : "?";
    // Every amount takes at most 4 columns: padded to the most, the counts keep their width as they grow.
    String counts = String.format(Locale.ROOT, "%-10s",
        pad(amount(current), 4) + "/" + (known && estimated ? "≈" : "") + total);
    String percent = known ? String.format(Locale.ROOT, "%3d%%", Math.min(100, current * 100 / max)) : "  ?%";

    long progressed = current - start;
    boolean over = known && current >= max;
    double perSecond = progressed > 0 && (millis >= MIN_RATE_MILLIS || (over && millis > 0))
        ? progressed * 1000.0 / millis : -1;
    String rate = pad(perSecond < 0 ? "?" : amount(perSecond), 4) + " " + unit + "/s";
    String time;
    if (over || !alive) {
      time = " in " + pad(duration(millis / 1000), 5);
    } else if (known && perSecond > 0) {
      time = "ETA " + pad(duration(Math.round((max - current) / perSecond)), 5);
    } else {
      time = "ETA " + pad("?", 5);
    }

    String task = String.format(Locale.ROOT, "%-6s", taskName);
    String fixed = task + " " + percent + " []" + " " + counts + " " + rate + " " + time;
    int reserve = extraReserve > 0 ? extraReserve + 1 : 0;
    int barWidth = Math.max(MIN_BAR, Math.min(MAX_BAR, maxLength - fixed.length() - reserve));
    StringBuilder line = new StringBuilder(task).append(' ').append(percent).append(" [")
        .append(bar(known ? (double) Math.min(current, max) / max : 0, barWidth)).append("] ")
        .append(counts).append(' ').append(rate).append(' ').append(time);
    if (extra != null && !extra.isBlank()) {
      line.append(' ').append(extra.strip());
    }
    if (line.length() > maxLength) {
      line.setLength(Math.max(0, maxLength - 1));
      line.append('…');
    }
    return line.toString();
  }

  private static String bar(double fraction, int width) {
    int filled = (int) Math.floor(fraction * width);
    return "=".repeat(filled) + " ".repeat(width - filled);
  }

  /** value in units, at most 4 columns: 9.5 (KiB, MiB), 3000, 12k, 340k, 1.2M, 12M. */
  private String amount(double raw) {
    double value = raw / unitSize;
    if (unitSize > 1 && value < 100) {
      return String.format(Locale.ROOT, "%.1f", value);
    }
    if (value < 10_000) {
      return String.format(Locale.ROOT, "%.0f", Math.floor(value));
    }
    String[] suffixes = {"k", "M", "G", "T"};
    double scaled = value;
    int i = -1;
    while (scaled >= 999.5 && i < suffixes.length - 1) {
      scaled /= 1000;
      i++;
    }
    return (scaled < 9.95 ? String.format(Locale.ROOT, "%.1f", scaled) : String.format(Locale.ROOT, "%.0f", scaled))
        + suffixes[i];
  }

  /** 44s, 2m05s, 42m, 1h02m, 23h, 3d04h, 12d: at most 5 columns. */
  static String duration(long seconds) {
    if (seconds < 60) {
      return seconds + "s";
    }
    if (seconds < 600) {
      return String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
    }
    if (seconds < 3600) {
      return seconds / 60 + "m";
    }
    if (seconds < 36_000) {
      return String.format(Locale.ROOT, "%dh%02dm", seconds / 3600, seconds % 3600 / 60);
    }
    if (seconds < 86_400) {
      return seconds / 3600 + "h";
    }
    if (seconds < 864_000) {
      return String.format(Locale.ROOT, "%dd%02dh", seconds / 86_400, seconds % 86_400 / 3600);
    }
    return Math.min(99_999, seconds / 86_400) + "d";
  }

  private static String pad(String text, int width) {
    return text.length() >= width ? text : " ".repeat(width - text.length()) + text;
  }
}
