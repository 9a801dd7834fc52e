package io.smartsim.launch.cluster;

import io.smartsim.launch.plan.SlotRange;

import java.util.List;
import java.util.Optional;

/**
 * One shard as a health check saw it.
 *
 * @param index            shard index
 * @param address          host:port
 * @param reachable        answered INFO
 * @param role             master or slave, from INFO replication
 * @param slots            slot ranges it serves, from its own CLUSTER NODES line (empty when standalone)
 * @param keys             keys in db0
 * @param usedMemory       bytes, INFO used_memory
 * @param connectedClients INFO connected_clients
 * @param clusterState     its cluster_state, when clustered
 * @param problem          why it is not healthy, if it is not
 */
public record ShardHealth(int index, String address, boolean reachable, String role, List<SlotRange> slots,
                          long keys, long usedMemory, long connectedClients, Optional<String> clusterState,
                          Optional<String> problem) {
    public ShardHealth {
        slots = List.copyOf(slots);
    }

    public boolean healthy() {
        return problem.isEmpty();
    }

    public static ShardHealth unreachable(int index, String address, String why) {
        return new ShardHealth(index, address, false, "-", List.of(), 0, 0, 0, Optional.empty(), Optional.of(why));
    }
}
