import io.sluice.Stores;
import io.sluice.core.Database;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sluice's store alone, in one fresh JVM: the import's store work (Database.appendLines — parse, validate,
 * index — with a commit at most every second, as import.commit.interval.ms does) on two threads, without HTTP,
 * gunzip or the event bus. The same rows go into a new table per pass, so the first pass shows what the JIT
 * warm-up of a fresh JVM costs and the later ones the steady state. The uncompressed NDJSON is read and split
 * into 10,000-line batches before timing.
 *
 * <p>Usage: {@code java -cp target/sluice.jar:<classes> StoreOnly schema.json data.ndjson [passes] [threads]}.
 * Prints one JSON object on standard output: per pass wall and process CPU seconds, and rows/s.
 */
public final class StoreOnly {
  private static final int BATCH_LINES = 10_000;

  private StoreOnly() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: StoreOnly schema.json data.ndjson [passes] [threads]");
      System.exit(2);
    }
    JsonObject schema = new JsonObject(Files.readString(Path.of(args[0])));
    int passes = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int threads = args.length > 3 ? Integer.parseInt(args[3]) : 2;
    List<byte[]> batches = new ArrayList<>();
    long rows = split(Files.readAllBytes(Path.of(args[1])), batches);

    Path data = Files.createTempDirectory("sluice-storeonly");
    Database store = Stores.lucene(data, 10_000);
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    JsonArray results = new JsonArray();
    try {
      for (int pass = 0; pass < passes; pass++) {
        String table = "pass" + pass;
        store.putTable(table, schema);
        long cpu = os.getProcessCpuTime();
        long start = System.nanoTime();
        importAll(store, table, batches, threads);
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = (os.getProcessCpuTime() - cpu) / 1e9;
        results.add(new JsonObject().put("pass", pass + 1).put("seconds", round(seconds))
            .put("cpuSeconds", round(cpuSeconds)).put("rowsPerSec", Math.round(rows / seconds)));
        System.err.printf("pass %d: %.2f s, %.2f CPU-s%n", pass + 1, seconds, cpuSeconds);
        store.deleteTable(table); // its merges would otherwise compete with the next pass
      }
    } finally {
      store.close();
      deleteTree(data);
    }
    JsonObject first = results.getJsonObject(0);
    List<JsonObject> later = new ArrayList<>();
    for (int i = 2; i < results.size(); i++) {
      later.add(results.getJsonObject(i));
    }
    JsonObject steady = later.isEmpty() ? first : median(later);
    System.out.println(new JsonObject().put("rows", rows).put("threads", threads).put("passes", results)
        .put("first", first).put("steady", steady)
        .put("firstOverSteadyCpu", round(first.getDouble("cpuSeconds") / steady.getDouble("cpuSeconds")))
        .encode());
    System.exit(0);
  }

  private static long split(byte[] all, List<byte[]> batches) {
    long rows = 0;
    int lines = 0;
    int start = 0;
    for (int i = 0; i < all.length; i++) {
      if (all[i] == '\n') {
        rows++;
        if (++lines == BATCH_LINES) {
          batches.add(Arrays.copyOfRange(all, start, i + 1));
          start = i + 1;
          lines = 0;
        }
      }
    }
    if (start < all.length) {
      batches.add(Arrays.copyOfRange(all, start, all.length));
    }
    return rows;
  }

  private static void importAll(Database store, String table, List<byte[]> batches, int threads)
      throws Exception {
    AtomicInteger next = new AtomicInteger();
    AtomicLong lastSync = new AtomicLong(System.nanoTime());
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        workers.add(pool.submit(() -> {
          for (int i; (i = next.getAndIncrement()) < batches.size(); ) {
            JsonObject args = new JsonObject().put("job", "bench-" + table).put("batch", (long) i)
                .put("firstLine", (long) i * BATCH_LINES + 1).put("deferCommit", true);
            join(store.appendLines(table, args, batches.get(i)));
            long now = System.nanoTime();
            long last = lastSync.get();
            if (now - last > 1_000_000_000L && lastSync.compareAndSet(last, now)) {
              join(store.sync(table));
            }
          }
          return null;
        }));
      }
      for (Future<?> worker : workers) {
        worker.get();
      }
      join(store.sync(table));
    } finally {
      pool.shutdown();
    }
  }

  private static void join(io.vertx.core.Future<JsonObject> future) {
    JsonObject reply = future.toCompletionStage().toCompletableFuture().join();
    if (reply.containsKey("failedCount") && reply.getInteger("failedCount") != 0) {
      throw new IllegalStateException("rows were rejected: " + reply.encode());
    }
  }

  private static JsonObject median(List<JsonObject> passes) {
    List<JsonObject> sorted = new ArrayList<>(passes);
    sorted.sort((a, b) -> Double.compare(a.getDouble("cpuSeconds"), b.getDouble("cpuSeconds")));
    return sorted.get(sorted.size() / 2);
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  private static void deleteTree(Path root) throws java.io.IOException {
    try (var paths = Files.walk(root)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
