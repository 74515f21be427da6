package io.sluice.ingest;

import io.sluice.files.DurableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs and checks upload URLs like an S3 presigned URL: HMAC-SHA256 over method, job id, table and expiry
 * with a server secret, compared in constant time. The secret comes from config or is generated once into
 * {@code <data>/upload-secret}.
 */
public final class UploadSigner {
  static final String SECRET_FILE = "upload-secret";

  private final SecretKeySpec key;

  public UploadSigner(byte[] secret) {
    this.key = new SecretKeySpec(secret, "HmacSHA256");
  }

  public static UploadSigner load(Path dataDir, String configured) {
    if (configured != null) {
      return new UploadSigner(configured.getBytes(StandardCharsets.UTF_8));
    }
    Path file = dataDir.resolve(SECRET_FILE);
    try {
      if (!Files.exists(file)) {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        DurableFiles.writeSecretAtomically(dataDir, SECRET_FILE,
            HexFormat.of().formatHex(secret).getBytes(StandardCharsets.US_ASCII));
      } else {
        DurableFiles.restrictToOwner(file); // files written by older versions were world-readable
      }
      return new UploadSigner(HexFormat.of().parseHex(Files.readString(file).trim()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create " + file, e);
    }
  }

  public String sign(String method, String id, String table, long expiresEpochSecond) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      String message = method + "\n" + id + "\n" + table + "\n" + expiresEpochSecond;
      return HexFormat.of().formatHex(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JVM", e);
    }
  }

  public boolean verify(String method, String id, String table, long expiresEpochSecond, String signature) {
    if (signature == null) {
      return false;
    }
    byte[] expected = sign(method, id, table, expiresEpochSecond).getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII));
  }
}
