package io.smartsim.launch.local;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.status.ShardHealth;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Connection;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.util.JedisClusterCRC16;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Replicas and failover, and health under faults (kill -9, SIGSTOP), against real redis-server processes. */
class ReplicasIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final int KEYS = 3000;
    @TempDir
    Path dir;
    private final List<Integer> usedPorts = new ArrayList<>();
    private final List<Long> stopped = new ArrayList<>();

    private int ports(int count) {
        int base = leftovers.freeBase(count);
        usedPorts.addAll(Processes.range(base, count));
        return base;
    }

    @AfterEach
    void continueStoppedShards() {
        stopped.forEach(pid -> signal("CONT", pid)); // a stopped process cannot exit until continued (before the check)
    }

    private static void signal(String sig, long pid) {
        try {
            Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).redirectErrorStream(true).start();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static void kill9(LaunchedShard s) throws Exception {
        ProcessHandle h = ProcessHandle.of(s.pid().orElseThrow()).orElseThrow();
        h.destroyForcibly();
        h.onExit().get(5, TimeUnit.SECONDS);
    }

    /** One connection per node: a write and the WAIT after it share it, as WAIT counts only its client's writes. */
    private static JedisCluster client(Orchestrator db, int port) {
        GenericObjectPoolConfig<Connection> pool = new GenericObjectPoolConfig<>();
        pool.setMaxTotal(1);
        return new JedisCluster(Set.of(new HostAndPort("127.0.0.1", port)), LocalOrchestratorIT.login(db), 5, pool);
    }

    /** Polls the status until {@code until} holds, at most {@code timeout}; returns every distinct state line seen. */
    private static OrchestratorStatus awaitStatus(Experiment exp, Duration timeout, List<String> seen,
                                                  java.util.function.Predicate<OrchestratorStatus> until)
            throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            OrchestratorStatus st = exp.status("orchestrator");
            String line = st.state() + " serving=" + st.serving() + " " + st.health().map(HealthReport::summary)
                    .orElse("");
            if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(line)) {
                seen.add(line);
            }
            if (until.test(st) || System.nanoTime() > end) {
                return st;
            }
            Thread.sleep(100);
        }
    }

    @Test
    void aKilledMasterIsReplacedByItsReplicaAndEveryAcknowledgedWriteSurvives() throws Exception {
        int base = ports(6);
        try (Experiment exp = Experiment.create("demo", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).replicas(1)
                    .port(base).build());
            assertThat(db.plan().warnings()).hasSize(1).first().asString().contains("every replica shares host");
            exp.start(db);
            assertThat(db.shards()).hasSize(6);

            // Each replica is attached to its planned master, with its link up.
            HealthReport h = db.health();
            assertThat(h.healthy()).as(h.problems().toString()).isTrue();
            assertThat(h.shards()).extracting(ShardHealth::role)
                    .containsExactly("master", "master", "master", "slave", "slave", "slave");
            for (int r = 3; r < 6; r++) {
                int master = db.plan().shards().get(r).replicaOf().orElseThrow();
                assertThat(h.shards().get(r).master()).contains(db.shards().get(master).address());
                assertThat(h.shards().get(r).masterLink()).contains("up");
            }
            String check = RedisCli.assertClusterCheckPasses(db, base, "1 additional replica(s)");
            assertThat(check.split("replicates ", -1)).as(check).hasSize(4); // 3 replicas, one per master

            // Thousands of keys over every shard, each master's acknowledged by its replica (WAIT 1).
            try (JedisCluster jc = client(db, base)) {
                for (int i = 0; i < KEYS; i++) {
                    jc.set("key:" + i, "v" + i);
                }
                for (ShardPlan m : db.plan().masters()) {
                    String sample = sampleKey(m);
                    assertThat(jc.waitReplicas(sample, 1, 5000)).as("WAIT 1 on %s", m.name()).isEqualTo(1);
                }
            }
            assertThat(db.health().shards().subList(0, 3)).allSatisfy(s -> assertThat(s.keys()).isPositive());

            kill9(db.shards().get(0));
            List<String> seen = new ArrayList<>();
            OrchestratorStatus down = awaitStatus(exp, Duration.ofSeconds(5), seen, st -> true);
            assertThat(down.state()).isEqualTo("DEGRADED");
            assertThat(down.serving()).as(seen.toString()).isFalse();
            assertThat(down.health().orElseThrow().problems()).anySatisfy(p -> assertThat(p)
                    .startsWith("shard 0 (master, 127.0.0.1:" + base + "): down:"));

            OrchestratorStatus after = awaitStatus(exp, Duration.ofSeconds(30), seen, OrchestratorStatus::serving);
            assertThat(after.serving()).as(seen.toString()).isTrue();
            assertThat(after.state()).isEqualTo("DEGRADED"); // a process is still gone: redundancy lost
            HealthReport ah = after.health().orElseThrow();
            assertThat(ah.summary()).isEqualTo("all 16384 slots served, 5 of 6 process(es) up");
            ShardHealth promoted = ah.shards().get(3);
            assertThat(promoted.role()).isEqualTo("master");
            assertThat(promoted.planned()).contains("replica of 0");
            assertThat(promoted.slots()).isEqualTo(db.plan().shards().get(0).slots());

            try (JedisCluster jc = client(db, base + 1)) {
                for (int i = 0; i < KEYS; i++) {
                    assertThat(jc.get("key:" + i)).as("key:%d after the failover", i).isEqualTo("v" + i);
                }
            }
            exp.stop(db);
        }
    }

    @Test
    void replicasSyncOverTlsAndPortAutoFindsRoomForEveryProcess() throws Exception {
        int base = ports(6);
        try (Experiment exp = Experiment.create("demo", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).replicas(1)
                    .port(base).autoPort(true).tls(true).build());
            db.plan().shards().forEach(s -> leftovers.shardPorts(s.port(), 1)); // what auto chose
            assertThat(db.plan().shards()).extracting(ShardPlan::port).doesNotHaveDuplicates().hasSize(6);
            exp.start(db);
            HealthReport h = db.health();
            assertThat(h.healthy()).as(h.problems().toString()).isTrue();
            assertThat(h.shards().subList(3, 6)).allSatisfy(s -> assertThat(s.masterLink()).contains("up"));
            exp.stop(db);
        }
    }

    /** A key of the ones written that hashes into {@code m}'s slots. */
    private static String sampleKey(ShardPlan m) {
        for (int i = 0; i < KEYS; i++) {
            int slot = JedisClusterCRC16.getSlot("key:" + i);
            if (m.slots().stream().anyMatch(r -> r.contains(slot))) {
                return "key:" + i;
            }
        }
        throw new AssertionError("no key in " + m.slots());
    }

    @Test
    void aKilledMasterWithoutReplicaIsDegradedNamingItsLostSlots() throws Exception {
        int base = ports(3);
        try (Experiment exp = Experiment.create("demo", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).port(base).build());
            exp.start(db);
            kill9(db.shards().get(1));
            OrchestratorStatus st = exp.status("orchestrator");
            assertThat(st.state()).isEqualTo("DEGRADED");
            assertThat(st.serving()).isFalse();
            assertThat(st.health().orElseThrow().problems()).containsExactly(
                    "shard 1 (master, 127.0.0.1:" + (base + 1) + "): down: Connection refused (no process listens on "
                            + "its port)",
                    "5461 of 16384 slots not served (5462-10922): no reachable master owns them");
            exp.stop(db);
        }
    }

    @Test
    void aStoppedShardIsReportedHungWithinTheBoundAndHealthyAgainAfterSigcont() throws Exception {
        int base = ports(3);
        try (Experiment exp = Experiment.create("demo", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).port(base).build());
            exp.start(db);
            long pid = db.shards().get(2).pid().orElseThrow();
            stopped.add(pid);
            signal("STOP", pid);
            long t0 = System.nanoTime();
            // Bounded: one hung shard costs one 2 s reply timeout, asked in parallel with the others. Without the
            // timeout this call would hang until SIGCONT, which is sent only after it returns; the deadline turns
            // such a hang into a failure (it is no speed target: that the call returns at all is the check).
            java.util.concurrent.CompletableFuture<OrchestratorStatus> asked =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> exp.status("orchestrator"));
            assertThat(asked).as("status with shard 2 stopped").succeedsWithin(Duration.ofSeconds(120));
            OrchestratorStatus st = asked.join();
            System.out.printf("status with a hung shard took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            assertThat(st.state()).isEqualTo("UNHEALTHY"); // its process exists: not gone, hung
            assertThat(st.health().orElseThrow().problems()).first().asString().startsWith("shard 2 (master, 127.0.0.1:"
                    + (base + 2) + "): hung: accepted the connection but did not answer within 2000 ms");
            assertThat(st.health().orElseThrow().shards().subList(0, 2)).allSatisfy(s ->
                    assertThat(s.reachable()).isTrue());

            signal("CONT", pid);
            stopped.remove(pid);
            List<String> seen = new ArrayList<>();
            // Redis clears a failed master's FAIL flag up to 2 node timeouts after it answers again.
            OrchestratorStatus back = awaitStatus(exp, Duration.ofSeconds(30), seen, OrchestratorStatus::healthy);
            assertThat(back.state()).as(seen.toString()).isEqualTo("RUNNING");
            exp.stop(db);
        }
    }
}
