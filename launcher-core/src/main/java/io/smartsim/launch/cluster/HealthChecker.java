package io.smartsim.launch.cluster;

import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.status.ShardHealth;
import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.planned.Access;
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
    /**
     * A shard to check.
     *
     * @param planned its role in the plan, "master" or "replica of K", for the report; empty when not known
     */
    public record Target(int index, String host, int port, Optional<String> planned) {
        public Target {
            planned = planned == null ? Optional.empty() : planned;
        }

        public Target(int index, String host, int port) {
            this(index, host, port, Optional.empty());
        }

        String address() {
            return host + ":" + port;
        }

        String label() {
            return "shard " + index + " (" + planned.map(p -> p + ", ").orElse("") + address() + ")";
        }
    }

    private HealthChecker() {
    }

    public static HealthReport check(List<Target> targets, boolean clustered, Duration perShardTimeout) {
        return check(targets, clustered, perShardTimeout, Access.NONE);
    }

    /**
     * As {@link #check(List, boolean, Duration)}, each connection logged in with {@code access}. Every shard is
     * asked at once, each within {@code perShardTimeout} per reply: a hung shard (stopped with SIGSTOP, swapping)
     * accepts the connection but never answers, and is reported hung after that long instead of holding up the check.
     */
    public static HealthReport check(List<Target> targets, boolean clustered, Duration perShardTimeout, Access access) {
        List<ShardHealth> shards = Parallel.map(targets, t -> checkOne(t, clustered, perShardTimeout, access));
        return judge(clustered, shards);
    }

    static HealthReport judge(boolean clustered, List<ShardHealth> shards) {
        List<String> problems = new ArrayList<>();
        for (ShardHealth s : shards) {
            s.problem().ifPresent(p -> problems.add("shard " + s.index() + " (" + s.planned().map(x -> x + ", ")
                    .orElse("") + s.address() + "): " + p));
        }
        String state;
        if (!clustered) {
            state = "standalone";
        } else {
            List<String> states = shards.stream().flatMap(s -> s.clusterState().stream()).distinct().toList();
            state = states.isEmpty() ? "unknown" : states.contains("fail") ? "fail" : states.get(0);
        }
        HealthReport report = new HealthReport(clustered, state, shards, problems);
        List<SlotRange> unserved = report.unservedSlots();
        if (!unserved.isEmpty()) {
            int n = unserved.stream().mapToInt(SlotRange::size).sum();
            problems.add(n + " of " + SlotRange.SLOTS + " slots not served (" + HealthReport.ranges(unserved)
                    + "): no reachable master owns them" + (shards.stream().anyMatch(ShardHealth::reachable)
                    && "fail".equals(state) ? "; the cluster refuses every command meanwhile (cluster_state:fail)"
                    : ""));
            report = new HealthReport(clustered, state, shards, problems);
        }
        return report;
    }

    static ShardHealth checkOne(Target t, boolean clustered, Duration timeout, Access access) {
        try (Jedis j = Connections.open(t.host(), t.port(), timeout, access)) {
            Map<String, String> info = InfoParser.parse(j.info());
            String role = info.getOrDefault("role", "?");
            long keys = InfoParser.keys(info);
            long mem = parseLong(info.get("used_memory"));
            long clients = parseLong(info.get("connected_clients"));
            boolean replica = "slave".equals(role);
            Optional<String> master = replica ? Optional.of(info.get("master_host") + ":" + info.get("master_port"))
                    : Optional.empty();
            Optional<String> link = replica ? Optional.ofNullable(info.get("master_link_status")) : Optional.empty();
            Optional<String> linkProblem = replica && !link.equals(Optional.of("up"))
                    ? Optional.of("replication link to its master " + master.get() + " is " + link.orElse("unknown"))
                    : Optional.empty();
            if (!clustered) {
                return new ShardHealth(t.index(), t.address(), true, role, List.of(), keys, mem, clients,
                        Optional.empty(), linkProblem, master, link, t.planned(), ShardHealth.persistenceOf(info));
            }
            String state = InfoParser.parse(j.clusterInfo()).getOrDefault("cluster_state", "?");
            List<SlotRange> slots = ClusterNode.parseAll(j.clusterNodes()).stream().filter(ClusterNode::myself)
                    .findFirst().map(ClusterNode::slots).orElse(List.of());
            Optional<String> problem = !"ok".equals(state) ? Optional.of("cluster_state:" + state) : linkProblem;
            return new ShardHealth(t.index(), t.address(), true, role, slots, keys, mem, clients, Optional.of(state),
                    problem, master, link, t.planned(), ShardHealth.persistenceOf(info));
        } catch (JedisException e) {
            return ShardHealth.unreachable(t.index(), t.address(), why(e, timeout), t.planned());
        }
    }

    /**
     * Why a shard could not be asked, in words that tell a dead shard from a hung one: a stopped (SIGSTOP) or
     * stuck process still has its socket, so the connection is accepted and then nothing answers.
     */
    static String why(JedisException e, Duration timeout) {
        // Jedis wraps the socket's exception as a cause, or (failed connects) as a suppressed one.
        java.util.ArrayDeque<Throwable> todo = new java.util.ArrayDeque<>(List.of(e));
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        while (!todo.isEmpty()) {
            Throwable t = todo.poll();
            if (!seen.add(t)) {
                continue;
            }
            if (t instanceof java.net.SocketTimeoutException && !String.valueOf(t.getMessage()).contains("connect")) {
                return "hung: accepted the connection but did not answer within " + timeout.toMillis()
                        + " ms (a stopped process, SIGSTOP, or one stuck or swapping)";
            }
            if (t instanceof java.net.ConnectException) {
                return "down: " + t.getMessage() + " (no process listens on its port)";
            }
            if (t.getCause() != null) {
                todo.add(t.getCause());
            }
            todo.addAll(List.of(t.getSuppressed()));
        }
        return "unreachable: " + rootMessage(e);
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
