package io.smartsim.launch.status;

import io.smartsim.launch.planned.SlotRange;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One shard as a health check saw it.
 *
 * @param index            shard index
 * @param address          host:port
 * @param reachable        answered INFO
 * @param role             master or slave, from INFO replication (now: a promoted replica says master)
 * @param slots            slot ranges it serves, from its own CLUSTER NODES line (empty when standalone)
 * @param keys             keys in db0
 * @param usedMemory       bytes, INFO used_memory
 * @param connectedClients INFO connected_clients
 * @param clusterState     its cluster_state, when clustered
 * @param problem          why it is not healthy, if it is not
 * @param master           for a replica, the {@code host:port} of the master it copies (INFO master_host/master_port)
 * @param masterLink       for a replica, its replication link: {@code up} or {@code down} (INFO master_link_status)
 * @param planned          the role the plan gave it: "master" or "replica of K" (K the master's index); empty when
 *                         the caller did not say
 * @param persistence      its {@code INFO persistence} fields about saves ({@code rdb_*}, {@code aof_*},
 *                         {@code loading}), for {@code db status} of a checkpointing orchestrator; empty when
 *                         unreachable
 */
public record ShardHealth(int index, String address, boolean reachable, String role, List<SlotRange> slots,
                          long keys, long usedMemory, long connectedClients, Optional<String> clusterState,
                          Optional<String> problem, Optional<String> master, Optional<String> masterLink,
                          Optional<String> planned, Map<String, String> persistence) {
    public ShardHealth {
        slots = List.copyOf(slots);
        master = master == null ? Optional.empty() : master;
        masterLink = masterLink == null ? Optional.empty() : masterLink;
        planned = planned == null ? Optional.empty() : planned;
        persistence = persistence == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(persistence));
    }

    /** A shard seen without its persistence fields. */
    public ShardHealth(int index, String address, boolean reachable, String role, List<SlotRange> slots, long keys,
                       long usedMemory, long connectedClients, Optional<String> clusterState, Optional<String> problem,
                       Optional<String> master, Optional<String> masterLink, Optional<String> planned) {
        this(index, address, reachable, role, slots, keys, usedMemory, connectedClients, clusterState, problem, master,
                masterLink, planned, Map.of());
    }

    /** The save-related fields of a parsed {@code INFO} reply: {@code rdb_*}, {@code aof_*} and {@code loading}. */
    public static Map<String, String> persistenceOf(Map<String, String> info) {
        Map<String, String> out = new TreeMap<>();
        info.forEach((k, v) -> {
            if (k.startsWith("rdb_") || k.startsWith("aof_") || k.equals("loading")) {
                out.put(k, v);
            }
        });
        return out;
    }

    /** A shard seen without replication details (a master, or a check that did not ask). */
    public ShardHealth(int index, String address, boolean reachable, String role, List<SlotRange> slots, long keys,
                       long usedMemory, long connectedClients, Optional<String> clusterState,
                       Optional<String> problem) {
        this(index, address, reachable, role, slots, keys, usedMemory, connectedClients, clusterState, problem,
                Optional.empty(), Optional.empty(), Optional.empty());
    }

    public boolean healthy() {
        return problem.isEmpty();
    }

    /** Serves slots now: reachable, a master, owning some. */
    public boolean servesSlots() {
        return reachable && "master".equals(role) && !slots.isEmpty();
    }

    public static ShardHealth unreachable(int index, String address, String why) {
        return unreachable(index, address, why, Optional.empty());
    }

    public static ShardHealth unreachable(int index, String address, String why, Optional<String> planned) {
        return new ShardHealth(index, address, false, "-", List.of(), 0, 0, 0, Optional.empty(), Optional.of(why),
                Optional.empty(), Optional.empty(), planned);
    }
}
