package io.sluice.api;

import io.sluice.errors.ApiError;
import io.sluice.store.Idempotency;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Reads the {@code Idempotency-Key} request header (draft-ietf-httpapi-idempotency-key-header): a structured-field
 * string ({@code "..."}, escapes {@code \"} and {@code \\} only) or, as many clients send it, a bare token of
 * visible ASCII. The key is scoped to the API key that sent it: the scope is a hash of both, so the API key is
 * never stored.
 */
final class IdempotencyKeys {
  static final String HEADER = "Idempotency-Key";
  static final String REPLAYED_HEADER = "Idempotent-Replayed";
  static final int MAX_LENGTH = 255;

  private IdempotencyKeys() {
  }

  /** The request's key, or null without the header; a malformed one is a 400 naming the header. */
  static Idempotency of(RoutingContext ctx) {
    List<String> values = ctx.request().headers().getAll(HEADER);
    if (values.isEmpty()) {
      return null;
    }
    if (values.size() > 1) {
      throw bad("send it once, not " + values.size() + " times");
    }
    String key = parse(values.get(0));
    String apiKey = ctx.request().getHeader("x-api-key");
    return new Idempotency(key, scope(apiKey == null ? "" : apiKey, key));
  }

  /** The key a header value names (package-private for tests). */
  static String parse(String value) {
    String raw = value.strip();
    String key;
    if (raw.startsWith("\"")) {
      StringBuilder parsed = new StringBuilder();
      int i = 1;
      boolean closed = false;
      while (i < raw.length()) {
        char c = raw.charAt(i++);
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i == raw.length() || (raw.charAt(i) != '"' && raw.charAt(i) != '\\')) {
            throw bad("in a quoted key a backslash may only escape '\"' or '\\'");
          }
          c = raw.charAt(i++);
        } else if (c < 0x20 || c > 0x7E) {
          throw bad("it must be printable ASCII");
        }
        parsed.append(c);
      }
      if (!closed || i != raw.length()) {
        throw bad("a quoted key must be one string, \"like-this\", with nothing after its closing quote");
      }
      key = parsed.toString();
    } else {
      for (int i = 0; i < raw.length(); i++) {
        char c = raw.charAt(i);
        if (c <= 0x20 || c > 0x7E || c == '"' || c == '\\') {
          throw bad("an unquoted key must be visible ASCII without spaces, quotes or backslashes");
        }
      }
      key = raw;
    }
    if (key.isEmpty()) {
      throw bad("it is empty");
    }
    if (key.length() > MAX_LENGTH) {
      throw bad("it is " + key.length() + " characters long, over " + MAX_LENGTH);
    }
    return key;
  }

  private static ApiError bad(String why) {
    return ApiError.badRequest("the " + HEADER + " header is not valid: " + why);
  }

  private static String scope(String apiKey, String key) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] apiKeyHash = digest.digest(apiKey.getBytes(StandardCharsets.UTF_8));
      digest.update(apiKeyHash);
      digest.update((byte) '\n');
      return HexFormat.of().formatHex(digest.digest(key.getBytes(StandardCharsets.US_ASCII)), 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
