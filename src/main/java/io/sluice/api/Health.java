package io.sluice.api;

import io.sluice.bus.StoreClient;
import io.sluice.bus.StoreOp;
import io.sluice.bus.StoreRequest;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * Liveness and readiness. {@code /health} answers 200 {@code {"status":"ok"}} whenever the process serves
 * HTTP. Readiness ({@code /ready}, and {@code /api/v1/health} as docs/api.md §0 asks) runs the registered
 * {@link HealthChecks} procedures — today one, {@value #STORE_CHECK}: the store answers {@code HEALTH} over
 * the bus within {@value #STORE_TIMEOUT_MS} ms and no table is latched in error — and answers 200
 * {@code {"status":"ok"}} when all are up, else 503 {@code {"status":"degraded","message","checks":[...]}}.
 * The body is rendered here rather than by vertx-web's {@code HealthCheckHandler}, whose
 * {@code {"status":"UP","checks",...}} shape Aito's clients would not recognise.
 */
final class Health {
  static final String STORE_CHECK = "store";
  static final long STORE_TIMEOUT_MS = 5_000;

  private final HealthChecks checks;

  Health(Vertx vertx, StoreClient store) {
    this.checks = HealthChecks.create(vertx);
    checks.register(STORE_CHECK, STORE_TIMEOUT_MS, promise -> store.call(StoreRequest.of(StoreOp.HEALTH))
        .onComplete(ar -> {
          if (ar.failed()) {
            promise.complete(Status.KO(new JsonObject().put("message", ar.cause().getMessage())));
          } else if ("ok".equals(ar.result().getString("status"))) {
            promise.complete(Status.OK());
          } else {
            promise.complete(Status.KO(ar.result()));
          }
        }));
  }

  /** A clustered node also says how many members its cluster has (a Sluice extension: docs/cluster.md). */
  static void live(RoutingContext ctx, io.sluice.metrics.Metrics metrics) {
    JsonObject body = new JsonObject().put("status", "ok");
    int nodes = metrics.clusterNodes();
    if (nodes >= 0) {
      body.put("cluster", new JsonObject().put("nodes", nodes));
    }
    ApiRouter.ok(ctx, body);
  }

  void ready(RoutingContext ctx) {
    checks.checkStatus().onComplete(ar -> {
      CheckResult result = ar.succeeded() ? ar.result() : CheckResult.from("sluice", ar.cause());
      if (CheckResult.isUp(result)) {
        ApiRouter.ok(ctx, new JsonObject().put("status", "ok"));
        return;
      }
      JsonArray failing = new JsonArray();
      String message = null;
      for (CheckResult check : result.getChecks() == null ? List.of(result) : result.getChecks()) {
        if (CheckResult.isUp(check)) {
          continue;
        }
        JsonObject data = check.getData() != null ? check.getData() : new JsonObject();
        if (message == null) {
          message = check.getId() + ": " + data.getString("message", check.getFailure() != null
              ? String.valueOf(check.getFailure().getMessage()) : "down");
        }
        failing.add(new JsonObject().put("id", check.getId()).put("status", "DOWN").put("data", data));
      }
      ctx.response().setStatusCode(503).putHeader("Retry-After", "1")
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
      ApiRouter.ok(ctx, new JsonObject().put("status", "degraded").put("message", message).put("checks", failing));
    });
  }
}
