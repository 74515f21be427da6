package io.sluice.store;

import java.util.Map;
import java.util.TreeMap;

/**
 * The checkpoint of one committed batch of a stream sent under an Idempotency-Key: the batch number of the
 * engine's {@code Checkpoint} packs the hour it was written (for the key's retention), the stream line the batch
 * starts at and how many lines it covers. Packing keeps the record inside the rows' own commit, as a file
 * import's batch numbers are, with no table of its own.
 */
public final class StreamLines {
  /** The checkpoint job of a stream: this prefix and the key's scope. */
  public static final String JOB_PREFIX = "stream:";
  private static final int COUNT_BITS = 14;
  private static final int LINE_BITS = 30;
  /** Most lines one checkpointed batch covers. */
  public static final int MAX_COUNT = (1 << COUNT_BITS) - 1;
  /** The last line number a keyed stream may reach. */
  public static final long MAX_LINE = (1L << LINE_BITS) - 1;

  private StreamLines() {
  }

  public static long encode(long hour, long firstLine, int count) {
    return (hour << (LINE_BITS + COUNT_BITS)) | (firstLine << COUNT_BITS) | count;
  }

  public static long hour(long batch) {
    return batch >>> (LINE_BITS + COUNT_BITS);
  }

  public static long firstLine(long batch) {
    return (batch >>> COUNT_BITS) & MAX_LINE;
  }

  public static int count(long batch) {
    return (int) (batch & MAX_COUNT);
  }

  public static long hourNow() {
    return System.currentTimeMillis() / 3_600_000L;
  }

  /**
   * Line numbers as disjoint, merged ranges: first line → the line after the last. A stream's committed lines,
   * from its checkpoints of any attempt (their batch boundaries need not agree) and the batches committed now.
   */
  public static final class Ranges {
    private final TreeMap<Long, Long> ranges = new TreeMap<>();

    public void add(long first, long count) {
      if (count <= 0) {
        return;
      }
      long start = first;
      long end = first + count;
      Map.Entry<Long, Long> before = ranges.floorEntry(start);
      if (before != null && before.getValue() >= start) {
        start = before.getKey();
        end = Math.max(end, before.getValue());
      }
      Map.Entry<Long, Long> next = ranges.ceilingEntry(start);
      while (next != null && next.getKey() <= end) {
        end = Math.max(end, next.getValue());
        ranges.remove(next.getKey());
        next = ranges.ceilingEntry(start);
      }
      ranges.put(start, end);
    }

    public boolean contains(long line) {
      Map.Entry<Long, Long> range = ranges.floorEntry(line);
      return range != null && range.getValue() > line;
    }

    /** How many lines from line 1 on are covered without a gap. */
    public long prefix() {
      Map.Entry<Long, Long> first = ranges.firstEntry();
      return first == null || first.getKey() > 1 ? 0 : first.getValue() - 1;
    }
  }
}
