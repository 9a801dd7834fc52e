package io.smartsim.launch.plan;

import java.util.List;

/**
 * What a launcher knows, before anything starts, about the nodes an orchestrator will use: one entry per
 * node, in order. Shards whose nodes share a {@code host} must not share ports, so the planner numbers
 * ports across the host; shards on different hosts reuse the same base port.
 *
 * Under {@code --ai} every host the nodes name runs one model server for its shards
 * ({@link io.smartsim.launch.planned.ModelServerPlan}).
 *
 * @param nodes one entry per node of the spec
 */
public record Placement(List<Node> nodes) {
    public Placement {
        nodes = List.copyOf(nodes);
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
