package io.smartsim.launch.status;

import io.smartsim.launch.planned.SlotRange;

import java.util.List;
import java.util.Optional;

/**
 * The health of one orchestrator.
 *
 * @param clustered    whether it runs as a Redis Cluster
 * @param clusterState "ok" or "fail" as the shards report it ("standalone" when not clustered, "unknown" when no shard answered)
 * @param shards       one entry per shard process (masters and replicas)
 * @param problems     everything that makes it unhealthy; empty when healthy
 */
public record HealthReport(boolean clustered, String clusterState, List<ShardHealth> shards, List<String> problems) {
    public HealthReport {
        shards = List.copyOf(shards);
        problems = List.copyOf(problems);
    }

    public boolean healthy() {
        return problems.isEmpty();
    }

    public Optional<String> firstProblem() {
        return problems.stream().findFirst();
    }

    /** Processes that answered. */
    public int processesUp() {
        return (int) shards.stream().filter(ShardHealth::reachable).count();
    }

    /**
     * Hash slots that no reachable master owns: the data clients cannot reach now. Empty when standalone.
     * (A master that is gone or hung owns nothing here: its slots are lost until a replica takes them over.)
     */
    public List<SlotRange> unservedSlots() {
        if (!clustered) {
            return List.of();
        }
        boolean[] served = new boolean[SlotRange.SLOTS];
        shards.stream().filter(ShardHealth::servesSlots).flatMap(s -> s.slots().stream())
                .forEach(r -> java.util.Arrays.fill(served, r.first(), r.last() + 1, true));
        int n = 0;
        for (boolean b : served) {
            n += b ? 0 : 1;
        }
        int[] missing = new int[n];
        for (int slot = 0, k = 0; slot < served.length; slot++) {
            if (!served[slot]) {
                missing[k++] = slot;
            }
        }
        return SlotRange.compress(missing);
    }

    /**
     * Clients can read and write all the data: standalone, its shard answers; clustered, every slot has a reachable
     * master and every reachable shard says {@code cluster_state:ok}. A serving orchestrator can still have lost
     * redundancy (a process gone, a replica promoted): see {@link #summary()}.
     */
    public boolean serving() {
        if (!clustered) {
            return shards.stream().anyMatch(ShardHealth::reachable);
        }
        return unservedSlots().isEmpty() && "ok".equals(clusterState);
    }

    /**
     * One line for people: "all 16384 slots served, 6 of 6 processes up", "all 16384 slots served, 5 of 6 processes
     * up", or "slots 0-5460 not served (no reachable master), 2 of 3 processes up".
     */
    public String summary() {
        String procs = processesUp() + " of " + shards.size() + " process(es) up";
        if (!clustered) {
            return (serving() ? "serving, " : "not serving, ") + procs;
        }
        List<SlotRange> unserved = unservedSlots();
        if (!unserved.isEmpty()) {
            int n = unserved.stream().mapToInt(SlotRange::size).sum();
            return n + " of " + SlotRange.SLOTS + " slots not served (" + ranges(unserved) + ": no reachable master), "
                    + procs;
        }
        return "all " + SlotRange.SLOTS + " slots served" + ("ok".equals(clusterState) ? "" : " but cluster_state:"
                + clusterState) + ", " + procs;
    }

    public static String ranges(List<SlotRange> rs) {
        return String.join(",", rs.stream().map(r -> r.first() == r.last() ? Integer.toString(r.first())
                : r.first() + "-" + r.last()).toList());
    }
}
