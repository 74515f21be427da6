package io.sluice.api;

import io.sluice.Version;
import io.sluice.bus.StoreClient;
import io.sluice.bus.StoreOp;
import io.sluice.bus.StoreRequest;
import io.sluice.config.SluiceConfig;
import io.sluice.ingest.Rows;
import io.sluice.errors.ApiError;
import io.sluice.ingest.Json;
import io.sluice.ingest.UploadSigner;
import io.sluice.metrics.Metrics;
import io.sluice.store.Idempotency;
import io.sluice.bus.Written;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.ext.web.handler.TimeoutHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * The HTTP API of docs/api.md. Every {@code /api/v1} route is registered through {@link #read} or {@link #write},
 * which decide who may call it: there is no route without an access rule. Handlers only translate between
 * HTTP and {@link StoreRequest}s.
 */
public final class ApiRouter {
  private static final String ACCESS = "sluice.access";
  /** Classpath folder of the dashboard's files. */
  static final String WEBROOT = "webroot";
  private static final String DASHBOARD_PATHS = "^/(?:[A-Za-z0-9_-]+\\.(?:html|js|css|svg|png|ico))?$";
  private static final Set<String> ALLOWED_HEADERS = Set.of("x-api-key", "content-type", "content-encoding",
      "idempotency-key");

  private final SluiceConfig config;
  private final ApiKeys keys;
  private final Jobs jobs;
  private final StoreClient store;
  private final ImportRoutes imports;
  private final Health health;
  private final Metrics metrics;
  private final BodyHandler bodyHandler;
  private final Router router;

  private final RequestBudget budget;
  /** A deadline for receiving and answering a request (slow clients); long work belongs in the jobs API. */
  private final Handler<RoutingContext> timeout;

  private ApiRouter(Vertx vertx, SluiceConfig config, ApiKeys keys, Jobs jobs, UploadSigner signer,
      RequestBudget budget, Metrics metrics, io.sluice.engine.UploadStore uploads) {
    this.config = config;
    this.budget = budget;
    this.timeout = TimeoutHandler.create(config.requestTimeoutSeconds() * 1000L, 503);
    this.keys = keys;
    this.jobs = jobs;
    this.metrics = metrics;
    this.store = new StoreClient(vertx);
    this.imports = new ImportRoutes(vertx, config, signer, store, metrics, uploads);
    this.health = new Health(vertx, store);
    this.bodyHandler = BodyHandler.create(false)
        .setBodyLimit(config.maxBatchBytes())
        .setHandleFileUploads(false);
    this.router = Router.router(vertx);
  }

  /** {@code metrics}: Sluice's meters; {@code GET /metrics} scrapes its Prometheus registry when it has one. */
  public static Router create(Vertx vertx, SluiceConfig config, ApiKeys keys, Jobs jobs, UploadSigner signer,
      RequestBudget budget, Metrics metrics) {
    return create(vertx, config, keys, jobs, signer, budget, metrics,
        new io.sluice.engine.FileUploadStore(vertx, config.dataDir()));
  }

  /** uploads: where the files PUT to upload URLs are kept. */
  public static Router create(Vertx vertx, SluiceConfig config, ApiKeys keys, Jobs jobs, UploadSigner signer,
      RequestBudget budget, Metrics metrics, io.sluice.engine.UploadStore uploads) {
    return new ApiRouter(vertx, config, keys, jobs, signer, budget, metrics, uploads).build();
  }

  private Router build() {
    router.route().handler(ctx -> AccessLog.handle(ctx, metrics));
    // A browser script may read only the response headers listed as exposed: a replay must be visible to it.
    router.route().handler(CorsHandler.create().addOrigin("*").allowedHeaders(ALLOWED_HEADERS)
        .exposedHeaders(Set.of(IdempotencyKeys.REPLAYED_HEADER, "Retry-After", "x-error-cause"))
        .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE)));
    router.route().failureHandler(ErrorHandler::handle);
    router.route().handler(ApiRouter::checkPathEncoding);
    // Failures no route's failure handler took (no route matched, a path the router cannot decode...): every
    // status Vert.x Web may produce on its own gets the JSON error shape.
    for (int status : new int[] {400, 403, 404, 405, 406, 413, 414, 415, 431, 500, 501, 503}) {
      router.errorHandler(status, ctx -> ErrorHandler.handle(ctx));
    }

    router.get("/version").handler(this::version);
    router.get("/health").handler(ctx -> Health.live(ctx, metrics));
    router.get("/ready").handler(health::ready);
    router.get("/api/v1/health").handler(health::ready);
    if (config.metricsEnabled() && metrics.prometheusRegistry() != null) {
      router.get("/metrics").handler(PrometheusScrapingHandler.create(metrics.prometheusRegistry()));
    }
    ApiDocs.mount(router);

    router.put("/uploads/:id").handler(imports::upload);

    router.route("/api/v1/*").handler(this::authenticate);
    router.route("/api/v1/*").handler(ApiRouter::checkContentType);

    read(HttpMethod.GET, "/api/v1/schema", ctx -> store.call(StoreRequest.of(StoreOp.GET_SCHEMA)));
    write(HttpMethod.PUT, "/api/v1/schema", ctx -> schemaChange(ctx, StoreOp.PUT_SCHEMA, false, jsonBody(ctx)));
    write(HttpMethod.DELETE, "/api/v1/schema", ctx -> schemaChange(ctx, StoreOp.DELETE_SCHEMA, false, null));
    write(HttpMethod.POST, "/api/v1/schema/_rename",
        ctx -> schemaChange(ctx, StoreOp.RENAME, false, jsonBody(ctx)));
    write(HttpMethod.POST, "/api/v1/schema/_copy",
        ctx -> schemaChange(ctx, StoreOp.COPY, false, jsonBody(ctx)));
    read(HttpMethod.GET, "/api/v1/schema/:table", ctx -> store.call(tableRequest(ctx, StoreOp.GET_TABLE, null)));
    write(HttpMethod.PUT, "/api/v1/schema/:table",
        ctx -> schemaChange(ctx, StoreOp.PUT_TABLE, true, jsonBody(ctx)));
    write(HttpMethod.DELETE, "/api/v1/schema/:table",
        ctx -> schemaChange(ctx, StoreOp.DELETE_TABLE, true, null));
    read(HttpMethod.GET, "/api/v1/schema/:table/:column",
        ctx -> store.call(columnRequest(ctx, StoreOp.GET_COLUMN, null)));
    write(HttpMethod.PUT, "/api/v1/schema/:table/:column",
        ctx -> schemaChange(ctx, StoreOp.PUT_COLUMN, true, jsonBody(ctx)));
    write(HttpMethod.DELETE, "/api/v1/schema/:table/:column",
        ctx -> schemaChange(ctx, StoreOp.DELETE_COLUMN, true, null));

    // Fixed paths under /api/v1/data come before the /api/v1/data/:table routes, or they would be taken as a table.
    write(HttpMethod.POST, "/api/v1/data/_delete",
        ctx -> delete(jsonBody(ctx), IdempotencyKeys.of(ctx)).map(written -> replayed(ctx, written)));
    // No request.timeout.seconds deadline: a backup lasts as long as copying the data (the body is tiny).
    router.route(HttpMethod.POST, "/api/v1/_backup").handler(ctx -> requireAccess(ctx, true));
    router.route(HttpMethod.POST, "/api/v1/_backup").handler(bodyHandler).handler(respond(ctx -> store.call(
        StoreRequest.withBody(StoreOp.BACKUP, null,
            new JsonObject().put("dir", Backups.target(config.backupDir(), jsonBody(ctx)).toString())))));
    read(HttpMethod.GET, "/api/v1/data/_imports", imports::list);
    write(HttpMethod.POST, "/api/v1/data/:table/batch",
        ctx -> batch(ctx.pathParam("table"), rawBody(ctx), IdempotencyKeys.of(ctx)).map(written -> replayed(ctx, written)));
    write(HttpMethod.POST, "/api/v1/data/:table/optimize", ctx -> optimize(ctx.pathParam("table")));
    write(HttpMethod.POST, "/api/v1/data/:table/file", ctx -> imports.initiate(ctx, jsonBody(ctx)));
    write(HttpMethod.POST, "/api/v1/data/:table/file/:id", ctx -> imports.trigger(ctx, jsonBody(ctx)));
    read(HttpMethod.GET, "/api/v1/data/:table/file/:id", imports::status);
    write(HttpMethod.DELETE, "/api/v1/data/:table/file/:id", imports::cancel);
    router.route(HttpMethod.GET, "/api/v1/data/:table/file/:id/errors").handler(ctx -> requireAccess(ctx, false))
        .handler(imports::errors);
    router.route(HttpMethod.POST, "/api/v1/data/:table/stream").handler(ctx -> requireAccess(ctx, true))
        .handler(ctx -> budget.reserve(ctx, (long) config.importWindow() * config.importBatchBytes()))
        .handler(imports::stream);
    write(HttpMethod.POST, "/api/v1/data/:table", ctx -> store.callWrite(new StoreRequest(StoreOp.INSERT_ONE,
        ctx.pathParam("table"), null, idempotencyArgs(IdempotencyKeys.of(ctx)), rawBody(ctx)))
        .map(written -> Rows.withoutNulls(replayed(ctx, written))));

    read(HttpMethod.POST, "/api/v1/_search", ctx -> search(jsonBody(ctx)));
    read(HttpMethod.POST, "/api/v1/_query", ctx -> search(jsonBody(ctx)));

    read(HttpMethod.POST, "/api/v1/jobs/_search", ctx -> startJob(ctx, "_search", () -> search(jsonBody(ctx))));
    read(HttpMethod.POST, "/api/v1/jobs/_query", ctx -> startJob(ctx, "_query", () -> search(jsonBody(ctx))));
    write(HttpMethod.POST, "/api/v1/jobs/data/_delete",
        ctx -> {
          Idempotency idempotency = IdempotencyKeys.of(ctx);
          // The body is read by the job, as before: a bad one fails the job (its result says why), not the start.
          return startJob(ctx, "data/_delete", () -> delete(jsonBody(ctx), idempotency).map(Written::reply));
        });
    write(HttpMethod.POST, "/api/v1/jobs/data/:table/optimize", ctx -> startJob(ctx,
        "data/" + ctx.pathParam("table") + "/optimize", () -> optimize(ctx.pathParam("table"))));
    write(HttpMethod.POST, "/api/v1/jobs/data/:table/batch", ctx -> {
      Buffer body = rawBody(ctx);
      Idempotency idempotency = IdempotencyKeys.of(ctx);
      return startJob(ctx, "data/" + ctx.pathParam("table") + "/batch",
          () -> batch(ctx.pathParam("table"), body, idempotency).map(Written::reply));
    });
    read(HttpMethod.GET, "/api/v1/jobs/:id", ctx -> jobs.status(ctx.pathParam("id")));
    read(HttpMethod.GET, "/api/v1/jobs/:id/result", ctx -> jobs.result(ctx.pathParam("id")));

    // The dashboard (src/main/resources/webroot): "/" and the files beside it, nothing else, so that other paths
    // keep their 404 and 405 answers.
    router.routeWithRegex(DASHBOARD_PATHS).method(HttpMethod.GET).method(HttpMethod.HEAD)
        .handler(ApiRouter::dashboardHeaders)
        .handler(StaticHandler.create(WEBROOT)
        .setCachingEnabled(false)
        .setDirectoryListing(false)
        .setIndexPage("index.html"));
    return router;
  }

  // ---------------------------------------------------------------- operations, shared with jobs

  /** Hits leave without null-valued fields, as Aito returns them (docs/api.md §4); jobs share this path. */
  private Future<JsonObject> search(JsonObject body) {
    return store.call(StoreRequest.withBody(StoreOp.SEARCH, null, body)).map(Rows::hitsWithoutNulls);
  }

  private Future<Written> delete(JsonObject body, Idempotency idempotency) {
    JsonObject args = idempotencyArgs(idempotency);
    return store.callWrite(StoreRequest.withBody(StoreOp.DELETE_ROWS, null,
        (args == null ? new JsonObject() : args).put("delete", body)));
  }

  private Future<JsonObject> optimize(String table) {
    return store.call(StoreRequest.table(StoreOp.OPTIMIZE, table));
  }

  private Future<Written> batch(String table, Buffer body, Idempotency idempotency) {
    return store.callWrite(new StoreRequest(StoreOp.INSERT_BATCH, table, null, idempotencyArgs(idempotency), body));
  }

  /**
   * A schema or column change: the store request carries {@code {"body"?, "idempotency"?}}, so a request body
   * never mixes with the key. {@code path}: the path names the table (and column).
   */
  private Future<JsonObject> schemaChange(RoutingContext ctx, StoreOp op, boolean path, JsonObject body) {
    JsonObject args = idempotencyArgs(IdempotencyKeys.of(ctx));
    args = (args == null ? new JsonObject() : args).put("body", body);
    return store.callWrite(new StoreRequest(op, path ? ctx.pathParam("table") : null,
        path ? ctx.pathParam("column") : null,
        args, null)).map(written -> replayed(ctx, written));
  }

  private static JsonObject idempotencyArgs(Idempotency idempotency) {
    return idempotency == null ? null : new JsonObject().put("idempotency", idempotency.toJson());
  }

  /** A reply the store answered from an Idempotency-Key's record says so in a header, not in its body. */
  private static JsonObject replayed(RoutingContext ctx, Written written) {
    if (written.replayed()) {
      ctx.response().putHeader(IdempotencyKeys.REPLAYED_HEADER, "true");
    }
    return written.reply();
  }

  private Future<JsonObject> startJob(RoutingContext ctx, String path,
      java.util.function.Supplier<Future<JsonObject>> operation) {
    return jobs.start(path, operation).onSuccess(started -> ctx.response().setStatusCode(201));
  }

  // ---------------------------------------------------------------- routes and access

  private void read(HttpMethod method, String path, Function<RoutingContext, Future<JsonObject>> handler) {
    route(method, path, false, handler);
  }

  private void write(HttpMethod method, String path, Function<RoutingContext, Future<JsonObject>> handler) {
    route(method, path, true, handler);
  }

  /** Access is checked in a route of its own so that a refused request's body is never read. */
  private void route(HttpMethod method, String path, boolean write,
      Function<RoutingContext, Future<JsonObject>> handler) {
    router.route(method, path).handler(ctx -> requireAccess(ctx, write));
    router.route(method, path).handler(ctx -> budget.reserve(ctx, config.maxBatchBytes()));
    router.route(method, path).handler(timeout);
    router.route(method, path).handler(bodyHandler).handler(respond(handler));
  }

  /**
   * The dashboard loads nothing but its own files and talks only to this server; the key lives in the page's
   * localStorage, so no other origin may frame or script it.
   */
  private static void dashboardHeaders(RoutingContext ctx) {
    ctx.response().headers()
        .set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
            + " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        .set("X-Content-Type-Options", "nosniff")
        .set("Referrer-Policy", "no-referrer")
        .set(HttpHeaders.CACHE_CONTROL, "no-cache");
    ctx.next();
  }

  /**
   * Open without a key (monitoring, the dashboard), but Aito's client calls it with its key to check it when it
   * connects: a key that is sent must be a known one.
   */
  private void version(RoutingContext ctx) {
    String key = ctx.request().getHeader("x-api-key");
    if (key != null && keys.check(key) == null) {
      ctx.fail(new ApiError(403, "invalid api key"));
      return;
    }
    ok(ctx, new JsonObject().put("version", Version.VERSION));
  }

  private void authenticate(RoutingContext ctx) {
    ApiKeys.Access access = keys.check(ctx.request().getHeader("x-api-key"));
    if (access == null) {
      ctx.fail(new ApiError(403, "invalid api key"));
      return;
    }
    ctx.put(ACCESS, access);
    ctx.next();
  }

  private static void requireAccess(RoutingContext ctx, boolean write) {
    ApiKeys.Access access = ctx.get(ACCESS);
    if (access == null || (write && access != ApiKeys.Access.READ_WRITE)) {
      ctx.fail(new ApiError(403, access == null ? "invalid api key"
          : "the api key is read-only; " + ctx.request().method() + " " + ctx.request().path()
              + " needs the read-write key"));
      return;
    }
    ctx.next();
  }

  private static Handler<RoutingContext> respond(Function<RoutingContext, Future<JsonObject>> handler) {
    return ctx -> {
      Future<JsonObject> result;
      try {
        result = handler.apply(ctx);
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onComplete(ar -> {
        if (ar.succeeded()) {
          ok(ctx, ar.result());
        } else {
          ctx.fail(ar.cause());
        }
      });
    };
  }

  static void ok(RoutingContext ctx, JsonObject body) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.toBuffer());
  }

  /**
   * Path segments (table and column names) must be percent-encoded UTF-8. Vert.x decodes an invalid sequence such
   * as {@code %FF} to U+FFFD, which would silently become part of a name; refuse it instead.
   */
  private static void checkPathEncoding(RoutingContext ctx) {
    String path = ctx.request().path();
    String problem = path == null ? null : PathEncoding.problem(path);
    if (problem != null) {
      ctx.fail(ApiError.badRequest("the request path is not valid: " + problem));
      return;
    }
    ctx.next();
  }

  // ---------------------------------------------------------------- bodies

  /** JSON bodies are accepted with a JSON, text or form content type (curl -d sends the latter). */
  private static void checkContentType(RoutingContext ctx) {
    String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    if (type != null) {
      String mime = type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
      boolean accepted = mime.isEmpty() || mime.endsWith("/json") || mime.endsWith("+json") || mime.equals("text/csv")
          || mime.equals("application/x-ndjson") || mime.startsWith("text/")
          || mime.equals("application/x-www-form-urlencoded") || mime.equals("application/octet-stream");
      if (!accepted) {
        ctx.fail(new ApiError(415, "content type '" + mime + "' is not accepted; send application/json"));
        return;
      }
      if (mime.equals("application/x-www-form-urlencoded")) {
        // Keep BodyHandler from decoding a JSON body as a form.
        ctx.request().headers().set(HttpHeaders.CONTENT_TYPE, "application/json");
      }
    }
    ctx.next();
  }

  private static Buffer rawBody(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0) {
      throw ApiError.badRequest("the request needs a JSON body");
    }
    return body;
  }

  private static JsonObject jsonBody(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0) {
      return new JsonObject();
    }
    try {
      Object value = Json.decodeRequest(body);
      if (value instanceof JsonObject object) {
        return object;
      }
      throw ApiError.badRequest("the body must be a JSON object, got " + (value == null ? "null"
          : value.getClass().getSimpleName().replace("Json", "").toLowerCase(Locale.ROOT)));
    } catch (DecodeException e) {
      throw ApiError.badRequest("the body is not valid JSON: " + e.getMessage());
    }
  }

  private static StoreRequest tableRequest(RoutingContext ctx, StoreOp op, JsonObject body) {
    return new StoreRequest(op, ctx.pathParam("table"), null, body, null);
  }

  private static StoreRequest columnRequest(RoutingContext ctx, StoreOp op, JsonObject body) {
    return new StoreRequest(op, ctx.pathParam("table"), ctx.pathParam("column"), body, null);
  }
}
