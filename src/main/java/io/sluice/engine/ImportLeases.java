package io.sluice.engine;

import java.util.Map;
import java.util.Set;

/**
 * Which node runs which file import, when several nodes share one store (a cluster): an import runs only on the
 * node holding its lease. A node claims triggered imports nobody holds (or whose lease expired), extends its leases
 * with a heartbeat (saving each job's document, so every node reads its live progress), saves a held job's
 * document only while it still holds the lease, and gives the lease up when the import ends or the node stops.
 * The store also fences the rows: a batch marked {@link Checkpoint#leased()} is stored only while the writing node
 * holds the lease, checked in the batch's own transaction, so a node that lost its lease (paused past the timeout)
 * cannot add rows behind the node that took over.
 *
 * <p>Documents are those of {@link NodeState.Kind#IMPORT_JOBS}. Times are the store's clock, so the nodes' clocks
 * need not agree. Threading and failures as {@link NodeState}.
 */
public interface ImportLeases {

  /** This node's id as a lease holder: what the fence of a batch stored for this node's import checks. */
  String holder();

  /**
   * Claims at most {@code max} imports in phase Started or Running that no node holds or whose lease expired, and
   * whose input this node can read (a {@code sourceUrl}, or an upload kept at {@code place}, or anywhere when its
   * document names no place); each lease lasts {@code timeoutMs}. Returns id → document of the jobs claimed.
   * Nodes claiming at once never get the same job.
   */
  Map<String, String> claim(int max, String place, long timeoutMs);

  /**
   * Extends this node's leases on the jobs for {@code timeoutMs} and saves their documents; returns the ids whose
   * lease this node still held (the others are another node's now).
   */
  Set<String> renew(Map<String, String> documents, long timeoutMs);

  /** Saves a held job's document; false (nothing saved) when this node no longer holds its lease. */
  boolean save(String id, String document);

  /** Saves a held job's document and gives its lease up; false (nothing saved) when this node no longer holds it. */
  boolean release(String id, String document);

  /**
   * Claims one import (phase Started or Running) if no node holds it or its lease expired: its document, or null
   * when another node holds it (or it ended). A node cancelling an import nobody runs claims it so to end it.
   */
  String claim(String id, long timeoutMs);

  /**
   * Saves a job's document as triggered (no holder yet) if the cluster has room for it: fewer imports triggered and
   * not ended than the live nodes' import slots ({@link ClusterMembers}) plus {@code maxQueued}, so at most
   * {@code maxQueued} wait for a node once every slot is taken (a single server's {@code import.max.queued}).
   * Triggers on several nodes at once are counted one at a time. Saves nothing when full, or when the stored job
   * is no longer waiting for its trigger (triggered or cancelled by another node meanwhile).
   */
  Trigger trigger(String id, String document, int maxQueued);

  /** What {@link #trigger} did, and the cluster's imports it counted: held by a live node, and waiting. */
  record Trigger(Outcome outcome, long running, long waiting) {
    public enum Outcome { SAVED, FULL, CHANGED }
  }

  /** Marks the import to be cancelled by whichever node holds it, now or later; false when there is no such job. */
  boolean requestCancel(String id);

  /** The imports this node holds that another node asked to cancel. */
  Set<String> cancelsRequested();
}
