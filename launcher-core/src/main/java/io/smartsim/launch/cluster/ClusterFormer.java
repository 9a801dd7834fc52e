package io.smartsim.launch.cluster;

import io.smartsim.launch.ClusterFormingException;
import io.smartsim.launch.ReadinessTimeoutException;
import io.smartsim.launch.plan.SlotRange;
import io.smartsim.launch.util.Backoff;
import io.smartsim.launch.util.Deadline;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisException;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Forms a Redis Cluster over started, empty shards with commands both Redis 7 and KeyDB (Redis 6) have:
 * {@code CLUSTER ADDSLOTS} (one command per node), {@code CLUSTER SET-CONFIG-EPOCH} (a distinct epoch per
 * node, before any node knows another), {@code CLUSTER MEET} (by IP address: both servers reject host
 * names), then waits until every node reports {@code cluster_state:ok}, all 16384 slots assigned, every
 * node known, and the same slot map as planned.
 */
public final class ClusterFormer {
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);

    /** A shard to form into the cluster: its address and the slots it will own. */
    public record Member(String host, int port, List<SlotRange> slots) {
        public Member {
            slots = List.copyOf(slots);
        }

        String address() {
            return host + ":" + port;
        }
    }

    private ClusterFormer() {
    }

    /** Forms the cluster and returns the node id of each member, in order. */
    public static List<String> form(List<Member> members, Deadline deadline, Consumer<String> progress) {
        if (members.size() < 3) {
            throw new ClusterFormingException("a Redis Cluster needs at least 3 masters, got " + members.size());
        }
        List<Jedis> conns = new ArrayList<>();
        try {
            for (Member m : members) {
                conns.add(Connections.open(m.host(), m.port(), Duration.ofMillis(deadline.capMillis(CALL_TIMEOUT))));
            }
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < members.size(); i++) {
                Member m = members.get(i);
                Jedis j = conns.get(i);
                try {
                    ids.add(j.clusterMyId());
                    for (SlotRange r : m.slots()) {
                        j.clusterAddSlots(r.slots());
                    }
                    j.clusterSetConfigEpoch(i + 1);
                } catch (JedisException e) {
                    throw new ClusterFormingException("shard " + i + " at " + m.address()
                            + " refused to take its slots " + m.slots() + ": " + e.getMessage()
                            + " (is it already part of another cluster? its nodes-<port>.conf may be stale)", e);
                }
            }
            Jedis first = conns.get(0);
            for (int i = 1; i < members.size(); i++) {
                Member m = members.get(i);
                try {
                    first.clusterMeet(ipOf(m.host()), m.port());
                } catch (JedisException e) {
                    throw new ClusterFormingException("shard 0 could not MEET shard " + i + " at " + m.address()
                            + ": " + e.getMessage(), e);
                }
            }
            progress.accept("slots assigned, " + members.size() + " shards meeting");
            awaitAgreement(members, ids, conns, deadline);
            return List.copyOf(ids);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterFormingException("interrupted while forming the cluster", e);
        } finally {
            conns.forEach(Jedis::close);
        }
    }

    private static void awaitAgreement(List<Member> members, List<String> ids, List<Jedis> conns, Deadline deadline)
            throws InterruptedException {
        Map<String, List<SlotRange>> expected = new HashMap<>();
        for (int i = 0; i < members.size(); i++) {
            expected.put(ids.get(i), members.get(i).slots());
        }
        Backoff backoff = new Backoff(deadline, Duration.ofMillis(5), Duration.ofMillis(100));
        boolean[] settled = new boolean[members.size()];
        String lastProblem = "not checked yet";
        while (true) {
            int pending = 0;
            for (int i = 0; i < members.size(); i++) {
                if (settled[i]) {
                    continue;
                }
                String problem = problem(conns.get(i), expected);
                if (problem == null) {
                    settled[i] = true;
                } else {
                    pending++;
                    lastProblem = "shard " + i + " at " + members.get(i).address() + ": " + problem;
                }
            }
            if (pending == 0) {
                return;
            }
            if (!backoff.pause()) {
                throw new ReadinessTimeoutException("the cluster did not settle within " + deadline.budget().toSeconds()
                        + " s: " + pending + " of " + members.size() + " shards not agreed; last seen: " + lastProblem);
            }
        }
    }

    /** Why this node does not yet agree with the planned cluster, or null when it does. */
    static String problem(Jedis j, Map<String, List<SlotRange>> expected) {
        try {
            Map<String, String> info = InfoParser.parse(j.clusterInfo());
            if (!"ok".equals(info.get("cluster_state"))) {
                return "cluster_state:" + info.get("cluster_state");
            }
            return disagreement(ClusterNode.parseAll(j.clusterNodes()), expected);
        } catch (JedisException e) {
            return "unreachable: " + e.getMessage();
        }
    }

    /** Compares one node's view of the cluster with the planned slot map; null when they agree. */
    static String disagreement(List<ClusterNode> view, Map<String, List<SlotRange>> expected) {
        if (view.size() != expected.size()) {
            return "knows " + view.size() + " of " + expected.size() + " nodes";
        }
        for (ClusterNode n : view) {
            if (n.troubled()) {
                return "sees node " + n.id() + " as " + n.flags();
            }
            List<SlotRange> want = expected.get(n.id());
            if (want == null) {
                return "knows an unexpected node " + n.id() + " at " + n.host() + ":" + n.port();
            }
            if (!want.equals(n.slots())) {
                return "sees node " + n.id() + " with slots " + n.slots() + ", planned " + want;
            }
        }
        return null;
    }

    static String ipOf(String host) {
        try {
            return InetAddress.getByName(host).getHostAddress();
        } catch (UnknownHostException e) {
            throw new ClusterFormingException("cannot resolve shard host '" + host + "' to an address for CLUSTER MEET", e);
        }
    }
}
