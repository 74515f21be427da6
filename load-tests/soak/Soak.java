import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.ToDoubleFunction;
import java.util.zip.GZIPOutputStream;

/**
 * The load driver and sampler of {@code load-tests/soak.sh}: mixed load against one Sluice on this machine,
 * a sample of the server process every interval, and at the end a table comparing the first third of the
 * samples with the last third, with a verdict (exit 0 = PASS, 1 = FAIL, 2 = could not run).
 *
 * <pre>
 * SOAK_KEY=&lt;read-write key&gt; java -cp target/sluice.jar load-tests/soak/Soak.java --url http://127.0.0.1:PORT \
 *     --pid SERVER_PID --data SERVER_DATA_DIR --minutes 30 --out target/soak/soak-ID [--import-rows 300000]
 *     [--readers 4] [--writers 2] [--sample-seconds 30] [--drop-seconds 120] [--force-gc true] [--commit C]
 * </pre>
 *
 * The key comes from the environment, never from the command line, and is never printed; neither is a signed
 * upload URL. Only a loopback URL is accepted. Every loop ends by itself at the deadline; an import that is
 * running then is awaited (at most its timeout) so that the last, quiesced sample sees an idle server. It
 * uses the JDK's HTTP client and Vert.x's {@code JsonObject} from Sluice's own jar (hence {@code -cp}).
 */
public final class Soak {
  // ------------------------------------------------------------------------------------------ the data

  static final String SCHEMA = "{\"type\":\"table\",\"columns\":{"
      + "\"id\":{\"type\":\"Int\"},"
      + "\"name\":{\"type\":\"String\"},"
      + "\"tags\":{\"type\":\"Text\",\"analyzer\":\"whitespace\"},"
      + "\"age\":{\"type\":\"Int\"},"
      + "\"price\":{\"type\":\"Decimal\"},"
      + "\"active\":{\"type\":\"Boolean\"},"
      + "\"category\":{\"type\":\"String\"},"
      + "\"description\":{\"type\":\"Text\",\"analyzer\":\"english\"}}}";
  static final String[] NAMES = {"anne", "bob", "cecilia", "david", "emma", "frank", "greta", "henri", "iris",
      "jukka", "kaisa", "lauri", "maija", "niko", "olli", "pia"};
  static final String[] CITIES = {"london", "helsinki", "tampere", "oulu", "turku", "espoo", "berlin", "paris",
      "madrid", "rome"};
  static final String[] AGES = {"10s", "20s", "30s", "40s", "50s", "60s"};
  static final String[] WORDS = ("the quick brown fox jumps over lazy dog customer bought red shoes blue shirt "
      + "green hat winter summer sale discount premium basic delivery fast slow happy return order item price "
      + "quality service support online store shop").split(" ");
  static final String[] CATEGORIES = {"electronics", "clothing", "food", "books", "toys", "garden", "sports",
      "beauty"};

  static final String IMPORT_A = "soak_imp_a";
  static final String IMPORT_B = "soak_imp_b";
  static final String BATCH = "soak_batch";
  static final String PROBE = "soak_probe";
  static final String[] TABLES = {IMPORT_A, IMPORT_B, BATCH, PROBE};
  static final int PROBE_ROWS = 10;

  /** One row of the benchmark table (same columns and vocabularies as load-tests/bench/gen_ndjson.py). */
  static void row(StringBuilder sb, long id, String name, SplittableRandom r) {
    sb.append("{\"id\":").append(id);
    sb.append(",\"name\":\"").append(name != null ? name : pick(NAMES, r)).append('"');
    sb.append(",\"tags\":\"").append(pick(CITIES, r)).append(' ').append(pick(AGES, r)).append('"');
    sb.append(",\"age\":").append(10 + r.nextInt(81));
    int cents = r.nextInt(100_000);
    sb.append(",\"price\":").append(cents / 100).append('.').append(cents % 100 < 10 ? "0" : "").append(cents % 100);
    sb.append(",\"active\":").append(r.nextBoolean());
    sb.append(",\"category\":\"").append(pick(CATEGORIES, r)).append('"');
    sb.append(",\"description\":\"");
    for (int w = 0; w < 10; w++) {
      sb.append(w > 0 ? " " : "").append(pick(WORDS, r));
    }
    sb.append("\"}");
  }

  static String pick(String[] a, SplittableRandom r) {
    return a[r.nextInt(a.length)];
  }

