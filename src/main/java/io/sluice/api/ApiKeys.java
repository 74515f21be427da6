package io.sluice.api;

import io.sluice.engine.FileNodeState;
import io.sluice.engine.NodeState;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The read-write and read-only API keys, held only as SHA-256 hashes and compared in constant time. A key not
 * given in config is generated at first start, printed once to standard output (never to the log) and kept
 * hashed in the node state ({@code <data>/keys.json} with the Lucene store, the shared database with PostgreSQL);
 * later starts reuse the hash.
 */
public final class ApiKeys {
  public enum Access { READ_WRITE, READ_ONLY }

  private static final String READ_WRITE = "readWriteSha256";
  private static final String READ_ONLY = "readOnlySha256";

  private final byte[] readWriteHash;
  private final byte[] readOnlyHash;

  private ApiKeys(byte[] readWriteHash, byte[] readOnlyHash) {
    this.readWriteHash = readWriteHash;
    this.readOnlyHash = readOnlyHash;
  }

  /** Keys kept in files under dataDir (the Lucene store's node state). */
  public static ApiKeys load(Path dataDir, String readWrite, String readOnly) {
    return load(new FileNodeState(dataDir), readWrite, readOnly);
  }

  /**
   * Keys given in config are hashed; a key not given is the one stored, or is generated, stored and printed
   * once. Nodes sharing a store that start at once agree on one generated pair: only the node whose store write
   * won prints it, the others use the stored hashes. Blocking (node state): call it on a worker.
   */
  public static ApiKeys load(NodeState state, String readWrite, String readOnly) {
    String storedBody = state.get(NodeState.Kind.API_KEYS, NodeState.SINGLE);
    JsonObject stored = storedBody == null ? new JsonObject() : new JsonObject(storedBody);
    StringBuilder generated = new StringBuilder();
    String rwHash = readWrite != null ? hex(readWrite) : stored.getString(READ_WRITE);
    if (rwHash == null) {
      String key = newKey();
      rwHash = hex(key);
      stored.put(READ_WRITE, rwHash);
      generated.append("  read-write API key: ").append(key).append('\n');
    }
    String roHash = readOnly != null ? hex(readOnly) : stored.getString(READ_ONLY);
    if (roHash == null) {
      String key = newKey();
      roHash = hex(key);
      stored.put(READ_ONLY, roHash);
      generated.append("  read-only API key:  ").append(key).append('\n');
    }
    if (!generated.isEmpty()) {
      String body = stored.encodePrettily();
      if (storedBody == null) {
        if (!state.putIfAbsent(NodeState.Kind.API_KEYS, NodeState.SINGLE, body).equals(body)) {
          return load(state, readWrite, readOnly); // another node stored its keys first: use those
        }
      } else {
        state.put(NodeState.Kind.API_KEYS, NodeState.SINGLE, body);
      }
      System.out.println("Sluice generated API keys; they are shown only this once (stored hashed in "
          + state.where(NodeState.Kind.API_KEYS, NodeState.SINGLE) + "):\n" + generated
          + "  send one as the header 'x-api-key'.");
    }
    return new ApiKeys(HexFormat.of().parseHex(rwHash), HexFormat.of().parseHex(roHash));
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
