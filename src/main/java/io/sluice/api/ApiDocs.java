package io.sluice.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The OpenAPI contract ({@code openapi.yaml} in the jar) at {@value #CONTRACT_PATH} and Swagger UI at
 * {@value #UI_PATH}, served from the {@code org.webjars:swagger-ui} jar with our own initializer pointing it at
 * the contract. No key needed.
 */
final class ApiDocs {
  static final String UI_PATH = "/api-docs/v3/";
  static final String CONTRACT_PATH = UI_PATH + "openapi.yaml";
  static final String CONTRACT_RESOURCE = "openapi.yaml";
  /** Keep in step with {@code swagger-ui.version} in pom.xml. */
  static final String SWAGGER_UI = "META-INF/resources/webjars/swagger-ui/5.34.1";

  private static final Buffer CONTRACT = resource(CONTRACT_RESOURCE);
  private static final Buffer INITIALIZER = resource("api-docs/swagger-initializer.js");

  private ApiDocs() {
  }

  static void mount(Router router) {
    router.get(CONTRACT_PATH).handler(ctx -> ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/yaml; charset=utf-8")
        .end(CONTRACT));
    router.get(UI_PATH + "swagger-initializer.js").handler(ctx -> ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/javascript; charset=utf-8")
        .end(INITIALIZER));
    // Relative links in Swagger UI's index.html need the trailing slash (this route also matches with it).
    router.get(UI_PATH.substring(0, UI_PATH.length() - 1)).handler(ctx -> {
      if (ctx.request().path().endsWith("/")) {
        ctx.next();
        return;
      }
      ctx.response().setStatusCode(301).putHeader(HttpHeaders.LOCATION, UI_PATH).end();
    });
    router.get(UI_PATH + "*").handler(StaticHandler.create(SWAGGER_UI).setIndexPage("index.html"));
  }

  private static Buffer resource(String name) {
    try (InputStream in = ApiDocs.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the jar");
      }
      return Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
