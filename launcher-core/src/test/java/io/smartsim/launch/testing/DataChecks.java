package io.smartsim.launch.testing;

import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.cluster.ClusterNode;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.plan.Crc16;
import io.smartsim.launch.plan.Persistence;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.spi.LaunchedShard;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisCluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the data-safety integration tests check on a running orchestrator, with the tools a user has: the cluster's
 * own view ({@code CLUSTER NODES}, {@code INFO replication}), {@code redis-cli --cluster check}, and keys written and
 * read back through a cluster client. Used by every launcher's replica and checkpoint ITs, so they check the same.
 */
public final class DataChecks {
    private static final Duration CMD = Duration.ofSeconds(60);
    private static final LocalCommandRunner SH = new LocalCommandRunner();

    private DataChecks() {
    }

    private static Jedis login(LaunchedShard s, Credentials c) {
        return new Jedis(new HostAndPort(s.host(), s.port()), DefaultJedisClientConfig.builder().user(c.user())
                .password(c.password()).build());
    }

    /**
     * {@code masters} masters, each with {@code replicas} replicas at another address than its master (the cluster's
     * own view, from the first shard's {@code CLUSTER NODES}), every replica attached ({@code master_link_status:up},
     * waited for up to 30 s: a replica's first full sync may still run), and {@code redis-cli --cluster check}
     * passing with every slot covered.
     */
    public static void replicasOnOtherNodes(Orchestrator db, int masters, int replicas) throws InterruptedException {
        Credentials c = db.plan().auth().orElseThrow();
        List<ClusterNode> view;
        try (Jedis j = login(db.shards().get(0), c)) {
            view = ClusterNode.parseAll(j.clusterNodes());
        }
        Map<String, ClusterNode> byId = view.stream().collect(Collectors.toMap(ClusterNode::id, Function.identity()));
        List<ClusterNode> replicaNodes = view.stream().filter(n -> n.flags().contains("slave")).toList();
        assertThat(view.stream().filter(ClusterNode::master).toList()).as("masters in %s", view).hasSize(masters);
        assertThat(replicaNodes).as("replicas in %s", view).hasSize(masters * replicas);
        for (ClusterNode r : replicaNodes) {
            ClusterNode m = byId.get(r.masterId());
            assertThat(m).as("master of %s", r.id()).isNotNull();
            assertThat(r.host()).as("replica %s:%d and its master %s:%d", r.host(), r.port(), m.host(), m.port())
                    .isNotEqualTo(m.host());
        }
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        for (LaunchedShard s : db.shards()) {
            if (!db.plan().shards().get(s.index()).replica()) {
                continue;
            }
            String info;
            while (true) {
                try (Jedis j = login(s, c)) {
                    info = j.info("replication");
                }
                if (info.contains("master_link_status:up") || System.nanoTime() > until) {
                    break;
                }
                Thread.sleep(100);
            }
            assertThat(info).as("replica shard %d at %s", s.index(), s.address()).contains("role:slave")
                    .contains("master_link_status:up");
        }
        CommandResult check = clusterCheck(db);
        assertThat(check.exitCode()).as(check.describe()).isZero();
        assertThat(check.stdout()).contains("[OK] All 16384 slots covered.")
                .contains(replicas + " additional replica(s)");
    }

    /** {@code redis-cli --cluster check} against the first shard, logged in as the orchestrator's user. */
    public static CommandResult clusterCheck(Orchestrator db) {
        Credentials c = db.plan().auth().orElseThrow();
        return SH.run(List.of("redis-cli", "--user", c.user(), "--cluster", "check", db.shards().get(0).address()),
                Map.of("REDISCLI_AUTH", c.password()), CMD);
    }

    /** A cluster client logged in as the orchestrator's user. */
    public static JedisCluster client(Orchestrator db) {
        Credentials c = db.plan().auth().orElseThrow();
        Set<HostAndPort> seeds = db.shards().stream().map(s -> new HostAndPort(s.host(), s.port()))
                .collect(Collectors.toSet());
        return new JedisCluster(seeds, DefaultJedisClientConfig.builder().user(c.user()).password(c.password())
                .build());
    }

