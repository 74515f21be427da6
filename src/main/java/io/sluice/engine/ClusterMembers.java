package io.sluice.engine;

/**
 * The nodes sharing one store (a cluster), as the store knows them: a node registers when it starts and renews its
 * registration every heartbeat; one that stops renewing for a timeout (killed, frozen, cut off) is gone, and one
 * stopped gracefully leaves at once. A node's id is new at every start ({@link ImportLeases#holder()}), so what a
 * node saved belongs to a live node only while that id is registered: an {@code /api/v1/jobs} job saved unfinished
 * is cut off once its node is gone, not when another node starts. Each registration also carries the node's import
 * slots ({@code import.max.jobs}), the cluster's capacity for running imports ({@link ImportLeases#trigger}).
 *
 * <p>Not Hazelcast's membership: the store alone decides, so a node that misses every bus message (or nodes that
 * formed clusters of their own) still agree. Times are the store's clock. Threading and failures as
 * {@link NodeState}.
 */
public interface ClusterMembers {

  /** This node's id (the same as its lease holder id). */
  String self();

  /** Registers this node, or extends its registration, for {@code timeoutMs}, with its import slots. */
  void beat(long timeoutMs, int importSlots);

  /** Ends this node's registration (a graceful stop): its unfinished work is another node's to report now. */
  void leave();

  /** Whether {@code node} is registered and renewed within its timeout. */
  boolean alive(String node);
}
