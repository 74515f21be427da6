package io.sluice.loadtest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;

/**
 * The rows of the benchmark table ({@code load-tests/bench/gen_ndjson.py}), generated in process: the same
 * Mersenne Twister as CPython's {@code random.Random(42)} and the same calls in the same order, so row i
 * here is byte for byte line i of {@code gen_ndjson.py N out.ndjson}; {@link #main} prints them to compare
 * (see README.md). Sequential and not thread-safe: generate up front, then share the result.
 */
public final class BenchRows {
  static final String[] NAMES = {"anne", "bob", "cecilia", "david", "emma", "frank", "greta", "henri", "iris",
      "jukka", "kaisa", "lauri", "maija", "niko", "olli", "pia"};
  static final String[] CITIES = {"london", "helsinki", "tampere", "oulu", "turku", "espoo", "berlin", "paris",
      "madrid", "rome"};
  static final String[] AGES = {"10s", "20s", "30s", "40s", "50s", "60s"};
  static final String[] WORDS = ("the quick brown fox jumps over lazy dog customer bought red shoes blue shirt green hat "
      + "winter summer sale discount premium basic delivery fast slow happy return order item "
      + "price quality service support online store shop").split(" ");
  static final String[] CATEGORIES = {"electronics", "clothing", "food", "books", "toys", "garden", "sports", "beauty"};

  /** The benchmark table's schema, as in {@code load-tests/bench/schema.json}. */
  public static final String SCHEMA = "{\"type\":\"table\",\"columns\":{"
      + "\"id\":{\"type\":\"Int\"},"
      + "\"name\":{\"type\":\"String\"},"
      + "\"tags\":{\"type\":\"Text\",\"analyzer\":\"whitespace\"},"
      + "\"age\":{\"type\":\"Int\"},"
      + "\"price\":{\"type\":\"Decimal\"},"
      + "\"active\":{\"type\":\"Boolean\"},"
      + "\"category\":{\"type\":\"String\"},"
      + "\"description\":{\"type\":\"Text\",\"analyzer\":\"english\"}}}";

  private final PyRandom rnd = new PyRandom(42);
  private long next;

  /** Index of the row {@link #nextTail()} generates next. */
  public long position() {
    return next;
  }

  /**
   * The next row without its id: everything after {@code {"id":N,}, e.g. {@code "name":"bob",...}}. Prefix
   * it with {@code {"id":N,} to get the row (so ids can be renumbered cheaply).
   */
  public String nextTail() {
    StringBuilder sb = new StringBuilder(180);
    sb.append("\"name\":\"").append(rnd.choice(NAMES)).append('"');
    sb.append(",\"tags\":\"").append(rnd.choice(CITIES)).append(' ').append(rnd.choice(AGES)).append('"');
    sb.append(",\"age\":").append(rnd.randint(10, 90));
    sb.append(",\"price\":").append(pyRound2(rnd.uniform(0, 1000)));
    sb.append(",\"active\":").append(rnd.random() < 0.5);
    sb.append(",\"category\":\"").append(rnd.choice(CATEGORIES)).append('"');
    sb.append(",\"description\":\"");
    for (int w = 0; w < 10; w++) {
      if (w > 0) {
        sb.append(' ');
      }
      sb.append(rnd.choice(WORDS));
    }
    sb.append("\"}");
    next++;
    return sb.toString();
  }

  /** The next row, with its generated id. */
  public String nextRow() {
    long id = next;
    return "{\"id\":" + id + "," + nextTail();
  }

