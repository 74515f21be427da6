package io.sluice.api;

import io.sluice.engine.UploadStore;
import io.sluice.config.SluiceConfig;
import io.sluice.ingest.UploadSigner;
import io.sluice.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import java.util.concurrent.atomic.AtomicInteger;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.util.Set;

/** Serves the API; one instance per core, all sharing the listening port. */
public final class HttpVerticle extends VerticleBase {
  private final SluiceConfig config;
  private final ApiKeys keys;
  private final Jobs jobs;
  private final UploadSigner signer;
  private final RequestBudget budget;
  private final Metrics metrics;
  private final UploadStore uploads;
  private final AtomicInteger connections = new AtomicInteger();
  private HttpServer server;

  public HttpVerticle(SluiceConfig config, ApiKeys keys, Jobs jobs, UploadSigner signer, RequestBudget budget,
      Metrics metrics, UploadStore uploads) {
    this.uploads = uploads;
    this.budget = budget;
    this.config = config;
    this.metrics = metrics;
    this.keys = keys;
    this.jobs = jobs;
    this.signer = signer;
  }

  @Override
  public Future<?> start() {
    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.httpHost())
        .setPort(config.httpPort())
        .setCompressionSupported(true)
        // Gzip request bodies are inflated by the import pipeline itself (multi-member, bomb caps).
        .setDecompressionSupported(false)
        .setHandle100ContinueAutomatically(true)
        .setIdleTimeout(config.requestTimeoutSeconds());
    if (config.tls() != null) {
      options.setSsl(true)
          .setKeyCertOptions(new PemKeyCertOptions()
              .setCertPath(config.tls().certFile().toString())
              .setKeyPath(config.tls().keyFile().toString()))
          .setEnabledSecureTransportProtocols(Set.of("TLSv1.2", "TLSv1.3"));
    }
    server = vertx.createHttpServer(options);
    server.connectionHandler(this::limitConnections);
    // Requests the HTTP decoder refuses never reach the router: answer them with the JSON error shape too.
    server.invalidRequestHandler(ErrorHandler::invalidRequest);
    return server.requestHandler(ApiRouter.create(vertx, config, keys, jobs, signer, budget, metrics, uploads)).listen();
  }

  /** Over max.connections a new connection is closed at once, before it can hold any memory. */
  private void limitConnections(HttpConnection connection) {
    if (connections.incrementAndGet() > config.maxConnections()) {
      connections.decrementAndGet();
      connection.close();
      return;
    }
    BareErrorBodies.install(connection);
    connection.closeHandler(v -> connections.decrementAndGet());
  }

  /**
   * Graceful stop: the listening socket closes at once, each connection closes after the request it is
   * serving, and the future completes when all have closed or after timeoutSeconds.
   */
  public Future<Void> drain(int timeoutSeconds) {
    return server.shutdown(timeoutSeconds, java.util.concurrent.TimeUnit.SECONDS);
  }

  public int openConnections() {
    return connections.get();
  }

  public int actualPort() {
    return server.actualPort();
  }
}
