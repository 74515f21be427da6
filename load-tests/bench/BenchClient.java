import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The client side of bench.sh: drives one Sluice on this machine and prints one JSON object of measurements.
 *
 * <pre>
 * BenchClient import URL KEY TABLE SCHEMA.json DATA.ndjson.gz ROWS TIMEOUT_SECONDS
 *     (re)creates TABLE, initiates a file import, PUTs the file to the signed URL, triggers it and polls the
 *     status every 50 ms until it is finished: rows/s from trigger to the first status that says finished
 * BenchClient batch URL[,URL...] KEY TABLE SCHEMA.json DATA.ndjson ROWS CLIENTS BATCH_ROWS TIMEOUT_SECONDS
 *     (re)creates TABLE, posts the first ROWS lines as batches of BATCH_ROWS rows from CLIENTS threads, each
 *     batch once: rows/s over the whole run, p50/p99 of the request latencies. With several URLs (the nodes of
 *     a cluster) batch i goes to URL i mod n, as a round-robin load balancer would send it, after 10 warm-up
 *     batches on each node; p50/p99 are also given per node
 * BenchClient mixed URL KEY SCHEMA.json DATA.ndjson DATA.ndjson.gz ROWS TIMEOUT_SECONDS
 *     a reader (a _search every 0.5 s on the importing table and on a small table of 1,000 rows) and a writer
 *     (a 100-row batch every 0.5 s into a third table), first for 10 s idle, then while the file import of
 *     ROWS rows runs: p50/p99 of each, idle and during, and the import's rows/s
 * </pre>
 *
 * Only a loopback URL is accepted. Every loop is bounded by a count and by TIMEOUT_SECONDS.
 */
public final class BenchClient {
  private final String base;
  /** Every node given (the first is {@link #base}); only the batch measurement spreads over them. */
  private final List<String> bases = new ArrayList<>();
  private final String key;
  private final HttpClient http;

  private BenchClient(String urls, String key, int threads) {
    for (String url : urls.split(",")) {
      URI uri = URI.create(url);
      try {
        for (InetAddress address : InetAddress.getAllByName(uri.getHost())) {
          if (!address.isLoopbackAddress()) {
            throw new IllegalArgumentException("only a Sluice on this machine (loopback) is a target, not " + url);
          }
        }
      } catch (java.net.UnknownHostException e) {
        throw new IllegalArgumentException("unknown host in " + url, e);
      }
      bases.add(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
    }
    this.base = bases.get(0);
    this.key = key;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      usage();
    }
    switch (args[0]) {
      case "import" -> {
        if (args.length != 8) {
          usage();
        }
        BenchClient c = new BenchClient(args[1], args[2], 1);
        System.out.println(c.fileImport(args[3], Path.of(args[4]), Path.of(args[5]), Long.parseLong(args[6]),
            Integer.parseInt(args[7])).encode());
      }
      case "batch" -> {
        if (args.length != 10) {
          usage();
        }
        int clients = Integer.parseInt(args[7]);
        BenchClient c = new BenchClient(args[1], args[2], clients);
        System.out.println(c.batches(args[3], Path.of(args[4]), Path.of(args[5]), Integer.parseInt(args[6]),
            clients, Integer.parseInt(args[8]), Integer.parseInt(args[9])).encode());
      }
      case "mixed" -> {
        if (args.length != 8) {
          usage();
        }
        BenchClient c = new BenchClient(args[1], args[2], 3);
        System.out.println(c.mixed(Path.of(args[3]), Path.of(args[4]), Path.of(args[5]), Long.parseLong(args[6]),
            Integer.parseInt(args[7])).encode());
      }
      default -> usage();
    }
  }

  private static void usage() {
    System.err.println("usage: BenchClient import URL KEY TABLE SCHEMA.json DATA.ndjson.gz ROWS TIMEOUT_SECONDS\n"
        + "       BenchClient batch URL[,URL...] KEY TABLE SCHEMA.json DATA.ndjson ROWS CLIENTS BATCH_ROWS TIMEOUT_SECONDS\n"
        + "       BenchClient mixed URL KEY SCHEMA.json DATA.ndjson DATA.ndjson.gz ROWS TIMEOUT_SECONDS");
    System.exit(2);
  }

  // ------------------------------------------------------------------------------------------ file import

  private JsonObject fileImport(String table, Path schema, Path gz, long rows, int timeoutSeconds) throws Exception {
    return fileImport(table, schema, gz, rows, timeoutSeconds, true);
  }

