package io.smartsim.launch.ssh;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The ssh launcher end to end: shards on 127.0.1.1-3 through the loopback sshd, real redis-server. */
// Shared: none of these stops sshd or drops its sessions (SshConnectionCutIT, which cuts sshd, holds it alone).
@TestbedLock(value = TestbedLock.Bed.SSH, shared = true)
class SshLauncherIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;
    private final List<Integer> usedPorts = new ArrayList<>();
    private final List<String> progress = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void sshdUp() {
        SshTestbed.up();
    }

    @AfterEach
    void sshdBackUp() {
        if (!java.nio.file.Files.exists(SshTestbed.DIR.resolve("sshd.pid"))) {
            SshTestbed.up(); // a test that cut the connection and failed before bringing it back
        }
        // Then the Leftovers check: processes by working dir, ports (bus and --ai too) on every host's address.
    }

    private int port() {
        int base = leftovers.freeBase(1);
        usedPorts.add(base);
        return base;
    }

    private OrchestratorSpec.Builder spec(int port) {
        return OrchestratorSpec.builder().launcher("ssh").nodes(3).instancesPerNode(1).port(port)
                .launcherOption("hosts", String.join(",", SshTestbed.HOSTS))
                .launcherOption("ssh-config", SshTestbed.sshConfig().toString());
    }

    @Test
    void threeHostsOneShardEachFormAClusterRedisCliAcceptsAndStopLeavesNothing() throws Exception {
        int port = port();
        long t0 = System.nanoTime();
        try (Experiment exp = Experiment.create("ssh-demo", dir, line -> progress.add(
                String.format("%6.0f ms %s", (System.nanoTime() - t0) / 1e6, line)))) {
            Orchestrator db = exp.createOrchestrator(spec(port).build());
            exp.start(db);
            assertThat(db.addresses()).containsExactly("127.0.1.1:" + port, "127.0.1.2:" + port, "127.0.1.3:" + port);
            System.out.println(String.join("\n", progress));
            assertThat(progress).anyMatch(l -> l.endsWith("shard 1 started on 127.0.1.2 (pid "
                    + db.shards().get(1).pid().get() + ")"));

            // Auth is on by default: redis-cli logs in as the orchestrator's user (password from REDISCLI_AUTH).
            Credentials cred = db.plan().auth().orElseThrow();
            ProcessBuilder checkCmd = new ProcessBuilder("redis-cli", "--user", cred.user(), "--cluster", "check",
                    "127.0.1.1:" + port).redirectErrorStream(true);
            checkCmd.environment().put("REDISCLI_AUTH", cred.password());
            Process check = checkCmd.start();
            String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(check.exitValue()).as(out).isZero();
            assertThat(out).contains("[OK] All 16384 slots covered.");

            // Another process reads the manifest: one ps per host over SSH, with the recorded settings.
            Experiment again = Experiment.reconnect(dir);
            OrchestratorStatus st = again.status(db.id());
            assertThat(st.state()).isEqualTo("RUNNING");
            assertThat(st.liveness().values()).containsOnly(Liveness.ALIVE);
            for (LaunchedShard s : db.shards()) {
                assertThat(s.handle()).containsEntry("ssh-host", SshTestbed.HOSTS.get(s.index()))
                        .containsEntry("ssh-config", SshTestbed.sshConfig().toString())
                        // its node: the host it runs on, not the plan's node index "0", "1", "2" as before
                        .containsEntry("node", SshTestbed.HOSTS.get(s.index()));
            }

            again.stop(again.orchestrator(db.id()));
            assertThat(Processes.serversOn(usedPorts)).isEmpty();
            assertThat(new SshLauncher().probe(db.shards()).values()).containsOnly(Liveness.GONE);
        }
    }

    @Test
    void replicasRunOnTheNextHostAfterTheirMasterAndStopEndsThemToo() throws Exception {
        int port = leftovers.freeBase(2);
        usedPorts.addAll(List.of(port, port + 1));
        try (Experiment exp = Experiment.create("ssh-demo", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(port).replicas(1).build());
            assertThat(db.plan().warnings()).isEmpty();
            exp.start(db);
            // Replica k+3 of master k on the next host, on the port after that host's master.
            assertThat(db.addresses()).containsExactly("127.0.1.1:" + port, "127.0.1.2:" + port, "127.0.1.3:" + port,
                    "127.0.1.2:" + (port + 1), "127.0.1.3:" + (port + 1), "127.0.1.1:" + (port + 1));
            io.smartsim.launch.status.HealthReport h = db.health();
            assertThat(h.healthy()).as(h.problems().toString()).isTrue();
            for (int r = 3; r < 6; r++) {
                assertThat(h.shards().get(r).role()).isEqualTo("slave");
                assertThat(h.shards().get(r).master()).contains(db.shards().get(r - 3).address());
            }
            exp.stop(db);
            assertThat(Processes.serversOn(usedPorts)).isEmpty();
            assertThat(new SshLauncher().probe(db.shards()).values()).containsOnly(Liveness.GONE);
        }
    }

    @Test
    void theLauncherAloneTerminatesRunningShardsWithoutCoresShutdown() throws Exception {
        int port = port();
        try (Experiment exp = Experiment.create("ssh-demo", dir)) {
            // No SHUTDOWN NOSAVE from core here: the launcher's stop alone (SIGTERM over SSH) must end them.
            Orchestrator db = exp.createOrchestrator(spec(port).build());
            exp.start(db);
            exp.detach(db);
            List<LaunchedShard> shards = db.shards();
            assertThat(new SshLauncher().probe(shards).values()).containsOnly(Liveness.ALIVE);
            new SshLauncher().stop(shards, java.time.Duration.ofMillis(200));
            assertThat(Processes.serversOn(usedPorts)).isEmpty();
            assertThat(new SshLauncher().probe(shards).values()).containsOnly(Liveness.GONE);
        }
    }

    @Test
    void aShardThatCannotStartFailsFastWithItsRemoteLogAndNothingIsLeft() {
        int port = port();
        try (Experiment exp = Experiment.create("ssh-demo", dir)) {
            // A 10-minute deadline: the start must fail on the shard's exit, not on the deadline (the message says
            // which; the bound is half the deadline, so a busy machine cannot make it fail).
            Orchestrator db = exp.createOrchestrator(spec(port).addConfig("no-such-directive yes")
                    .startupTimeout(java.time.Duration.ofMinutes(10)).build());
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(ShardStartException.class)
                    .hasMessageContaining("exited while starting")
                    .hasMessageContaining("no-such-directive");
            assertThat(System.nanoTime() - t0).as("failed on the exit, long before the deadline")
                    .isLessThan(TimeUnit.MINUTES.toNanos(5));
        }
    }

    @Test
    void nodesMustEqualTheNumberOfHosts() {
        try (Experiment exp = Experiment.create("ssh-demo", dir)) {
            assertThatThrownBy(() -> exp.createOrchestrator(spec(port()).nodes(1).build()))
                    .isInstanceOf(InvalidSpecException.class)
                    .hasMessageContaining("--nodes is 1 and --hosts names 3 host(s)");
        }
    }
}
