package io.sluice.loadtest;

import static io.gatling.javaapi.core.CoreDsl.ByteArrayBody;
import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.asLongAsDuring;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.jmesPath;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Settings of the simulations (Java system properties, see README.md) and a small blocking admin client for
 * their {@code before} hooks. Only a loopback Sluice is ever a target: any other host is refused.
 */
public final class Sluice {
  /** Base URL of the server under test, e.g. {@code http://127.0.0.1:8080} (no trailing slash). */
  public static final String URL = stripSlash(prop("sluice.url", "http://127.0.0.1:8080"));
  /** Every node of a cluster under test: {@code sluice.urls} (comma-separated base URLs), else {@link #URL} alone. */
  public static final java.util.List<String> URLS = java.util.Arrays.stream(prop("sluice.urls", URL).split(","))
      .map(String::trim).filter(u -> !u.isEmpty()).map(Sluice::stripSlash).toList();
  /** Read-write API key. */
  public static final String KEY = prop("sluice.key", System.getenv().getOrDefault("SLUICE_KEY", ""));
  /** Main phase length, seconds. */
  public static final int DURATION = intProp("sluice.duration", 20);
  /** Rows per batch request. */
  public static final int BATCH_ROWS = intProp("sluice.batchRows", 1000);
  /** Error-rate assertion: failed requests must stay below this percentage. */
  public static final double MAX_ERROR_PERCENT = doubleProp("sluice.maxErrorPercent", 1.0);

