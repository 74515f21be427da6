package io.sluice.errors;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A failure that maps to one HTTP status and the uniform error body {@code {"message", "status", "errors"?}}.
 * Thrown by validation and by the store; stack traces are not filled in because these are expected outcomes.
 */
public final class ApiError extends RuntimeException {
  public static final int MAX_LISTED_ERRORS = 50;

  private final int status;
  private final JsonArray errors;
  private final String cause;
  /** Fields the error body carries besides the uniform ones (e.g. a broken stream's committedLines). */
  private final JsonObject extra;

  public ApiError(int status, String message) {
    this(status, message, null);
  }

  public ApiError(int status, String message, JsonArray errors) {
    this(status, message, errors, null);
  }

  /** {@code cause}: a short machine-readable reason sent as the {@code x-error-cause} header (e.g. DiskFull). */
  public ApiError(int status, String message, JsonArray errors, String cause) {
    this(status, message, errors, cause, null);
  }

  private ApiError(int status, String message, JsonArray errors, String cause, JsonObject extra) {
    super(message, null, false, false);
    this.status = status;
    this.errors = errors;
    this.cause = cause;
    this.extra = extra;
  }

  /** This error with one more field in its body. */
  public ApiError withField(String name, Object value) {
    JsonObject fields = extra == null ? new JsonObject() : extra.copy();
    return new ApiError(status, getMessage(), errors, cause, fields.put(name, value));
  }

  public String errorCause() {
    return cause;
  }

  public static ApiError badRequest(String message) {
    return new ApiError(400, message);
  }

  public static ApiError notFound(String message) {
    return new ApiError(404, message);
  }

  public static ApiError conflict(String message) {
    return new ApiError(409, message);
  }

  public int status() {
    return status;
  }

  public JsonArray errors() {
    return errors;
  }

  public JsonObject toJson() {
    JsonObject body = new JsonObject().put("message", getMessage()).put("status", status);
    if (errors != null) {
      body.put("errors", errors);
    }
    if (cause != null) {
      body.put("cause", cause);
    }
    if (extra != null) {
      extra.forEach(field -> body.put(field.getKey(), field.getValue()));
    }
    return body;
  }

  public static ApiError fromJson(JsonObject body) {
    return new ApiError(body.getInteger("status", 500), body.getString("message", "internal error"),
        body.getJsonArray("errors"), body.getString("cause"));
  }
}
