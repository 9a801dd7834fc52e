package io.smartsim.launch.local;

import io.smartsim.launch.Ensemble;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Model;
import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.colocated.ColocatedStatus;
import io.smartsim.launch.spec.ColocatedDb;
import io.smartsim.launch.spec.EnsembleSpec;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spec.RunSettings;
import io.smartsim.launch.testing.ColocatedChecks;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static io.smartsim.launch.testing.ColocatedChecks.lines;
import static io.smartsim.launch.testing.ColocatedChecks.redisCli;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Colocated databases on the local launcher, with real redis-server: one database per node (here: this machine)
 * however many ranks run, reached over a Unix socket or loopback TCP, pinned with taskset, stopped with the
 * application however it ends, and each start fault named with the node, the port or socket and the log's tail.
 */
@Timeout(120)
class ColocatedIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, the ports given out
    @TempDir
    Path dir;
    private Path app;
    private Path go;
    private final String node = hostname();

    @BeforeEach
    void script() throws IOException {
        app = ColocatedChecks.app(dir);
        go = dir.resolve("go");
    }

    @Test
    void twoRanksShareOneDatabaseOverTheSocketPinnedToCpu1AndNothingStaysAfter() throws Exception {
        Path socket = dir.resolve("ssdb.sock");
        try (Experiment exp = Experiment.create("colo", dir.resolve("exp"))) {
            Model sim = exp.createModel(ModelSpec.builder("sim", app.toString()).args(go.toString())
                    .run(RunSettings.builder().tasks(2).build())
                    .colocatedDb(ColocatedDb.unixSocket(socket.toString(), 0750).pinning("1")).build());
            ColocatedPlan plan = sim.plan().colocated().orElseThrow();
            exp.start(sim);

            await(() -> lines(sim.stdout()).filter(l -> l.contains(" ok ")).count() == 2, "both ranks wrote");
            List<Processes.Proc> servers = Processes.serversUnder(dir);
            assertThat(servers).as("exactly one database for the 2 ranks on this node").hasSize(1);
            long pid = servers.get(0).pid();
            assertThat(cpusAllowed(pid)).as("pinned with taskset to CPU 1").isEqualTo("1");
            assertThat(exp.colocatedDatabases()).containsOnlyKeys("sim");
            assertThat(sim.colocatedDatabases()).singleElement().satisfies(n -> {
                assertThat(n.node()).isEqualTo(node);
                assertThat(n.pid()).isEqualTo(pid);
                assertThat(n.health()).isEqualTo("healthy");
            });
            assertThat(redisCli("-s", socket.toString(), "KEYS", "rank:*")).as("both ranks' keys in the one server")
                    .containsExactlyInAnyOrder("rank:0", "rank:1");
            assertThat(Files.getPosixFilePermissions(socket)).isEqualTo(PosixFilePermissions.fromString("rwxr-x---"));
            assertThat(lines(sim.stdout())).allMatch(l -> l.endsWith("SSDB=unix://" + socket
                    + " SR_DB_TYPE=Standalone"));

            Files.createFile(go);
            assertThat(exp.waitFor(WAIT, sim)).isTrue();
            assertThat(sim.status()).isEqualTo(EntityStatus.COMPLETED);
            assertNothingLeft(plan);
            assertThat(ProcessHandle.of(pid)).isEmpty();
            assertThat(Files.readString(plan.log(node))).contains("ready to accept connections");
        }
    }

    @Test
    void twoRanksShareOneDatabaseOverTcpPinnedByDefaultToCpu0() throws Exception {
        int port = leftovers.freeBase(1);
        try (Experiment exp = Experiment.create("colo", dir.resolve("exp"))) {
            Model sim = exp.createModel(ModelSpec.builder("sim", app.toString()).args(go.toString())
                    .run(RunSettings.builder().tasks(2).build()).colocatedDb(ColocatedDb.tcp(port)).build());
            ColocatedPlan plan = sim.plan().colocated().orElseThrow();
            exp.start(sim);

            await(() -> lines(sim.stdout()).filter(l -> l.contains(" ok ")).count() == 2, "both ranks wrote");
            List<Processes.Proc> servers = Processes.serversUnder(dir);
            assertThat(servers).hasSize(1);
            assertThat(cpusAllowed(servers.get(0).pid())).isEqualTo("0");
            assertThat(redisCli("-p", Integer.toString(port), "KEYS", "rank:*"))
                    .containsExactlyInAnyOrder("rank:0", "rank:1");
            assertThat(lines(sim.stdout())).allMatch(l -> l.endsWith("SSDB=127.0.0.1:" + port
                    + " SR_DB_TYPE=Standalone"));
            Files.createFile(go);
            assertThat(exp.waitFor(WAIT, sim)).isTrue();
            assertThat(sim.status()).isEqualTo(EntityStatus.COMPLETED);
            assertNothingLeft(plan);
            assertThat(Processes.free("127.0.0.1", port)).isTrue();
        }
    }

    @Test
    void everyEnsembleMemberGetsItsOwnDatabase() throws Exception {
        int port = leftovers.freeBase(2);
        leftovers.shardPorts(port + 1, 1);
        try (Experiment exp = Experiment.create("colo", dir.resolve("exp"))) {
            Ensemble e = exp.createEnsemble(EnsembleSpec.builder("sweep", app.toString()).args(go.toString())
                    .param("x", "a", "b").colocatedDb(ColocatedDb.tcp(port).noPinning()).build());
            exp.start(e);
            await(() -> e.members().stream().allMatch(m -> lines(m.stdout()).anyMatch(l -> l.contains(" ok "))),
                    "both members wrote");
            assertThat(Processes.serversUnder(dir)).as("one database per member").hasSize(2);
            // each member wrote rank:0 into its own database
            assertThat(redisCli("-p", Integer.toString(port), "DBSIZE")).containsExactly("1");
            assertThat(redisCli("-p", Integer.toString(port + 1), "DBSIZE")).containsExactly("1");
            Files.createFile(go);
            assertThat(exp.waitFor(WAIT, e)).isTrue();
            for (Model m : e.members()) {
                assertThat(m.status()).isEqualTo(EntityStatus.COMPLETED);
                assertNothingLeft(m.plan().colocated().orElseThrow());
            }
        }
    }

    @Test
    void aTakenPortStopsTheApplicationNamingNodePortAndLog() throws Exception {
        int port = leftovers.freeBase(1);
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            Model sim = runToEnd(ModelSpec.builder("sim", app.toString()).run(RunSettings.builder().tasks(2).build())
                    .colocatedDb(ColocatedDb.tcp(port)).build());
            assertThat(sim.status()).isEqualTo(EntityStatus.FAILED);
            assertThat(sim.detail().orElseThrow()).contains("on node " + node).contains("port " + port)
                    .contains("last lines of").contains("Address already in use");
            assertThat(lines(sim.stdout())).as("the application did not start").isEmpty();
            assertNothingLeft(sim.plan().colocated().orElseThrow());
        }
    }

    @Test
    void aBadConfigLineStopsTheApplicationWithTheServersComplaint() throws Exception {
        Model sim = runToEnd(ModelSpec.builder("sim", app.toString())
                .colocatedDb(ColocatedDb.unixSocket(dir.resolve("s.sock").toString(), 0700)
                        .config("no-such-option yes")).build());
        assertThat(sim.status()).isEqualTo(EntityStatus.FAILED);
        assertThat(sim.detail().orElseThrow()).contains("on node " + node).contains("socket " + dir.resolve("s.sock"))
                .contains("no-such-option");
        assertThat(lines(sim.stdout())).isEmpty();
        assertNothingLeft(sim.plan().colocated().orElseThrow());
    }

    @Test
    void aSocketWhereNothingCanBeCreatedStopsTheApplication() throws Exception {
        // /proc exists but nobody, root included, can make a socket in it: the server's bind fails
        Model sim = runToEnd(ModelSpec.builder("sim", app.toString())
                .colocatedDb(ColocatedDb.unixSocket("/proc/ssdb-colocated-it.sock", 0700)).build());
        assertThat(sim.status()).isEqualTo(EntityStatus.FAILED);
        assertThat(sim.detail().orElseThrow()).contains("socket /proc/ssdb-colocated-it.sock")
                .contains("Failed opening Unix socket");
        assertThat(lines(sim.stdout())).isEmpty();
        assertNothingLeft(sim.plan().colocated().orElseThrow());
    }

    @Test
    void pinningToACpuThisMachineLacksStopsTheApplicationWithTasksetsComplaint() throws Exception {
        int cpus = Runtime.getRuntime().availableProcessors();
        Model sim = runToEnd(ModelSpec.builder("sim", app.toString())
                .colocatedDb(ColocatedDb.unixSocket(dir.resolve("p.sock").toString(), 0700)
                        .pinning(Integer.toString(cpus + 60))).build());
        assertThat(sim.status()).isEqualTo(EntityStatus.FAILED);
        assertThat(sim.detail().orElseThrow()).contains("on node " + node).contains("taskset");
        assertThat(lines(sim.stdout())).isEmpty();
        assertNothingLeft(sim.plan().colocated().orElseThrow());
    }

    @Test
    void anApplicationThatCrashesOrIsKilledTakesItsDatabaseWithIt() throws Exception {
        Path socket = dir.resolve("k.sock");
        Model crashed = runToEnd(ModelSpec.builder("crashed", app.toString()).args("", "3")
                .colocatedDb(ColocatedDb.unixSocket(socket.toString(), 0700)).build());
        assertThat(crashed.status()).isEqualTo(EntityStatus.FAILED);
        assertThat(crashed.exitCode()).contains(3);
        assertThat(lines(crashed.stdout())).hasSize(1); // it had run, against its database
        assertNothingLeft(crashed.plan().colocated().orElseThrow());

        Model killed = runToEnd(ModelSpec.builder("killed", app.toString()).args("", "kill")
                .colocatedDb(ColocatedDb.unixSocket(socket.toString(), 0700)).build());
        assertThat(killed.status()).isEqualTo(EntityStatus.FAILED);
        assertThat(killed.exitCode()).contains(137);
        assertNothingLeft(killed.plan().colocated().orElseThrow());
    }

    @Test
    void stoppingTheModelStopsItsDatabase() throws Exception {
        Path socket = dir.resolve("st.sock");
        try (Experiment exp = Experiment.create("colo", dir.resolve("exp"))) {
            Model sim = exp.createModel(ModelSpec.builder("sim", app.toString()).args(go.toString())
                    .run(RunSettings.builder().tasks(2).build())
                    .colocatedDb(ColocatedDb.unixSocket(socket.toString(), 0700)).build());
            exp.start(sim);
            await(() -> lines(sim.stdout()).filter(l -> l.contains(" ok ")).count() == 2, "both ranks wrote");
            exp.stop(sim);
            assertThat(sim.status()).isEqualTo(EntityStatus.CANCELLED);
            assertNothingLeft(sim.plan().colocated().orElseThrow());
        }
    }

    @Test
    void cleanupStopsADatabaseWhoseKeeperWasKilledAndLeavesARunningOneAlone() throws Exception {
        Path socket = dir.resolve("c.sock");
        try (Experiment exp = Experiment.create("colo", dir.resolve("exp"))) {
            Model sim = exp.createModel(ModelSpec.builder("sim", app.toString()).args(go.toString())
                    .colocatedDb(ColocatedDb.unixSocket(socket.toString(), 0700)).build());
            ColocatedPlan plan = sim.plan().colocated().orElseThrow();
            exp.start(sim);
            await(() -> lines(sim.stdout()).anyMatch(l -> l.contains(" ok ")), "the rank wrote");
            assertThat(exp.cleanupColocated()).as("the application runs: its keeper stops it later").singleElement()
                    .asString().contains("model 'sim' node " + node + ": left alone, its application still runs there");
            assertThat(Processes.serversUnder(dir)).hasSize(1);

            // everything but the server dies at once, the keeper included (kill -9 of the whole job but the server)
            for (Processes.Proc p : Processes.under(dir)) {
                if (!p.server()) {
                    ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
            assertThat(exp.waitFor(WAIT, sim)).isTrue();
            await(() -> Processes.under(dir).stream().allMatch(Processes.Proc::server), "all but the server gone");
            assertThat(Processes.serversUnder(dir)).as("left behind by the killed keeper").hasSize(1);
            assertThat(sim.colocatedDatabases()).singleElement().satisfies(n -> assertThat(n.health())
                    .isEqualTo("healthy"));

            assertThat(exp.cleanupColocated()).singleElement().asString().contains("model 'sim' node " + node)
                    .contains("stopped server pid");
            assertNothingLeft(plan);
        }
    }

    private Model runToEnd(ModelSpec spec) {
        try (Experiment exp = Experiment.create("colo", dir.resolve("exp-" + spec.name()))) {
            Model m = exp.createModel(spec);
            exp.start(m);
            assertThat(exp.waitFor(WAIT, m)).isTrue();
            return m;
        }
    }

    /** No server, socket, pid file or lock file of the model's database; its log (when it started) stays. */
    private void assertNothingLeft(ColocatedPlan plan) throws IOException {
        ColocatedChecks.assertNothingLeft(dir, plan);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        ColocatedChecks.await(condition, WAIT, what);
    }

    private static String cpusAllowed(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                .filter(l -> l.startsWith("Cpus_allowed_list:")).map(l -> l.substring(l.indexOf(':') + 1).strip())
                .findFirst().orElseThrow();
    }

    static String hostname() {
        return ColocatedChecks.hostname();
    }
}
