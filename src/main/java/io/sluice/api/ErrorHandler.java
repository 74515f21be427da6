package io.sluice.api;

import io.sluice.errors.ApiError;
import io.vertx.core.http.HttpHeaders;
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
    if (error.status() == 429 || error.status() == 503) {
      ctx.response().putHeader("Retry-After", "1");
    }
    if (error.status() == 429) {
      ctx.response().putHeader("x-error-cause", "Throttled");
    } else if (error.errorCause() != null) {
      ctx.response().putHeader("x-error-cause", error.errorCause());
    }
    ctx.response().end(error.toJson().toBuffer());
  }

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
      case 405 -> new ApiError(405, "method " + ctx.request().method() + " is not allowed on " + ctx.request().path());
      case 413 -> new ApiError(413, "request body is larger than the limit (max.batch.bytes); upload large data"
          + " with the file API: POST /api/v1/data/{table}/file");
      case 415 -> new ApiError(415, "unsupported content type; send application/json");
      case 400 -> ApiError.badRequest(failure != null && failure.getMessage() != null ? failure.getMessage()
          : "bad request");
      case 403 -> new ApiError(403, "forbidden");
      case 503 -> new ApiError(503, "the request took longer than request.timeout.seconds; send it more quickly,"
          + " or run long operations through the jobs API (POST /api/v1/jobs/...)");
      default -> new ApiError(500, "internal error" + (failure == null ? "" : ": " + failure));
    };
  }
}
