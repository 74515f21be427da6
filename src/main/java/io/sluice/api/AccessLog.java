package io.sluice.api;

import io.sluice.metrics.Metrics;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request on the logger {@value #LOGGER}: method, path, status, response bytes, duration in
 * milliseconds, remote address. The path is logged without its query string, so an upload URL's signature
 * never reaches a log; no header is logged, so neither does an API key. The same fields are attached as
 * key/value pairs, which the JSON log format writes as fields. Also counts 429 responses.
 */
final class AccessLog {
  static final String LOGGER = "io.sluice.access";
  private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

  private AccessLog() {
  }

  static void handle(RoutingContext ctx, Metrics metrics) {
    long start = System.nanoTime();
    ctx.addEndHandler(ar -> {
      int status = ctx.response().getStatusCode();
      if (status == 429) {
        metrics.throttled();
      }
      if (!LOG.isInfoEnabled()) {
        return;
      }
      HttpServerRequest request = ctx.request();
      SocketAddress remote = request.remoteAddress();
      String method = request.method().name();
      String path = request.path();
      long bytes = ctx.response().bytesWritten();
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      String from = remote == null ? "-" : remote.hostAddress();
      LOG.atInfo()
          .addKeyValue("method", method)
          .addKeyValue("path", path)
          .addKeyValue("status", status)
          .addKeyValue("bytes", bytes)
          .addKeyValue("durationMs", millis)
          .addKeyValue("remote", from)
          .log("{} {} {} {}B {}ms {}{}", method, path, status, bytes, millis, from,
              ar.succeeded() ? "" : " (connection closed)");
    });
    ctx.next();
  }
}