    /** Writes {@code key:i = value:i} for i below {@code n}. */
    public static void write(Orchestrator db, int n) {
        write(db, 0, n);
    }

    /** Writes {@code key:i = value:i} for i from {@code from} to below {@code to}. */
    public static void write(Orchestrator db, int from, int to) {
        try (JedisCluster jc = client(db)) {
            for (int i = from; i < to; i++) {
                jc.set("key:" + i, "value:" + i);
            }
        }
    }

    /** The i below {@code n} whose {@code key:i} does not read {@code value:i}. */
    public static List<Integer> missing(Orchestrator db, int n) {
        List<Integer> out = new ArrayList<>();
        try (JedisCluster jc = client(db)) {
            for (int i = 0; i < n; i++) {
                if (!("value:" + i).equals(jc.get("key:" + i))) {
                    out.add(i);
                }
            }
        }
        return out;
    }

    /**
     * Until every master's last snapshot holds every change ({@code rdb_changes_since_last_save:0}, no save running),
     * up to 20 s: after this a lost allocation loses nothing written before.
     */
    public static void awaitSnapshot(Orchestrator db) throws InterruptedException {
        Credentials c = db.plan().auth().orElseThrow();
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        for (LaunchedShard s : db.shards()) {
            while (true) {
                String info;
                try (Jedis j = login(s, c)) {
                    info = j.info("persistence");
                }
                if (info.contains("rdb_changes_since_last_save:0\r") && info.contains("rdb_bgsave_in_progress:0")) {
                    break;
                }
                assertThat(System.nanoTime()).as("shard %d snapshot within 20 s", s.index()).isLessThan(until);
                Thread.sleep(50);
            }
        }
    }

    /**
     * Until every write acknowledged so far is on each live shard's replicas ({@code WAIT} on each master, for the
     * replicas it has) and in each live shard's append-only file ({@code aof_buffer_length:0}: written to the file,
     * which a SIGKILL keeps; with {@code appendfsync everysec} a slow background fsync may hold that write back up to
     * 2 s), up to 30 s each. After this, killing every process loses nothing written before. Shards that refuse
     * the connection (killed by the test) are passed over; one that accepts it and does not answer fails the test.
     */
    public static void awaitReplicatedAndWritten(Orchestrator db) throws InterruptedException {
        Credentials c = db.plan().auth().orElseThrow();
        for (LaunchedShard s : db.shards()) {
            // A reply timeout above WAIT's 30 s: Jedis's default (2 s) would end the WAIT with a connection error.
            try (Jedis j = new Jedis(new HostAndPort(s.host(), s.port()), DefaultJedisClientConfig.builder()
                    .user(c.user()).password(c.password()).socketTimeoutMillis(45_000).build())) {
                String info = j.info("replication");
                int replicas = info.lines().filter(l -> l.startsWith("connected_slaves:"))
                        .mapToInt(l -> Integer.parseInt(l.substring(l.indexOf(':') + 1).strip())).findFirst().orElse(0);
                if (info.contains("role:master") && replicas > 0) {
                    assertThat(j.waitReplicas(replicas, 30_000)).as("replicas of shard %d (%s) that acknowledged "
                            + "every write within 30 s", s.index(), s.address()).isEqualTo(replicas);
                }
            } catch (redis.clients.jedis.exceptions.JedisConnectionException e) {
                if (!refused(e)) {
                    throw e;
                }
                // not running
            }
        }
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        for (LaunchedShard s : db.shards()) {
            while (true) {
                String info;
                try (Jedis j = login(s, c)) {
                    info = j.info("persistence");
                } catch (redis.clients.jedis.exceptions.JedisConnectionException e) {
                    if (refused(e)) {
                        break; // not running
                    }
                    throw e;
                }
                if (!info.contains("aof_enabled:1") || info.contains("aof_buffer_length:0\r")) {
                    break;
                }
                assertThat(System.nanoTime()).as("shard %d wrote its AOF buffer within 30 s", s.index())
                        .isLessThan(until);
                Thread.sleep(50);
            }
        }
    }

