package io.sluice.api;

import io.sluice.errors.ApiError;
import io.sluice.store.TableStore;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one place that turns failures into the uniform JSON error body; 5xx are logged with a stack. */
final class ErrorHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ErrorHandler.class);

  private ErrorHandler() {
  }

  static void handle(RoutingContext ctx) {
    ApiError error = toApiError(ctx);
    if (error.status() >= 500) {
      LOG.error("{} {} failed: {}", ctx.request().method(), ctx.request().path(), error.getMessage(),
          ctx.failure() instanceof ApiError ? null : ctx.failure());
    } else {
      LOG.debug("{} {} -> {}: {}", ctx.request().method(), ctx.request().path(), error.status(), error.getMessage());
    }
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    ctx.response().setStatusCode(error.status()).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    if (error.status() == 429 || error.status() == 503
        || TableStore.IDEMPOTENCY_IN_FLIGHT.equals(error.errorCause())) {
      ctx.response().putHeader("Retry-After", "1");
    }
    if (error.status() == 429) {
      ctx.response().putHeader("x-error-cause", "Throttled");
    } else if (error.errorCause() != null) {
      ctx.response().putHeader("x-error-cause", error.errorCause());
    }
    ctx.response().end(error.toJson().toBuffer());
  }

  /**
   * {@code HttpServer#invalidRequestHandler}: a request Netty's decoder could not read (a request line over
   * maxInitialLineLength, headers over maxHeaderSize, a malformed request line, header or Content-Length) never
   * reaches the router. Vert.x's default answers with an empty body; this answers with the uniform JSON error,
   * then closes the connection, since the rest of the stream cannot be framed.
   */
  static void invalidRequest(HttpServerRequest request) {
    Throwable cause = request.decoderResult() == null ? null : request.decoderResult().cause();
    ApiError error;
    if (cause instanceof TooLongHttpLineException) {
      error = new ApiError(414, "the request line is too long (over " + MAX_LINE_HINT + " bytes); API paths are"
          + " short, send data in the body");
    } else if (cause instanceof TooLongHttpHeaderException) {
      error = new ApiError(431, "the request headers are too large (over " + MAX_HEADER_HINT + " bytes)");
    } else {
      String reason = cause == null || cause.getMessage() == null ? "unreadable request" : cause.getMessage();
      if (reason.length() > 200) {
        reason = reason.substring(0, 200) + "…";
      }
      error = ApiError.badRequest("malformed HTTP request: " + reason);
    }
    LOG.debug("invalid HTTP request -> {}: {}", error.status(), error.getMessage());
    var response = request.response();
    response.setStatusCode(error.status())
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CONNECTION, "close")
        .end(error.toJson().toBuffer())
        .onComplete(done -> request.connection().close());
  }

  /** Netty's defaults, which Vert.x's HttpServerOptions keep: the request line and the whole header block. */
  private static final int MAX_LINE_HINT = io.vertx.core.http.HttpServerOptions.DEFAULT_MAX_INITIAL_LINE_LENGTH;
  private static final int MAX_HEADER_HINT = io.vertx.core.http.HttpServerOptions.DEFAULT_MAX_HEADER_SIZE;

  private static ApiError toApiError(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof ApiError error) {
      return error;
    }
    if (failure instanceof DecodeException decode) {
      return ApiError.badRequest("the body is not valid JSON: " + decode.getMessage());
    }
    int status = failure instanceof HttpException http ? http.getStatusCode() : ctx.statusCode();
    return switch (status) {
      case 404 -> ApiError.notFound("no such endpoint: " + ctx.request().method() + " " + ctx.request().path());
      case 414 -> new ApiError(414, "the request URI is too long");
      case 431 -> new ApiError(431, "the request headers are too large");
      case 405 -> new ApiError(405, "method " + ctx.request().method() + " is not allowed on " + ctx.request().path());
      case 413 -> new ApiError(413, "request body is larger than the limit (max.batch.bytes); upload large data"
          + " with the file API: POST /api/v1/data/{table}/file");
      case 415 -> new ApiError(415, "unsupported content type; send application/json");
      case 400 -> ApiError.badRequest(failure != null && failure.getMessage() != null ? failure.getMessage()
          : "bad request");
      case 403 -> new ApiError(403, "forbidden");
      case 503 -> new ApiError(503, "the request took longer than request.timeout.seconds; send it more quickly,"
          + " or run long operations through the jobs API (POST /api/v1/jobs/...)");
      default -> failure == null && status >= 400 && status < 600
          ? new ApiError(status, io.netty.handler.codec.http.HttpResponseStatus.valueOf(status).reasonPhrase()
              + ": " + ctx.request().method() + " " + ctx.request().path())
          : new ApiError(500, "internal error" + (failure == null ? "" : ": " + failure));
    };
  }
}
