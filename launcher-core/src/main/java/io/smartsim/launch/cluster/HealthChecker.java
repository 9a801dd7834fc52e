package io.smartsim.launch.cluster;

import io.smartsim.launch.plan.SlotRange;
import io.smartsim.launch.security.Access;
import io.smartsim.launch.util.Parallel;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Asks every shard about itself, in parallel, and judges the whole. */
public final class HealthChecker {
    /** A shard to check. */
    public record Target(int index, String host, int port) {
        String address() {
            return host + ":" + port;
        }
    }

    private HealthChecker() {
    }

    public static HealthReport check(List<Target> targets, boolean clustered, Duration perShardTimeout) {
        return check(targets, clustered, perShardTimeout, Access.NONE);
    }

    /** As {@link #check(List, boolean, Duration)}, each connection logged in with {@code access}. */
    public static HealthReport check(List<Target> targets, boolean clustered, Duration perShardTimeout, Access access) {
        List<ShardHealth> shards = Parallel.map(targets, t -> checkOne(t, clustered, perShardTimeout, access));
        return judge(clustered, shards);
    }

    static HealthReport judge(boolean clustered, List<ShardHealth> shards) {
        List<String> problems = new ArrayList<>();
        for (ShardHealth s : shards) {
            s.problem().ifPresent(p -> problems.add("shard " + s.index() + " (" + s.address() + "): " + p));
        }
        String state;
        if (!clustered) {
            state = "standalone";
        } else {
            List<String> states = shards.stream().flatMap(s -> s.clusterState().stream()).distinct().toList();
            state = states.isEmpty() ? "unknown" : states.contains("fail") ? "fail" : states.get(0);
            int covered = shards.stream().filter(s -> "master".equals(s.role()))
                    .flatMap(s -> s.slots().stream()).mapToInt(SlotRange::size).sum();
            if (covered != SlotRange.SLOTS && problems.isEmpty()) {
                problems.add("masters serve " + covered + " of " + SlotRange.SLOTS + " slots");
            }
        }
        return new HealthReport(clustered, state, shards, problems);
    }

    static ShardHealth checkOne(Target t, boolean clustered, Duration timeout, Access access) {
        try (Jedis j = Connections.open(t.host(), t.port(), timeout, access)) {
            Map<String, String> info = InfoParser.parse(j.info());
            String role = info.getOrDefault("role", "?");
            long keys = InfoParser.keys(info);
            long mem = parseLong(info.get("used_memory"));
            long clients = parseLong(info.get("connected_clients"));
            if (!clustered) {
                return new ShardHealth(t.index(), t.address(), true, role, List.of(), keys, mem, clients,
                        Optional.empty(), Optional.empty());
            }
            String state = InfoParser.parse(j.clusterInfo()).getOrDefault("cluster_state", "?");
            List<SlotRange> slots = ClusterNode.parseAll(j.clusterNodes()).stream().filter(ClusterNode::myself)
                    .findFirst().map(ClusterNode::slots).orElse(List.of());
            Optional<String> problem = "ok".equals(state) ? Optional.empty()
                    : Optional.of("cluster_state:" + state);
            return new ShardHealth(t.index(), t.address(), true, role, slots, keys, mem, clients, Optional.of(state),
                    problem);
        } catch (JedisException e) {
            return ShardHealth.unreachable(t.index(), t.address(), "unreachable: " + rootMessage(e));
        }
    }

    private static long parseLong(String s) {
        try {
            return s == null ? 0 : Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
