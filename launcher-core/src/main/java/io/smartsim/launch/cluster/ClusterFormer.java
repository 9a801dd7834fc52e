package io.smartsim.launch.cluster;

import io.smartsim.launch.error.ClusterFormingException;
import io.smartsim.launch.error.ReadinessTimeoutException;
import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.planned.Access;
import io.smartsim.launch.util.Backoff;
import io.smartsim.launch.util.Deadline;
import io.smartsim.launch.util.Parallel;
import redis.clients.jedis.BuilderFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.CommandObject;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Forms a Redis Cluster over started, empty shards with commands both Redis 7 and KeyDB (Redis 6) have:
 * {@code CLUSTER ADDSLOTS} (one command per node), {@code CLUSTER SET-CONFIG-EPOCH} (a distinct epoch per
 * node, before any node knows another), {@code CLUSTER MEET} (by IP address: both servers reject host
 * names), then waits until every node reports {@code cluster_state:ok}, all 16384 slots assigned, every
 * node known, and the same slot map as planned. Replicas ({@code --replicas}) get no slots: once they have met the
 * others, each is told {@code CLUSTER REPLICATE <its master's id>}, and agreement also needs every node to see each
 * replica attached to its planned master and every replica's own replication link up.
 *
 * <p>Round trips are few and side by side: each node gets its id query, slots and epoch in one pipelined round
 * trip, all nodes at once; then each node meets every node after it in the list, again one pipelined round trip per
 * node, all at once. Every pair meets directly: a node learns another's slots only from that node itself, so
 * meeting through a single seed leaves the cluster to discover itself by gossip, which takes seconds. While
 * forming, the node timeout is lowered so that nodes ping each other sooner after their handshake (see
 * {@link #formingNodeTimeoutMillis}); the planned value is put back afterwards. While waiting, each round asks only the nodes not yet agreed, with the small {@code CLUSTER INFO};
 * {@code CLUSTER NODES} (a line per node) is read once a node says ok and knows every node.
 *
 * <p>A shard started on data from an earlier run ({@code db start --resume}) already owns the slots of the keys it
 * loaded; {@link LoadedSlots} accepts those when they are its planned slots and refuses any other.
 *
 * <p>Redis itself keeps a new master's {@code cluster_state} at fail for 2 s after it starts
 * ({@code CLUSTER_WRITABLE_DELAY} in cluster.c), so no cluster is healthy sooner than 2 s after its last shard
 * started, however fast it is formed.
 */
public final class ClusterFormer {
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration FIRST_PAUSE = Duration.ofMillis(5);
    /** The longest pause between polls: up to this late in seeing agreement, in exchange for fewer calls. */
    private static final Duration MAX_PAUSE = Duration.ofMillis(25);
    /** cluster-node-timeout while forming; the planned value is put back once every node agrees. */
    private static final long FORMING_NODE_TIMEOUT_MILLIS = 1000;
    /** Up to this many nodes every pair meets directly; above it, all meet the first. */
    private static final int MESH_MAX_NODES = 64;

    /**
     * A shard to form into the cluster: its address and the slots it will own, or for a replica
     * ({@code --replicas}) the position in the member list of the master it replicates (and no slots).
     */
    public record Member(String host, int port, List<SlotRange> slots, Optional<Integer> replicaOf) {
        public Member {
            slots = List.copyOf(slots);
            replicaOf = replicaOf == null ? Optional.empty() : replicaOf;
            if (replicaOf.isPresent() && !slots.isEmpty()) {
                throw new IllegalArgumentException("replica " + host + ":" + port + " cannot own slots " + slots);
            }
        }

        /** A master owning {@code slots}. */
        public Member(String host, int port, List<SlotRange> slots) {
            this(host, port, slots, Optional.empty());
        }

        String address() {
            return host + ":" + port;
        }
    }

    private ClusterFormer() {
    }

    /** Forms the cluster and returns the node id of each member, in order. */
    public static List<String> form(List<Member> members, Deadline deadline, Consumer<String> progress) {
        return form(members, deadline, progress, Access.NONE);
    }

    /** As {@link #form(List, Deadline, Consumer)}, each control connection logged in with {@code access}. */
    public static List<String> form(List<Member> members, Deadline deadline, Consumer<String> progress,
                                    Access access) {
        long masters = members.stream().filter(m -> m.replicaOf().isEmpty()).count();
        if (masters < 3) {
            throw new ClusterFormingException("a Redis Cluster needs at least 3 masters, got " + masters);
        }
        for (Member m : members) {
            m.replicaOf().ifPresent(k -> {
                if (k < 0 || k >= members.size() || members.get(k).replicaOf().isPresent()) {
                    throw new ClusterFormingException("replica " + m.address() + " names member " + k
                            + " as its master, which is not a master of this cluster");
                }
            });
        }
        List<Integer> all = IntStream.range(0, members.size()).boxed().toList();
        List<Jedis> conns = new ArrayList<>();
        try (Parallel.Pool pool = new Parallel.Pool(members.size())) {
            conns.addAll(open(pool, members, deadline, access));
            long formingTimeout = formingNodeTimeoutMillis(members.size());
            List<String> planned = pool.map(conns, j -> quickenGossip(j, formingTimeout));
            List<String> ids = pool.map(all, i -> assign(i, members.get(i), conns.get(i)));
            List<String> ips = pool.map(members, m -> ipOf(m.host()));
            pool.map(all, i -> meetLater(i, members, ips, conns.get(i)));
            progress.accept("slots assigned, " + members.size() + " shards meeting");
            List<Integer> replicas = all.stream().filter(i -> members.get(i).replicaOf().isPresent()).toList();
            try {
                if (!replicas.isEmpty()) {
                    pool.map(replicas, i -> replicate(i, members, ids, conns.get(i), deadline));
                    progress.accept(replicas.size() + " replica(s) attached to their masters, waiting for their sync");
                }
                awaitAgreement(pool, members, ids, conns, deadline);
            } finally {
                pool.map(all, i -> restoreNodeTimeout(conns.get(i), planned.get(i)));
            }
            return List.copyOf(ids);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterFormingException("interrupted while forming the cluster", e);
        } finally {
            conns.forEach(Jedis::close);
        }
    }

    /** A connection to every member, opened side by side; on any failure none is left open. */
    private static List<Jedis> open(Parallel.Pool pool, List<Member> members, Deadline deadline, Access access) {
        List<Object> opened = pool.map(members, m -> {
            try {
                return (Object) Connections.open(m.host(), m.port(), Duration.ofMillis(deadline.capMillis(CALL_TIMEOUT)),
                        access);
            } catch (JedisException e) {
                return new ClusterFormingException("cannot connect to shard " + m.address() + " to form the cluster: "
                        + e.getMessage(), e);
            }
        });
        List<Jedis> conns = new ArrayList<>();
        ClusterFormingException failure = null;
        for (Object o : opened) {
            if (o instanceof Jedis j) {
                conns.add(j);
            } else if (failure == null) {
                failure = (ClusterFormingException) o;
            }
        }
        if (failure != null) {
            conns.forEach(Jedis::close);
            throw failure;
        }
        return conns;
    }

    /** Node id, slots and config epoch of one member in one pipelined round trip; returns its id. */
    private static String assign(int i, Member m, Jedis j) {
        try (Pipeline p = j.pipelined()) {
            Response<String> id = cluster(p, "MYID");
            List<Response<String>> replies = new ArrayList<>();
            for (SlotRange r : m.slots()) {
                CommandArguments args = new CommandArguments(Protocol.Command.CLUSTER).add("ADDSLOTS");
                for (int slot = r.first(); slot <= r.last(); slot++) {
                    args.add(slot);
                }
                replies.add(p.appendCommand(new CommandObject<>(args, BuilderFactory.STRING)));
            }
            Response<String> epoch = cluster(p, "SET-CONFIG-EPOCH", Integer.toString(i + 1));
            Response<String> nodes = cluster(p, "NODES"); // the slots it owns now: planned, and any it loaded keys of
            p.sync();
            boolean ownsSome = false;
            for (Response<String> r : replies) {
                try {
                    r.get(); // an error reply throws here
                } catch (JedisDataException e) {
                    if (!LoadedSlots.busy(e)) {
                        throw e;
                    }
                    ownsSome = true; // the whole ADDSLOTS was refused: the node already owns some of these slots
                }
            }
            epoch.get();
            LoadedSlots.check(i, m, j, nodes.get(), ownsSome);
            return id.get();
        } catch (ClusterFormingException e) {
            throw e;
        } catch (JedisException e) {
            throw new ClusterFormingException("shard " + i + " at " + m.address()
                    + " refused to take its slots " + m.slots() + ": " + e.getMessage()
                    + " (is it already part of another cluster? its nodes-<port>.conf may be stale)", e);
        }
    }

    /**
     * Member {@code i} (a replica) replicates its master: {@code CLUSTER REPLICATE <master id>}, repeated while the
     * replica does not know the master yet (their handshake after MEET takes a few milliseconds) and refused with
     * "Unknown node"; any other refusal fails the forming.
     */
    private static Void replicate(int i, List<Member> members, List<String> ids, Jedis j, Deadline deadline) {
        Member m = members.get(i);
        int master = m.replicaOf().orElseThrow();
        Backoff backoff = new Backoff(deadline, FIRST_PAUSE, MAX_PAUSE);
        while (true) {
            String refusal;
            try {
                cluster(j, "REPLICATE", ids.get(master));
                return null;
            } catch (JedisException e) {
                refusal = e.getMessage();
                if (refusal == null || !refusal.contains("Unknown node")) {
                    throw new ClusterFormingException("shard " + i + " at " + m.address() + " refused to replicate "
                            + "shard " + master + " at " + members.get(master).address() + ": " + refusal, e);
                }
            }
            boolean more;
            try {
                more = backoff.pause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ClusterFormingException("interrupted while replica " + i + " waited to learn of its master", e);
            }
            if (!more) {
                throw new ReadinessTimeoutException("replica " + i + " at " + m.address() + " did not learn of its "
                        + "master " + members.get(master).address() + " within " + deadline.budget().toSeconds()
                        + " s: " + refusal);
            }
        }
    }

    private static void cluster(Jedis j, String... args) {
        j.sendCommand(Protocol.Command.CLUSTER, args); // an error reply throws
    }

    /**
     * Member {@code i} meets every member after it, in one pipelined round trip. Above {@value #MESH_MAX_NODES}
     * nodes only the first meets the others (as redis-cli does): n x n / 2 handshakes at once cost a few cores more
     * than gossip saves (128 nodes on 2 cores: 1.9 s to meet, 5 s more to agree).
     */
    private static Void meetLater(int i, List<Member> members, List<String> ips, Jedis j) {
        if (i == members.size() - 1 || (i > 0 && members.size() > MESH_MAX_NODES)) {
            return null;
        }
        try (Pipeline p = j.pipelined()) {
            List<Response<String>> replies = new ArrayList<>();
            for (int k = i + 1; k < members.size(); k++) {
                replies.add(cluster(p, "MEET", ips.get(k), Integer.toString(members.get(k).port())));
            }
            p.sync();
            for (int k = 0; k < replies.size(); k++) {
                try {
                    replies.get(k).get();
                } catch (JedisException e) {
                    Member m = members.get(i + 1 + k);
                    throw new ClusterFormingException("shard " + i + " could not MEET shard " + (i + 1 + k) + " at "
                            + m.address() + ": " + e.getMessage(), e);
                }
            }
            return null;
        } catch (ClusterFormingException e) {
            throw e;
        } catch (JedisException e) {
            throw new ClusterFormingException("shard " + i + " at " + members.get(i).address()
                    + " failed while meeting the others: " + e.getMessage(), e);
        }
    }

    /**
     * The node timeout while forming {@code n} nodes: {@value #FORMING_NODE_TIMEOUT_MILLIS} ms, longer for big
     * clusters. Every node pings every other twice a node timeout, n x n x 2 / timeout pings a second in all; kept
     * under about 10,000 a second, so that a few cores are not swamped into missing pongs and marking nodes failed
     * (128 nodes at 1 s did exactly that on 2 cores).
     */
    static long formingNodeTimeoutMillis(int n) {
        return Math.max(FORMING_NODE_TIMEOUT_MILLIS, (long) n * n / 5);
    }

    /**
     * Lowers the node's {@code cluster-node-timeout} while the cluster forms; returns the value to restore. A node
     * learns another's slots only from a ping of that node, and after their handshake the next ping comes at
     * random (one node a second) or when the last pong is half a node timeout old: 2.5 s of the planned 5 s.
     */
    private static String quickenGossip(Jedis j, long formingMillis) {
        try {
            List<String> current = j.configGet("cluster-node-timeout").values().stream().toList();
            String planned = current.isEmpty() ? null : current.get(0);
            if (planned != null && Long.parseLong(planned) > formingMillis) {
                j.configSet("cluster-node-timeout", Long.toString(formingMillis));
                return planned;
            }
            return null;
        } catch (JedisException | NumberFormatException e) {
            return null; // forming still works, only slower
        }
    }

    private static Void restoreNodeTimeout(Jedis j, String planned) {
        if (planned != null) {
            try {
                j.configSet("cluster-node-timeout", planned);
            } catch (JedisException e) {
                // the node is gone or refuses: the health check that follows reports it
            }
        }
        return null;
    }

    private static Response<String> cluster(Pipeline p, String... args) {
        CommandArguments a = new CommandArguments(Protocol.Command.CLUSTER);
        for (String x : args) {
            a.add(x);
        }
        return p.appendCommand(new CommandObject<>(a, BuilderFactory.STRING));
    }

    private static void awaitAgreement(Parallel.Pool pool, List<Member> members, List<String> ids, List<Jedis> conns,
                                       Deadline deadline) throws InterruptedException {
        Map<String, List<SlotRange>> expected = new HashMap<>();
        Map<String, String> masterOf = new HashMap<>();
        for (int i = 0; i < members.size(); i++) {
            expected.put(ids.get(i), members.get(i).slots());
            int me = i;
            members.get(i).replicaOf().ifPresent(k -> masterOf.put(ids.get(me), ids.get(k)));
        }
        Backoff backoff = new Backoff(deadline, FIRST_PAUSE, MAX_PAUSE);
        List<Integer> pending = IntStream.range(0, members.size()).boxed().toList();
        String lastProblem = "not checked yet";
        while (true) {
            List<String> problems = pool.map(pending, i -> problem(conns.get(i), expected, masterOf,
                    members.get(i).replicaOf().isPresent()));
            List<Integer> still = new ArrayList<>();
            for (int k = 0; k < pending.size(); k++) {
                if (problems.get(k) != null) {
                    int i = pending.get(k);
                    still.add(i);
                    lastProblem = "shard " + i + " at " + members.get(i).address() + ": " + problems.get(k);
                }
            }
            pending = still;
            if (pending.isEmpty()) {
                return;
            }
            if (!backoff.pause()) {
                throw new ReadinessTimeoutException("the cluster did not settle within " + deadline.budget().toSeconds()
                        + " s: " + pending.size() + " of " + members.size() + " shards not agreed; last seen: "
                        + lastProblem);
            }
        }
    }

    /**
     * Why this node does not yet agree with the planned cluster, or null when it does. A replica also needs its
     * replication link up ({@code master_link_status:up}): its first sync from the master is done.
     */
    static String problem(Jedis j, Map<String, List<SlotRange>> expected, Map<String, String> masterOf,
                          boolean replica) {
        try {
            if (replica) {
                Map<String, String> repl = InfoParser.parse(j.info("replication"));
                if (!"up".equals(repl.get("master_link_status"))) {
                    return "replication link to its master " + repl.get("master_host") + ":" + repl.get("master_port")
                            + " is " + repl.getOrDefault("master_link_status", "not set up (role "
                            + repl.get("role") + ")");
                }
            }
            Map<String, String> info = InfoParser.parse(j.clusterInfo());
            if (!"ok".equals(info.get("cluster_state"))) {
                return "cluster_state:" + info.get("cluster_state");
            }
            String known = info.get("cluster_known_nodes");
            if (known != null && !known.trim().equals(Integer.toString(expected.size()))) {
                return "knows " + known.trim() + " of " + expected.size() + " nodes";
            }
            return disagreement(ClusterNode.parseAll(j.clusterNodes()), expected, masterOf);
        } catch (JedisException e) {
            return "unreachable: " + e.getMessage();
        }
    }

    /** Compares one node's view of the cluster with the planned slot map; null when they agree. */
    static String disagreement(List<ClusterNode> view, Map<String, List<SlotRange>> expected) {
        return disagreement(view, expected, Map.of());
    }

    /**
     * As {@link #disagreement(List, Map)}, and every replica (a key of {@code masterOf}) seen as a replica of its
     * planned master.
     */
    static String disagreement(List<ClusterNode> view, Map<String, List<SlotRange>> expected,
                               Map<String, String> masterOf) {
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
            String master = masterOf.get(n.id());
            if (master != null && (n.master() || !master.equals(n.masterId()))) {
                return "sees node " + n.id() + " as " + (n.master() ? "a master" : "a replica of " + n.masterId())
                        + ", planned a replica of " + master;
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
