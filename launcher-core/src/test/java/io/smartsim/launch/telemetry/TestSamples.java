package io.smartsim.launch.telemetry;

import io.smartsim.launch.planned.Access;
import io.smartsim.launch.status.ShardSample;

import java.time.Instant;

/**
 * Samples made as the collector makes them, for tests outside this package (in launcher-core's test-jar: the dashboard
 * module's {@code /metrics} tests): from an {@code INFO} reply ({@link InfoSample}), or of a shard that did not
 * answer. Each is of shard {@code shard} of orchestrator "db" of experiment "exp", at 127.0.0.1:(6380 + shard).
 */
public final class TestSamples {
    private TestSamples() {
    }

    /** The sample the collector records when the shard answered {@code INFO} with {@code infoReply}. */
    public static ShardSample fromInfo(Instant time, int shard, String node, boolean ai, long callMillis,
                                       String infoReply) {
        return InfoSample.of(time, target(shard, node, ai), callMillis, infoReply);
    }

    /** The sample the collector records when the shard did not answer: {@code error} says why. */
    public static ShardSample unreachable(Instant time, int shard, String node, long callMillis, String error) {
        return target(shard, node, false).unreachable(time, callMillis, error);
    }

    private static ShardTarget target(int shard, String node, boolean ai) {
        return new ShardTarget("exp", "db", shard, "127.0.0.1", 6380 + shard, node, Access.NONE, ai);
    }
}
