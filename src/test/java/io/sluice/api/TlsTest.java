package io.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.BenchRows;
import io.sluice.TestServer;
import io.sluice.config.SluiceConfig;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS from PEM files made at test time: the API, the signed upload URL and an import over TLS only. */
@ExtendWith(VertxExtension.class)
class TlsTest {
  private TestServer server;
  private SelfSignedCertificate certificate;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dataDir) {
    certificate = SelfSignedCertificate.create("localhost");
    server = new TestServer(vertx, dataDir, Map.of(
        "http.tls.cert", certificate.certificatePath(),
        "http.tls.key", certificate.privateKeyPath())).start();
  }

  @AfterEach
  void stop() {
    server.stop();
    certificate.delete();
  }

  @Test
  void theApiAndAnImportWorkOverHttpsWithAnHttpsUploadUrl() {
    assertThat(server.get("/version").status()).isEqualTo(200);
    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
    JsonObject initiated = server.post("/api/v1/data/items/file", new JsonObject()).json();
    assertThat(initiated.getString("url")).startsWith("https://127.0.0.1:" + server.port() + "/");
    byte[] file = BenchRows.gzip(BenchRows.ndjson(3, 500, Map.of()));
    assertThat(server.upload(initiated.getString("url"), Buffer.buffer(file)).status()).isEqualTo(200);
    String id = initiated.getString("id");
    assertThat(server.post("/api/v1/data/items/file/" + id, new JsonObject()).status()).isEqualTo(200);
    assertThat(server.awaitImport("items", id).getJsonObject("status").getLong("completedCount")).isEqualTo(500);
    assertThat(server.search(new JsonObject().put("from", "items").put("limit", 0)).total()).isEqualTo(500);
  }

  @Test
  void plainHttpAndOldTlsVersionsAreRefused(Vertx vertx) {
    WebClient plain = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(server.port()));
    assertThatThrownBy(() -> TestServer.await(plain.request(HttpMethod.GET, "/version").send(), 10))
        .as("plain HTTP on the HTTPS port").isInstanceOf(AssertionError.class);
    WebClient tls11 = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(server.port()).setSsl(true).setVerifyHost(false)
        .setTrustOptions(new PemTrustOptions().addCertPath(certificate.certificatePath()))
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.1")));
    assertThatThrownBy(() -> TestServer.await(tls11.request(HttpMethod.GET, "/version").send(), 10))
        .as("TLS 1.1").isInstanceOf(AssertionError.class);
    WebClient tls12 = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(server.port()).setSsl(true).setVerifyHost(false)
        .setTrustOptions(new PemTrustOptions().addCertPath(certificate.certificatePath()))
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.2")));
    assertThat(TestServer.await(tls12.request(HttpMethod.GET, "/version").send(), 10).statusCode()).isEqualTo(200);
  }

  @Test
  void halfATlsConfigurationOrAMissingFileIsRefusedAtStartNamingTheKey() {
    assertThatThrownBy(() -> SluiceConfig.load(Map.of(), Map.of("http.tls.cert", certificate.certificatePath())))
        .hasMessageContaining("http.tls.key");
    assertThatThrownBy(() -> SluiceConfig.load(Map.of(), Map.of("http.tls.cert", "/nonexistent/cert.pem",
        "http.tls.key", certificate.privateKeyPath())))
        .hasMessageContaining("http.tls.cert").hasMessageContaining("/nonexistent/cert.pem");
  }
}
