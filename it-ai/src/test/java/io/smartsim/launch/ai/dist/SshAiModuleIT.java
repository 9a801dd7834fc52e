package io.smartsim.launch.ai.dist;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.ClientException;
import io.smartsim.launch.client.TensorData;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.spi.Launchers;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.supervise.EventLog;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.TestbedLock;
import io.smartsim.launch.testing.Pids;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.Testbeds;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.ai.dist.AiTestbed.X;
import static io.smartsim.launch.ai.dist.AiTestbed.awaitGone;
import static io.smartsim.launch.ai.dist.AiTestbed.keyOn;
import static io.smartsim.launch.ai.dist.AiTestbed.modelServersOf;
import static io.smartsim.launch.ai.dist.AiTestbed.pid;
import static io.smartsim.launch.ai.dist.AiTestbed.redisCli;
import static io.smartsim.launch.ai.dist.AiTestbed.runsTheModel;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code --ai} on the ssh launcher (issue 16): 3 hosts (127.0.1.1-3 through the loopback sshd of testbeds/ssh, port
 * 2222) x 1 shard, each redis-server loading the smartsim-ai module, each host running its own model server started
 * over SSH. Real sshd, redis-servers, model servers and ONNX Runtime. The hosts share this machine's file system and
 * process table, so the test reads their processes from /proc here.
 */