    /**
     * Until each master's append-only file holds every write it acknowledged so far, up to 30 s: one more key per
     * master, written after everything else to a slot of that master (by the plan's slot ranges), is looked for in
     * the files of its AOF. Redis appends to the file in the order it runs the writes, so a file that holds the last
     * one holds every one before it; and in the file (the page cache), fsynced or not, is what a SIGKILL of the
     * server keeps. With {@code appendfsync everysec} Redis may hold a write back from the file for up to 2 s while a
     * background fsync runs: this waits for it instead of guessing. The files are read here: the testbeds' hosts
     * share this machine's file system.
     */
    public static void awaitAllInAppendOnlyFiles(Orchestrator db) throws InterruptedException {
        Map<Integer, String> last = new java.util.LinkedHashMap<>();
        // Short keys (at most 20 bytes): an RDB preamble, should a rewrite move them there, stores them uncompressed.
        String nonce = Long.toString(Math.floorMod(System.nanoTime(), 36L * 36 * 36 * 36 * 36 * 36), 36);
        try (JedisCluster jc = client(db)) {
            for (ShardPlan s : db.plan().masters()) {
                String key = keyIn(s, "last:" + nonce + ":");
                jc.set(key, "written after every key before it");
                last.put(s.index(), key);
            }
        }
        awaitInAppendOnlyFiles(db, last);
    }

    /** Until the append-only file of each shard (by index) holds its key, up to 30 s; the failure names the rest. */
    public static void awaitInAppendOnlyFiles(Orchestrator db, Map<Integer, String> keyByShard)
            throws InterruptedException {
        io.smartsim.launch.spec.Checkpoint cp = db.plan().spec().checkpoint().filter(c -> c.kind() != io.smartsim.launch
                .spec.Checkpoint.Kind.RDB).orElseThrow(() -> new IllegalArgumentException("'" + db.id() + "' keeps no "
                + "append-only file: start it with an AOF checkpoint"));
        long t0 = System.nanoTime();
        long until = t0 + Duration.ofSeconds(30).toNanos();
        Map<Integer, String> missing = new java.util.TreeMap<>(keyByShard);
        while (true) {
            missing.entrySet().removeIf(e -> aofHolds(Persistence.dataPath(db.plan().shards().get(e.getKey())
                    .workDir(), cp, db.plan().spec().backend()), e.getValue()));
            if (missing.isEmpty()) {
                System.out.printf("the last write in the append-only file of each of %d shard(s) after %d ms%n",
                        keyByShard.size(), (System.nanoTime() - t0) / 1_000_000);
                return;
            }
            assertThat(System.nanoTime()).as("append-only files still without the last write within 30 s (shard "
                    + "index=key): %s", missing).isLessThan(until);
            Thread.sleep(50);
        }
    }

    /** A key whose slot shard {@code s} serves: {@code prefix} and the first number that lands there. */
    private static String keyIn(ShardPlan s, String prefix) {
        for (int i = 0; ; i++) {
            int slot = Crc16.slot(prefix + i);
            if (s.slots().stream().anyMatch(r -> r.contains(slot))) {
                return prefix + i;
            }
        }
    }

    /** Whether the AOF at {@code path} (Redis 7's directory of files, or KeyDB's one file) holds {@code key}. */
    private static boolean aofHolds(Path path, String key) {
        try (Stream<Path> files = Files.isDirectory(path) ? Files.list(path) : Stream.of(path)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains(key)) {
                    return true;
                }
            }
            return false;
        } catch (java.nio.file.NoSuchFileException e) {
            return false; // not written yet, or being replaced by a rewrite: asked again
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether nothing listens there (the shard is not running), as opposed to a shard that does not answer. */
    private static boolean refused(Throwable e) {
        if (e instanceof java.net.ConnectException) {
            return true;
        }
        // Jedis puts the failed connect of each address it tried in the suppressed exceptions.
        return java.util.Arrays.stream(e.getSuppressed()).anyMatch(DataChecks::refused)
                || (e.getCause() != null && e.getCause() != e && refused(e.getCause()));
    }

    /** Each port and its bus port (+10000) free on every address. */
    public static void portsFree(List<Integer> ports) {
        for (int p : ports) {
            assertThat(Processes.free("0.0.0.0", p)).as("port %d free", p).isTrue();
            assertThat(Processes.free("0.0.0.0", p + 10000)).as("bus port %d free", p + 10000).isTrue();
        }
    }
}
