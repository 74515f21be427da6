package io.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sluice.ServerTest;
import io.sluice.ingest.UploadSigner;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;

/** The key hashes and the upload secret are readable by their owner only (0600), new or left by older versions. */
class SecretFilesTest extends ServerTest {
  private static String permissions(Path file) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }

  private void assumePosix() throws Exception {
    assumeTrue(Files.getFileStore(dataDir).supportsFileAttributeView("posix"), "POSIX permissions");
  }

  @Test
  void generatedSecretsAreCreatedOwnerOnly() throws Exception {
    assumePosix();
    // The server generated the upload secret at start (no upload.secret configured).
    assertThat(permissions(dataDir.resolve("upload-secret"))).isEqualTo("rw-------");
    Path other = Files.createDirectory(dataDir.resolve("other"));
    ApiKeys.load(other, null, null);
    assertThat(permissions(other.resolve("keys.json"))).isEqualTo("rw-------");
    assertThat(new JsonObject(Files.readString(other.resolve("keys.json"))).fieldNames())
        .containsExactlyInAnyOrder("readWriteSha256", "readOnlySha256");
    assertThat(other.resolve("keys.json.tmp")).doesNotExist();
  }

  @Test
  void worldReadableSecretsAreTightenedAtStart() throws Exception {
    assumePosix();
    Path secret = dataDir.resolve("upload-secret");
    String before = Files.readString(secret);
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--"));
    Path keys = dataDir.resolve("keys.json");
    Files.writeString(keys, new JsonObject().put("readWriteSha256", "00".repeat(32))
        .put("readOnlySha256", "11".repeat(32)).encode());
    Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rw-rw-rw-"));

    server.restart();
    assertThat(permissions(secret)).isEqualTo("rw-------");
    assertThat(Files.readString(secret)).isEqualTo(before);
    assertThat(permissions(keys)).isEqualTo("rw-------");
    UploadSigner.load(dataDir, null);
    assertThat(permissions(secret)).isEqualTo("rw-------");
    assertThat(server.get("/api/v1/schema").status()).isEqualTo(200);
  }
}
