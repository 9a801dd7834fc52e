package io.smartsim.launch.telemetry;

import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.planned.Access;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.status.ShardSample;

import java.time.Instant;
import java.util.List;

/**
 * One shard to sample: where it is, what to label it with, how to get in ({@link Access} never leaves this
 * object: it is not part of a sample, a label or a log line), and whether it serves models ({@code --ai}: then its
 * models' {@code AI.INFO} is asked too).
 */
record ShardTarget(String experiment, String orchestrator, int shard, String host, int port, String node,
                   Access access, boolean ai) {
    /** A shard without model serving. */
    ShardTarget(String experiment, String orchestrator, int shard, String host, int port, String node, Access access) {
        this(experiment, orchestrator, shard, host, port, node, access, false);
    }

    String address() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** This shard's sample when it did not answer: {@code error} says why, every figure is null. */
    ShardSample unreachable(Instant time, long callMillis, String error) {
        return new ShardSample(time, experiment, orchestrator, shard, address(), node, false, error, callMillis, null,
                null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** Every shard the manifest entry records. */
    static List<ShardTarget> of(OrchestratorRecord rec) {
        return rec.shards().stream().map(s -> of(rec, s)).toList();
    }

    private static ShardTarget of(OrchestratorRecord rec, LaunchedShard s) {
        String node = s.handle().getOrDefault("node", s.host());
        return new ShardTarget(rec.plan().experiment(), rec.id(), s.index(), s.host(), s.port(), node,
                rec.plan().access(), rec.plan().spec().ai().isPresent());
    }

    @Override
    public String toString() {
        return orchestrator + "/" + shard + "@" + address();
    }
}
