package io.sluice.engine;

import java.util.Map;

/**
 * A node's own durable state beside its tables: small text documents (JSON, or a secret's hex) by kind and id —
 * import jobs, {@code /api/v1/jobs} results, the API key hashes and the upload-URL secret. It lives in the store,
 * so nodes that share a PostgreSQL store share it; the Lucene store keeps it in files under the data directory
 * ({@link FileNodeState}, the layout of earlier versions).
 *
 * <p>Threading: every method blocks; call it on a worker thread, never on an event loop. A write returns once it
 * is durable. Failures are {@link StorageException}s ({@code UNAVAILABLE} when the store cannot be reached).
 */
public interface NodeState {

  /** What is kept. An exhaustive switch over it places each kind in the file layout. */
  enum Kind {
    /** The SHA-256 hashes of the read-write and read-only API keys (one document, {@link #SINGLE}). */
    API_KEYS(true),
    /** The upload-URL signing secret, hex (one document, {@link #SINGLE}). */
    UPLOAD_SECRET(true),
    /** One document per file-import job. */
    IMPORT_JOBS(false),
    /** One document per {@code /api/v1/jobs} job, with its result once it finished. */
    API_JOBS(false);

    private final boolean secret;

    Kind(boolean secret) {
      this.secret = secret;
    }

    /** A secret is written readable by its owner only, and never logged. */
    public boolean secret() {
      return secret;
    }
  }

  /** The id of a kind's only document. */
  String SINGLE = "node";

  /** Every document of a kind: id → body (in no particular order). */
  Map<String, String> list(Kind kind);

  /** The document, or null when there is none. */
  String get(Kind kind, String id);

  /** Stores (creates or replaces) the document; durable on return. */
  void put(Kind kind, String id, String body);

  /**
   * Stores the document unless one is there already; returns the document stored, which is {@code body} when
   * this call stored it. Nodes starting at once agree so on one generated key or secret: the first writer wins.
   */
  String putIfAbsent(Kind kind, String id, String body);

  /** Deletes the document if there is one; durable on return. */
  void delete(Kind kind, String id);

  /** Where the document is kept, for messages (a path, or a PostgreSQL table); never the document itself. */
  String where(Kind kind, String id);

  /**
   * The leases of file imports when nodes share this state (a cluster); null when one node runs every import it
   * knows, as a single server does.
   */
  default ImportLeases leases() {
    return null;
  }

  /** The nodes sharing this state and alive (a cluster); null when this node is the only one. */
  default ClusterMembers members() {
    return null;
  }

  /**
   * Where uploads are kept when every node sharing this state must read them (a cluster); null when the
   * receiving node keeps them in files ({@link FileUploadStore}).
   */
  default UploadStore uploads() {
    return null;
  }
}
