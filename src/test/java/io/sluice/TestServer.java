package io.sluice;

import io.sluice.config.SluiceConfig;
import io.sluice.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Sluice (store, verticles, HTTP on a free port) on a temporary data directory, and a client for it.
 * Calls block the test thread (never an event loop) so scenario tests read top to bottom.
 */
public final class TestServer {
  public static final String RW_KEY = "test-read-write-key";
  public static final String RO_KEY = "test-read-only-key";

  private final Vertx vertx;
  private final Path dataDir;
  private final Map<String, Object> overrides;
  private io.sluice.store.DirectoryFactory directories = io.sluice.store.DirectoryFactory.FILE_SYSTEM;
  private String deploymentId;
  private MainVerticle main;
  private Metrics metrics;
  private WebClient client;

  public TestServer(Vertx vertx, Path dataDir) {
    this(vertx, dataDir, Map.of());
  }

  public TestServer(Vertx vertx, Path dataDir, Map<String, Object> extra) {
    this.vertx = vertx;
    this.dataDir = dataDir;
    this.overrides = new HashMap<>(Map.of(
        "http.port", 0,
        "data.dir", dataDir.toString(),
        "api.key.rw", RW_KEY,
        "api.key.ro", RO_KEY,
        "http.instances", 2,
        "store.instances", 2));
    if (TestPostgres.chosen() && !extra.containsKey("store.type")) {
      this.overrides.putAll(TestPostgres.storeSettings(dataDir.toAbsolutePath().toString()));
    }
    this.overrides.putAll(extra);
  }

  /** Opens table directories through {@code factory} (e.g. to inject I/O failures); call before start. */
  public TestServer withDirectories(io.sluice.store.DirectoryFactory factory) {
    this.directories = factory;
    return this;
  }

  /** Sluice's meters go to {@code metrics} (default: a fresh registry per start, or none with metrics off). */
  public TestServer metrics(Metrics metrics) {
    this.metrics = metrics;
    return this;
  }

  public TestServer start() {
    SluiceConfig config = SluiceConfig.load(Map.of(), overrides);
    if (dataDir.getFileSystem() != java.nio.file.FileSystems.getDefault()) {
      config = config.withDataDir(dataDir); // a simulated file system (power loss tests), which a string cannot name
    }
    main = metrics == null ? new MainVerticle(config, directories) : new MainVerticle(config, directories, metrics);
    deploymentId = await(vertx.deployVerticle(main));
    client = WebClient.create(vertx, clientOptions());
    return this;
  }

  public void stop() {
    if (client != null) {
      client.close();
      client = null;
    }
    if (deploymentId != null) {
      await(vertx.undeploy(deploymentId));
      deploymentId = null;
    }
  }

  public TestServer restart() {
    stop();
    return start();
  }

  public int port() {
    return main.actualPort();
  }

  public Path dataDir() {
    return dataDir;
  }

  public WebClient client() {
    return client;
  }

  public Response get(String path) {
    return send(HttpMethod.GET, path, null, RW_KEY);
  }

  public Response delete(String path) {
    return send(HttpMethod.DELETE, path, null, RW_KEY);
  }

  public Response post(String path, Object body) {
    return send(HttpMethod.POST, path, body, RW_KEY);
  }

  public Response put(String path, Object body) {
    return send(HttpMethod.PUT, path, body, RW_KEY);
  }

  /** POST /api/v1/_search with the read-write key. */
  public Response search(JsonObject query) {
    return post("/api/v1/_search", query);
  }

  /** PUT {@code body} to a signed upload URL (absolute, as initiate returns it), with no key. */
  public Response upload(String url, Buffer body) {
    return new Response(await(client.requestAbs(HttpMethod.PUT, url).sendBuffer(body)));
  }

  /** Polls an import's status until it is finished; returns the last status body. */
  public JsonObject awaitImport(String table, String id) {
    long deadline = System.currentTimeMillis() + 120_000;
    while (System.currentTimeMillis() < deadline) {
      JsonObject status = get("/api/v1/data/" + table + "/file/" + id).json();
      if (status.getJsonObject("status").getBoolean("finished")) {
        return status;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("import " + id + " did not finish");
  }

  /** A further client of this server with its own connection pool, e.g. to play several concurrent users. */
  public WebClient newClient(int maxPoolSize) {
    return WebClient.create(vertx, clientOptions(), new PoolOptions().setHttp1MaxSize(maxPoolSize));
  }

  /** To this server; over HTTPS trusting its own certificate when it serves TLS. */
  private WebClientOptions clientOptions() {
    WebClientOptions options = new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(main.actualPort());
    Object cert = overrides.get("http.tls.cert");
    if (cert != null) {
      options.setSsl(true).setTrustOptions(new io.vertx.core.net.PemTrustOptions().addCertPath(cert.toString()))
          .setVerifyHost(false);
    }
    return options;
  }

  /** body: a JsonObject/JsonArray (sent as JSON), a String or Buffer (sent as is), or null. */
  public Response send(HttpMethod method, String path, Object body, String key) {
    var request = client.request(method, path);
    if (key != null) {
      request.putHeader("x-api-key", key);
    }
    Future<HttpResponse<Buffer>> response;
    if (body == null) {
      response = request.send();
    } else {
      request.putHeader("content-type", "application/json");
      Buffer buffer = body instanceof Buffer b ? b
          : body instanceof JsonObject o ? o.toBuffer()
          : body instanceof JsonArray a ? a.toBuffer()
          : Buffer.buffer(body.toString());
      response = request.sendBuffer(buffer);
    }
    return new Response(await(response));
  }

  public static <T> T await(Future<T> future) {
    return await(future, 120);
  }

  public static <T> T await(Future<T> future, int seconds) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("request failed: " + e, e);
    }
  }

  /** A response with its JSON body at hand. */
  public record Response(HttpResponse<Buffer> raw) {
    public int status() {
      return raw.statusCode();
    }

    public JsonObject json() {
      return raw.bodyAsJsonObject();
    }

    public String header(String name) {
      return raw.getHeader(name);
    }

    /** The "hits" of a search response. */
    public JsonArray hits() {
      return json().getJsonArray("hits");
    }

    /** The "total" of a search, delete or batch response. */
    public long total() {
      return json().getLong("total");
    }

    @Override
    public String toString() {
      return raw.statusCode() + " " + raw.bodyAsString();
    }
  }
}
