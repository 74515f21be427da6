package io.sluice.api;

import io.sluice.files.DurableFiles;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The read-write and read-only API keys, held only as SHA-256 hashes and compared in constant time. A key not
 * given in config is generated at first start, printed once to standard output (never to the log) and kept
 * hashed in {@code <data>/keys.json}; later starts reuse the hash.
 */
public final class ApiKeys {
  public enum Access { READ_WRITE, READ_ONLY }

  static final String FILE = "keys.json";

  private final byte[] readWriteHash;
  private final byte[] readOnlyHash;

  private ApiKeys(byte[] readWriteHash, byte[] readOnlyHash) {
    this.readWriteHash = readWriteHash;
    this.readOnlyHash = readOnlyHash;
  }

  public static ApiKeys load(Path dataDir, String readWrite, String readOnly) {
    Path file = dataDir.resolve(FILE);
    JsonObject stored = new JsonObject();
    try {
      if (Files.exists(file)) {
        DurableFiles.restrictToOwner(file); // files written by older versions were world-readable
        stored = new JsonObject(Files.readString(file));
      }
      boolean changed = false;
      StringBuilder generated = new StringBuilder();
      String rwHash = readWrite != null ? hex(readWrite) : stored.getString("readWriteSha256");
      if (rwHash == null) {
        String key = newKey();
        rwHash = hex(key);
        stored.put("readWriteSha256", rwHash);
        generated.append("  read-write API key: ").append(key).append('\n');
        changed = true;
      }
      String roHash = readOnly != null ? hex(readOnly) : stored.getString("readOnlySha256");
      if (roHash == null) {
        String key = newKey();
        roHash = hex(key);
        stored.put("readOnlySha256", roHash);
        generated.append("  read-only API key:  ").append(key).append('\n');
        changed = true;
      }
      if (changed) {
        DurableFiles.writeSecretAtomically(dataDir, FILE, stored.encodePrettily().getBytes(StandardCharsets.UTF_8));
        System.out.println("Sluice generated API keys; they are shown only this once (stored hashed in " + file
            + "):\n" + generated + "  send one as the header 'x-api-key'.");
      }
      return new ApiKeys(HexFormat.of().parseHex(rwHash), HexFormat.of().parseHex(roHash));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or write " + file, e);
    }
  }

  /** The access a presented key grants, or null for a missing or unknown key. */
  public Access check(String presented) {
    if (presented == null || presented.isEmpty()) {
      return null;
    }
    byte[] hash = sha256(presented);
    boolean readWrite = MessageDigest.isEqual(hash, readWriteHash);
    boolean readOnly = MessageDigest.isEqual(hash, readOnlyHash);
    return readWrite ? Access.READ_WRITE : readOnly ? Access.READ_ONLY : null;
  }

  private static String newKey() {
    byte[] bytes = new byte[24];
    new SecureRandom().nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String hex(String key) {
    return HexFormat.of().formatHex(sha256(key));
  }

  private static byte[] sha256(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JVM", e);
    }
  }
}
