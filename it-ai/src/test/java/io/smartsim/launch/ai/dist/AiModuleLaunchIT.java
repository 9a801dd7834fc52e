package io.smartsim.launch.ai.dist;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.ClientException;
import io.smartsim.launch.client.TensorData;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.supervise.EventLog;
import io.smartsim.launch.supervise.Lease;
import io.smartsim.launch.testing.LeaseWaits;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Pids;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

/**
 * {@code --ai} on the local launcher as issue 16 wires it: each shard's redis-server loads the smartsim-ai module, and
 * one model server ({@code ModelServerMain}, a JVM of ai-dist/target/ai) serves the orchestrator over a Unix socket.
 * Real redis-servers, the real model server and the real ONNX runtime; the model is {@link AiOrchestratorIT#MODEL}.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class AiModuleLaunchIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address

    @TempDir
    Path dir;
    final AiTestbed bed = new AiTestbed(leftovers);

    private static final float[] X = {1, 2, 3, 4};

    private static long modelServerPid(List<LaunchedShard> shards) {
        return Long.parseLong(shards.get(0).handle().get(AiPlanner.HANDLE_PID));
    }

    private static void runsTheModel(Client c, String in, String out) {
        c.putTensor(in, TensorData.of(X, 1, 4));
        c.runModel("mlp", List.of(in), List.of(out));
        assertThat(c.getTensor(out).asFloats()).containsExactly(AiOrchestratorIT.expected(X, 1), offset(1e-5f));
    }

    /** Waits (bounded) until {@code pid} has exited; zombies count as exited ({@link Pids}). */
    private static void awaitGone(long pid) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (Pids.running(pid) && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertThat(Pids.running(pid)).as("pid %d (%s) still runs", pid, AiTestbed.cmdline(pid)).isFalse();
    }

    @Test
    void aKilledModelServerFailsOnlyModelCommandsNamingItsSocketWhileDataCommandsWork() throws Exception {
        int base = bed.ports(1);
        try (Experiment exp = Experiment.create("ai-down", dir)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 1).auth(false).build());
            exp.start(db);
            ModelServerPlan m = db.plan().modelServers().get(0);
            long pid = modelServerPid(db.shards());
            assertThat(AiTestbed.cmdline(pid)).contains(AiPlanner.MODEL_SERVER_MAIN, "--socket " + m.socket());
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                c.setModel("mlp", AiOrchestratorIT.MODEL, "ONNX", "CPU");
                runsTheModel(c, "x", "y");
            }
            ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // SIGKILL: no shutdown hook
            awaitGone(pid);
            try (RespClient r = RespClient.connect(base)) {
                assertThat(r.call("SET", "plain", "v")).isEqualTo(new RespSimple("OK"));
                assertThat(r.call("GET", "plain")).isEqualTo("v".getBytes(StandardCharsets.US_ASCII));
                assertThat(r.call("AI.TENSORSET", "t", "FLOAT", "1", "VALUES", "2")).isEqualTo(new RespSimple("OK"));
                assertThat(r.call("AI.TENSORGET", "t", "VALUES")).isInstanceOf(List.class);
                assertThat(r.call("AI.MODELGET", "mlp", "META")).isInstanceOf(List.class); // from the keyspace
                Object run = r.call("AI.MODELEXECUTE", "mlp", "INPUTS", "1", "x", "OUTPUTS", "1", "y2");
                assertThat(run).isInstanceOf(RespError.class);
                assertThat(((RespError) run).text()).startsWith("ERR model server ").contains(m.socket().toString());
                assertThat(r.call("EXISTS", "y2")).isEqualTo(0L);
            }
            // The shard itself is fine: the orchestrator still serves (db status shows the model server down: AiCliIT).
            assertThat(exp.status(db.id()).state()).isEqualTo("RUNNING");
            exp.stop(db);
            assertThat(m.socket()).doesNotExist();
        }
    }

    @Test
    void withRestartOnFailureTheWatchdogStartsAKilledModelServerAgainAndTheModelsArePushedAgain() throws Exception {
        int base = bed.ports(3);
        try (Experiment exp = Experiment.create("ai-restart", dir)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 3).auth(false)
                    .restart(RestartPolicy.ON_FAILURE).build());
            exp.start(db);
            long first = modelServerPid(db.shards());
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                c.setModel("mlp", AiOrchestratorIT.MODEL, "ONNX", "CPU");
                runsTheModel(c, "x", "y");
            }
            ProcessHandle.of(first).orElseThrow().destroyForcibly();
            awaitGone(first);
            // The watchdog notices within its probe interval and starts it again on the same socket.
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
            // Every shard's record names the new one; the redis-servers were not restarted.
            long second = modelServerPid(db.shards());
            assertThat(second).isNotEqualTo(first);
            assertThat(db.shards()).allSatisfy(s -> assertThat(s.handle()).containsEntry(AiPlanner.HANDLE_PID,
                    Long.toString(second)));
            assertThat(events.read()).noneMatch(e -> e.type().equals(Event.RESTARTING));
            assertThat(AiTestbed.cmdline(second)).contains(AiPlanner.MODEL_SERVER_MAIN);
            // The model is not stored again: each module pushes it from its keyspace to the new model server.
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                runsTheModel(c, "x", "y-again");
                runsTheModel(c, "{other}x", "{other}y"); // a run on another shard, whose module also pushes it
            }
            exp.stop(db);
            awaitGone(second);
        }
    }

    @Test
    void aModelServerThatCannotStartFailsTheLaunchWithItsLogAndLeavesNoProcess() throws Exception {
        int base = bed.ports(3);
        try (Experiment exp = Experiment.create("ai-broken", dir)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 3).auth(false).build());
            ModelServerPlan m = db.plan().modelServers().get(0);
            // Something else holds the socket's path (a directory with a file in it): the model server cannot listen.
            Path mine = Files.createDirectories(m.socket()).resolve("not-yours");
            Files.writeString(mine, "x");
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(ShardStartException.class)
                    .hasMessageStartingWith("the --ai model server of 'orchestrator' (socket " + m.socket() + ") exited "
                            + "with code ")
                    .hasMessageContaining("before it was ready; every process of this launch was stopped")
                    .hasMessageContaining("DirectoryNotEmptyException"); // its console's tail says why
            assertThat(mine).exists(); // what was there is not the launcher's to remove
            // No shard was started: the model server is awaited first.
            assertThat(db.plan().shards().get(0).logPath()).doesNotExist();
            assertThat(ProcessHandle.allProcesses().filter(h -> Pids.running(h.pid()))
                    .map(h -> AiTestbed.cmdline(h.pid())).filter(c -> c.contains(m.socket().toString()))).isEmpty();
        }
        // Leftovers: no process of the experiment directory, nothing on the ports
    }

    @Test
    void aBadShardConfigFailsTheLaunchAndStopsTheModelServerToo() throws Exception {
        int base = bed.ports(3);
        try (Experiment exp = Experiment.create("ai-bad", dir)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 3).auth(false)
                    .addConfig("no-such-directive yes").build());
            ModelServerPlan m = db.plan().modelServers().get(0);
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(ShardStartException.class)
                    .hasMessageContaining("every shard of this launch was stopped")
                    .hasMessageContaining("no-such-directive");
            assertThat(Files.readString(m.console())).contains(ModelServerPlan.READY); // it had started
            assertThat(m.socket()).doesNotExist();
            List<Long> pids = new ArrayList<>();
            ProcessHandle.allProcesses().filter(h -> AiTestbed.cmdline(h.pid()).contains(m.socket().toString()))
                    .filter(h -> Pids.running(h.pid())).forEach(h -> pids.add(h.pid()));
            assertThat(pids).as("model servers of this socket").isEmpty();
        }
    }

    @Test
    void anExperimentPathTooLongForASocketUsesAPrivateDirectoryThatStopRemoves() throws Exception {
        Path exp = Files.createDirectories(dir.resolve("a-rather-long-directory-name-for-an-experiment/".repeat(3)
                + "exp"));
        int base = bed.ports(1);
        try (Experiment e = Experiment.create("ai-long", exp)) {
            Orchestrator db = e.createOrchestrator(AiTestbed.spec(base, 1).auth(false).build());
            ModelServerPlan m = db.plan().modelServers().get(0);
            assertThat(m.socketDirPrivate()).isTrue();
            Path socketDir = m.socket().getParent();
            leftovers.naming(m.socket().toString()); // the model server's command line names its socket
            e.start(db);
            assertThat(Files.getPosixFilePermissions(socketDir)).containsExactlyInAnyOrder(
                    java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                    java.nio.file.attribute.PosixFilePermission.OWNER_WRITE,
                    java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE);
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                c.setModel("mlp", AiOrchestratorIT.MODEL, "ONNX", "CPU");
                runsTheModel(c, "x", "y");
            }
            long pid = modelServerPid(db.shards());
            e.stop(db);
            awaitGone(pid);
            assertThat(socketDir).doesNotExist();
        }
    }

    /**
     * Under {@code --lease} the model server has a lease guard of its own: once nobody renews the lease it stops with
     * the shards, though no watchdog is left to stop it (the experiment that renewed it has closed).
     */
    @Test
    void onceTheLeaseRunsOutTheModelServerStopsWithTheShards() throws Exception {
        int base = bed.ports(1);
        Orchestrator db;
        long shard;
        long modelServer;
        try (Experiment exp = Experiment.create("ai-lease", dir)) {
            db = exp.createOrchestrator(AiTestbed.spec(base, 1).auth(false).lease(Duration.ofSeconds(6)).build());
            exp.start(db);
            shard = db.shards().get(0).pid().orElseThrow();
            modelServer = modelServerPid(db.shards());
            exp.detach(db); // left running; once this experiment closes, nobody renews the lease
        }
        Instant last = Lease.in(db.plan().dir()).expiry().orElseThrow();
        long until = LeaseWaits.goneBy(last);
        while ((Pids.running(shard) || Pids.running(modelServer)) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        assertThat(Pids.running(shard)).as("the shard once the lease ran out at %s", last).isFalse();
        assertThat(Pids.running(modelServer)).as("the model server once the lease ran out at %s", last).isFalse();
        assertThat(db.plan().modelServers().get(0).socket()).doesNotExist(); // SIGTERM: its shutdown hook removed it
        List<Event> expired = EventLog.in(db.plan().dir()).read().stream()
                .filter(e -> e.type().equals(Event.LEASE_EXPIRED)).toList();
        assertThat(expired).anySatisfy(e -> assertThat(e.detail()).contains("sent SIGTERM to pid " + modelServer));
        try (Experiment exp = Experiment.reconnect(dir)) {
            exp.stop(exp.orchestrator(db.id()));
        }
    }

    @Test
    void withTlsTheModuleServesModelsToATlsClient() throws Exception {
        int base = bed.ports(1);
        try (Experiment exp = Experiment.create("ai-tls", dir)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 1).auth(false).tls(true).build());
            exp.start(db);
            Path ca = db.plan().tls().orElseThrow().caCert();
            Path model = Files.write(dir.resolve("mlp.onnx"), AiOrchestratorIT.MODEL);
            List<String> tls = List.of("redis-cli", "--tls", "--cacert", ca.toString(), "-h", "127.0.0.1", "-p",
                    Integer.toString(base));
            assertThat(cli(tls, model, "-x", "AI.MODELSTORE", "mlp", "ONNX", "CPU", "BLOB")).isEqualTo("OK\n");
            assertThat(cli(tls, null, "AI.TENSORSET", "x", "FLOAT", "1", "4", "VALUES", "1", "2", "3", "4"))
                    .isEqualTo("OK\n");
            assertThat(cli(tls, null, "AI.MODELEXECUTE", "mlp", "INPUTS", "1", "x", "OUTPUTS", "1", "y"))
                    .isEqualTo("OK\n");
            float[] want = AiOrchestratorIT.expected(X, 1);
            List<Float> got = cli(tls, null, "AI.TENSORGET", "y", "VALUES").lines().map(Float::parseFloat).toList();
            assertThat(got).hasSize(3);
            for (int i = 0; i < 3; i++) {
                assertThat(got.get(i)).isCloseTo(want[i], offset(1e-5f));
            }
            // No plain-text port: a client without TLS gets no answer from it.
            Process plain = new ProcessBuilder("redis-cli", "-p", Integer.toString(base), "PING")
                    .redirectErrorStream(true).start();
            String out = new String(plain.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(plain.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(out).doesNotContain("PONG");
            exp.stop(db);
        }
    }

    private static String cli(List<String> base, Path stdin, String... args) throws Exception {
        List<String> argv = new ArrayList<>(base);
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        if (stdin != null) {
            pb.redirectInput(stdin.toFile());
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