@TestbedLock(value = TestbedLock.Bed.SSH, shared = true)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SshAiModuleIT {
    static final List<String> HOSTS = List.of("127.0.1.1", "127.0.1.2", "127.0.1.3");
    static final Path TESTBED = Path.of(System.getProperty("smartsim.ssh.testbed.dir", "/tmp/smartsim-ssh-testbed"));
    static final Path JAR = Path.of("../cli/target/smartsim-launch.jar").toAbsolutePath().normalize();

    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir (the model servers run there too)
    @TempDir
    Path dir;
    final AiTestbed bed = new AiTestbed(leftovers);

    @BeforeAll
    static void sshdUp() throws Exception {
        Testbeds.ssh(); // skips when declined or not installed
        Path up = Path.of("").toAbsolutePath().getParent().resolve("testbeds/ssh/up");
        Process p = new ProcessBuilder(up.toString(), TESTBED.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }

    private OrchestratorSpec.Builder spec(int base) {
        return AiTestbed.spec(base, 1).launcher("ssh").nodes(3).auth(false)
                .launcherOption("hosts", String.join(",", HOSTS))
                .launcherOption("ssh-config", TESTBED.resolve("ssh_config").toString());
    }

    @Test
    void eachHostRunsItsModelServerAKilledOneFailsOnlyItsHostsModelCommandsAndStopEndsThemAll() throws Exception {
        int base = bed.ports(1);
        try (Experiment exp = Experiment.create("ssh-ai", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(base).build());
            exp.start(db);
            List<ModelServerPlan> servers = db.plan().modelServers();
            assertThat(servers).hasSize(3);
            for (LaunchedShard s : db.shards()) {
                ModelServerPlan m = servers.get(s.index());
                assertThat(m.host()).isEqualTo(HOSTS.get(s.index()));
                assertThat(s.handle()).containsEntry(AiPlanner.HANDLE_SOCKET, m.socket().toString());
                assertThat(AiTestbed.cmdline(pid(s))).contains(AiPlanner.MODEL_SERVER_MAIN, "--socket " + m.socket());
                assertThat(m.socket()).exists();
            }
            String in0 = keyOn(db, 0, "a");
            String in1 = keyOn(db, 1, "b");
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                c.setModel("mlp", AiOrchestratorIT.MODEL, "ONNX", "CPU"); // on every shard, as SmartRedis
                runsTheModel(c, in0, "y0");
                runsTheModel(c, in1, "y1"); // run by shard 1, on host 127.0.1.2's model server
            }
            assertThat(Launchers.find("ssh").probeModelServers(db.plan(), db.shards()).values())
                    .containsOnly(Liveness.ALIVE)
                    .hasSize(3);

            long killed = pid(db.shards().get(1));
            ProcessHandle.of(killed).orElseThrow().destroyForcibly(); // SIGKILL on host 2: no shutdown hook
            awaitGone(killed);
            ModelServerPlan m1 = servers.get(1);
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                assertThatThrownBy(() -> c.runModel("mlp", List.of(in1), List.of("y1b")))
                        .isInstanceOf(ClientException.class).hasMessageContaining("ERR model server ")
                        .hasMessageContaining(m1.socket().toString());
                runsTheModel(c, in0, "y0b"); // host 1's model server still serves shard 0
                c.putTensor(in1, TensorData.of(X, 1, 4)); // tensors are data: shard 1 serves them
                assertThat(c.getTensor(in1).asFloats()).containsExactly(X);
            }
            assertThat(redisCli(HOSTS.get(1), base, null, "SET", in1 + "plain", "v")).isEqualTo("OK");
            assertThat(redisCli(HOSTS.get(1), base, null, "GET", in1 + "plain")).isEqualTo("v");
            Map<Integer, Liveness> live = Launchers.find("ssh").probeModelServers(db.plan(), db.shards());
            assertThat(live).containsEntry(0, Liveness.ALIVE).containsEntry(1, Liveness.GONE)
                    .containsEntry(2, Liveness.ALIVE);
            assertThat(exp.status(db.id()).state()).isEqualTo("RUNNING");

            List<Long> pids = db.shards().stream().map(AiTestbed::pid).toList();
            exp.stop(db);
            for (int i = 0; i < 3; i++) {
                assertThat(Pids.running(pids.get(i))).as("model server of host %s", HOSTS.get(i)).isFalse();
                assertThat(modelServersOf(servers.get(i).socket())).isEmpty();
                assertThat(servers.get(i).socket()).doesNotExist();
            }
            assertThat(Processes.serversOn(List.of(base))).isEmpty();
        }
        // Leftovers: no process of the experiment directory on any host, nothing on the ports of any address
    }

    @Test
    void underRestartOnFailureAKilledModelServerIsStartedAgainOnItsHostAndDbStopFromAnotherProcessEndsAll()
            throws Exception {
        int base = bed.ports(1);
        Orchestrator db;
        List<ModelServerPlan> servers;
        long first;
        long second;
        String in1;
        try (Experiment exp = Experiment.create("ssh-ai-restart", dir)) {
            db = exp.createOrchestrator(spec(base).restart(RestartPolicy.ON_FAILURE).build());
            exp.start(db);
            servers = db.plan().modelServers();
            in1 = keyOn(db, 1, "b");
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                c.setModel("mlp", AiOrchestratorIT.MODEL, "ONNX", "CPU");
                runsTheModel(c, in1, "y1");
            }
            first = pid(db.shards().get(1));
            ProcessHandle.of(first).orElseThrow().destroyForcibly();
            awaitGone(first);
            EventLog events = EventLog.in(db.plan().dir());
            long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (events.read().stream().noneMatch(e -> e.type().equals(Event.MODEL_SERVER_RESTARTED))
                    && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            Event restarted = events.read().stream().filter(e -> e.type().equals(Event.MODEL_SERVER_RESTARTED))
                    .findFirst().orElseThrow(() -> new AssertionError("no model-server-restarted event: "
                            + events.read()));
            assertThat(restarted.detail()).contains("pid " + first + ") was gone");
            second = pid(db.shards().get(1));
            assertThat(second).isNotEqualTo(first);
            // Started again on host 2's socket; the other hosts' model servers and every redis-server untouched.
            assertThat(AiTestbed.cmdline(second)).contains(AiPlanner.MODEL_SERVER_MAIN, "--socket "
                    + servers.get(1).socket());
            assertThat(events.read()).noneMatch(e -> e.type().equals(Event.RESTARTING));
            try (Client c = Client.fromEnvironment(db.dbEnv())) { // the stored model, pushed again by the module
                runsTheModel(c, in1, "y1b");
            }
            exp.detach(db); // db stop in another process ends it
        }
        cli("db", "stop", "--exp-dir", dir.toString());
        assertThat(Pids.running(second)).as("the restarted model server after db stop").isFalse();
        for (ModelServerPlan m : servers) {
            assertThat(modelServersOf(m.socket())).as("model server on %s", m.host()).isEmpty();
            assertThat(m.socket()).doesNotExist();
        }
        assertThat(Processes.serversOn(List.of(base))).isEmpty();
    }

    @Test
    void aShardThatFailsToStartStopsEveryHostsModelServer() throws IOException {
        int base = bed.ports(1);
        try (Experiment exp = Experiment.create("ssh-ai-bad", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(base).addConfig("no-such-directive yes").build());
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(ShardStartException.class);
            for (ModelServerPlan m : db.plan().modelServers()) {
                // each was started (its console says it was ready), then stopped with the launch
                assertThat(Files.readString(m.console())).contains(ModelServerPlan.READY);
                assertThat(modelServersOf(m.socket())).as("model server on %s", m.host()).isEmpty();
                assertThat(m.socket()).doesNotExist();
            }
        }
    }

    /** The CLI jar in a process of its own; its output, after checking it exited 0. */
    private String cli(String... args) throws Exception {
        assertThat(JAR).isRegularFile();
        List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toString()));
        argv.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "cli", ".out");
        ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("SMARTSIM_AI_PATH", System.getProperty("smartsim.ai.path"));
        Process p = pb.start();
        assertThat(p.waitFor(3, TimeUnit.MINUTES)).isTrue();
        String text = Files.readString(out);
        assertThat(p.exitValue()).as(String.join(" ", args) + ":\n" + text).isZero();
        return text;
    }

    /** The model server's pid the manifest records for shard {@code i}. */
    private long recordedPid(Path exp, int i) {
        return Long.parseLong(new io.smartsim.launch.manifest.ManifestStore(exp).read().orElseThrow()
                .find("orchestrator").orElseThrow().shards().get(i).handle().get(AiPlanner.HANDLE_PID));
    }

    /**
     * The detached watchdog that {@code db start --restart on-failure} leaves starts a killed model server again on its
     * host; {@code db status} (another process) asks the hosts over SSH: up before, up with the new pid after.
     */
    @Test
    void theDetachedWatchdogStartsAKilledModelServerAgainOnItsHostAndDbStatusAsksTheHosts() throws Exception {
        int base = bed.ports(1);
        Path exp = dir.resolve("exp");
        cli("db", "start", "--exp-dir", exp.toString(), "--launcher", "ssh", "--hosts", String.join(",", HOSTS),
                "--nodes", "3", "--launcher-option", "ssh-config=" + TESTBED.resolve("ssh_config"), "--ai", "onnx",
                "--no-auth", "--port", Integer.toString(base), "--restart", "on-failure");
        Path socket2 = exp.resolve("orchestrator/ai/model-server-2.sock");
        String status = cli("db", "status", "--exp-dir", exp.toString());
        for (int i = 0; i < 3; i++) {
            assertThat(status).containsPattern("model server \\(--ai\\) of shard\\(s\\) " + i + ": up, pid "
                    + recordedPid(exp, i) + ", socket .*model-server-" + i + "\\.sock");
        }
        long first = recordedPid(exp, 2);
        ProcessHandle.of(first).orElseThrow().destroyForcibly(); // on host 127.0.1.3
        awaitGone(first);
        long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        long now = first;
        while (System.nanoTime() < until) {
            now = recordedPid(exp, 2);
            if (now != first && Pids.running(now)) {
                break;
            }
            Thread.sleep(200);
        }
        assertThat(now).as("the model server's pid in the manifest after the watchdog's restart").isNotEqualTo(first);
        assertThat(AiTestbed.cmdline(now)).contains(AiPlanner.MODEL_SERVER_MAIN, "--socket " + socket2);
        assertThat(cli("db", "status", "--exp-dir", exp.toString())).containsPattern("model server \\(--ai\\) of "
                + "shard\\(s\\) 2: up, pid " + now + ",");
        cli("db", "stop", "--exp-dir", exp.toString());
        assertThat(Pids.running(now)).as("the restarted model server after db stop").isFalse();
        for (int i = 0; i < 3; i++) {
            assertThat(modelServersOf(exp.resolve("orchestrator/ai/model-server-" + i + ".sock"))).isEmpty();
        }
        assertThat(Processes.serversOn(List.of(base))).isEmpty();
    }

    /**
     * Under {@code --lease} each host's model server has a lease guard on its host: once nobody renews the lease, every
     * host's model server stops with the shards, though no watchdog is left.
     */
    @Test
    void onceTheLeaseRunsOutEveryHostsModelServerStopsWithTheShards() throws Exception {
        int base = bed.ports(1);
        Orchestrator db;
        List<Long> modelServers;
        List<Long> shards;
        try (Experiment exp = Experiment.create("ssh-ai-lease", dir)) {
            db = exp.createOrchestrator(spec(base).lease(Duration.ofSeconds(6)).build());
            exp.start(db);
            modelServers = new ArrayList<>(db.shards().stream().map(AiTestbed::pid).toList());
            shards = db.shards().stream().map(x -> x.pid().orElseThrow()).toList();
            exp.detach(db); // left running; once this experiment closes, nobody renews the lease
        }
        java.time.Instant last = io.smartsim.launch.supervise.Lease.in(db.plan().dir()).expiry().orElseThrow();
        long until = io.smartsim.launch.testing.LeaseWaits.goneBy(last);
        while ((modelServers.stream().anyMatch(Pids::running) || shards.stream().anyMatch(Pids::running))
                && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        for (int i = 0; i < 3; i++) {
            assertThat(Pids.running(modelServers.get(i))).as("the model server of %s once the lease ran out at %s",
                    HOSTS.get(i), last).isFalse();
            assertThat(db.plan().modelServers().get(i).socket()).doesNotExist(); // SIGTERM: its shutdown hook
        }
        assertThat(Processes.serversOn(List.of(base))).isEmpty();
        try (Experiment exp = Experiment.reconnect(dir)) {
            exp.stop(exp.orchestrator(db.id()));
        }
    }
}
