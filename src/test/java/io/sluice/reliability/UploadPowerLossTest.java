package io.sluice.reliability;

import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.sluice.metrics.Metrics;
import io.sluice.engine.lucene.DirectoryFactory;
import io.sluice.Stores;
import io.sluice.core.Database;
import io.sluice.engine.lucene.LuceneEngine;
import io.sluice.store.TableStore;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acknowledged = durable for file imports, under power loss, through the real server: its data directory is a
 * {@link PowerLossFileSystem} path. A table is created, an import initiated ({@code POST .../file}), a gzipped
 * NDJSON file PUT to the signed URL (200), maybe triggered; then the power goes off (right after the upload's 200,
 * right after the trigger's 200, or at a random file-system step anywhere in the flow, the running import
 * included), the old server is stopped, the disk rebooted to its durable image and a new server started on it.
 * Promises checked: a job whose initiate answered is known after the restart (its state file was durable); an
 * upload answered 200 is there whole (never lost, never truncated) and not back to Initiated; a trigger answered
 * is not undone; and the job, triggered if it was not, finishes {@code Finished} with every row stored exactly
 * once.
 *
 * <p>Vert.x writes and reads upload files by their {@code String} name, around the simulated file system: the
 * file system adopts them when the server first reaches them through its {@code Path} (the fsync, the rename),
 * and their bytes count as durable only from a {@code force} seen through it. Such escapes are allowed under
 * {@code uploads/} only. Replay with {@code -Dsluice.test.seed=<seed>}.
 */