  private JsonObject fileImport(String table, Path schema, Path gz, long rows, int timeoutSeconds, boolean recreate)
      throws Exception {
    if (recreate) {
      recreate(table, schema);
    }
    String path = "/api/v1/data/" + table + "/file";
    JsonObject initiated = call("POST", path, "{}");
    URI signed = URI.create(initiated.getString("url"));
    URI upload = URI.create(base + signed.getRawPath() + "?" + signed.getRawQuery()); // only ever the given server
    long t0 = System.nanoTime();
    HttpResponse<String> put = http.send(HttpRequest.newBuilder(upload).timeout(Duration.ofSeconds(timeoutSeconds))
        .header("content-type", "application/gzip").PUT(HttpRequest.BodyPublishers.ofFile(gz)).build(),
        HttpResponse.BodyHandlers.ofString());
    double uploadSeconds = (System.nanoTime() - t0) / 1e9;
    if (put.statusCode() != 200) {
      throw new IllegalStateException("upload answered " + put.statusCode() + ": " + put.body());
    }
    String id = initiated.getString("id");
    long triggered = System.nanoTime();
    call("POST", path + "/" + id, "{}");
    long deadline = triggered + timeoutSeconds * 1_000_000_000L;
    JsonObject status = null;
    int polls = 0;
    while (System.nanoTime() < deadline) {
      status = call("GET", path + "/" + id, null);
      polls++;
      if (status.getJsonObject("status").getBoolean("finished", false)) {
        break;
      }
      Thread.sleep(50);
    }
    double seconds = (System.nanoTime() - triggered) / 1e9;
    JsonObject s = status == null ? new JsonObject() : status.getJsonObject("status");
    boolean finished = s.getBoolean("finished", false);
    long completed = s.getLong("completedCount", 0L);
    return new JsonObject()
        .put("ok", finished && "Finished".equals(s.getString("phase")) && completed == rows)
        .put("phase", s.getString("phase"))
        .put("rows", rows)
        .put("completedCount", completed)
        .put("failedCount", s.getLong("failedCount", 0L))
        .put("uploadSeconds", round3(uploadSeconds))
        .put("seconds", round3(seconds))
        .put("serverSeconds", s.containsKey("totalDuration") ? s.getLong("totalDuration") / 1000.0 : null)
        .put("rowsPerSec", Math.round(completed / seconds))
        .put("polls", polls)
        .put("errors", status == null ? null : status.getJsonObject("errors"));
  }

  // ------------------------------------------------------------------------------------------ mixed load

  private static final String MIXED_IMPORT = "bench_mixed_import";
  private static final String MIXED_SMALL = "bench_mixed_small";
  private static final String MIXED_WRITES = "bench_mixed_writes";

  /** Latencies of one kind of request, sampled by one thread every 0.5 s. */
  private static final class Samples {
    final List<Long> nanos = new ArrayList<>();
    int errors;
    String firstError;

    synchronized void add(long n) {
      nanos.add(n);
    }

    synchronized void error(String message) {
      if (errors++ == 0) {
        firstError = message.length() > 300 ? message.substring(0, 300) : message;
      }
    }

    synchronized JsonObject summary() {
      long[] sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
      return new JsonObject().put("n", sorted.length).put("p50Ms", percentileMs(sorted, 50))
          .put("p99Ms", percentileMs(sorted, 99))
          .put("maxMs", sorted.length == 0 ? null : round3(sorted[sorted.length - 1] / 1e6))
          .put("errors", errors).put("firstError", firstError);
    }
  }

  private JsonObject mixed(Path schema, Path ndjson, Path gz, long rows, int timeoutSeconds) throws Exception {
    recreate(MIXED_IMPORT, schema);
    recreate(MIXED_SMALL, schema);
    recreate(MIXED_WRITES, schema);
    for (byte[] p : payloads(ndjson, 1_000, 1_000)) {
      post(MIXED_SMALL, p);
    }
    List<byte[]> batches = payloads(ndjson, 10_000, 100);
    String where = "\"where\": {\"category\": \"books\", \"age\": {\"$gte\": 30}}, \"limit\": 10";
    for (int i = 0; i < 20; i++) { // JIT and connections warm before anything is counted
      send("POST", "/api/v1/_search", "{\"from\": \"" + MIXED_SMALL + "\", " + where + "}");
      postRaw(MIXED_WRITES, batches.get(i));
    }
    JsonObject idle = sample(batches, where, () -> false, 10);
    java.util.concurrent.atomic.AtomicBoolean importDone = new java.util.concurrent.atomic.AtomicBoolean();
    JsonObject[] during = new JsonObject[1];
    Thread sampler = new Thread(() -> {
      try {
        during[0] = sample(batches, where, importDone::get, timeoutSeconds);
      } catch (Exception e) {
        during[0] = new JsonObject().put("error", e.toString());
      }
    }, "bench-mixed-sampler");
    sampler.start();
    JsonObject imported;
    try {
      imported = fileImport(MIXED_IMPORT, schema, gz, rows, timeoutSeconds, false);
    } finally {
      importDone.set(true);
      sampler.join();
    }
    return new JsonObject().put("ok", imported.getBoolean("ok") && during[0].getJsonObject("search_import") != null)
        .put("idle", idle).put("during", during[0]).put("import", imported);
  }

