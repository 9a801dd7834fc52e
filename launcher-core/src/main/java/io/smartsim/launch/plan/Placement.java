package io.smartsim.launch.plan;

import java.util.List;

/**
 * What a launcher knows, before anything starts, about the nodes an orchestrator will use: one entry per
 * node, in order. Shards whose nodes share a {@code host} must not share ports, so the planner numbers
 * ports across the host; shards on different hosts reuse the same base port.
 *
 * @param nodes    one entry per node of the spec
 * @param aiModule how this launcher serves {@code --ai}: true when its shards load the smartsim-ai Redis module and
 *                 each host runs one model server (the planner then plans those, {@link ModelServerPlan}); false
 *                 when each shard still runs behind the RedisAI-compatible front (launchers not yet moved over)
 */
public record Placement(List<Node> nodes, boolean aiModule) {
    public Placement {
        nodes = List.copyOf(nodes);
    }

    /** Nodes whose shards run {@code --ai} behind the front. */
    public Placement(List<Node> nodes) {
        this(nodes, false);
    }

    /** The same nodes, serving {@code --ai} through the Redis module and a model server per host. */
    public Placement withAiModule() {
        return new Placement(nodes, true);
    }

    /**
     * @param host          a name that identifies the host; nodes with equal names are the same machine
     * @param bindAddresses the addresses shards on this node bind to, when known before launch; empty when
     *                      only the node itself can tell (a batch job's nodes), in which case the launcher
     *                      binds each shard at launch and reports the address it got
     */
    public record Node(String host, List<String> bindAddresses) {
        public Node {
            bindAddresses = List.copyOf(bindAddresses);
        }
    }
}
