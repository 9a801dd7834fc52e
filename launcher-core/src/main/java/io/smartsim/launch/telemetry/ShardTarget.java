package io.smartsim.launch.telemetry;

import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.security.Access;
import io.smartsim.launch.spi.LaunchedShard;

import java.util.List;

/**
 * One shard to sample: where it is, what to label it with, and how to get in ({@link Access} never leaves this
 * object: it is not part of a sample, a label or a log line).
 */
record ShardTarget(String experiment, String orchestrator, int shard, String host, int port, String node,
                   Access access) {
    String address() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** Every shard the manifest entry records. */
    static List<ShardTarget> of(OrchestratorRecord rec) {
        return rec.shards().stream().map(s -> of(rec, s)).toList();
    }

    private static ShardTarget of(OrchestratorRecord rec, LaunchedShard s) {
        String node = s.handle().getOrDefault("node", s.host());
        return new ShardTarget(rec.plan().experiment(), rec.id(), s.index(), s.host(), s.port(), node,
                rec.plan().access());
    }

    @Override
    public String toString() {
        return orchestrator + "/" + shard + "@" + address();
    }
}