  /**
   * Every 0.5 s until {@code stop} says so (or for {@code seconds} when it never does): a search on the importing
   * table, one on the small table, and a 100-row batch, each from its own thread so a slow one delays no other.
   */
  private JsonObject sample(List<byte[]> batches, String where, java.util.function.BooleanSupplier stop, int seconds)
      throws InterruptedException {
    Samples searchImport = new Samples();
    Samples searchSmall = new Samples();
    Samples batch = new Samples();
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    AtomicInteger next = new AtomicInteger();
    Runnable[] loops = {
        () -> timed(searchImport, () -> send("POST", "/api/v1/_search",
            "{\"from\": \"" + MIXED_IMPORT + "\", " + where + "}")),
        () -> timed(searchSmall, () -> send("POST", "/api/v1/_search",
            "{\"from\": \"" + MIXED_SMALL + "\", " + where + "}")),
        () -> timed(batch, () -> postRaw(MIXED_WRITES, batches.get(next.getAndIncrement() % batches.size())))};
    List<Thread> threads = new ArrayList<>();
    for (Runnable once : loops) {
      Thread t = new Thread(() -> {
        while (System.nanoTime() < end && !stop.getAsBoolean()) {
          long started = System.nanoTime();
          once.run();
          long rest = 500_000_000L - (System.nanoTime() - started);
          if (rest > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(rest);
          }
        }
      }, "bench-mixed");
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    return new JsonObject().put("search_import", searchImport.summary()).put("search_small", searchSmall.summary())
        .put("batch100", batch.summary());
  }

  private interface Request {
    HttpResponse<String> send() throws Exception;
  }

  private static void timed(Samples samples, Request request) {
    long t0 = System.nanoTime();
    try {
      HttpResponse<String> r = request.send();
      samples.add(System.nanoTime() - t0);
      if (r.statusCode() != 200) {
        samples.error(r.statusCode() + ": " + r.body());
      }
    } catch (Exception e) {
      samples.add(System.nanoTime() - t0);
      samples.error(e.toString());
    }
  }

  // ------------------------------------------------------------------------------------------ batch endpoint

  private JsonObject batches(String table, Path schema, Path ndjson, int rows, int clients, int batchRows,
      int timeoutSeconds) throws Exception {
    List<byte[]> payloads = payloads(ndjson, rows, batchRows);
    int loaded = 0;
    // warm the endpoint of every node on a table of its own (JIT, connections), not counted
    recreate(table + "_warmup", schema);
    for (String node : bases) {
      for (int i = 0; i < Math.min(10, payloads.size()); i++) {
        post(node, table + "_warmup", payloads.get(i));
      }
    }
    call("DELETE", "/api/v1/schema/" + table + "_warmup", null);
    recreate(table, schema);
    for (byte[] p : payloads) {
      loaded += count(p);
    }
    long[] latencies = new long[payloads.size()];
    AtomicInteger next = new AtomicInteger();
    AtomicLong stored = new AtomicLong();
    AtomicInteger errors = new AtomicInteger();
    List<String> firstErrors = new ArrayList<>();
    long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
    Thread[] threads = new Thread[clients];
    long start = System.nanoTime();
    for (int t = 0; t < clients; t++) {
      threads[t] = new Thread(() -> {
        int i;
        while ((i = next.getAndIncrement()) < payloads.size() && System.nanoTime() < deadline) {
          long t0 = System.nanoTime();
          try {
            HttpResponse<String> r = postRaw(bases.get(i % bases.size()), table, payloads.get(i));
            latencies[i] = System.nanoTime() - t0;
            if (r.statusCode() == 200) {
              stored.addAndGet(new JsonObject(r.body()).getLong("total"));
            } else {
              fail(errors, firstErrors, r.statusCode() + ": " + r.body());
            }
          } catch (Exception e) {
            latencies[i] = System.nanoTime() - t0;
            fail(errors, firstErrors, e.toString());
          }
        }
      }, "bench-client-" + t);
      threads[t].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    int sent = Math.min(next.get(), payloads.size());
    long[] done = Arrays.copyOf(latencies, sent);
    Arrays.sort(done);
    io.vertx.core.json.JsonArray perNode = new io.vertx.core.json.JsonArray();
    for (int n = 0; n < bases.size(); n++) {
      long[] mine = new long[(sent + bases.size() - 1 - n) / bases.size()];
      for (int i = n, j = 0; i < sent; i += bases.size()) {
        mine[j++] = latencies[i];
      }
      Arrays.sort(mine);
      perNode.add(new JsonObject().put("url", bases.get(n)).put("requests", mine.length)
          .put("p50Ms", percentileMs(mine, 50)).put("p99Ms", percentileMs(mine, 99)));
    }
    return new JsonObject()
        .put("ok", errors.get() == 0 && stored.get() == loaded)
        .put("rows", loaded)
        .put("stored", stored.get())
        .put("clients", clients)
        .put("batchRows", batchRows)
        .put("requests", sent)
        .put("errors", errors.get())
        .put("firstErrors", new io.vertx.core.json.JsonArray(firstErrors))
        .put("seconds", round3(seconds))
        .put("rowsPerSec", Math.round(stored.get() / seconds))
        .put("p50Ms", percentileMs(done, 50))
        .put("p99Ms", percentileMs(done, 99))
        .put("maxMs", done.length == 0 ? null : round3(done[done.length - 1] / 1e6))
        .put("nodes", perNode);
  }

  private static synchronized void fail(AtomicInteger errors, List<String> firstErrors, String message) {
    errors.incrementAndGet();
    if (firstErrors.size() < 5) {
      firstErrors.add(message.length() > 300 ? message.substring(0, 300) : message);
    }
  }

  /** The first {@code rows} lines of the file as JSON arrays of {@code batchRows} rows each. */
  private static List<byte[]> payloads(Path ndjson, int rows, int batchRows) throws IOException {
    List<byte[]> out = new ArrayList<>();
    try (var in = new java.io.BufferedInputStream(Files.newInputStream(ndjson), 1 << 20)) {
      java.io.ByteArrayOutputStream current = new java.io.ByteArrayOutputStream(batchRows * 200);
      java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream(512);
      int inBatch = 0;
      int total = 0;
      int b;
      while (total < rows && (b = in.read()) != -1) {
        if (b != '\n') {
          line.write(b);
          continue;
        }
        if (line.size() == 0) {
          continue;
        }
        current.write(inBatch == 0 ? '[' : ',');
        line.writeTo(current);
        line.reset();
        inBatch++;
        total++;
        if (inBatch == batchRows || total == rows) {
          current.write(']');
          out.add(current.toByteArray());
          current.reset();
          inBatch = 0;
        }
      }
      if (inBatch > 0) {
        current.write(']');
        out.add(current.toByteArray());
      }
    }
    return out;
  }

  /** Rows in a payload built by {@link #payloads}: one per "{\"id\":". */
  private static int count(byte[] payload) {
    String s = new String(payload, StandardCharsets.UTF_8);
    int n = 0;
    for (int i = s.indexOf("{\"id\":"); i >= 0; i = s.indexOf("{\"id\":", i + 1)) {
      n++;
    }
    return n;
  }

  private static Double percentileMs(long[] sorted, int p) {
    if (sorted.length == 0) {
      return null;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length); // nearest rank
    return round3(sorted[Math.max(0, rank - 1)] / 1e6);
  }

  private static double round3(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  // ------------------------------------------------------------------------------------------ HTTP

  private void recreate(String table, Path schema) throws Exception {
    HttpResponse<String> dropped = send("DELETE", "/api/v1/schema/" + table, null);
    if (dropped.statusCode() != 200 && dropped.statusCode() != 404) {
      throw new IllegalStateException("DELETE table answered " + dropped.statusCode() + ": " + dropped.body());
    }
    call("PUT", "/api/v1/schema/" + table, Files.readString(schema));
  }

  private void post(String table, byte[] payload) throws Exception {
    post(base, table, payload);
  }

  private void post(String node, String table, byte[] payload) throws Exception {
    HttpResponse<String> r = postRaw(node, table, payload);
    if (r.statusCode() != 200) {
      throw new IllegalStateException("batch answered " + r.statusCode() + ": " + r.body());
    }
  }

  private HttpResponse<String> postRaw(String table, byte[] payload) throws Exception {
    return postRaw(base, table, payload);
  }

  private HttpResponse<String> postRaw(String node, String table, byte[] payload) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(node + "/api/v1/data/" + table + "/batch"))
        .timeout(Duration.ofSeconds(120)).header("x-api-key", key).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject call(String method, String path, String body) throws Exception {
    HttpResponse<String> r = send(method, path, body);
    if (r.statusCode() != 200) {
      throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
    }
    return new JsonObject(r.body());
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120))
        .header("x-api-key", key).header("content-type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }
}
