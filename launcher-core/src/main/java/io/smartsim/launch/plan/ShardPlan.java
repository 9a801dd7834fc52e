package io.smartsim.launch.plan;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One shard of a launch plan: where it runs, what it listens on, what it runs and where it writes.
 *
 * @param index         0-based shard index within the orchestrator
 * @param name          shard name, {@code <orchestrator id>_<index>}
 * @param node          0-based node slot within the orchestrator's nodes
 * @param host          the host name of the node slot (from the launcher's placement)
 * @param bindAddresses addresses to bind; empty when the node decides at launch
 * @param port          client port
 * @param busPort       cluster bus port (port + 10000); only used when clustered
 * @param slots         hash slots this shard owns as a master; empty when standalone
 * @param workDir       working and data directory
 * @param configPath    generated config file
 * @param config        its contents
 * @param logPath       the server's log file
 * @param argv          the command line; argv[0] is the server binary name or the configured path
 * @param role          master (owns {@code slots}) or replica ({@code --replicas}: owns none, copies its master)
 * @param replicaOf     for a replica, the index of the master it replicates; empty for a master
 */
public record ShardPlan(
        int index,
        String name,
        int node,
        String host,
        List<String> bindAddresses,
        int port,
        int busPort,
        List<SlotRange> slots,
        Path workDir,
        Path configPath,
        String config,
        Path logPath,
        List<String> argv,
        Role role,
        Optional<Integer> replicaOf) {

    /** What a process is for in the cluster as planned. Redis may swap them later: a replica promoted in a failover. */
    public enum Role {
        MASTER, REPLICA;

        /** "master" or "replica", as the plan and status tables print it. */
        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public ShardPlan {
        bindAddresses = List.copyOf(bindAddresses);
        slots = List.copyOf(slots);
        argv = List.copyOf(argv);
        role = role == null ? Role.MASTER : role; // manifests written before replicas existed hold masters only
        replicaOf = replicaOf == null ? Optional.empty() : replicaOf;
        if ((role == Role.REPLICA) != replicaOf.isPresent()) {
            throw new IllegalArgumentException("shard " + index + ": a replica names its master and a master does not"
                    + " (role " + role + ", replicaOf " + replicaOf + ")");
        }
        if (role == Role.REPLICA && !slots.isEmpty()) {
            throw new IllegalArgumentException("shard " + index + ": a replica owns no slots, planned " + slots);
        }
    }

    /** A master: the only kind of shard before {@code --replicas}. */
    public ShardPlan(int index, String name, int node, String host, List<String> bindAddresses, int port, int busPort,
                     List<SlotRange> slots, Path workDir, Path configPath, String config, Path logPath,
                     List<String> argv) {
        this(index, name, node, host, bindAddresses, port, busPort, slots, workDir, configPath, config, logPath, argv,
                Role.MASTER, Optional.empty());
    }

    /** The same shard with another config text (for example with its secrets redacted). */
    public ShardPlan withConfig(String text) {
        return new ShardPlan(index, name, node, host, bindAddresses, port, busPort, slots, workDir, configPath, text,
                logPath, argv, role, replicaOf);
    }

    public boolean replica() {
        return role == Role.REPLICA;
    }

    /** "master", or "replica of 2" (the master's index). */
    public String roleText() {
        return replicaOf.map(m -> "replica of " + m).orElse(role.word());
    }

    /** The address clients and the other shards use, when known before launch. */
    public String advertisedAddress() {
        return bindAddresses.isEmpty() ? host : bindAddresses.get(0);
    }
}