  private static final HttpClient ADMIN = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10))
      .build();

  static {
    for (String url : URLS.contains(URL) ? URLS : java.util.stream.Stream.concat(URLS.stream(),
        java.util.stream.Stream.of(URL)).toList()) {
      URI uri = URI.create(url);
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
        throw new IllegalArgumentException("sluice.url and sluice.urls must be http:// URLs, got " + url);
      }
      requireLoopback(uri.getHost());
    }
    if (KEY.isEmpty()) {
      throw new IllegalArgumentException("set the read-write API key with -Dsluice.key=... (or SLUICE_KEY)");
    }
  }

  private Sluice() {
  }

  /** The Gatling protocol: base URL, JSON, no warm-up request (Gatling's default one goes to an outside site). */
  /**
   * One file import of {@code gz} (read when the upload is sent) into {@code table}: initiate, PUT to the signed
   * URL, trigger, poll every {@code pollMillis} until finished (at most {@code timeoutSeconds}), then check it
   * stored all {@code rows}. Leaves "importId" and "seconds" (trigger → finished seen) in the session.
   */
  public static ChainBuilder fileImport(String table, java.util.function.Supplier<byte[]> gz, long rows,
      int pollMillis, int timeoutSeconds) {
    String base = "/api/v1/data/" + table + "/file";
    return exec(http("initiate")
          .post(base)
          .header("x-api-key", KEY)
          .body(StringBody("{}"))
          .check(status().is(200))
          .check(jmesPath("id").saveAs("importId"))
          .check(jmesPath("method").is("PUT"))
          .check(jmesPath("url").transform(Sluice::rebase).saveAs("uploadUrl")))
      .exec(http("upload")
          .put("#{uploadUrl}")
          .header("content-type", "application/gzip")
          .body(ByteArrayBody(session -> gz.get()))
          .check(status().is(200))
          .check(jmesPath("bytes").ofLong().is(session -> (long) gz.get().length)))
      .exec(http("trigger")
          .post(base + "/#{importId}")
          .header("x-api-key", KEY)
          .body(StringBody("{}"))
          .check(status().is(200))
          .check(jmesPath("status").is("started")))
      .exec(session -> session.set("finished", false).set("triggeredAt", System.nanoTime()))
      .exec(asLongAsDuring(session -> !session.getBoolean("finished"), Duration.ofSeconds(timeoutSeconds)).on(
          pause(Duration.ofMillis(pollMillis)),
          exec(http("import status")
              .get(base + "/#{importId}")
              .header("x-api-key", KEY)
              .check(status().is(200))
              .check(jmesPath("errors.message").exists())
              .check(jmesPath("status.finished").ofBoolean().saveAs("finished")))))
      .exec(session -> session.set("seconds", (System.nanoTime() - session.getLong("triggeredAt")) / 1e9))
      .exec(http("import result")
          .get(base + "/#{importId}")
          .header("x-api-key", KEY)
          .check(status().is(200))
          .check(jmesPath("status.phase").is("Finished"))
          .check(jmesPath("status.completedCount").ofLong().is(rows))
          .check(jmesPath("status.failedCount").ofLong().is(0L)));
  }

  public static HttpProtocolBuilder protocol() {
    return http.baseUrl(URL)
        .disableWarmUp()
        .acceptHeader("application/json")
        .contentTypeHeader("application/json")
        .userAgentHeader("sluice-load-tests");
  }

  /** A table name for this run: the given name, or {@code -Dsluice.table=...}. */
  public static String table(String defaultName) {
    return prop("sluice.table", defaultName);
  }

  /**
   * The signed upload URL handed out by the server, re-based on {@link #URL}: the load test only ever sends
   * to the server it was given, whatever {@code public.url} that server advertises.
   */
  public static String rebase(String absoluteUrl) {
    return rebase(absoluteUrl, URL);
  }

  /** {@link #rebase(String)} on another of the given nodes (one of {@link #URLS}). */
  public static String rebase(String absoluteUrl, String node) {
    URI uri = URI.create(absoluteUrl);
    String pathAndQuery = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    return node + pathAndQuery;
  }

  /** Drops the table if it exists and creates it with the benchmark schema. */
  public static void recreateBenchTable(String table) {
    recreateBenchTable(URL, table);
  }

  /** {@link #recreateBenchTable(String)} through one node of {@link #URLS}. */
  public static void recreateBenchTable(String node, String table) {
    String path = "/api/v1/schema/" + URLEncoder.encode(table, StandardCharsets.UTF_8);
    HttpResponse<String> dropped = sendTo(node, "DELETE", path, null, java.util.Map.of());
    if (dropped.statusCode() != 200 && dropped.statusCode() != 404) {
      throw new IllegalStateException("DELETE " + path + " answered " + dropped.statusCode() + ": " + dropped.body());
    }
    HttpResponse<String> created = sendTo(node, "PUT", path, BenchRows.SCHEMA, java.util.Map.of());
    if (created.statusCode() != 200) {
      throw new IllegalStateException("PUT " + path + " answered " + created.statusCode() + ": " + created.body());
    }
  }

  /** Posts one batch outside Gatling (to preload a table); fails unless it is stored. */
  public static void postBatch(String table, String jsonArray) {
    String path = "/api/v1/data/" + URLEncoder.encode(table, StandardCharsets.UTF_8) + "/batch";
    HttpResponse<String> response = send("POST", path, jsonArray);
    if (response.statusCode() != 200) {
      throw new IllegalStateException("POST " + path + " answered " + response.statusCode() + ": " + response.body());
    }
  }

  /** One blocking request with the API key (before/after hooks only). */
  public static HttpResponse<String> send(String method, String path, String jsonBody) {
    return send(method, path, jsonBody, java.util.Map.of());
  }

  /** {@link #send(String, String, String)} with more headers (an Idempotency-Key). */
  public static HttpResponse<String> send(String method, String path, String jsonBody,
      java.util.Map<String, String> headers) {
    return sendTo(URL, method, path, jsonBody, headers);
  }

  /** {@link #send(String, String, String, java.util.Map)} to one node of {@link #URLS}. */
  public static HttpResponse<String> sendTo(String node, String method, String path, String jsonBody,
      java.util.Map<String, String> headers) {
    if (!URLS.contains(node) && !URL.equals(node)) {
      throw new IllegalArgumentException("not a node under test: " + node);
    }
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(node + path))
        .timeout(Duration.ofSeconds(120))
        .header("x-api-key", KEY)
        .header("content-type", "application/json")
        .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(jsonBody));
    headers.forEach(request::header);
    try {
      return ADMIN.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot reach Sluice at " + node + " (" + method + " " + path + ")", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** A pause in an after hook (outside Gatling's scheduler). */
  public static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  public static String prop(String name, String defaultValue) {
    String value = System.getProperty(name);
    return value == null || value.isBlank() ? defaultValue : value.trim();
  }

  public static int intProp(String name, int defaultValue) {
    return Integer.parseInt(prop(name, Integer.toString(defaultValue)));
  }

  public static double doubleProp(String name, double defaultValue) {
    return Double.parseDouble(prop(name, Double.toString(defaultValue)));
  }

  static void requireLoopback(String host) {
    if (host == null) {
      throw new IllegalArgumentException("sluice.url has no host: " + URL);
    }
    try {
      for (InetAddress address : InetAddress.getAllByName(host)) {
        if (!address.isLoopbackAddress()) {
          throw new IllegalArgumentException("the load tests only target a Sluice on this machine (loopback); "
              + host + " resolves to " + address.getHostAddress());
        }
      }
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("unknown host in sluice.url: " + host, e);
    }
  }

  private static String stripSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }
}
