package io.smartsim.launch.local;

import io.smartsim.launch.status.OrchestratorState;
import io.smartsim.launch.spec.Backend;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.ManifestException;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.error.StateException;
import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.status.ShardHealth;
import io.smartsim.launch.manifest.Manifest;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisCluster;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The foundation end to end, against real redis-server processes. */
class LocalOrchestratorIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;
    private final List<Integer> usedPorts = new ArrayList<>();

    private int ports(int count) {
        int base = leftovers.freeBase(count);
        usedPorts.addAll(Processes.range(base, count));
        return base;
    }

    /** A client config that logs in as the orchestrator's user. */
    static JedisClientConfig login(Orchestrator db) {
        Credentials c = db.plan().auth().orElseThrow();
        return DefaultJedisClientConfig.builder().user(c.user()).password(c.password()).build();
    }

    @Test
    void threeShardsFormAClusterThatRedisCliAcceptsAndStopCleansUp() throws Exception {
        int base = ports(3);
        try (Experiment exp = Experiment.create("demo", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().nodes(1).instancesPerNode(3)
                    .port(base).build());
            exp.start(db);
            assertThat(db.addresses()).containsExactly("127.0.0.1:" + base, "127.0.0.1:" + (base + 1),
                    "127.0.0.1:" + (base + 2));
            assertThat(db.ssdb()).isEqualTo(String.join(",", db.addresses()));
            assertThat(db.dbType()).isEqualTo("Clustered");

            // A tool nobody here wrote agrees the cluster is sound.
            ProcessBuilder checkCmd = new ProcessBuilder("redis-cli", "--user", "smartsim", "--cluster", "check",
                    "127.0.0.1:" + base).redirectErrorStream(true);
            checkCmd.environment().put("REDISCLI_AUTH", db.plan().auth().orElseThrow().password());
            Process check = checkCmd.start();
            String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(check.exitValue()).as(out).isZero();
            assertThat(out).contains("[OK] All nodes agree about slots configuration.",
                    "[OK] All 16384 slots covered.");

            // A cluster-aware client routes by CRC16 and every shard gets keys.
            try (JedisCluster jc = new JedisCluster(Set.of(new HostAndPort("127.0.0.1", base)), login(db))) {
                for (int i = 0; i < 300; i++) {
                    jc.set("key:" + i, "v" + i);
                }
                assertThat(jc.get("key:299")).isEqualTo("v299");
            }
            HealthReport atStart = db.healthAtStart().orElseThrow();
            assertThat(atStart.healthy()).isTrue();
            assertThat(atStart.shards()).extracting(ShardHealth::index).containsExactly(0, 1, 2);
            HealthReport h = db.health();
            assertThat(h.healthy()).isTrue();
            assertThat(h.clusterState()).isEqualTo("ok");
            assertThat(h.shards()).extracting(ShardHealth::role).containsOnly("master");
            assertThat(h.shards()).flatExtracting(ShardHealth::slots).containsExactly(new SlotRange(0, 5461),
                    new SlotRange(5462, 10922), new SlotRange(10923, 16383));
            assertThat(h.shards().stream().mapToLong(ShardHealth::keys).sum()).isEqualTo(300);
            assertThat(h.shards()).allSatisfy(s -> assertThat(s.keys()).isPositive());

            // Logs per shard in the experiment directory.
            assertThat(db.logs()).allSatisfy(log -> assertThat(log).exists().startsWith(dir.toRealPath()));
            Manifest m = new ManifestStore(dir).read().orElseThrow();
            assertThat(m.find("orchestrator").orElseThrow().status()).isEqualTo(Status.RUNNING);
            assertThat(m.find("orchestrator").orElseThrow().shards()).extracting(LaunchedShard::pid)
                    .allSatisfy(pid -> assertThat(pid).isPresent());

            exp.stop(db);
            assertThat(db.state()).isEqualTo(OrchestratorState.STOPPED);
            assertThat(Processes.serversOn(usedPorts)).isEmpty();
            assertThat(new ManifestStore(dir).read().orElseThrow().find("orchestrator").orElseThrow().status())
                    .isEqualTo(Status.STOPPED);
            assertThatThrownBy(() -> exp.stop(db)).isInstanceOf(StateException.class)
                    .hasMessageContaining("is not running");
        }
    }

    /**
     * A shard outlives the JVM that started it, and is no child of it: on Java 17 a running child holds the JVM's exit
     * for 300 ms (its reaper thread sits in native code), which every {@code db start} paid.
     */
    @Test
    void shardsAreNotChildrenOfTheJvmThatStartedThem() {
        int base = ports(3);
        try (Experiment exp = Experiment.create("demo", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).port(base).build());
            exp.start(db);
            List<Long> pids = db.shards().stream().map(s -> s.pid().orElseThrow()).toList();
            assertThat(ProcessHandle.current().descendants().map(ProcessHandle::pid).toList())
                    .as("shard processes among this JVM's descendants").doesNotContainAnyElementsOf(pids);
            for (long pid : pids) {
                assertThat(ProcessHandle.of(pid)).as("shard pid %d", pid).hasValueSatisfying(h -> assertThat(h.isAlive())
                        .isTrue());
            }
            exp.stop(db);
            for (long pid : pids) {
                // Exited, as stop promises: a zombie until init reaps it (the shards are not this JVM's children, so
                // isAlive still says yes to one; under load init took longer than this check once).
                assertThat(ProcessHandle.of(pid).filter(h -> h.isAlive() && !LocalLauncher.exited(h.pid())))
                        .as("shard pid %d after stop", pid).isEmpty();
            }
        }
    }

    @Test
    void aLaterProcessFindsChecksAndStopsItFromTheManifest() {
        int base = ports(3);
        Experiment first = Experiment.create("demo", dir);
        Orchestrator db = first.createOrchestrator(OrchestratorSpec.builder().id("db").instancesPerNode(3).port(base)
                .build());
        first.start(db);
        first.detach(db);
        first.close(); // detached: keeps running

        Experiment later = Experiment.reconnect(dir);
        assertThat(later.name()).isEqualTo("demo");
        OrchestratorStatus st = later.status("db");
        assertThat(st.state()).isEqualTo("RUNNING");
        assertThat(st.health().orElseThrow().healthy()).isTrue();
        // Where each shard runs, as recorded for the dashboard, db status --json and /metrics: this host by the name
        // hostname -s prints, as the local models record theirs (before: the plan's node index, "0").
        assertThat(st.shards()).hasSize(3).allSatisfy(s -> assertThat(s.handle()).as("shard %d", s.index())
                .containsEntry("node", ColocatedIT.hostname()));
        assertThat(later.orchestrator("db").ssdb()).isEqualTo(db.ssdb());
        assertThat(later.orchestrator("db").health().healthy()).isTrue();
        assertThat(later.orchestrator("db").healthAtStart()).as("not started by this process").isEmpty();
        later.stop(later.orchestrator("db"));
        assertThat(Experiment.reconnect(dir).status("db").state()).isEqualTo("STOPPED");
    }

    @Test
    void closingTheExperimentStopsWhatItStartedAndSeveralOrchestratorsCoexist() {
        int a = ports(3);
        int b = ports(1);
        try (Experiment exp = Experiment.create("two", dir)) {
            Orchestrator cluster = exp.createOrchestrator(OrchestratorSpec.builder().id("big").instancesPerNode(3)
                    .port(a).build());
            Orchestrator single = exp.createOrchestrator(OrchestratorSpec.builder().id("small").port(b).build());
            exp.start(cluster, single);
            assertThat(single.dbType()).isEqualTo("Standalone");
            assertThat(single.health().healthy()).isTrue();
            assertThat(single.health().clusterState()).isEqualTo("standalone");
            assertThat(exp.statuses()).extracting(OrchestratorStatus::state).containsExactly("RUNNING", "RUNNING");
        }
        assertThat(Processes.serversOn(usedPorts)).isEmpty();
    }

    @Test
    void aSecondStartWithTheSameIdIsRefusedAndTheFirstKeepsRunning() {
        int base = ports(1);
        try (Experiment exp = Experiment.create("demo", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().port(base).build());
            exp.start(db);
            Experiment other = Experiment.create("demo", dir);
            Orchestrator again = other.createOrchestrator(OrchestratorSpec.builder().port(base + 50).build());
            assertThatThrownBy(() -> other.start(again)).isInstanceOf(StateException.class)
                    .hasMessageContaining("'orchestrator' is already running")
                    .hasMessageContaining("db stop");
            assertThat(db.health().healthy()).isTrue();
            assertThat(Processes.serversOn(List.of(base + 50))).isEmpty();
        }
    }

    @Test
    void aBusyPortFailsBeforeAnythingStartsAndNamesTheNumbers() throws IOException {
        int base = ports(3);
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress("127.0.0.1", base + 1));
            try (Experiment exp = Experiment.create("demo", dir)) {
                Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).port(base)
                        .build());
                assertThatThrownBy(() -> exp.start(db)).isInstanceOf(InvalidSpecException.class)
                        .hasMessage("port: 1 node(s) x 3 per node = 3 shard(s) use ports " + base + "-" + (base + 2)
                                + " and bus ports " + (base + 10000) + "-" + (base + 10002) + ", but " + (base + 1)
                                + " is already in use on 127.0.0.1 (held by pid " + ProcessHandle.current().pid()
                                + " (java)); stop what holds it, choose another --port, or --port auto");
            }
        }
        assertThat(Processes.serversOn(usedPorts)).isEmpty();
        assertThat(dir.resolve("orchestrator")).as("nothing written before the check").doesNotExist();
    }

    @Test
    void aBadConfigLineFailsWithTheShardItsPortAndItsLogAndLeavesNothing() {
        int base = ports(3);
        try (Experiment exp = Experiment.create("demo", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).port(base)
                    .addConfig("no-such-directive yes").build());
            // All three shards fail the same way; whichever is seen first is named, with its own port.
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(ShardStartException.class)
                    .hasMessageMatching("(?s)shard [012] \\(orchestrator_[012]\\) of 'orchestrator' on port "
                            + "(" + base + "|" + (base + 1) + "|" + (base + 2) + ") .*")
                    .hasMessageContaining("exited with code 1")
                    .hasMessageContaining("no-such-directive")
                    .hasMessageContaining("every shard of this launch was stopped");
            assertThat(db.state()).isEqualTo(OrchestratorState.FAILED);
            assertThat(exp.status("orchestrator").state()).isEqualTo("FAILED");
        }
    }

    @Test
    void aMissingServerBinaryIsNamedWithHowToGetIt() {
        int base = ports(3);
        try (Experiment exp = Experiment.create("demo", dir)) {
            Orchestrator keydb = exp.createOrchestrator(OrchestratorSpec.builder().backend(Backend.KEYDB)
                    .instancesPerNode(3).port(base).build());
            org.junit.jupiter.api.Assumptions.assumeTrue(io.smartsim.launch.util.Executables.onPath("keydb-server")
                    .isEmpty(), "keydb-server is installed here");
            assertThatThrownBy(() -> exp.start(keydb)).isInstanceOf(InvalidSpecException.class)
                    .hasMessageContaining("keydb-server (backend keydb) was not found on PATH")
                    .hasMessageContaining("--server-binary");
            Orchestrator bogus = exp.createOrchestrator(OrchestratorSpec.builder().id("b").port(base)
                    .serverBinary(Path.of("/nonexistent/redis-server")).build());
            assertThatThrownBy(() -> exp.start(bogus)).isInstanceOf(InvalidSpecException.class)
                    .hasMessageStartingWith("serverBinary: /nonexistent/redis-server is not an executable file");
        }
    }

    @Test
    void unknownInterfaceAndLauncherAreRejectedWhenPlanning() {
        try (Experiment exp = Experiment.create("demo", dir)) {
            assertThatThrownBy(() -> exp.createOrchestrator(OrchestratorSpec.builder().interfaceName("nosuch0")
                    .build())).isInstanceOf(InvalidSpecException.class)
                    .hasMessageStartingWith("interfaces: there is no network interface 'nosuch0' on this machine; "
                            + "available: ").hasMessageContaining("lo");
            assertThatThrownBy(() -> exp.createOrchestrator(OrchestratorSpec.builder().launcher("nope").build()))
                    .isInstanceOf(InvalidSpecException.class)
                    .hasMessageStartingWith("launcher: unknown launcher 'nope'; available here: ")
                    .hasMessageContaining("local");
        }
    }

    @Test
    void processesThatDiedAreReportedStaleNotTrusted() throws Exception {
        int base = ports(3);
        Experiment exp = Experiment.create("demo", dir);
        Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).port(base).build());
        exp.start(db);
        exp.detach(db);
        for (LaunchedShard s : db.shards()) {
            ProcessHandle h = ProcessHandle.of(s.pid().orElseThrow()).orElseThrow();
            h.destroyForcibly();
            h.onExit().get(5, TimeUnit.SECONDS);
        }
        OrchestratorStatus st = Experiment.reconnect(dir).status("orchestrator");
        assertThat(st.state()).isEqualTo("STALE");
        assertThat(st.error().orElseThrow()).contains("none of its 3 processes exists");
        // A new start replaces the stale entry.
        Experiment exp2 = Experiment.create("demo", dir);
        Orchestrator db2 = exp2.createOrchestrator(db.spec());
        exp2.start(db2);
        assertThat(db2.health().healthy()).isTrue();
        exp2.close();
    }

    @Test
    void oneShardKilledMakesStatusDegraded() throws Exception {
        int base = ports(3);
        try (Experiment exp = Experiment.create("demo", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).port(base).build());
            exp.start(db);
            ProcessHandle h = ProcessHandle.of(db.shards().get(1).pid().orElseThrow()).orElseThrow();
            h.destroyForcibly();
            h.onExit().get(5, TimeUnit.SECONDS);
            OrchestratorStatus st = exp.status("orchestrator");
            assertThat(st.state()).isEqualTo("DEGRADED");
            assertThat(st.health().orElseThrow().shards().get(1).reachable()).isFalse();
            assertThat(st.healthy()).isFalse();
        }
    }

    @Test
    void aGarbageManifestIsAClearError() throws IOException {
        Files.writeString(dir.resolve("manifest.json"), "this is not json");
        assertThatThrownBy(() -> Experiment.reconnect(dir)).isInstanceOf(ManifestException.class)
                .hasMessageContaining("is not a valid smartsim-launch manifest");
        assertThatThrownBy(() -> Experiment.create("demo", dir)).isInstanceOf(ManifestException.class);
        Path empty = dir.resolve("empty");
        assertThatThrownBy(() -> Experiment.reconnect(empty)).isInstanceOf(ManifestException.class)
                .hasMessageContaining("nothing has been started in this experiment directory");
    }

    @Test
    void startupFailureAfterProcessesStartStopsThemAll() {
        // Every process starts, then exits with code 1 when it reads a value it rejects ('maxclients 0'):
        // the failure is seen by the launcher, not by planning, and all processes must be gone afterwards.
        int base = ports(3);
        try (Experiment exp = Experiment.create("demo", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).port(base)
                    .addConfig("maxclients 0").startupTimeout(Duration.ofSeconds(20)).build());
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(ShardStartException.class);
        }
        assertThat(Processes.serversOn(usedPorts)).isEmpty();
        assertThat(usedPorts.stream().map(p -> Processes.free("127.0.0.1", p)).collect(Collectors.toSet()))
                .containsOnly(true);
    }
}
