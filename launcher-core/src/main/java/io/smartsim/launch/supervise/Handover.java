package io.smartsim.launch.supervise;

import io.smartsim.launch.status.Event;
import io.smartsim.launch.cluster.ClusterNode;
import io.smartsim.launch.cluster.Connections;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.util.Deadline;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.args.ClusterFailoverOption;
import redis.clients.jedis.exceptions.JedisException;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Before a dead master is started again, one of its replicas takes its slots over. Started again at once as master
 * of its slots, which its {@code nodes.conf} still says it is (the watchdog sees a death within a second, Redis
 * fails a master over only after the node timeout), it would come back with what its files hold, nothing without a
 * checkpoint, and its replicas would copy that: every write acknowledged with {@code WAIT} lost. So the most
 * up-to-date live replica is promoted first ({@code CLUSTER FAILOVER FORCE}, which needs the votes of most masters;
 * {@code TAKEOVER}, which needs none, if that does not happen in time: the old master's process is known to be gone),
 * and the restarted process comes back as that replica's replica.
 */
final class Handover {
    /** How long a forced failover may take before a takeover is tried. */
    static final Duration FORCE_WAIT = Duration.ofSeconds(3);

    private final LaunchPlan plan;
    private final Duration timeout;

    Handover(LaunchPlan plan, Duration timeout) {
        this.plan = plan;
        this.timeout = timeout;
    }

    /** What a hand-over did: whether a replica now holds the slots, and a sentence for the events log. */
    record Outcome(boolean done, String detail) {
        String event() {
            return done ? Event.FAILOVER : Event.FAILOVER_FAILED;
        }
    }

    /** What happened; empty when there was nothing to hand over (a replica, or a plan without replicas). */
    Optional<Outcome> before(LaunchedShard dead, List<LaunchedShard> shards, Deadline deadline)
            throws InterruptedException {
        if (!plan.clustered() || plan.spec().replicas() == 0) {
            return Optional.empty();
        }
        List<LaunchedShard> others = shards.stream().filter(s -> s.index() != dead.index()).toList();
        Optional<List<ClusterNode>> view = view(others);
        if (view.isEmpty()) {
            return Optional.of(new Outcome(false, "no other shard answered CLUSTER NODES: restarting it as it was"));
        }
        Optional<ClusterNode> old = find(view.get(), dead);
        if (old.isEmpty() || !old.get().master() || old.get().slots().isEmpty()) {
            return Optional.empty(); // a replica, or a master whose slots a replica already took over
        }
        String slots = old.get().slots().stream().map(SlotRange::toString).collect(Collectors.joining(","));
        List<LaunchedShard> replicas = view.get().stream()
                .filter(n -> old.get().id().equals(n.masterId()) && !n.troubled())
                .flatMap(n -> others.stream().filter(s -> s.port() == n.port() && s.host().equals(n.host())))
                .toList();
        if (replicas.isEmpty()) {
            return Optional.of(new Outcome(false, "none of its replicas is up to take over slots " + slots
                    + ": restarting it as their master with what its files hold"));
        }
        LaunchedShard best = replicas.stream().max(Comparator.comparingLong(this::offset)).orElseThrow();
        long t0 = System.nanoTime();
        for (ClusterFailoverOption how : List.of(ClusterFailoverOption.FORCE, ClusterFailoverOption.TAKEOVER)) {
            try (Jedis j = Connections.open(best.host(), best.port(), timeout, plan.access())) {
                j.clusterFailover(how);
            } catch (JedisException e) {
                continue; // try the next way; the shard's own answer is given below if none works
            }
            Deadline wait = Deadline.after(how == ClusterFailoverOption.FORCE ? FORCE_WAIT : timeout.multipliedBy(5));
            while (!wait.expired() && !deadline.expired()) {
                if (promoted(best)) {
                    return Optional.of(new Outcome(true, "shard " + best.index() + " (" + best.address() + "), its replica with the "
                            + "most data, took over slots " + slots + " in " + String.format(java.util.Locale.ROOT,
                            "%.2f s", (System.nanoTime() - t0) / 1e9) + " (CLUSTER FAILOVER " + how + "): the "
                            + "restarted process rejoins as its replica"));
                }
                Thread.sleep(50);
            }
        }
        return Optional.of(new Outcome(false, "its replica shard " + best.index() + " (" + best.address() + ") did "
                + "not take over slots " + slots + " (CLUSTER FAILOVER FORCE, then TAKEOVER): restarting it as their "
                + "master with what its files hold"));
    }

    private Optional<List<ClusterNode>> view(List<LaunchedShard> others) {
        for (LaunchedShard s : others) {
            try (Jedis j = Connections.open(s.host(), s.port(), timeout, plan.access())) {
                return Optional.of(ClusterNode.parseAll(j.clusterNodes()));
            } catch (JedisException | IllegalArgumentException e) {
                // the next one
            }
        }
        return Optional.empty();
    }

    private static Optional<ClusterNode> find(List<ClusterNode> nodes, LaunchedShard s) {
        return nodes.stream().filter(n -> n.port() == s.port() && n.host().equals(s.host())).findFirst();
    }

    /** The replication offset a replica has processed; -1 when it cannot tell. */
    private long offset(LaunchedShard replica) {
        try (Jedis j = Connections.open(replica.host(), replica.port(), timeout, plan.access())) {
            for (String line : j.info("replication").split("\r?\n")) {
                if (line.startsWith("slave_repl_offset:")) {
                    return Long.parseLong(line.substring("slave_repl_offset:".length()).strip());
                }
            }
        } catch (JedisException | NumberFormatException e) {
            // unknown
        }
        return -1;
    }

    /** Whether the shard now says it is a master with slots. */
    private boolean promoted(LaunchedShard s) {
        try (Jedis j = Connections.open(s.host(), s.port(), timeout, plan.access())) {
            return ClusterNode.parseAll(j.clusterNodes()).stream().filter(ClusterNode::myself)
                    .anyMatch(n -> n.master() && !n.slots().isEmpty());
        } catch (JedisException | IllegalArgumentException e) {
            return false;
        }
    }
}
