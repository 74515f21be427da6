package io.sluice.ingest;

import io.sluice.engine.FileNodeState;
import io.sluice.engine.NodeState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs and checks upload URLs like an S3 presigned URL: HMAC-SHA256 over method, job id, table and expiry
 * with a server secret, compared in constant time. The secret comes from config or is generated once into the
 * node state ({@code <data>/upload-secret} with the Lucene store, the shared database with PostgreSQL).
 */
public final class UploadSigner {

  private final SecretKeySpec key;

  public UploadSigner(byte[] secret) {
    this.key = new SecretKeySpec(secret, "HmacSHA256");
  }

  /** The secret from config, or kept in a file under dataDir (the Lucene store's node state). */
  public static UploadSigner load(Path dataDir, String configured) {
    return load(new FileNodeState(dataDir), configured);
  }

  /**
   * The secret from config, or the stored one, or one generated and stored (the first node to store one wins,
   * so nodes sharing a store sign alike). Blocking (node state): call it on a worker.
   */
  public static UploadSigner load(NodeState state, String configured) {
    if (configured != null) {
      return new UploadSigner(configured.getBytes(StandardCharsets.UTF_8));
    }
    String stored = state.get(NodeState.Kind.UPLOAD_SECRET, NodeState.SINGLE);
    if (stored == null) {
      byte[] secret = new byte[32];
      new SecureRandom().nextBytes(secret);
      stored = state.putIfAbsent(NodeState.Kind.UPLOAD_SECRET, NodeState.SINGLE, HexFormat.of().formatHex(secret));
    }
    try {
      return new UploadSigner(HexFormat.of().parseHex(stored.trim()));
    } catch (IllegalArgumentException e) { // never the secret itself in the message
      throw new IllegalStateException("the upload secret in " + state.where(NodeState.Kind.UPLOAD_SECRET,
          NodeState.SINGLE) + " is not hex; delete it to have a new one generated");
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
