package io.smartsim.launch.cluster;

import java.util.List;
import java.util.Optional;

/**
 * The health of one orchestrator.
 *
 * @param clustered    whether it runs as a Redis Cluster
 * @param clusterState "ok" or "fail" as the shards report it ("standalone" when not clustered, "unknown" when no shard answered)
 * @param shards       one entry per shard
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
}
