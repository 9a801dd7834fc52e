package io.smartsim.launch.local;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.cluster.Connections;
import io.smartsim.launch.plan.Crc16;
import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.supervise.Lease;
import io.smartsim.launch.supervise.RestartBudget;
import io.smartsim.launch.testing.LeaseWaits;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisCluster;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** Issue 7 items 2 and 5 against real redis-server processes: restart on failure, its budget, and the lease. */
class SupervisionIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;

    private int ports(int count) {
        return leftovers.freeBase(count);
    }

    private static List<Event> awaitEvents(Experiment exp, String id, Predicate<List<Event>> done, Duration limit)
            throws InterruptedException {
        long until = System.nanoTime() + limit.toNanos();
        List<Event> events = exp.supervision(id).events();
        while (!done.test(events) && System.nanoTime() < until) {
            Thread.sleep(100);
            events = exp.supervision(id).events();
        }
        return events;
    }

    private static List<String> types(List<Event> events, int shard) {
        return events.stream().filter(e -> e.shard().map(s -> s == shard).orElse(false)).map(Event::type).toList();
    }

    /** A key that hashes into {@code range}. */
    private static String keyIn(SlotRange range, String prefix) {
        for (int i = 0; ; i++) {
            String k = prefix + i;
            int slot = Crc16.slot(k);
            if (slot >= range.first() && slot <= range.last()) {
                return k;
            }
        }
    }

    @Test
    void aKilledShardIsRestartedWithItsNodeIdAndRejoinsWhileTheOtherShardsKeepTheirData() throws Exception {
        int base = ports(3);
        try (Experiment exp = Experiment.create("sup", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().id("db").instancesPerNode(3).port(base)
                    .restart(RestartPolicy.ON_FAILURE).build());
            exp.start(db);
            String nodeId;
            try (Jedis j = Connections.open("127.0.0.1", base + 1, Duration.ofSeconds(2), db.plan().access())) {
                nodeId = j.clusterMyId();
            }
            Map<String, Integer> keys = new HashMap<>();
            try (JedisCluster jc = new JedisCluster(Set.of(new HostAndPort("127.0.0.1", base)),
                    LocalOrchestratorIT.login(db))) {
                for (int i = 0; i < 300; i++) {
                    String k = "key:" + i;
                    jc.set(k, "v" + i);
                    int slot = Crc16.slot(k);
                    keys.put(k, (int) db.plan().shards().stream().filter(s -> s.slots().stream()
                            .anyMatch(r -> slot >= r.first() && slot <= r.last())).findFirst().orElseThrow().index());
                }
            }
            LaunchedShard victim = db.shards().get(1);
            Instant killed = Instant.now();
            ProcessHandle.of(victim.pid().orElseThrow()).orElseThrow().destroyForcibly(); // kill -9

            List<Event> events = awaitEvents(exp, "db", ev -> types(ev, 1).contains(Event.REJOINED)
                    || types(ev, 1).contains(Event.RESTART_FAILED), Duration.ofSeconds(40));
            assertThat(types(events, 1)).as(events.toString())
                    .containsExactly(Event.SHARD_DOWN, Event.RESTARTING, Event.RESTARTED, Event.REJOINED);
            Event down = events.stream().filter(e -> e.type().equals(Event.SHARD_DOWN)).findFirst().orElseThrow();
            assertThat(down.detail()).contains("process is gone").contains("pid " + victim.pid().get());
            System.out.printf("kill -9 -> shard-down %d ms, -> rejoined %d ms%n",
                    Duration.between(killed, down.time()).toMillis(), Duration.between(killed, events.stream()
                            .filter(e -> e.type().equals(Event.REJOINED)).findFirst().orElseThrow().time()).toMillis());
            assertThat(events.stream().map(Event::type)).startsWith(Event.STARTED, Event.HEALTHY, Event.SUPERVISING);

            LaunchedShard again = db.shards().get(1);
            assertThat(again.pid()).isNotEqualTo(victim.pid());
            assertThat(again.port()).isEqualTo(base + 1);
            assertThat(exp.status("db").shards().get(1).pid()).as("the manifest records the new process")
                    .isEqualTo(again.pid());
            try (Jedis j = Connections.open("127.0.0.1", base + 1, Duration.ofSeconds(2), db.plan().access())) {
                assertThat(j.clusterMyId()).as("rejoined with its node id from nodes.conf").isEqualTo(nodeId);
            }

            ProcessBuilder checkCmd = new ProcessBuilder("redis-cli", "--user", db.plan().auth().orElseThrow().user(),
                    "--cluster", "check", "127.0.0.1:" + base).redirectErrorStream(true);
            checkCmd.environment().put("REDISCLI_AUTH", db.plan().auth().orElseThrow().password());
            Process check = checkCmd.start();
            String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(check.exitValue()).as(out).isZero();
            assertThat(out).contains("[OK] All nodes agree about slots configuration.", "[OK] All 16384 slots covered.");

            try (JedisCluster jc = new JedisCluster(Set.of(new HostAndPort("127.0.0.1", base)),
                    LocalOrchestratorIT.login(db))) {
                int kept = 0;
                for (Map.Entry<String, Integer> e : keys.entrySet()) {
                    if (e.getValue() != 1) {
                        assertThat(jc.get(e.getKey())).as("key %s on shard %d", e.getKey(), e.getValue())
                                .isEqualTo("v" + e.getKey().substring(4));
                        kept++;
                    } else {
                        assertThat(jc.get(e.getKey())).as("no persistence: shard 1 came back empty").isNull();
                    }
                }
                assertThat(kept).isGreaterThan(100);
                String k = keyIn(db.plan().shards().get(1).slots().get(0), "back:");
                jc.set(k, "served");
                try (Jedis j = Connections.open("127.0.0.1", base + 1, Duration.ofSeconds(2), db.plan().access())) {
                    assertThat(j.get(k)).as("the restarted shard serves its own slots").isEqualTo("served");
                }
            }
            assertThat(exp.status("db").state()).isEqualTo("RUNNING");
            exp.stop(db);
            List<Event> after = exp.supervision("db").events();
            assertThat(after.get(after.size() - 1).type()).isEqualTo(Event.STOPPED);
        }
    }

    /**
     * The watchdog sees a dead master within a second, long before Redis fails it over (node timeout 5 s). Started
     * again at once as master of its slots, with no checkpoint, it would come back empty and its replica would copy
     * that; so its replica takes the slots over first and the restarted process rejoins as the replica's replica.
     */
    @Test
    void aKilledMasterHandsItsSlotsToItsReplicaBeforeItsRestartAndNoAcknowledgedWriteIsLost() throws Exception {
        int base = ports(6);
        try (Experiment exp = Experiment.create("sup", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().id("db").instancesPerNode(3)
                    .replicas(1).port(base).restart(RestartPolicy.ON_FAILURE).build());
            exp.start(db);
            int replica = db.plan().shards().stream().filter(p -> p.replicaOf().equals(java.util.Optional.of(1)))
                    .findFirst().orElseThrow().index();
            int keys = 3000;
            org.apache.commons.pool2.impl.GenericObjectPoolConfig<redis.clients.jedis.Connection> one =
                    new org.apache.commons.pool2.impl.GenericObjectPoolConfig<>();
            one.setMaxTotal(1); // a write and the WAIT after it share a connection: WAIT counts its client's writes
            try (JedisCluster jc = new JedisCluster(Set.of(new HostAndPort("127.0.0.1", base)),
                    LocalOrchestratorIT.login(db), 5, one)) {
                for (int i = 0; i < keys; i++) {
                    jc.set("key:" + i, "v" + i);
                }
                for (int m = 0; m < 3; m++) {
                    String sample = keyIn(db.plan().shards().get(m).slots().get(0), "key:");
                    assertThat(jc.waitReplicas(sample, 1, 5000)).as("WAIT 1 on shard %d", m).isEqualTo(1);
                }
            }
            LaunchedShard victim = db.shards().get(1);
            ProcessHandle.of(victim.pid().orElseThrow()).orElseThrow().destroyForcibly(); // kill -9

            List<Event> events = awaitEvents(exp, "db", ev -> types(ev, 1).contains(Event.REJOINED)
                    || types(ev, 1).contains(Event.RESTART_FAILED), Duration.ofSeconds(40));
            assertThat(types(events, 1)).as(events.toString()).containsExactly(Event.SHARD_DOWN, Event.FAILOVER,
                    Event.RESTARTING, Event.RESTARTED, Event.REJOINED);
            assertThat(events.stream().filter(e -> e.type().equals(Event.FAILOVER)).findFirst().orElseThrow()
                    .detail()).contains("shard " + replica + " (127.0.0.1:" + (base + replica) + ")",
                    "took over slots " + db.plan().shards().get(1).slots().get(0));

            io.smartsim.launch.status.HealthReport h = db.health();
            assertThat(h.healthy()).as(h.problems().toString()).isTrue();
            assertThat(h.shards().get(replica).role()).as("the replica now masters the slots").isEqualTo("master");
            assertThat(h.shards().get(replica).slots()).isEqualTo(db.plan().shards().get(1).slots());
            assertThat(h.shards().get(1).role()).as("the restarted process is its replica").isEqualTo("slave");
            assertThat(h.shards().get(1).master()).contains("127.0.0.1:" + (base + replica));
            try (JedisCluster jc = new JedisCluster(Set.of(new HostAndPort("127.0.0.1", base)),
                    LocalOrchestratorIT.login(db))) {
                for (int i = 0; i < keys; i++) {
                    assertThat(jc.get("key:" + i)).as("key:%d after the restart", i).isEqualTo("v" + i);
                }
            }
            try (Jedis j = Connections.open("127.0.0.1", base + 1, Duration.ofSeconds(2), db.plan().access())) {
                long copied = j.dbSize();
                assertThat(copied).as("the restarted process synced the keys back from its new master")
                        .isGreaterThan(keys / 5);
            }
            assertThat(exp.status("db").state()).isEqualTo("RUNNING");
            exp.stop(db);
        }
    }

    /** SIGSTOP: the process exists but answers nothing, as on a hung node. */
    @Test
    void aHungShardIsNoticedByPingTerminatedAndRestarted() throws Exception {
        int base = ports(3);
        try (Experiment exp = Experiment.create("sup", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().id("db").instancesPerNode(3).port(base)
                    .restart(RestartPolicy.ON_FAILURE).build());
            exp.start(db);
            LaunchedShard victim = db.shards().get(0);
            Process stop = new ProcessBuilder("kill", "-STOP", Long.toString(victim.pid().orElseThrow())).start();
            assertThat(stop.waitFor()).isZero();
            long t0 = System.nanoTime();
            List<Event> events = awaitEvents(exp, "db", ev -> types(ev, 0).contains(Event.REJOINED)
                    || types(ev, 0).contains(Event.RESTART_FAILED), Duration.ofSeconds(60));
            assertThat(types(events, 0)).as(events.toString())
                    .containsExactly(Event.SHARD_DOWN, Event.RESTARTING, Event.RESTARTED, Event.REJOINED);
            Event down = events.stream().filter(e -> e.type().equals(Event.SHARD_DOWN)).findFirst().orElseThrow();
            assertThat(down.detail()).contains("has not answered PING for").contains("hung");
            assertThat(ProcessHandle.of(victim.pid().get()).filter(h -> !LocalLauncher.exited(h.pid())))
                    .as("the hung process was terminated").isEmpty();
            System.out.printf("hung shard rejoined %.1f s after SIGSTOP%n", (System.nanoTime() - t0) / 1e9);
            assertThat(exp.status("db").state()).isEqualTo("RUNNING");
            exp.stop(db);
        }
    }

    @Test
    void aShardWhoseRestartKeepsFailingIsGivenUpAfterItsBudgetAndTheOrchestratorIsDegraded() throws Exception {
        int base = ports(3);
        try (Experiment exp = Experiment.create("sup", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().id("db").instancesPerNode(3).port(base)
                    .restart(RestartPolicy.ON_FAILURE).build());
            exp.start(db);
            LaunchedShard victim = db.shards().get(2);
            // A config the server refuses: every restart exits at once (as a broken disk or binary would make it).
            Files.writeString(db.plan().shards().get(2).configPath(), "not-a-redis-directive yes\n",
                    java.nio.file.StandardOpenOption.APPEND);
            ProcessHandle.of(victim.pid().orElseThrow()).orElseThrow().destroyForcibly();
            List<Event> events = awaitEvents(exp, "db", ev -> types(ev, 2).contains(Event.GAVE_UP),
                    Duration.ofSeconds(40));
            List<String> t = types(events, 2);
            assertThat(t).as(events.toString()).containsExactly(Event.SHARD_DOWN,
                    Event.RESTARTING, Event.RESTART_FAILED, Event.RESTARTING, Event.RESTART_FAILED,
                    Event.RESTARTING, Event.RESTART_FAILED, Event.GAVE_UP);
            assertThat(events.stream().filter(e -> e.type().equals(Event.RESTART_FAILED)).findFirst()
                    .orElseThrow().detail()).contains("shard 2").contains("port " + victim.port()).contains("exited");
            assertThat(events.stream().filter(e -> e.type().equals(Event.GAVE_UP)).findFirst().orElseThrow()
                    .detail()).contains(RestartBudget.DEFAULT_MAX + " time(s)").contains("DEGRADED");
            OrchestratorStatus s = exp.status("db");
            assertThat(s.state()).isEqualTo("DEGRADED");
            Thread.sleep(1500);
            assertThat(types(exp.supervision("db").events(), 2)).as("no restart after giving up").hasSize(t.size());
            exp.stop(db);
        }
    }

    @Test
    void shardsStopThemselvesOnceTheLeaseIsNoLongerRenewedAndStopIsCleanAfterwards() throws Exception {
        int base = ports(3);
        Duration lease = Duration.ofSeconds(6);
        Orchestrator db;
        List<LaunchedShard> shards;
        try (Experiment exp = Experiment.create("sup", dir)) {
            db = exp.createOrchestrator(OrchestratorSpec.builder().id("db").instancesPerNode(3).port(base)
                    .lease(lease).build());
            exp.start(db);
            shards = db.shards();
            assertThat(shards).allSatisfy(s -> assertThat(s.handle()).containsKey("leaseGuardPid"));
            Instant first = exp.supervision("db").leaseExpiry().orElseThrow();
            // The open experiment is the controller: it renews, so past the expiry the shards had after the start
            // (and a guard's check after it) they all still serve.
            LeaseWaits.awaitPast(first);
            assertThat(LeaseWaits.guardsExpired(exp.supervision("db").events())).as("no guard saw its lease run out")
                    .isEmpty();
            assertThat(exp.status("db").state()).isEqualTo("RUNNING");
            assertThat(exp.supervision("db").leaseExpiry().orElseThrow()).isAfter(first);
            exp.detach(db); // left running; once this experiment closes, nobody renews the lease
        }
        // Nobody renews now: the shards stop once the last expiry written has passed (waited for generously).
        Instant closed = Instant.now();
        Instant last = Lease.in(db.plan().dir()).expiry().orElseThrow();
        long until = LeaseWaits.goneBy(last);
        while (shards.stream().anyMatch(s -> ProcessHandle.of(s.pid().get()).filter(h -> !LocalLauncher.exited(h.pid()))
                .isPresent()) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        Duration took = Duration.between(closed, Instant.now());
        System.out.printf("every shard gone %d ms after the last renewal could have happened (detach), %d ms after "
                + "the last expiry%n", took.toMillis(), Duration.between(last, Instant.now()).toMillis());
        assertThat(shards).as("every shard gone once the lease ran out at %s", last).allSatisfy(s ->
                assertThat(ProcessHandle.of(s.pid().get()).filter(h -> !LocalLauncher.exited(h.pid()))).isEmpty());
        try (Experiment exp = Experiment.reconnect(dir)) {
            OrchestratorStatus s = exp.status("db");
            assertThat(s.state()).isEqualTo("STALE");
            assertThat(s.error().orElseThrow()).contains("lease ran out").contains("stopped themselves");
            List<Event> expired = exp.supervision("db").events().stream()
                    .filter(e -> e.type().equals(Event.LEASE_EXPIRED)).toList();
            assertThat(expired).hasSize(3);
            assertThat(expired).allSatisfy(e -> assertThat(e.detail()).contains("without being renewed"));
            LeaseWaits.assertStoppedOnlyAfter(expired, last);
            assertThat(exp.supervision("db").leaseExpiry()).as("nothing renewed after the experiment closed")
                    .contains(last);
            assertThat(exp.supervision("db").leaseExpired()).isTrue();
            exp.stop(exp.orchestrator("db"));
            assertThat(exp.status("db").state()).isEqualTo("STOPPED");
        }
        assertThat(Files.exists(Lease.in(db.plan().dir()).file())).isTrue();
    }
}
