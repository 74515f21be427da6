package io.sluice.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.LongConsumer;

/**
 * A blocking client of the Aito data API (Sluice or Aito itself) on java.net.http and Jackson. A non-2xx answer
 * becomes an {@link ApiException} carrying the server's own message.
 */
final class ApiClient {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(10);

  private final HttpClient http;
  private final String base;
  private final String key;

  /** baseUrl: the server's root, e.g. http://127.0.0.1:8080 (a trailing /api/v1 is tolerated). */
  ApiClient(String baseUrl, String key) {
    String url = baseUrl.strip();
    while (url.endsWith("/")) {
      url = url.substring(0, url.length() - 1);
    }
    if (url.endsWith("/api/v1")) {
      url = url.substring(0, url.length() - "/api/v1".length());
    }
    URI uri = URI.create(url);
    if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
        || uri.getHost() == null) {
      throw new IllegalArgumentException("'" + baseUrl + "' is not an http(s) URL like http://127.0.0.1:8080");
    }
    this.base = url;
    this.key = key;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).followRedirects(HttpClient.Redirect.NORMAL).build();
  }

  String baseUrl() {
    return base;
  }

  /** One path segment, percent-encoded (table names may hold characters such as '?' or '%'). */
  static String segment(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  JsonNode get(String path) {
    return send("GET", path, null);
  }

  JsonNode post(String path, JsonNode body) {
    return send("POST", path, body);
  }

  JsonNode put(String path, JsonNode body) {
    return send("PUT", path, body);
  }

  JsonNode send(String method, String path, JsonNode body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(REQUEST_TIMEOUT)
        .header("accept", "application/json");
    if (key != null) {
      request.header("x-api-key", key);
    }
    if (body != null) {
      request.header("content-type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
    } else {
      request.method(method, method.equals("POST") || method.equals("PUT")
          ? HttpRequest.BodyPublishers.ofString("{}") : HttpRequest.BodyPublishers.noBody());
      if (method.equals("POST") || method.equals("PUT")) {
        request.header("content-type", "application/json");
      }
    }
    return exchange(method, path, request.build());
  }

  /**
   * PUTs {@code file} as the raw body to a signed upload URL, without the API key (the signature is the
   * credential, and the URL may point at another host such as S3). Sent with its Content-Length, which
   * presigned S3 URLs require. progress receives the bytes handed to the connection so far.
   */
  JsonNode upload(String url, Path file, LongConsumer progress) throws IOException {
    long size = Files.size(file);
    HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.fromPublisher(
        HttpRequest.BodyPublishers.ofInputStream(() -> {
          try {
            InputStream in = Files.newInputStream(file);
            return new NdjsonFiles.CountingInputStream(in, progress);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }), size);
    HttpRequest request = HttpRequest.newBuilder(URI.create(url)).PUT(body).build();
    return exchange("PUT", "the upload URL", request);
  }

  private JsonNode exchange(String method, String what, HttpRequest request) {
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (ConnectException e) {
      throw new ApiException(0, "cannot connect to " + base + " (" + (e.getMessage() != null ? e.getMessage()
          : "connection refused") + "); is the server running?"
          + " Set it with --url or SLUICE_URL", null);
    } catch (HttpTimeoutException e) {
      throw new ApiException(0, method + " " + what + " timed out: " + describe(e), null);
    } catch (IOException e) {
      throw new ApiException(0, method + " " + what + " failed: " + describe(e), null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(0, "interrupted", null);
    }
    JsonNode json = parse(response.body());
    int status = response.statusCode();
    if (status >= 200 && status < 300) {
      return json != null ? json : JSON.createObjectNode();
    }
    String message = json != null && json.path("message").isTextual() ? json.get("message").asText()
        : abbreviate(response.body());
    throw new ApiException(status, method + " " + what + " → " + status + ": " + message,
        json != null ? json.get("errors") : null);
  }

  private static String describe(Exception e) {
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  private static JsonNode parse(String body) {
    if (body == null || body.isBlank()) {
      return null;
    }
    try {
      return JSON.readTree(body);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private static String abbreviate(String body) {
    if (body == null || body.isBlank()) {
      return "(no body)";
    }
    String text = body.strip();
    return text.length() > 300 ? text.substring(0, 300) + "…" : text;
  }

  /** A request the server refused (status ≥ 400) or that could not be made (status 0). */
  static final class ApiException extends RuntimeException {
    private final int status;
    private final transient JsonNode errors;

    ApiException(int status, String message, JsonNode errors) {
      super(message);
      this.status = status;
      this.errors = errors;
    }

    int status() {
      return status;
    }

    /** The server's "errors" list (rejected rows or lines), or null. */
    JsonNode errors() {
      return errors;
    }
  }
}