class UploadPowerLossTest {
  private static final JsonObject SCHEMA = new JsonObject(
      "{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"},\"note\":{\"type\":\"String\"}}}");
  private static final Map<String, Object> CONFIG = Map.of("import.batch.rows", 10, "http.instances", 1,
      "metrics.enabled", false);

  @TempDir
  Path tmp;

  private final List<Vertx> started = new ArrayList<>();

  @AfterEach
  void closeAll() {
    started.forEach(UploadPowerLossTest::closeQuietly);
  }

  /**
   * The power goes off at once after the PUT's 200: the upload and its job must be there after the restart. The
   * first cycle's table was created before the server ever ran (so no table creation fsyncs the data directory
   * after the import directories appear).
   */
  @Test
  void acknowledgedUpload() throws Exception {
    new Scenario("acknowledgedUpload", seed() ^ 0x11L, Mode.AFTER_UPLOAD, 2).run();
  }

  /** The power goes off at once after the trigger's 200: the job resumes and stores every row once. */
  @Test
  void acknowledgedTrigger() throws Exception {
    new Scenario("acknowledgedTrigger", seed() ^ 0x12L, Mode.AFTER_TRIGGER, 2).run();
  }

  /** The power goes off at a random file-system step of initiate, upload, trigger or the running import. */
  @Test
  void randomSteps() throws Exception {
    new Scenario("randomSteps", seed() ^ 0x13L, Mode.RANDOM_STEP, 8).run();
  }

  enum Mode { AFTER_UPLOAD, AFTER_TRIGGER, RANDOM_STEP }

  private final class Scenario {
    private final String name;
    private final long seed;
    private final Random random;
    private final Mode mode;
    private final int cycles;
    private PowerLossFileSystem fs;
    private Vertx vertx;
    private TestServer server;
    private int cycle;
    private String crash = "";
    private List<String> durableAtCrash = List.of();
    private List<String> escapes = List.of();
    private String preexisting;

    Scenario(String name, long seed, Mode mode, int cycles) {
      this.name = name;
      this.seed = seed;
      this.random = new Random(seed);
      this.mode = mode;
      this.cycles = cycles;
      System.out.println("UploadPowerLossTest." + name + " seed=" + seed + " (replay: -Dsluice.test.seed=" + seed()
          + " -Dtest=UploadPowerLossTest#" + name + ")");
    }

    void run() throws Exception {
      fs = PowerLossFileSystem.mount(Files.createDirectories(tmp.resolve(name)));
      if (mode == Mode.AFTER_UPLOAD) {
        // The first table predates the import directories (a data directory of a version without file imports):
        // nothing but the server's start makes their entries durable before the first upload.
        TableStore store = Stores.lucene(fs.root, 1_000_000, DirectoryFactory.FILE_SYSTEM, Metrics.noop(),
            LuceneEngine.Options.DEFAULTS);
        store.putTable("t1", SCHEMA);
        store.close();
        preexisting = "t1";
      }
      boot();
      for (cycle = 1; cycle <= cycles; cycle++) {
        cycle();
      }
    }

    private void cycle() throws Exception {
      String table = "t" + cycle;
      if (!table.equals(preexisting)) {
        expect(server.put("/api/v1/schema/" + table, SCHEMA), 200, "create table " + table);
      }
      int first = cycle * 10_000;
      int count = 1 + random.nextInt(60);
      byte[] file = gzip(first, count);
      if (mode == Mode.RANDOM_STEP) {
        // Initiate and upload take some 16 steps, the trigger and the import the rest: half the crashes land there.
        fs.powerOffAtStep(fs.steps() + 1 + random.nextInt(random.nextBoolean() ? 20 : 80));
      }

      // The flow, up to the first refusal (only the power may refuse it).
      String id = null;
      String url = null;
      boolean uploaded = false;
      boolean triggered = false;
      Response initiated = server.post("/api/v1/data/" + table + "/file", new JsonObject());
      if (answered(initiated, "initiate")) {
        id = initiated.json().getString("id");
        url = initiated.json().getString("url");
        uploaded = answered(upload(url, file), "upload");
      }
      if (uploaded && mode != Mode.AFTER_UPLOAD) {
        triggered = answered(server.post("/api/v1/data/" + table + "/file/" + id, new JsonObject()), "trigger");
      }
      if (triggered && mode == Mode.RANDOM_STEP) {
        while (!fs.poweredOff() && !status(table, id).getBoolean("finished")) {
          TestServer.await(vertx.timer(20, TimeUnit.MILLISECONDS));
        }
      }
      fs.powerOff(mode == Mode.AFTER_UPLOAD ? "right after the upload's 200"
          : mode == Mode.AFTER_TRIGGER ? "right after the trigger's 200" : "after the flow");
      restart();
      System.out.println("  cycle " + cycle + ": power loss " + crash + "; acknowledged: "
          + (id == null ? "nothing" : "initiate" + (uploaded ? ", upload" : "") + (triggered ? ", trigger" : ""))
          + "; escapes " + escapes);

      if (id == null) {
        return; // nothing was promised
      }
      if (uploaded && !triggered) {
        Path upload = fs.root.resolve("uploads").resolve(id + ".upload");
        byte[] durable = Files.exists(upload) ? Files.readAllBytes(upload) : null;
        if (durable == null || !java.util.Arrays.equals(durable, file)) {
          throw new AssertionError("acknowledged upload lost or truncated: its PUT answered 200 for " + file.length
              + " bytes, uploads/" + id + ".upload is " + (durable == null ? "missing" : durable.length + " bytes")
              + " after " + context());
        }
      }
      Response known = server.get("/api/v1/data/" + table + "/file/" + id);
      if (known.status() != 200) {
        throw new AssertionError("import " + id + " (initiate answered 200) is unknown after " + context()
            + ": its job file was not durable when the server answered; got " + known);
      }
      String phase = known.json().getJsonObject("status").getString("phase");
      if (uploaded && phase.equals("Initiated")) {
        throw new AssertionError("acknowledged upload of import " + id + " undone: the job is back to Initiated"
            + " after " + context());
      }
      if (triggered && (phase.equals("Initiated") || phase.equals("Uploaded"))) {
        throw new AssertionError("acknowledged trigger of import " + id + " undone: the job is " + phase + " after "
            + context());
      }
      if (phase.equals("Initiated")) {
        // The upload was never acknowledged: the client sends it again, to the same signed URL.
        expect(upload(url, file), 200, "upload again after the restart (import " + id + ")");
        phase = "Uploaded";
      }
      if (phase.equals("Uploaded")) {
        expect(server.post("/api/v1/data/" + table + "/file/" + id, new JsonObject()), 200,
            "trigger after the restart (import " + id + ")");
      }
      JsonObject status = awaitImport(table, id);
      JsonObject job = status.getJsonObject("status");
      if (!"Finished".equals(job.getString("phase")) || job.getLong("completedCount") != count
          || job.getLong("failedCount") != 0) {
        throw new AssertionError("import " + id + " of " + count + " rows (upload " + (uploaded ? "acknowledged"
            : "repeated") + (triggered ? ", trigger acknowledged" : "") + ") ended " + status.encode() + " after "
            + context());
      }
      TreeMap<Integer, Integer> stored = new TreeMap<>();
      server.search(new JsonObject().put("from", table).put("limit", 10_000)).hits()
          .forEach(hit -> stored.merge(((JsonObject) hit).getInteger("id"), 1, Integer::sum));
      for (int row = first; row < first + count; row++) {
        if (stored.getOrDefault(row, 0) != 1) {
          throw new AssertionError("row id=" + row + " of import " + id + " stored " + stored.getOrDefault(row, 0)
              + " times (expected once; " + stored.size() + " ids of " + count + " stored) after " + context());
        }
      }
      if (stored.size() != count) {
        throw new AssertionError("table " + table + " holds rows no import wrote: " + stored.keySet());
      }
    }

    /** True if {@code response} is a 200; a refusal is allowed only once the power is off. */
    private boolean answered(Response response, String what) {
      if (response.status() == 200) {
        return true;
      }
      if (!fs.poweredOff()) {
        throw new AssertionError(what + " refused with the power on (cycle " + cycle + ", seed " + seed + "): "
            + response);
      }
      return false;
    }

    private void expect(Response response, int status, String what) {
      if (response.status() != status) {
        throw new AssertionError(what + ": expected " + status + ", got " + response + " (cycle " + cycle
            + ", seed " + seed + (crash.isEmpty() ? "" : ", after " + context()) + ")");
      }
    }

    /** PUT to the signed URL's path and query on the current server (its port changes at each boot). */
    private Response upload(String url, byte[] body) {
      URI uri = URI.create(url);
      String pathAndQuery = uri.getRawPath() + "?" + uri.getRawQuery();
      return new Response(TestServer.await(server.client().request(HttpMethod.PUT, pathAndQuery)
          .sendBuffer(Buffer.buffer(body))));
    }

    private JsonObject status(String table, String id) {
      return server.get("/api/v1/data/" + table + "/file/" + id).json().getJsonObject("status");
    }

    private JsonObject awaitImport(String table, String id) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        JsonObject status = server.get("/api/v1/data/" + table + "/file/" + id).json();
        if (status.getJsonObject("status").getBoolean("finished")) {
          return status;
        }
        TestServer.await(vertx.timer(20, TimeUnit.MILLISECONDS));
      }
      throw new AssertionError("import " + id + " did not finish within 60 s after " + context());
    }

    private void boot() {
      vertx = Vertx.vertx();
      started.add(vertx);
      try {
        server = new TestServer(vertx, fs.root, CONFIG).start();
      } catch (RuntimeException | AssertionError e) {
        throw new AssertionError("the server does not start after " + context() + "; durable files: "
            + durableAtCrash, e);
      }
    }

    /** Stops the old server (its disk is off: its operations fail, its Vert.x is closed), reboots, starts anew. */
    private void restart() throws IOException {
      crash = fs.powerOffReason();
      durableAtCrash = fs.durableTree();
      escapes = fs.escapes();
      if (escapes.stream().anyMatch(path -> !path.matches("uploads/[^/]+\\.(part|upload)"))) {
        throw new AssertionError("files written around the data directory's Path, outside uploads/: " + escapes);
      }
      closeQuietly(vertx);
      fs = fs.reboot(random, false);
      boot();
    }

    private String context() {
      return "power loss " + crash + " in cycle " + cycle + " (seed " + seed + ", UploadPowerLossTest." + name
          + "); durable files then: " + durableAtCrash;
    }
  }

  private static byte[] gzip(int first, int count) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
      for (int id = first; id < first + count; id++) {
        gzip.write((new JsonObject().put("id", id).put("note", "row " + id).encode() + "\n")
            .getBytes(StandardCharsets.UTF_8));
      }
    }
    return bytes.toByteArray();
  }

  private static void closeQuietly(Vertx vertx) {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // a server whose disk lost power: undeploying fails, its threads and locks are released by the close
    }
  }

  /** The run's seed: {@code -Dsluice.test.seed} (surefire passes an unset one as empty or "${...}"), else fresh. */
  private static long seed() {
    String property = System.getProperty("sluice.test.seed", "").trim();
    if (property.isEmpty() || property.startsWith("${")) {
      return FRESH_SEED;
    }
    return Long.parseLong(property);
  }

  private static final long FRESH_SEED = System.nanoTime();
}
