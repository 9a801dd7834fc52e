package io.smartsim.launch.telemetry;

import io.smartsim.launch.cluster.InfoParser;
import io.smartsim.launch.status.ShardSample;

import java.time.Instant;
import java.util.Map;

/** Turns an {@code INFO} reply into a {@link ShardSample}: pure, so every field is checked against a known reply. */
final class InfoSample {
    private InfoSample() {
    }

    static ShardSample of(Instant time, ShardTarget t, long callMillis, String infoReply) {
        Map<String, String> info = InfoParser.parse(infoReply);
        String role = info.get("role");
        boolean replica = "slave".equals(role);
        Long lastSave = number(info, "rdb_last_save_time");
        return new ShardSample(time, t.experiment(), t.orchestrator(), t.shard(), t.address(), t.node(), true, null,
                callMillis, role, number(info, "used_memory"), number(info, "used_memory_peak"),
                info.containsKey("db0") ? InfoParser.keys(info) : 0L, number(info, "connected_clients"),
                number(info, "instantaneous_ops_per_sec"), number(info, "keyspace_hits"),
                number(info, "keyspace_misses"), number(info, "total_net_input_bytes"),
                number(info, "total_net_output_bytes"),
                number(info, replica ? "slave_repl_offset" : "master_repl_offset"),
                replica ? number(info, "master_last_io_seconds_ago") : largestReplicaLag(info),
                lastSave == null ? null : Instant.ofEpochSecond(lastSave),
                number(info, "rdb_changes_since_last_save"));
    }

    /** {@code slave0:ip=...,port=...,state=online,offset=...,lag=0}: the largest lag, or null without replicas. */
    static Long largestReplicaLag(Map<String, String> info) {
        Long max = null;
        for (Map.Entry<String, String> e : info.entrySet()) {
            if (!e.getKey().matches("slave\\d+")) {
                continue;
            }
            for (String part : e.getValue().split(",")) {
                if (part.startsWith("lag=")) {
                    Long lag = parse(part.substring(4));
                    if (lag != null && (max == null || lag > max)) {
                        max = lag;
                    }
                }
            }
        }
        return max;
    }

    private static Long number(Map<String, String> info, String key) {
        String v = info.get(key);
        return v == null ? null : parse(v.strip());
    }

    private static Long parse(String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
