package io.sluice.api;

import io.sluice.bus.StoreClient;
import io.sluice.bus.StoreOp;
import io.sluice.bus.StoreRequest;
import io.sluice.config.SluiceConfig;
import io.sluice.engine.UploadStore;
import io.sluice.errors.ApiError;
import io.sluice.ingest.ImportFormatException;
import io.sluice.ingest.ImportProgress;
import io.sluice.ingest.ImportSink;
import io.sluice.ingest.ImportVerticle;
import io.sluice.ingest.UploadSigner;
import io.sluice.metrics.Metrics;
import io.sluice.schema.SchemaParser;
import io.sluice.store.Idempotency;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * docs/api.md §3 on the HTTP side: initiate (hands out a signed upload URL), the upload itself (streamed to disk,
 * never buffered), trigger and status (forwarded to the import verticle), and the synchronous stream
 * endpoint, which runs the import pipeline over the request body.
 */
final class ImportRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(ImportRoutes.class);
  static final String UPLOAD_METHOD = "PUT";
  static final int MAX_LIST_LIMIT = 1000;

  private final Vertx vertx;
  private final SluiceConfig config;
  private final UploadSigner signer;
  private final StoreClient bus;
  private final Metrics metrics;
  private final UploadStore uploads;

  ImportRoutes(Vertx vertx, SluiceConfig config, UploadSigner signer, StoreClient bus, Metrics metrics,
      UploadStore uploads) {
    this.vertx = vertx;
    this.uploads = uploads;
    this.metrics = metrics;
    this.config = config;
    this.signer = signer;
    this.bus = bus;
  }

  Future<JsonObject> initiate(RoutingContext ctx, JsonObject body) {
    String table = ctx.pathParam("table");
    String format = format(body.getValue("format"));
    Idempotency idempotency = IdempotencyKeys.of(ctx);
    return bus.callImport(new JsonObject().put("op", "initiate").put("table", table).put("format", format)
        .put("idempotency", idempotency == null ? null : idempotency.toJson()))
        .map(reply -> {
      if (reply.getBoolean("replayed", false)) {
        ctx.response().putHeader(IdempotencyKeys.REPLAYED_HEADER, "true");
      }
      String id = reply.getString("id");
      long expires = reply.getLong("expires");
      String url = baseUrl(ctx) + "/uploads/" + id + "?table=" + URLEncoder.encode(table, StandardCharsets.UTF_8)
          + "&expires=" + expires + "&signature=" + signer.sign(UPLOAD_METHOD, id, table, expires);
      return new JsonObject().put("id", id).put("url", url).put("method", UPLOAD_METHOD)
          .put("expires", Instant.ofEpochSecond(expires).toString());
    });
  }

  Future<JsonObject> trigger(RoutingContext ctx, JsonObject body) {
    Object sourceUrl = body.getValue("sourceUrl");
    if (sourceUrl != null && !(sourceUrl instanceof String)) {
      throw ApiError.badRequest("'sourceUrl' must be a string URL");
    }
    return bus.callImport(new JsonObject().put("op", "trigger").put("id", ctx.pathParam("id"))
        .put("table", ctx.pathParam("table")).put("sourceUrl", sourceUrl));
  }

  Future<JsonObject> status(RoutingContext ctx) {
    return bus.callImport(new JsonObject().put("op", "status").put("id", ctx.pathParam("id"))
        .put("table", ctx.pathParam("table")));
  }

  /**
   * {@code GET /api/v1/data/{table}/file/{id}/errors} (a Sluice extension): every rejected line of the job, up
   * to {@code import.errors.max}, as NDJSON straight from the job's file (whole lines only while it runs).
   */
  void errors(RoutingContext ctx) {
    bus.callImport(new JsonObject().put("op", "errors").put("id", ctx.pathParam("id"))
        .put("table", ctx.pathParam("table"))).onComplete(ar -> {
          if (ar.failed()) {
            ctx.fail(ar.cause());
            return;
          }
          long bytes = ar.result().getLong("bytes");
          ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/x-ndjson");
          if (bytes == 0) {
            ctx.response().end();
          } else {
            ctx.response().sendFile(ar.result().getString("file"), 0, bytes).onFailure(ctx::fail);
          }
        });
  }

  /**
   * {@code DELETE /api/v1/data/{table}/file/{id}} (a Sluice extension): cancels an unfinished import; answered
   * with its final status once that is persisted.
   */
  Future<JsonObject> cancel(RoutingContext ctx) {
    return bus.callImport(new JsonObject().put("op", "cancel").put("id", ctx.pathParam("id"))
        .put("table", ctx.pathParam("table")));
  }

  /**
   * {@code GET /api/v1/data/_imports[?limit=n]} (a Sluice extension, read-only): the import jobs, newest first,
   * each {@code {"id","table","createdAt","bytes","bytesRead","status","errors"}} with the status and errors of
   * {@link #status}, plus {@code "dropped"} (finished jobs dropped since start because more than
   * {@code "maxHistory"}, import.max.history, were held). Finished jobs stay listed for import.keep.seconds.
   */
  Future<JsonObject> list(RoutingContext ctx) {
    int limit = ImportVerticle.DEFAULT_LIST_LIMIT;
    String param = ctx.request().getParam("limit");
    if (param != null) {
      try {
        limit = Integer.parseInt(param.trim());
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > MAX_LIST_LIMIT) {
        throw ApiError.badRequest("'limit' must be an integer from 1 to " + MAX_LIST_LIMIT + ", got '" + param + "'");
      }
    }
    return bus.callImport(new JsonObject().put("op", "list").put("limit", limit));
  }

  /** {@code PUT /uploads/{id}?table&expires&signature}: the signature is the credential. */
  void upload(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    request.pause();
    String id = ctx.pathParam("id");
    String table = request.getParam("table");
    String expiresParam = request.getParam("expires");
    long expires;
    try {
      expires = Long.parseLong(expiresParam);
    } catch (NumberFormatException | NullPointerException e) {
      ctx.fail(new ApiError(403, "the upload URL is incomplete: it needs table, expires and signature"));
      return;
    }
    if (table == null || !signer.verify(UPLOAD_METHOD, id, table, expires, request.getParam("signature"))) {
      ctx.fail(new ApiError(403, "the upload URL's signature is not valid"));
      return;
    }
    if (Instant.now().getEpochSecond() > expires) {
      ctx.fail(new ApiError(403, "the upload URL expired at " + Instant.ofEpochSecond(expires)
          + "; initiate a new upload"));
      return;
    }
    String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length != null && parseLong(length) > config.uploadMaxBytes()) {
      ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
      ctx.fail(tooLarge());
      return;
    }
    bus.callImport(new JsonObject().put("op", "claimUpload").put("id", id).put("table", table))
        .compose(claim -> receive(ctx, id)
            .recover(failure -> bus.callImport(new JsonObject().put("op", "uploadFailed").put("id", id))
                .transform(ignored -> Future.<Long>failedFuture(failure))))
        .compose(bytes -> bus.callImport(new JsonObject().put("op", "uploaded").put("id", id).put("bytes", bytes)))
        .onSuccess(reply -> ApiRouter.ok(ctx, reply))
        .onFailure(failure -> {
          if (failure instanceof ApiError error && (error.status() == 413 || error.status() == 408)) {
            // The rest of the body is not read: answer, then close rather than wait for a body that may never end.
            ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
            ctx.addEndHandler(ended -> request.connection().close());
          }
          ctx.fail(failure);
        });
  }

  /**
   * Streams the request body into the upload store with backpressure, capped at upload.max.bytes, and makes it
   * durable. The attempt is given up (what it wrote deleted) however else the body ends: over the cap, or the
   * client gone (even while the claim was on its way, before these handlers were set: the routing context's end
   * handler sees the connection close).
   */
  private Future<Long> receive(RoutingContext ctx, String id) {
    HttpServerRequest request = ctx.request();
    return uploads.begin(id).compose(file -> {
          Promise<Long> received = Promise.promise();
          ctx.addEndHandler(ended -> received.tryFail(new ApiError(400, "the upload ended before its body")));
          if (ctx.response().closed()) {
            received.tryFail(new ApiError(400, "the client went away during the upload"));
          }
          long[] bytes = {0};
          boolean[] heldBack = {false};
          request.handler(chunk -> {
            bytes[0] += chunk.length();
            metrics.uploaded(chunk.length());
            if (bytes[0] > config.uploadMaxBytes()) {
              request.pause();
              received.tryFail(tooLarge());
              return;
            }
            file.write(chunk);
            if (file.writeQueueFull()) {
              request.pause();
              heldBack[0] = true;
              file.drainHandler(v -> {
                heldBack[0] = false;
                request.resume();
              });
            }
          });
          SlowClientGuard guard = new SlowClientGuard(vertx, config.streamIdleTimeoutSeconds(),
              config.streamMinBytesPerSecond(), () -> bytes[0], () -> heldBack[0], request::isEnded, reason -> {
                received.tryFail(new ApiError(408, "upload ended: " + reason + "; nothing of it was kept, PUT the"
                    + " file again (the URL stays valid until it expires)"));
              });
          received.future().onComplete(ignored -> guard.stop());
          request.exceptionHandler(received::tryFail);
          request.endHandler(v -> received.tryComplete(bytes[0]));
          request.resume();
          return received.future()
              .compose(total -> file.end().map(total).recover(failure -> Future.failedFuture(
                      new ApiError(503, "cannot store the upload: " + failure.getMessage()))),
                  failure -> file.abort().transform(v -> Future.<Long>failedFuture(failure)));
        });
  }

  /**
   * {@code POST /api/v1/data/{table}/stream}: the import pipeline over the request body, answered when durable.
   * With an Idempotency-Key the key names the stream: the lines its earlier attempts committed are skipped, and
   * the reply (or error body) says in {@code committedLines} how many lines from the first are committed. The
   * body is the whole stream again, or with {@code ?from=n} (NDJSON) the rest of it from stream line n.
   */
  void stream(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    request.pause();
    String table = ctx.pathParam("table");
    String format;
    Idempotency idempotency;
    long from;
    try {
      format = request.getParam("format") != null ? format(request.getParam("format")) : formatOf(request);
      idempotency = IdempotencyKeys.of(ctx);
      from = fromLine(request.getParam("from"), idempotency);
    } catch (ApiError e) {
      ctx.fail(e);
      return;
    }
    bus.call(StoreRequest.withBody(StoreOp.GET_TABLE, table, new JsonObject().put("withId", true)))
        .compose(schema -> idempotency == null ? Future.succeededFuture(new JsonObject[] {schema, null})
            : bus.call(new StoreRequest(StoreOp.STREAM_BEGIN, table, null,
                new JsonObject().put("idempotency", idempotency.toJson()), null))
                .map(begun -> new JsonObject[] {schema, begun}))
        .onComplete(started -> {
      if (started.failed()) {
        closeUnread(ctx);
        ctx.fail(started.cause());
        return;
      }
      JsonObject schema = started.result()[0];
      JsonObject begun = started.result()[1];
      Runnable release = begun == null ? () -> { } : () -> bus.call(new StoreRequest(StoreOp.STREAM_END, table, null,
          new JsonObject().put("idempotency", idempotency.toJson()).put("tableId", begun.getString("tableId")), null))
          .onFailure(e -> LOG.error("releasing the Idempotency-Key of a stream into table '{}' failed", table, e));
      ImportProgress progress = new ImportProgress();
      ImportSink sink;
      try {
        sink = new ImportSink(bus, table, null, new ImportSink.Settings(config.importMaxDecompressedBytes(),
            config.importMaxRatio(), config.importMaxLineBytes(), config.importBatchRows(), config.importBatchBytes(),
            config.importWindow(), config.streamMaxBytes(), config.importCommitIntervalMs()), Set.of(), progress, format,
            SchemaParser.parseTable(table, schema.getJsonObject("schema")), metrics)
            .bindTo(schema.getString("id"));
        if (begun != null) {
          sink.resumeStream(begun.getString("job"), begun.getLong("hour"), begun.getJsonArray("lines"), from);
          if (from > sink.committedLines() + 1) {
            throw new ApiError(409, "the stream with Idempotency-Key '" + idempotency.key() + "' has "
                + sink.committedLines() + " lines committed; a resend must start at line " + (sink.committedLines()
                + 1) + " or before, not at " + from + " (lines in between would be missing)")
                .withField("committedLines", sink.committedLines());
          }
        }
      } catch (ImportFormatException | ApiError e) {
        release.run();
        closeUnread(ctx);
        ctx.fail(e instanceof ApiError error ? error : ApiError.badRequest(e.getMessage()));
        return;
      }
      request.pipe().endOnFailure(false).to(sink).onFailure(sink::abort);
      // A full import window pauses the request: that wait is ours, not a slow client's.
      SlowClientGuard guard = new SlowClientGuard(vertx, config.streamIdleTimeoutSeconds(),
          config.streamMinBytesPerSecond(), sink::inputBytes, sink::writeQueueFull, request::isEnded,
          reason -> sink.abort(new ApiError(408, reason)));
      sink.done().onComplete(ar -> {
        guard.stop();
        release.run();
        if (ar.failed() && !request.isEnded()) {
          // Answer and close rather than read the rest of a body that may be gigabytes long for nothing (the
          // failed pipe drains it) or keep a half-read request's connection open.
          ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
        }
        if (ar.succeeded()) {
          JsonObject reply = new JsonObject().put("total", progress.completed())
              .put("failedCount", progress.failedCount()).put("errors", progress.errorsJson());
          if (begun != null) {
            reply.put("committedLines", sink.committedLines()).put("skippedLines", sink.skippedLines());
            if (sink.skippedLines() > 0 && progress.completed() == 0 && progress.failedCount() == 0) {
              ctx.response().putHeader(IdempotencyKeys.REPLAYED_HEADER, "true"); // every line was committed before
            }
          }
          ApiRouter.ok(ctx, reply);
          return;
        }
        Throwable failure = ar.cause();
        if (ctx.response().closed()) {
          LOG.warn("stream into table '{}' interrupted ({}): {} rows committed in whole batches", table,
              failure.getMessage(), progress.completed());
          return;
        }
        if (failure instanceof ApiError error && error.status() == 408) {
          LOG.info("stream into table '{}' ended, too slow: {}; {} rows committed", table, failure.getMessage(),
              progress.completed());
          failure = new ApiError(408, "stream ended: " + failure.getMessage() + "; " + progress.completed()
              + " rows were committed in whole batches before and stay stored");
        }
        if (failure instanceof ImportFormatException) {
          failure = ApiError.badRequest(failure.getMessage() + " (" + progress.completed() + " rows stored before)");
        }
        if (failure instanceof ApiError error && error.status() == 413) {
          ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
        }
        if (begun != null && failure instanceof ApiError error) {
          failure = error.withField("committedLines", sink.committedLines());
        }
        ctx.fail(failure);
      });
    });
  }

  /** A request refused before its body was read: answer, then close instead of reading it for nothing. */
  private static void closeUnread(RoutingContext ctx) {
    if (!ctx.request().isEnded()) {
      ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    }
  }

  /** The stream line a keyed stream's body starts at ({@code ?from=}); 1, the whole stream, without it. */
  private static long fromLine(String param, Idempotency idempotency) {
    if (param == null) {
      return 1;
    }
    if (idempotency == null) {
      throw ApiError.badRequest("'from' resends the rest of a stream and needs the stream's "
          + IdempotencyKeys.HEADER + " header");
    }
    long from;
    try {
      from = Long.parseLong(param.trim());
    } catch (NumberFormatException e) {
      from = 0;
    }
    if (from < 1 || from > io.sluice.store.StreamLines.MAX_LINE) {
      throw ApiError.badRequest("'from' must be a line number from 1 to " + io.sluice.store.StreamLines.MAX_LINE
          + ", got '" + param + "'");
    }
    return from;
  }

  /** A requested input format, checked; null means detect it. */
  private static String format(Object format) {
    if (format == null) {
      return "auto";
    }
    if (!(format instanceof String name) || !ImportSink.FORMATS.contains(name)) {
      throw ApiError.badRequest("'format' must be one of " + ImportSink.FORMATS + ", got " + format);
    }
    return name;
  }

  /** The stream endpoint's format from its content type: text/csv, application/x-ndjson, or detected. */
  private static String formatOf(HttpServerRequest request) {
    String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
    if (type == null) {
      return "auto";
    }
    type = type.toLowerCase(java.util.Locale.ROOT);
    return type.startsWith("text/csv") ? "csv" : type.contains("ndjson") ? "ndjson" : "auto";
  }

  private ApiError tooLarge() {
    return new ApiError(413, "the upload is larger than the limit of " + config.uploadMaxBytes()
        + " bytes (upload.max.bytes)");
  }

  /**
   * The base of upload URLs: public.url, else the address this server is bound to (http.host, or the local
   * address the request arrived on when bound to a wildcard) and its actual port. Never a request header (Host,
   * X-Forwarded-*): a forged Host would make the server hand out signed URLs pointing at another machine.
   */
  private String baseUrl(RoutingContext ctx) {
    if (config.publicUrl() != null) {
      return config.publicUrl();
    }
    io.vertx.core.net.SocketAddress local = ctx.request().localAddress();
    String host = config.httpHost();
    if (isWildcard(host) && local != null && local.hostAddress() != null) {
      host = local.hostAddress();
    }
    if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]"; // an IPv6 literal
    }
    return (config.tls() != null ? "https://" : "http://") + host + ":" + (local != null ? local.port() : config.httpPort());
  }

  private static boolean isWildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]") || host.equals("0:0:0:0:0:0:0:0");
  }

  private static long parseLong(String value) {
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
