package io.smartsim.launch.plan;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --port auto}, the pure part: the lowest base port from the spec's up at which every host's ports are free.
 * The planner gives the shards of one host consecutive ports from the base (masters, then replicas) and repeats the
 * base on every host; each shard port P also takes its bus port P + {@value OrchestratorSpec#BUS_PORT_OFFSET}
 * (clustered; {@link AiPlanner#ports}: {@code --ai} adds none, the module serves on P).
 * What is busy where is a fact the launcher gathers (binding here, or each host's listening sockets) and passes in.
 */
public final class PortSearch {
    private PortSearch() {
    }

    /** Whether {@code port} is in use on {@code host}, for the addresses that host's shards will bind. */
    @FunctionalInterface
    public interface Busy {
        boolean busy(String host, int port);
    }

    /**
     * How many server processes the planner puts on each host of the placement, in node order: every node gets its
     * masters and as many replicas ({@link Planner}: replicas rotate over the nodes), and nodes naming the same host
     * add up.
     */
    public static Map<String, Integer> processesPerHost(OrchestratorSpec spec, Placement placement) {
        int perNode = spec.instancesPerNode() * (1 + spec.replicas());
        Map<String, Integer> out = new LinkedHashMap<>();
        placement.nodes().forEach(n -> out.merge(n.host(), perNode, Integer::sum));
        return out;
    }

    /** The spec with the lowest free base port ({@link #lowestFreeBase}) as its port. */
    public static OrchestratorSpec choose(OrchestratorSpec spec, Placement placement, Busy busy, String where) {
        return spec.toBuilder().port(lowestFreeBase(spec, processesPerHost(spec, placement), busy, where)).build();
    }

    /**
     * The lowest base B from {@code spec.port()} up such that on every host H, for each of its {@code perHost.get(H)}
     * shard ports B, B+1, ..., each of {@link AiPlanner#ports} is free. A busy port skips the search past the shard
     * port it belongs to (no lower base can avoid it). Throws {@link InvalidSpecException} on {@code port} when no base
     * up to 65535 fits; {@code where} (the addresses or hosts looked at) goes in that message.
     */
    public static int lowestFreeBase(OrchestratorSpec spec, Map<String, Integer> perHost, Busy busy, String where) {
        if (perHost.isEmpty()) {
            throw new IllegalArgumentException("no hosts to choose ports on");
        }
        List<Integer> offsets = AiPlanner.ports(spec, 0);
        int most = perHost.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
        int top = 65535 - offsets.get(offsets.size() - 1); // the highest shard port whose own ports all exist
        int base = spec.port();
        while (base + most - 1 <= top) {
            int skipTo = -1;
            for (Map.Entry<String, Integer> h : perHost.entrySet()) {
                int bad = firstBadShardPort(h.getKey(), base, h.getValue(), offsets, busy);
                skipTo = Math.max(skipTo, bad < 0 ? -1 : bad + 1);
            }
            if (skipTo < 0) {
                return base;
            }
            base = skipTo;
        }
        throw nothingFree(spec, perHost, where);
    }

    /** The first shard port of the host's block with a busy port of its own, or -1. */
    private static int firstBadShardPort(String host, int base, int count, List<Integer> offsets, Busy busy) {
        for (int p = base; p < base + count; p++) {
            for (int o : offsets) {
                if (busy.busy(host, p + o)) {
                    return p;
                }
            }
        }
        return -1;
    }

    private static InvalidSpecException nothingFree(OrchestratorSpec spec, Map<String, Integer> perHost, String where) {
        List<String> also = new ArrayList<>();
        if (spec.clustered()) {
            also.add("bus ports +" + OrchestratorSpec.BUS_PORT_OFFSET);
        }
        String what;
        if (perHost.size() == 1) {
            what = "no " + perHost.values().iterator().next() + " consecutive free ports" + (also.isEmpty() ? ""
                    : " (with their " + String.join(" and ", also) + ")") + " from " + spec.port() + " up on " + where;
        } else {
            List<String> needs = new ArrayList<>(also.isEmpty() ? List.of() : List.of("with their "
                    + String.join(" and ", also)));
            perHost.forEach((h, n) -> needs.add(h + " needs " + n));
            what = "no base port from " + spec.port() + " up gives every host its consecutive free ports ("
                    + String.join("; ", needs) + ") on " + where;
        }
        return new InvalidSpecException("port", what + "; give a lower starting port, for example --port auto "
                + "with the spec's port set lower, or stop what holds them");
    }

    /** A port of the plan that is already in use, and the host (node) it is in use on. */
    public record Taken(String host, int port) {
    }

    /** The first port of the plan (shard or bus port, shard by shard) in use on its shard's host. */
    public static java.util.Optional<Taken> firstTaken(LaunchPlan plan, Busy busy) {
        for (ShardPlan s : plan.shards()) {
            for (int port : AiPlanner.ports(plan, s.port())) {
                if (busy.busy(s.host(), port)) {
                    return java.util.Optional.of(new Taken(s.host(), port));
                }
            }
        }
        return java.util.Optional.empty();
    }

    /**
     * The refusal of a fixed port in use: what the plan's shards use, which port is taken where ({@code where}, for
     * example "127.0.0.1" or "node n2 of allocation 12"), who holds it when the system can tell, and the fix.
     */
    public static InvalidSpecException taken(LaunchPlan plan, int port, String where, java.util.Optional<String> heldBy) {
        OrchestratorSpec spec = plan.spec();
        int first = plan.shards().stream().mapToInt(ShardPlan::port).min().orElse(spec.port());
        int last = plan.shards().stream().mapToInt(ShardPlan::port).max().orElse(first);
        return new InvalidSpecException("port", spec.nodes() + " node(s) x " + spec.instancesPerNode() + " per node"
                + (spec.replicas() == 0 ? "" : " x (1 master + " + spec.replicas() + " replica(s))") + " = "
                + plan.shards().size() + " shard(s) use ports " + first + "-" + last
                + (plan.clustered() ? " and bus ports " + (first + OrchestratorSpec.BUS_PORT_OFFSET) + "-"
                + (last + OrchestratorSpec.BUS_PORT_OFFSET) : "")
                + ", but " + port + " is already in use on " + where + heldBy.map(h -> " (" + h + ")").orElse("")
                + "; stop what holds it, choose another --port, or --port auto");
    }
}
