package io.sluice.api;

import static io.sluice.api.ApiAssertions.error;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.sluice.TestServer.Response;
import io.vertx.core.http.HttpMethod;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's files are served at {@code /} from the jar, without a key, with a policy that lets the page
 * load nothing from elsewhere; the API around them answers as before. The page itself is tested in a real
 * browser by src/test/browser/run.sh.
 */
class DashboardTest extends ServerTest {
  private static final String[] ASSETS = {"/", "/index.html", "/dashboard.js", "/infer.js", "/dashboard.css",
      "/favicon.svg"};
  /** The files a page names in its src and href attributes. */
  private static final Pattern REFERENCE = Pattern.compile("\\b(?:src|href)=\"([^\"]*)\"");
  /** Any absolute or protocol-relative URL; the SVG namespace is a name, not something fetched. */
  private static final Pattern URL = Pattern.compile("(?:[a-z][a-z0-9+.-]*:)?//[a-z0-9-]+(?:\\.[a-z0-9-]+)+",
      Pattern.CASE_INSENSITIVE);

  @Test
  void pageAndAssetsAreServedWithoutAKey() {
    Response index = get("/");
    assertThat(index.status()).isEqualTo(200);
    assertThat(index.header("content-type")).startsWith("text/html");
    assertThat(index.raw().bodyAsString()).contains("<title>Sluice dashboard</title>", "dashboard.js", "dashboard.css");
    assertThat(index.header("content-security-policy")).contains("default-src 'none'", "connect-src 'self'",
        "script-src 'self'", "frame-ancestors 'none'");
    assertThat(index.header("x-content-type-options")).isEqualTo("nosniff");

    assertThat(get("/dashboard.js").header("content-type")).contains("javascript");
    assertThat(get("/dashboard.css").header("content-type")).startsWith("text/css");
    assertThat(get("/favicon.svg").header("content-type")).startsWith("image/svg+xml");
    var head = server.client().request(HttpMethod.HEAD, "/dashboard.js").send();
    assertThat(TestServer.await(head).statusCode()).isEqualTo(200);
  }

  @Test
  void assetsLoadNothingFromElsewhere() {
    for (String path : ASSETS) {
      Response response = get(path);
      assertThat(response.status()).as(path).isEqualTo(200);
      Matcher urls = URL.matcher(response.raw().bodyAsString());
      while (urls.find()) {
        assertThat(urls.group()).as("a URL in " + path).isEqualTo("http://www.w3.org");
      }
    }
  }

  /** Every script, stylesheet and icon the page names is one of its own files, served here. */
  @Test
  void thePageReferencesOnlyItsOwnFiles() {
    Matcher references = REFERENCE.matcher(get("/").raw().bodyAsString());
    java.util.List<String> found = new java.util.ArrayList<>();
    while (references.find()) {
      String reference = references.group(1);
      found.add(reference);
      assertThat(reference).as("a relative file name").matches("[a-z][a-z0-9.-]*");
      assertThat(get("/" + reference).status()).as(reference).isEqualTo(200);
    }
    assertThat(found).contains("dashboard.js", "infer.js", "dashboard.css", "favicon.svg");
  }

  @Test
  void otherPathsStillAnswerAsTheApi() {
    error(get("/nope.html"), 404);
    error(get("/webroot/index.html"), 404);
    error(get("/../pom.xml"), 404);
    error(server.send(HttpMethod.POST, "/", null, null), 405);
    error(server.get("/api/v1/_search"), 405);
    error(get("/api/v1/schema"), 403);
    error(server.get("/api/v1/nope"), 404);
  }

  private Response get(String path) {
    return server.send(HttpMethod.GET, path, null, null);
  }
}