  /** The first {@code n} rows as NDJSON, gzip-compressed (level 6, like {@code gzip -6}). */
  public static byte[] ndjsonGz(int n) {
    BenchRows rows = new BenchRows();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.max(1024, n * 32));
    try (GZIPOutputStream gz = new GZIPOutputStream(bytes, 64 * 1024) {
      {
        def.setLevel(6);
      }
    }) {
      for (int i = 0; i < n; i++) {
        gz.write(rows.nextRow().getBytes(StandardCharsets.UTF_8));
        gz.write('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Prints the first N rows as NDJSON, exactly as {@code gen_ndjson.py N /dev/stdout} does. */
  public static void main(String[] args) throws IOException {
    int n = Integer.parseInt(args[0]);
    BenchRows rows = new BenchRows();
    var out = new java.io.BufferedOutputStream(System.out, 1 << 16);
    for (int i = 0; i < n; i++) {
      out.write(rows.nextRow().getBytes(StandardCharsets.UTF_8));
      out.write('\n');
    }
    out.flush();
  }

  /** Python's {@code repr(round(x, 2))} for 0 ≤ x ≤ 1000: correctly rounded half-even, shortest repr. */
  static String pyRound2(double x) {
    BigDecimal rounded = new BigDecimal(x).setScale(2, RoundingMode.HALF_EVEN).stripTrailingZeros();
    String s = rounded.toPlainString();
    return s.indexOf('.') < 0 ? s + ".0" : s;
  }

  /** CPython's MT19937 ({@code _randommodule.c}) and the {@code random.py} methods gen_ndjson.py calls. */
  static final class PyRandom {
    private static final int N = 624;
    private static final int M = 397;
    private final int[] mt = new int[N];
    private int mti = N + 1;

    PyRandom(int seed) {
      initByArray(new int[] {seed}); // random.seed(int): init_by_array over the 32-bit words of abs(seed)
    }

    private void initGenrand(int s) {
      mt[0] = s;
      for (mti = 1; mti < N; mti++) {
        mt[mti] = 1812433253 * (mt[mti - 1] ^ (mt[mti - 1] >>> 30)) + mti;
      }
    }

    private void initByArray(int[] key) {
      initGenrand(19650218);
      int i = 1;
      int j = 0;
      for (int k = Math.max(N, key.length); k > 0; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1664525)) + key[j] + j;
        i++;
        j++;
        if (i >= N) {
          mt[0] = mt[N - 1];
          i = 1;
        }
        if (j >= key.length) {
          j = 0;
        }
      }
      for (int k = N - 1; k > 0; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1566083941)) - i;
        i++;
        if (i >= N) {
          mt[0] = mt[N - 1];
          i = 1;
        }
      }
      mt[0] = 0x80000000;
    }

    /** genrand_uint32, as an int holding the 32 bits. */
    int nextInt32() {
      int y;
      if (mti >= N) {
        int kk;
        for (kk = 0; kk < N - M; kk++) {
          y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
          mt[kk] = mt[kk + M] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
        }
        for (; kk < N - 1; kk++) {
          y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
          mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
        }
        y = (mt[N - 1] & 0x80000000) | (mt[0] & 0x7fffffff);
        mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
        mti = 0;
      }
      y = mt[mti++];
      y ^= (y >>> 11);
      y ^= (y << 7) & 0x9d2c5680;
      y ^= (y << 15) & 0xefc60000;
      y ^= (y >>> 18);
      return y;
    }

    /** random.random(): 53 random bits. */
    double random() {
      long a = (nextInt32() & 0xffffffffL) >>> 5;
      long b = (nextInt32() & 0xffffffffL) >>> 6;
      return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }

    /** getrandbits(k) for 0 < k ≤ 32. */
    long getrandbits(int k) {
      return (nextInt32() & 0xffffffffL) >>> (32 - k);
    }

    /** _randbelow_with_getrandbits(n) for 0 < n < 2^31. */
    int randbelow(int n) {
      int k = 32 - Integer.numberOfLeadingZeros(n); // n.bit_length()
      long r = getrandbits(k);
      while (r >= n) {
        r = getrandbits(k);
      }
      return (int) r;
    }

    int randint(int a, int b) {
      return a + randbelow(b - a + 1);
    }

    double uniform(double a, double b) {
      return a + (b - a) * random();
    }

    <T> T choice(T[] seq) {
      return seq[randbelow(seq.length)];
    }
  }
}