  static String batch(long firstId, int n, String name, SplittableRandom r) {
    StringBuilder sb = new StringBuilder(n * 200);
    sb.append('[');
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        sb.append(',');
      }
      row(sb, firstId + i, name, r);
    }
    return sb.append(']').toString();
  }

  static void writeImportFile(Path file, int rows) throws IOException {
    SplittableRandom r = new SplittableRandom(42);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
      StringBuilder sb = new StringBuilder(1 << 17);
      for (int i = 0; i < rows; i++) {
        row(sb, i, null, r);
        sb.append('\n');
        if (sb.length() > 1 << 16) {
          out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
          sb.setLength(0);
        }
      }
      out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  // ------------------------------------------------------------------------------------------ settings, state

  final String base;
  final String key;
  final long pid;
  final Path dataDir;
  final double minutes;
  final Path out;
  final int importRows;
  final int readers;
  final int writers;
  final int sampleSeconds;
  final int dropSeconds;
  final boolean forceGc;
  final String commit;
  final int importTimeoutSeconds;
  final HttpClient http;
  final PrintStream log = System.out;

  long startNanos;
  long deadlineNanos;
  volatile boolean stopped;

  final Map<String, ReentrantReadWriteLock> locks = new HashMap<>();
  final Latencies readLat = new Latencies();
  final Latencies writeLat = new Latencies();
  final AtomicLong searches = new AtomicLong();
  final AtomicLong batches = new AtomicLong();
  final AtomicLong rowsWritten = new AtomicLong();
  final AtomicLong deletes = new AtomicLong();
  final AtomicLong rowsDeleted = new AtomicLong();
  final AtomicLong drops = new AtomicLong();
  final AtomicLong importsDone = new AtomicLong();
  final AtomicLong importSecondsMillis = new AtomicLong();
  final AtomicLong probeBatches = new AtomicLong();
  final AtomicLong probeMisses = new AtomicLong();
  final AtomicLong probeMissedRows = new AtomicLong();
  final AtomicLong probeLost = new AtomicLong();
  final AtomicLong errors = new AtomicLong();
  final AtomicLong nextBatchId = new AtomicLong(1_000_000_000L);
  final List<String> firstErrors = new ArrayList<>();
  final List<Sample> samples = new ArrayList<>();

  Soak(Map<String, String> a) {
    this.base = strip(a.get("url"));
    this.key = System.getenv("SOAK_KEY");
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("SOAK_KEY (the read-write key) is not set");
    }
    this.pid = Long.parseLong(a.get("pid"));
    this.dataDir = Path.of(a.get("data"));
    this.minutes = Double.parseDouble(a.getOrDefault("minutes", "30"));
    this.out = Path.of(a.get("out"));
    this.importRows = Integer.parseInt(a.getOrDefault("import-rows", "300000"));
    this.readers = Integer.parseInt(a.getOrDefault("readers", "4"));
    this.writers = Integer.parseInt(a.getOrDefault("writers", "2"));
    this.sampleSeconds = Integer.parseInt(a.getOrDefault("sample-seconds", "30"));
    this.dropSeconds = Integer.parseInt(a.getOrDefault("drop-seconds", "120"));
    this.forceGc = Boolean.parseBoolean(a.getOrDefault("force-gc", "true"));
    this.commit = a.getOrDefault("commit", "unknown");
    this.importTimeoutSeconds = Math.max(300, importRows / 1000);
    URI uri = URI.create(base);
    try {
      for (InetAddress address : InetAddress.getAllByName(uri.getHost())) {
        if (!address.isLoopbackAddress()) {
          throw new IllegalArgumentException("only a Sluice on this machine (loopback) is a target, not " + base);
        }
      }
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException("unknown host in " + base, e);
    }
    for (String t : TABLES) {
      locks.put(t, new ReentrantReadWriteLock(true));
    }
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
  }

  static String strip(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        usage();
      }
      a.put(args[i].substring(2), args[i + 1]);
    }
    if (args.length % 2 != 0 || !a.containsKey("url") || !a.containsKey("pid") || !a.containsKey("data")
        || !a.containsKey("out")) {
      usage();
    }
    int rc;
    try {
      rc = new Soak(a).run();
    } catch (Exception e) {
      System.err.println("soak: could not run: " + e);
      rc = 2;
    }
    System.exit(rc);
  }

  static void usage() {
    System.err.println("usage: SOAK_KEY=... java -cp sluice.jar Soak.java --url URL --pid PID --data DIR --out PREFIX"
        + " [--minutes 30] [--import-rows 300000] [--readers 4] [--writers 2] [--sample-seconds 30]"
        + " [--drop-seconds 120] [--force-gc true] [--commit C]");
    System.exit(2);
  }

  // ------------------------------------------------------------------------------------------ the run

  int run() throws Exception {
    Files.createDirectories(out.getParent());
    awaitReady();
    String version = new JsonObject(must(send("GET", "/version", null, false), "GET /version").body())
        .getString("version", "?");
    Path gz = out.resolveSibling("import-" + importRows + ".ndjson.gz");
    if (!Files.exists(gz)) { // seed 42: the same file every time, so kept for the next run
      say("generating the import file: %,d rows (gzipped NDJSON)", importRows);
      writeImportFile(gz, importRows);
    }
    say("import file: %,d bytes", Files.size(gz));
    for (String t : TABLES) {
      recreate(t);
    }
    String loadStart = loadavg();
    String started = Instant.now().toString();
    startNanos = System.nanoTime();
    deadlineNanos = startNanos + (long) (minutes * 60e9);
    say("soak of %s min against Sluice %s (%s) on %s: 1 importer (%,d rows per file), %d batch writers, "
        + "1 read-your-writes probe, 1 deleter (table drop every %d s), %d readers; a sample every %d s",
        fmt(minutes), version, commit, base, importRows, writers, dropSeconds, readers, sampleSeconds);

    List<Thread> threads = new ArrayList<>();
    threads.add(worker("soak-importer", () -> importer(gz)));
    for (int i = 0; i < writers; i++) {
      int seed = i;
      threads.add(worker("soak-writer-" + i, () -> writer(seed)));
    }
    threads.add(worker("soak-probe", this::probe));
    threads.add(worker("soak-deleter", this::deleter));
    for (int i = 0; i < readers; i++) {
      int seed = i;
      threads.add(worker("soak-reader-" + i, () -> reader(seed)));
    }

    Path csv = out.resolveSibling(out.getFileName() + ".csv");
    try (PrintStream csvOut = new PrintStream(Files.newOutputStream(csv), true, StandardCharsets.UTF_8)) {
      csvOut.println(Sample.HEADER);
      long next = startNanos + sampleSeconds * 1_000_000_000L;
      while (next <= deadlineNanos + 1_000_000_000L) {
        sleepUntil(next);
        if (!alive()) {
          break;
        }
        Sample s = sample(false, (next - startNanos) / 1e9); // its scheduled time: taking it can take a while
        samples.add(s);
        csvOut.println(s.csv(s.t > warmupSeconds() ? "load" : "warmup"));
        say("%s", s.line());
        next += sampleSeconds * 1_000_000_000L;
      }
      stopped = true;
      say("%s: stopping the load (an import in flight is awaited, at most %d s)",
          alive() ? "deadline" : "the server is gone", importTimeoutSeconds);
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(importTimeoutSeconds + 60));
      }
      Sample end = null;
      if (alive()) {
        Thread.sleep(5_000); // let the server's own commit/refresh timers run once with no load
        for (String t : TABLES) {
          count(t); // a search per table, so every searcher has refreshed since the last write
        }
        Thread.sleep(2_000);
        end = sample(true, (System.nanoTime() - startNanos) / 1e9);
        csvOut.println(end.csv("end"));
        say("%s", end.line());
      }
      String report = report(version, started, loadStart, loadavg(), end);
      Path md = out.resolveSibling(out.getFileName() + ".md");
      Files.writeString(md, report);
      log.println();
      log.println(report);
      say("table: %s; samples: %s", md, csv);
      return report.contains("\n**FAIL") ? 1 : 0;
    }
  }

  Thread worker(String name, Task task) {
    Thread t = new Thread(() -> {
      try {
        task.run();
      } catch (Exception e) {
        error(Thread.currentThread().getName() + " stopped: " + e);
      }
    }, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  interface Task {
    void run() throws Exception;
  }

  boolean running() {
    return !stopped && System.nanoTime() < deadlineNanos;
  }

  /** Whether the server runs: its /proc entry exists and is no zombie (soak.sh reaps it only at the end). */
  boolean alive() {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      char state = stat.charAt(stat.lastIndexOf(") ") + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  // ------------------------------------------------------------------------------------------ the load

  /** Imports the file again and again, alternating two tables, each dropped and recreated first. */
  void importer(Path gz) throws Exception {
    for (int n = 0; running(); n++) {
      String table = n % 2 == 0 ? IMPORT_A : IMPORT_B;
      recreate(table);
      long t0 = System.nanoTime();
      String path = "/api/v1/data/" + table + "/file";
      HttpResponse<String> r = send("POST", path, "{}", true);
      if (r.statusCode() != 200) {
        error("POST " + path + " answered " + r.statusCode() + ": " + shorten(r.body()));
        pause(5_000);
        continue;
      }
      JsonObject initiated = new JsonObject(r.body());
      String id = initiated.getString("id");
      URI signed = URI.create(initiated.getString("url"));
      // only ever this server: the signed URL's path and query on the base URL (the URL itself is never logged)
      URI upload = URI.create(base + signed.getRawPath() + "?" + signed.getRawQuery());
      HttpResponse<String> put;
      try {
        put = http.send(HttpRequest.newBuilder(upload)
            .timeout(Duration.ofSeconds(importTimeoutSeconds)).header("content-type", "application/gzip")
            .PUT(HttpRequest.BodyPublishers.ofFile(gz)).build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        error("upload PUT failed: " + e.getClass().getSimpleName()); // not the message: it could name the URL
        continue;
      }
      if (put.statusCode() != 200) {
        error("upload PUT answered " + put.statusCode() + ": " + shorten(put.body()));
        continue;
      }
      HttpResponse<String> trigger = send("POST", path + "/" + id, "{}", true);
      if (trigger.statusCode() != 200) {
        error("trigger answered " + trigger.statusCode() + ": " + shorten(trigger.body()));
        continue;
      }
      long deadline = System.nanoTime() + importTimeoutSeconds * 1_000_000_000L;
      JsonObject status = null;
      while (System.nanoTime() < deadline) { // not cut at the soak's deadline: the import is awaited
        HttpResponse<String> s = send("GET", path + "/" + id, null, true);
        if (s.statusCode() != 200) {
          error("import status answered " + s.statusCode() + ": " + shorten(s.body()));
          break;
        }
        status = new JsonObject(s.body()).getJsonObject("status");
        if (status.getBoolean("finished", false)) {
          break;
        }
        Thread.sleep(500);
      }
      if (status == null || !status.getBoolean("finished", false)) {
        error("import into " + table + " did not finish within " + importTimeoutSeconds + " s");
        continue;
      }
      long completed = status.getLong("completedCount", 0L);
      if (!"Finished".equals(status.getString("phase")) || completed != importRows) {
        error("import into " + table + " ended " + status.getString("phase") + " with " + completed + " of "
            + importRows + " rows");
        continue;
      }
      importsDone.incrementAndGet();
      importSecondsMillis.addAndGet((System.nanoTime() - t0) / 1_000_000);
      pause(1_000);
    }
  }

  /** Batches of 500–5,000 rows into the batch table. */
  void writer(int seed) throws Exception {
    SplittableRandom r = new SplittableRandom(1000 + seed);
    while (running()) {
      int n = 500 + r.nextInt(4501);
      String body = batch(nextBatchId.getAndAdd(n), n, null, r);
      HttpResponse<String> resp = locked(BATCH, () -> timed(writeLat, "POST", "/api/v1/data/" + BATCH + "/batch", body));
      if (resp.statusCode() == 200 && new JsonObject(resp.body()).getLong("total", -1L) == n) {
        batches.incrementAndGet();
        rowsWritten.addAndGet(n);
      } else {
        error("batch answered " + resp.statusCode() + ": " + shorten(resp.body()));
      }
      pause(50);
    }
  }

  /**
   * Read-your-writes: a batch of {@value #PROBE_ROWS} rows with a name of its own, then at once a search for
   * that name. Fewer hits than rows acknowledged is a miss; it is searched once more 1 s later to tell a late
   * write from a lost one. Old probe rows are deleted every 100 batches.
   */
  void probe() throws Exception {
    SplittableRandom r = new SplittableRandom(7);
    for (long seq = 1; running(); seq++) {
      String marker = "probe-" + seq;
      String body = batch(seq * PROBE_ROWS, PROBE_ROWS, marker, r);
      String query = new JsonObject().put("from", PROBE).put("where", new JsonObject().put("name", marker))
          .put("limit", 0).encode();
      long total;
      ReentrantReadWriteLock.ReadLock lock = locks.get(PROBE).readLock();
      lock.lock();
      try {
        HttpResponse<String> w = timed(writeLat, "POST", "/api/v1/data/" + PROBE + "/batch", body);
        if (w.statusCode() != 200) {
          error("probe batch answered " + w.statusCode() + ": " + shorten(w.body()));
          pause(1_000);
          continue;
        }
        rowsWritten.addAndGet(PROBE_ROWS);
        probeBatches.incrementAndGet();
        total = searchTotal(query);
        if (total >= 0 && total < PROBE_ROWS) { // (a failed search is an error, counted as such)
          probeMisses.incrementAndGet();
          probeMissedRows.addAndGet(PROBE_ROWS - total);
          Thread.sleep(1_000);
          if (searchTotal(query) < PROBE_ROWS) {
            probeLost.incrementAndGet();
          }
        }
      } finally {
        lock.unlock();
      }
      if (seq % 100 == 0) {
        String where = new JsonObject().put("from", PROBE).put("where",
            new JsonObject().put("id", new JsonObject().put("$lt", (seq - 50) * PROBE_ROWS))).encode();
        HttpResponse<String> d = send("POST", "/api/v1/data/_delete", where, true);
        if (d.statusCode() == 200) {
          deletes.incrementAndGet();
          rowsDeleted.addAndGet(new JsonObject(d.body()).getLong("total", 0L));
        } else {
          error("probe _delete answered " + d.statusCode() + ": " + shorten(d.body()));
        }
      }
      pause(100);
    }
  }

  long searchTotal(String query) throws Exception {
    HttpResponse<String> s = send("POST", "/api/v1/_search", query, true);
    if (s.statusCode() != 200) {
      error("probe search answered " + s.statusCode() + ": " + shorten(s.body()));
      return -1;
    }
    return new JsonObject(s.body()).getLong("total", -1L);
  }

  /** A {@code _delete} with a where-clause on the batch table every 3 s; the table dropped and recreated periodically. */
  void deleter() throws Exception {
    long lastDrop = System.nanoTime();
    for (int n = 0; running(); n++) {
      pause(3_000);
      if (!running()) {
        break;
      }
      if (System.nanoTime() - lastDrop >= dropSeconds * 1_000_000_000L) {
        recreate(BATCH);
        drops.incrementAndGet();
        lastDrop = System.nanoTime();
        continue;
      }
      JsonObject where = n % 2 == 0
          ? new JsonObject().put("category", CATEGORIES[n / 2 % CATEGORIES.length])
          : new JsonObject().put("$and", new JsonArray()
              .add(new JsonObject().put("tags", new JsonObject().put("$match", CITIES[n % CITIES.length])))
              .add(new JsonObject().put("age", new JsonObject().put("$lt", 50))));
      String body = new JsonObject().put("from", BATCH).put("where", where).encode();
      HttpResponse<String> d = locked(BATCH, () -> send("POST", "/api/v1/data/_delete", body, true));
      if (d.statusCode() == 200) {
        deletes.incrementAndGet();
        rowsDeleted.addAndGet(new JsonObject(d.body()).getLong("total", 0L));
      } else {
        error("_delete answered " + d.statusCode() + ": " + shorten(d.body()));
      }
    }
  }

  /** Searches of every table: text match, conjunctions with ranges, ordering, select, counts. */
  void reader(int seed) throws Exception {
    SplittableRandom r = new SplittableRandom(2000 + seed);
    while (running()) {
      String table = TABLES[r.nextInt(TABLES.length)];
      JsonObject q = new JsonObject().put("from", table);
      switch (r.nextInt(5)) {
        case 0 -> q.put("where", new JsonObject().put("tags", new JsonObject().put("$match", pick(CITIES, r))))
            .put("orderBy", new JsonObject().put("$desc", "id")).put("limit", 10);
        case 1 -> q.put("where", new JsonObject().put("$and", new JsonArray()
                .add(new JsonObject().put("category", pick(CATEGORIES, r)))
                .add(new JsonObject().put("age", new JsonObject().put("$gte", 10 + r.nextInt(70))))))
            .put("limit", 20);
        case 2 -> q.put("where", new JsonObject().put("description",
                new JsonObject().put("$has", pick(WORDS, r) + " " + pick(WORDS, r))))
            .put("select", new JsonArray().add("id").add("name").add("price")).put("limit", 10);
        case 3 -> q.put("where", new JsonObject().put("price", new JsonObject().put("$lt", r.nextInt(1000))))
            .put("orderBy", new JsonObject().put("$asc", "price")).put("offset", r.nextInt(50)).put("limit", 10);
        default -> q.put("limit", 0);
      }
      String body = q.encode();
      HttpResponse<String> resp = locked(table, () -> timed(readLat, "POST", "/api/v1/_search", body));
      if (resp.statusCode() == 200) {
        searches.incrementAndGet();
      } else {
        error("_search answered " + resp.statusCode() + ": " + shorten(resp.body()));
      }
      pause(20);
    }
  }

  // ------------------------------------------------------------------------------------------ sampling

  record Sample(double t, boolean quiesced, double rssMb, double heapMb, double liveDataMb, long fds,
      long deleted, long deletedUploads, long threads, long dataBytes, long liveRows, double bytesPerRow,
      long importJobs, String importsDropped, double rP50, double rP99, double wP50, double wP99, long reads,
      long batches, long rows, long deletes, long drops, long imports, long probes, long misses, long errors) {
    static final String HEADER = "t_s,phase,rss_mb,heap_after_gc_mb,gc_live_data_mb,open_files,"
        + "deleted_file_handles,deleted_upload_handles,threads,data_bytes,live_rows,bytes_per_row,import_jobs,"
        + "imports_dropped,reader_p50_ms,reader_p99_ms,writer_p50_ms,writer_p99_ms,searches,batches,rows_written,"
        + "deletes,drops,imports_done,probe_batches,probe_misses,errors";

    String csv(String phase) {
      return String.join(",", raw(t), phase, raw(rssMb), raw(heapMb), raw(liveDataMb),
          "" + fds, "" + deleted, "" + deletedUploads, "" + threads, "" + dataBytes, "" + liveRows,
          raw(bytesPerRow), "" + importJobs, importsDropped, raw(rP50), raw(rP99), raw(wP50), raw(wP99),
          "" + reads, "" + batches, "" + rows, "" + deletes, "" + drops, "" + imports, "" + probes, "" + misses,
          "" + errors);
    }

    String line() {
      return String.format(Locale.ROOT, "%s t=%.0fs rss %.0f MB, heap after GC %.0f MB, fds %d (deleted %d), "
              + "threads %d, %,d rows in %,d bytes (%.0f B/row), import jobs %d; read p50/p99 %s/%s ms, write "
              + "p50/p99 %s/%s ms; imports %d, batches %d, searches %d, RYW misses %d, errors %d",
          quiesced ? "end (quiesced)" : "sample", t, rssMb, heapMb, fds, deleted, threads, liveRows, dataBytes,
          bytesPerRow, importJobs, dash(rP50), dash(rP99), dash(wP50), dash(wP99), imports, batches, reads, misses,
          errors);
    }
  }

  Sample sample(boolean quiesced, double t) throws Exception {
    Map<String, Long> status = procStatus();
    long fds = 0;
    long deleted = 0;
    long deletedUploads = 0;
    // open files first, before the forced GC below: a GC could close a leaked stream and hide the leak
    try (var dir = Files.newDirectoryStream(Path.of("/proc/" + pid + "/fd"))) {
      for (Path fd : dir) {
        fds++;
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.endsWith(" (deleted)")) {
            deleted++;
            if (target.contains("/uploads/")) {
              deletedUploads++;
            }
          }
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    }
    if (forceGc) {
      jcmdGc();
    }
    double heap = Double.NaN;
    double live = Double.NaN;
    HttpResponse<String> m = send("GET", "/metrics", null, false);
    if (m.statusCode() == 200) {
      double sum = 0;
      boolean any = false;
      for (String line : m.body().split("\n")) {
        if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
          sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          any = true;
        } else if (line.startsWith("jvm_gc_live_data_size_bytes ")) {
          live = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)) / 1048576.0;
        }
      }
      heap = any ? sum / 1048576.0 : Double.NaN;
    }
    if (!forceGc) {
      heap = live;
    }
    long rows = 0;
    for (String table : TABLES) {
      rows += Math.max(0, count(table));
    }
    long bytes = du(dataDir);
    long jobs = -1;
    String dropped = "";
    HttpResponse<String> imports = send("GET", "/api/v1/data/_imports?limit=1000", null, true);
    if (imports.statusCode() == 200) {
      JsonObject listing = new JsonObject(imports.body());
      jobs = listing.getJsonArray("imports", new JsonArray()).size();
      Object d = listing.getValue("dropped");
      dropped = d == null ? "" : String.valueOf(d).replace(",", ";");
    }
    long[] rl = readLat.drain();
    long[] wl = writeLat.drain();
    return new Sample(t, quiesced, status.getOrDefault("VmRSS", -1L) / 1024.0, heap, live, fds, deleted,
        deletedUploads, status.getOrDefault("Threads", -1L), bytes, rows, rows > 0 ? (double) bytes / rows : Double.NaN,
        jobs, dropped, pct(rl, 50), pct(rl, 99), pct(wl, 50), pct(wl, 99), searches.get(), batches.get(),
        rowsWritten.get(), deletes.get(), drops.get(), importsDone.get(), probeBatches.get(), probeMisses.get(),
        errors.get());
  }

  Map<String, Long> procStatus() throws IOException {
    Map<String, Long> m = new HashMap<>();
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      int colon = line.indexOf(':');
      if (colon > 0 && (line.startsWith("VmRSS") || line.startsWith("Threads"))) {
        m.put(line.substring(0, colon), Long.parseLong(line.substring(colon + 1).replace("kB", "").trim()));
      }
    }
    return m;
  }

  void jcmdGc() {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    try {
      Process p = new ProcessBuilder(Files.isExecutable(jcmd) ? jcmd.toString() : "jcmd", "" + pid, "GC.run")
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    } catch (IOException | InterruptedException e) {
      say("jcmd GC.run failed: %s", e);
    }
  }

  /** Bytes of the regular files under dir (what du -sb counts, less directory entries); skips vanishing files. */
  static long du(Path dir) throws IOException {
    long[] total = {0};
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
        if (attrs.isRegularFile()) {
          total[0] += attrs.size();
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) {
        return FileVisitResult.CONTINUE;
      }
    });
    return total[0];
  }

  long count(String table) throws Exception {
    HttpResponse<String> r = send("POST", "/api/v1/_search",
        new JsonObject().put("from", table).put("limit", 0).encode(), true);
    return r.statusCode() == 200 ? new JsonObject(r.body()).getLong("total", 0L) : -1;
  }

  static String loadavg() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "?";
    }
  }

  // ------------------------------------------------------------------------------------------ the verdict

  /** A sampled metric: name, value of a sample, growth floor (NaN: shown, never judged). */
  record Metric(String name, ToDoubleFunction<Sample> value, double floor) {
  }

  static final double RATIO = 1.5;

  /** Samples up to this time are shown and written but not judged: 10 % of the run, at least 60 s. */
  double warmupSeconds() {
    return Math.max(60, minutes * 6);
  }

  static final List<Metric> METRICS = List.of(
      new Metric("RSS (MB)", Sample::rssMb, 128),
      new Metric("heap used after GC (MB)", Sample::heapMb, 32),
      new Metric("open files", s -> s.fds, 16),
      new Metric("open files on deleted files", s -> s.deleted, 2),
      new Metric("threads", s -> s.threads, 8),
      new Metric("data dir bytes per live row", Sample::bytesPerRow, 200),
      new Metric("import jobs listed", s -> s.importJobs, 10),
      new Metric("reader p99 (ms)", Sample::rP99, 250),
      new Metric("writer p99 (ms)", Sample::wP99, 500),
      new Metric("reader p50 (ms)", Sample::rP50, Double.NaN),
      new Metric("writer p50 (ms)", Sample::wP50, Double.NaN),
      new Metric("live rows", s -> s.liveRows, Double.NaN),
      new Metric("data dir (MB)", s -> s.dataBytes / 1048576.0, Double.NaN));

  String report(String version, String started, String loadStart, String loadEnd, Sample end) {
    StringBuilder sb = new StringBuilder();
    List<Sample> judgedSamples = samples.stream().filter(x -> x.t > warmupSeconds()).toList();
    int warm = samples.size() - judgedSamples.size();
    int n = judgedSamples.size();
    int k = n / 3;
    sb.append(String.format(Locale.ROOT, "### Soak of %s — %s min, Sluice %s (%s)%n%n", started.substring(0, 10),
        fmt(minutes), version, commit));
    sb.append(String.format(Locale.ROOT, "Started %s; %d cores; load average %s at start, %s at end; %d samples, "
        + "one every %d s, the first %d of them in the warm-up (%s s) and not judged; heap: %s.%n%n",
        started.replaceAll("\\.\\d+Z$", "Z"), Runtime.getRuntime().availableProcessors(), loadStart, loadEnd,
        samples.size(), sampleSeconds, warm, fmt(warmupSeconds()),
        forceGc ? "jvm_memory_used_bytes{area=\"heap\"} summed over the pools, read right after `jcmd <pid> GC.run`"
            : "jvm_gc_live_data_size_bytes (no forced GC)"));
    List<String> failures = new ArrayList<>();
    boolean judged = n >= 6;
    sb.append("Medians of the thirds of the samples after the warm-up: F, M, L. A metric grows when L > 1.5 × F, "
        + "L − F > its floor, F ≤ M ≤ L and the lowest sample of the last third is above F.\n\n");
    sb.append("| metric | first third (F) | middle third (M) | last third (L) | L/F | lowest of last third "
        + "| end (quiesced) | floor | verdict |\n");
    sb.append("|---|--:|--:|--:|--:|--:|--:|--:|---|\n");
    for (Metric m : METRICS) {
      double f = median(judgedSamples.subList(0, k), m.value);
      double mid = median(judgedSamples.subList(k, n - k), m.value);
      double l = median(judgedSamples.subList(n - k, n), m.value);
      double low = judgedSamples.subList(n - k, n).stream().mapToDouble(m.value).filter(x -> !Double.isNaN(x))
          .min().orElse(Double.NaN);
      String verdict;
      if (Double.isNaN(m.floor)) {
        verdict = "(shown only)";
      } else if (!judged) {
        verdict = "(too few samples)";
      } else if (grows(f, mid, l, low, m.floor)) {
        verdict = "**grows**";
        failures.add(m.name + " grows without bound (first third " + fmt(f) + ", last third " + fmt(l) + ")");
      } else {
        verdict = "ok";
      }
      sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", m.name, fmt(f),
          fmt(mid), fmt(l), f > 0 ? fmt(l / f) : "", fmt(low), end == null ? "" : fmt(m.value.applyAsDouble(end)),
          Double.isNaN(m.floor) ? "" : fmt(m.floor), verdict));
    }
    long imports = importsDone.get();
    sb.append(String.format(Locale.ROOT, "%nLoad: %,d file imports of %,d rows (mean %.1f s each, initiate → "
            + "finished), %,d batches (%,d rows written in all), %,d searches, %,d deletes (%,d rows), table "
            + "drops: %,d; read-your-writes probe: %,d batches of %d rows, **%,d misses** (%,d rows missing from the "
            + "search right after the 200; %,d still missing 1 s later); errors: %,d.%n",
        imports, importRows, imports == 0 ? 0.0 : importSecondsMillis.get() / 1000.0 / imports, batches.get(),
        rowsWritten.get(), searches.get(), deletes.get(), rowsDeleted.get(), drops.get(), probeBatches.get(),
        PROBE_ROWS, probeMisses.get(), probeMissedRows.get(), probeLost.get(), errors.get()));
    if (end != null) {
      sb.append(String.format(Locale.ROOT, "End (quiesced, after the load stopped and 7 s idle): %d open files, "
          + "%d on deleted files (%d under uploads/).%n", end.fds, end.deleted, end.deletedUploads));
    }
    synchronized (firstErrors) {
      for (String e : firstErrors) {
        sb.append("- error: ").append(e.replace("|", "\\|")).append('\n');
      }
    }
    if (!judged) {
      sb.append(String.format(Locale.ROOT, "%nGrowth not judged: %d samples after the warm-up, at least 6 "
          + "needed (a run of %s s or more).%n", n, fmt(Math.max(60, warmupSeconds()) + 6 * sampleSeconds)));
    }
    if (end == null) {
      failures.add("the server is gone (no quiesced end sample)");
    } else if (end.deleted > 0) {
      failures.add("open files on deleted files at the end: " + end.deleted + " (" + end.deletedUploads
          + " uploads)");
    }
    if (probeMisses.get() > 0) {
      failures.add("read-your-writes misses: " + probeMisses.get());
    }
    if (errors.get() > 0) {
      failures.add("request errors: " + errors.get());
    }
    if (samples.isEmpty()) {
      failures.add("no samples");
    }
    sb.append('\n');
    if (failures.isEmpty()) {
      sb.append("**PASS**\n");
    } else {
      for (String f : failures) {
        sb.append("**FAIL: ").append(f).append("**\n");
      }
    }
    return sb.toString();
  }

  /**
   * The growth rule (see soak.sh): the last third's median over 1.5× the first's, by more than the floor, the
   * thirds' medians not falling, and even the lowest sample of the last third above the first third's median
   * (a rise, not a spike in a few samples).
   */
  static boolean grows(double first, double middle, double last, double lowestLast, double floor) {
    if (Double.isNaN(first) || Double.isNaN(middle) || Double.isNaN(last)) {
      return false;
    }
    return last > RATIO * first && last - first > floor && first <= middle && middle <= last && lowestLast > first;
  }

  static double median(List<Sample> s, ToDoubleFunction<Sample> f) {
    double[] v = s.stream().mapToDouble(f).filter(x -> !Double.isNaN(x) && x >= 0).sorted().toArray();
    if (v.length == 0) {
      return Double.NaN;
    }
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  // ------------------------------------------------------------------------------------------ helpers

  static final class Latencies {
    private long[] v = new long[1024];
    private int n;

    synchronized void add(long nanos) {
      if (n == v.length) {
        v = Arrays.copyOf(v, n * 2);
      }
      v[n++] = nanos;
    }

    synchronized long[] drain() {
      long[] out = Arrays.copyOf(v, n);
      n = 0;
      Arrays.sort(out);
      return out;
    }
  }

  static double pct(long[] sorted, int p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length); // nearest rank
    return sorted[Math.max(0, rank - 1)] / 1e6;
  }

  /** For the CSV: no grouping, "" for none. */
  static String raw(double v) {
    if (Double.isNaN(v)) {
      return "";
    }
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.3f", v);
  }

  static String dash(double v) {
    return Double.isNaN(v) ? "-" : fmt(v);
  }

  static String fmt(double v) {
    if (Double.isNaN(v)) {
      return "";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "∞" : "-∞";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return String.format(Locale.ROOT, Math.abs(v) >= 10_000 ? "%,d" : "%d", (long) v);
    }
    if (Math.abs(v) >= 10_000) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.0f" : Math.abs(v) >= 10 ? "%.1f" : "%.2f", v);
  }

  interface Call {
    HttpResponse<String> call() throws Exception;
  }

  HttpResponse<String> locked(String table, Call c) throws Exception {
    ReentrantReadWriteLock.ReadLock lock = locks.get(table).readLock();
    lock.lock();
    try {
      return c.call();
    } finally {
      lock.unlock();
    }
  }

  HttpResponse<String> timed(Latencies lat, String method, String path, String body) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r = send(method, path, body, true);
    lat.add(System.nanoTime() - t0);
    return r;
  }

  void recreate(String table) throws Exception {
    ReentrantReadWriteLock.WriteLock lock = locks.get(table).writeLock();
    lock.lock();
    try {
      HttpResponse<String> d = send("DELETE", "/api/v1/schema/" + table, null, true);
      if (d.statusCode() != 200 && d.statusCode() != 404) {
        error("DELETE table " + table + " answered " + d.statusCode() + ": " + shorten(d.body()));
      }
      must(send("PUT", "/api/v1/schema/" + table, SCHEMA, true), "PUT schema " + table);
    } finally {
      lock.unlock();
    }
  }

  HttpResponse<String> must(HttpResponse<String> r, String what) {
    if (r.statusCode() != 200) {
      throw new IllegalStateException(what + " answered " + r.statusCode() + ": " + shorten(r.body()));
    }
    return r;
  }

  HttpResponse<String> send(String method, String path, String body, boolean withKey) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120))
        .header("content-type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (withKey) {
      b.header("x-api-key", key);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return new Failed(e.toString());
    }
  }

  void awaitReady() throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (!alive()) {
        throw new IllegalStateException("the server process " + pid + " is gone");
      }
      if (send("GET", "/ready", null, false).statusCode() == 200) {
        return;
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("the server is not ready after 120 s");
  }

  void error(String text) {
    String message = shorten(text);
    errors.incrementAndGet();
    synchronized (firstErrors) {
      if (firstErrors.size() < 10) {
        firstErrors.add(message);
        say("error: %s", message);
      }
    }
  }

  static String shorten(String s) {
    String one = s == null ? "" : s.replaceAll("\\s+", " ");
    one = one.replaceAll("signature=[^&\"\\s]*", "signature=…"); // never a signed URL in the output
    return one.length() > 300 ? one.substring(0, 300) + "…" : one;
  }

  void say(String format, Object... args) {
    double t = startNanos == 0 ? 0 : (System.nanoTime() - startNanos) / 1e9;
    log.printf(Locale.ROOT, "[soak %02d:%02d] %s%n", (int) t / 60, (int) t % 60, String.format(Locale.ROOT, format, args));
  }

  static void pause(long millis) throws InterruptedException {
    Thread.sleep(millis);
  }

  static void sleepUntil(long nanos) throws InterruptedException {
    long wait;
    while ((wait = nanos - System.nanoTime()) > 0) {
      Thread.sleep(Math.max(1, Math.min(1_000, wait / 1_000_000)));
    }
  }

  /** A transport failure as a response with status 0, so callers count it as an error and go on. */
  record Failed(String message) implements HttpResponse<String> {
    public int statusCode() {
      return 0;
    }

    public HttpRequest request() {
      return null;
    }

    public java.util.Optional<HttpResponse<String>> previousResponse() {
      return java.util.Optional.empty();
    }

    public java.net.http.HttpHeaders headers() {
      return java.net.http.HttpHeaders.of(Map.of(), (a, b) -> true);
    }

    public String body() {
      return message;
    }

    public java.util.Optional<javax.net.ssl.SSLSession> sslSession() {
      return java.util.Optional.empty();
    }

    public URI uri() {
      return null;
    }

    public HttpClient.Version version() {
      return HttpClient.Version.HTTP_1_1;
    }
  }
}
