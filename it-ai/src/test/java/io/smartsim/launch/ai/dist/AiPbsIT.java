package io.smartsim.launch.ai.dist;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.ClientException;
import io.smartsim.launch.client.TensorData;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.pbs.PbsTestJobs;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.plan.Crc16;
import io.smartsim.launch.pbs.PbsLauncher;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.spi.Launchers;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.supervise.EventLog;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Pids;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.ai.dist.AiTestbed.X;
import static io.smartsim.launch.ai.dist.AiTestbed.keyOn;
import static io.smartsim.launch.ai.dist.AiTestbed.modelServersOf;
import static io.smartsim.launch.ai.dist.AiTestbed.pid;
import static io.smartsim.launch.ai.dist.AiTestbed.redisCli;
import static io.smartsim.launch.ai.dist.AiTestbed.runsTheModel;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

/**
 * {@code --ai onnx} on the PBS testbed (testbeds/pbs/up: Debian's slurm-wlm-torque qsub/qstat/qdel over the 3-node
 * Slurm testbed, nodes n1-n3 at 127.0.1.1-3, sshd on port 22022) through the Redis module (issue 16): each shard's
 * wrapper execs its redis-server, which loads the smartsim-ai module, and each node runs one model server started by
 * the run command (ssh here: the front end has no pbsdsh or mpiexec), in a job and as a batch job of its own. Real
 * PBS commands, sshd, redis-servers, model servers and ONNX Runtime. The nodes share this machine's file system and
 * process table, so the test reads their processes from /proc here.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
@TestbedLock(TestbedLock.Bed.SLURM)
@TestbedLock(TestbedLock.Bed.PBS)
class AiPbsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir (model servers too), ports anywhere
    private static final LocalCommandRunner SH = new LocalCommandRunner();
    private static final Duration CMD = Duration.ofSeconds(60);

    @TempDir
    Path tmp;
    final AiTestbed bed = new AiTestbed(leftovers);
    private final List<String> jobs = new ArrayList<>();
    private final List<String> progress = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void pbsFrontEndIsHere() {
        PbsTestJobs.frontEndUp();
    }

    @AfterEach
    void deleteJobs() {
        PbsTestJobs.deleteJobs(progress, jobs);
        // Then the Leftovers check: shards and model servers by working dir, ports on every address.
    }

    /**
     * {@code db status --json} of the launcher jar (cli/target/smartsim-launch.jar, as users run it) in a process of
     * its own, on the experiment in {@code exp}; its standard output parsed (progress and warnings go to its stderr).
     */
    private JsonNode statusJson(Path exp) throws Exception {
        Path jar = Path.of("../cli/target/smartsim-launch.jar").toAbsolutePath().normalize();
        assertThat(jar).isRegularFile();
        List<String> argv = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                jar.toString(), "db", "status", "--exp-dir", exp.toString(), "--json");
        Path out = Files.createTempFile(tmp, "status", ".json");
        Path err = Files.createTempFile(tmp, "status", ".err");
        ProcessBuilder pb = new ProcessBuilder(argv).directory(tmp.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("SMARTSIM_AI_PATH", System.getProperty("smartsim.ai.path"));
        Process p = pb.start();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("db status --json did not end within 3 minutes: " + Files.readString(err));
        }
        String text = Files.readString(out);
        assertThat(text).as("db status --json (exit %d), stderr: %s", p.exitValue(), Files.readString(err))
                .startsWith("{");
        return Json.mapper().readTree(text);
    }

    private Experiment experiment(String name) {
        return Experiment.create(name, tmp.resolve("exp"), progress::add);
    }

    private static OrchestratorSpec.Builder spec(int port) {
        return AiTestbed.spec(port, 1).launcher("pbs").nodes(3).auth(false)
                .startupTimeout(Duration.ofSeconds(150)).launcherOption("runCommand", "ssh")
                .launcherOption("sshConfig", PbsTestJobs.SSH_CONFIG.toString());
    }

    private static void eachNodeRunsItsModelServer(Orchestrator db) {
        List<ModelServerPlan> servers = db.plan().modelServers();
        assertThat(servers).hasSize(3);
        for (LaunchedShard s : db.shards()) {
            ModelServerPlan m = servers.get(s.index());
            assertThat(s.handle()).containsEntry(AiPlanner.HANDLE_SOCKET, m.socket().toString())
                    .containsEntry(AiPlanner.HANDLE_NODE, "n" + (s.index() + 1));
            assertThat(AiTestbed.cmdline(pid(s))).contains(AiPlanner.MODEL_SERVER_MAIN, "--socket " + m.socket());
            assertThat(Processes.free("0.0.0.0", s.port() + 20000)).as("nothing on the removed front's server port")
                    .isTrue();
        }
    }

    /** Polls (30 s at most) until no process runs a model server of {@code servers}; fails naming what is left. */
    private static void modelServersEnd(List<ModelServerPlan> servers) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (servers.stream().anyMatch(m -> !modelServersOf(m.socket()).isEmpty()) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        for (ModelServerPlan m : servers) {
            assertThat(modelServersOf(m.socket())).as("model server on %s", m.host()).isEmpty();
        }
    }

    /**
     * In a job, over ssh, with {@code --tls} (which the front could not serve): redis-cli with the orchestrator's CA
     * stores and runs a model on the shard that owns its key, following MOVED from another shard; stop ends every
     * node's model server with the shards.
     */
    /**
     * {@code db start} (the jar, a process of its own) in an existing job, SIGKILLed while its model servers start:
     * their ssh clients here exist, no shard's yet. Each shard was recorded just before, naming its node's model
     * server's wrapper, so {@code db cleanup} (another process) ends those clients, and each model server's watch then
     * stops it. Before, nothing was recorded: cleanup had nothing to stop and the model servers ran on.
     */
    @Test
    void dbStartKilledWithSigkillWhileItsModelServersStartInAJobThenDbCleanupLeavesNothing() throws Exception {
        killedStartThenCleanup(clients -> clients.stream().anyMatch(c -> c.contains("/model-server-")),
                clients -> clients.stream().noneMatch(c -> c.contains(".pbs.sh")));
    }

    /**
     * As above, killed once the shards' ssh clients exist too (before any shard reported): each shard was recorded
     * just before its client was spawned, naming its wrapper; cleanup ends the clients, and each wrapper's watch its
     * server. Before, the shards ran on in the job with nothing recording them.
     */
    @Test
    void dbStartKilledWithSigkillWhileItsShardsStartInAJobThenDbCleanupLeavesNothing() throws Exception {
        killedStartThenCleanup(clients -> clients.stream().anyMatch(c -> c.contains(".pbs.sh")), clients -> true);
    }

    /**
     * Starts the jar's {@code db start --ai onnx} in a held job, SIGKILLs it once {@code killWhen} holds for this
     * machine's ssh clients of the run (their command lines), checks {@code atKill} of the clients left, then runs
     * {@code db cleanup} and checks nothing of the run is left: no client, no shard, no model server.
     */
    private void killedStartThenCleanup(java.util.function.Predicate<List<String>> killWhen,
                                        java.util.function.Predicate<List<String>> atKill) throws Exception {
        String job = PbsTestJobs.holder(tmp, jobs::add);
        int port = bed.ports(1);
        Path exp = tmp.resolve("exp");
        Process start = AiTestbed.jar(tmp, tmp.resolve("start"), "db", "start", "--exp-dir", exp.toString(),
                "--launcher", "pbs", "--alloc", job, "--nodes", "3", "--port", Integer.toString(port), "--no-auth",
                "--ai", "onnx", "--telemetry", "off", "--timeout", "150", "--launcher-option", "runCommand=ssh",
                "--launcher-option", "sshConfig=" + PbsTestJobs.SSH_CONFIG);
        List<String> atTheKill;
        try {
            long until = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!killWhen.test(sshClientsOf(exp)) && start.isAlive() && System.nanoTime() < until) {
                Thread.sleep(20);
            }
        } finally {
            start.destroyForcibly(); // SIGKILL: no shutdown hook runs
        }
        assertThat(start.waitFor(30, TimeUnit.SECONDS)).isTrue();
        atTheKill = sshClientsOf(exp);
        assertThat(killWhen.test(atTheKill) && atKill.test(atTheKill)).as("the moment of the kill, by the run's ssh "
                + "clients then: %s; its stderr: %s", atTheKill, Files.readString(tmp.resolve("start.err"))).isTrue();

        Process cleanup = AiTestbed.jar(tmp, tmp.resolve("cleanup"), "db", "cleanup", "--exp-dir", exp.toString());
        assertThat(cleanup.waitFor(3, TimeUnit.MINUTES)).isTrue();
        String out = Files.readString(tmp.resolve("cleanup.out"));
        System.out.println("db cleanup: " + out + Files.readString(tmp.resolve("cleanup.err")));
        assertThat(cleanup.exitValue()).as("db cleanup's exit status; its stdout: %s; its stderr: %s", out,
                Files.readString(tmp.resolve("cleanup.err"))).isZero();
        assertThat(out).contains("(found STARTING)", " 0 left");
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while ((!sshClientsOf(exp).isEmpty() || !Processes.serversUnder(tmp).isEmpty()
                || java.util.stream.IntStream.range(0, 3).anyMatch(i -> !modelServersOf(exp.resolve(
                "orchestrator/ai/model-server-" + i + ".sock")).isEmpty())) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        assertThat(sshClientsOf(exp)).as("ssh clients of the run after db cleanup").isEmpty();
        assertThat(Processes.serversUnder(tmp)).as("shards of the run after db cleanup").isEmpty();
        for (int i = 0; i < 3; i++) {
            Path so = exp.resolve("orchestrator/ai/model-server-" + i + ".sock");
            assertThat(modelServersOf(so)).as("model server of %s", so).isEmpty();
        }
        assertThat(PbsTestJobs.holderRunning(job)).as("the user's job outlives the orchestrator").isTrue();
        // Then the Leftovers check: processes of the @TempDir, ports on every address.
    }

    /** This machine's ssh clients whose command line names a path under {@code exp} (the run's wrappers). */
    private static List<String> sshClientsOf(Path exp) {
        return ProcessHandle.allProcesses().filter(h -> h.info().command().map(c -> c.endsWith("/ssh")).orElse(false))
                .map(h -> h.info().commandLine().orElse("")).filter(c -> c.contains(exp.toString())).toList();
    }

    @Test
    void inAJobWithTlsRedisCliRunsAModelThroughTheModuleAndStopEndsEveryModelServer() throws Exception {
        String job = PbsTestJobs.holder(tmp, jobs::add);
        int port = bed.ports(1);
        List<ModelServerPlan> servers;
        try (Experiment exp = experiment("ai-pbs-tls")) {
            Orchestrator db = exp.createOrchestrator(spec(port).tls(true).launcherOption("alloc", job).build());
            exp.start(db);
            servers = db.plan().modelServers();
            eachNodeRunsItsModelServer(db);
            List<String> tls = List.of("--tls", "--cacert", db.plan().tls().orElseThrow().caCert().toString());
            assertThat(Crc16.slot("x")).isEqualTo(16287); // shard 2, on n3; redis-cli starts at shard 0 on n1
            Path model = tmp.resolve("mlp.onnx");
            Files.write(model, AiOrchestratorIT.MODEL);
            assertThat(redisCli(tls, "127.0.1.1", port, model, "AI.MODELSTORE", "{x}m", "ONNX", "CPU", "BLOB"))
                    .isEqualTo("OK");
            assertThat(redisCli(tls, "127.0.1.1", port, null, "AI.TENSORSET", "{x}t", "FLOAT", "1", "4", "VALUES",
                    "1", "2", "3", "4")).isEqualTo("OK");
            assertThat(redisCli(tls, "127.0.1.1", port, null, "AI.MODELEXECUTE", "{x}m", "INPUTS", "1", "{x}t",
                    "OUTPUTS", "1", "{x}o")).isEqualTo("OK");
            List<Float> y = redisCli(tls, "127.0.1.2", port, null, "AI.TENSORGET", "{x}o", "VALUES").lines()
                    .map(String::strip).map(Float::parseFloat).toList();
            float[] want = AiOrchestratorIT.expected(X, 1);
            assertThat(y).hasSize(want.length);
            for (int j = 0; j < want.length; j++) {
                assertThat(y.get(j)).isCloseTo(want[j], offset(1e-5f));
            }
            assertThat(Launchers.find("pbs").probeModelServers(db.plan(), db.shards()).values())
                    .containsOnly(Liveness.ALIVE)
                    .hasSize(3);
            exp.stop(db);
        }
        modelServersEnd(servers);
        assertThat(Processes.serversOn(List.of(port))).isEmpty();
    }

    /**
     * In a job over ssh under {@code --restart on-failure}: once n2's model server is killed, the watchdog (in process)
     * finds it gone (its ssh client here returned), starts it again on n2 by its wrapper over ssh on the same socket,
     * and n2's shard records the new one (pid, ssh client); no shard is restarted, and the stored model runs again on
     * shard 1 (its module pushes it to the new model server); stop ends every model server, the revived one too.
     * Before PbsLauncher.reviveModelServers, PBS refused --restart on-failure with --ai at plan time.
     */
    @Test
    void inAJobUnderRestartOnFailureAKilledModelServerIsStartedAgainOnItsNode() throws Exception {
        String job = io.smartsim.launch.pbs.PbsTestJobs.holder(tmp, jobs::add);
        int port = bed.ports(1);
        List<ModelServerPlan> servers;
        try (Experiment exp = experiment("ai-pbs-revive")) {
            Orchestrator db = exp.createOrchestrator(spec(port).restart(RestartPolicy.ON_FAILURE)
                    .launcherOption("alloc", job).build());
            exp.start(db);
            servers = db.plan().modelServers();
            eachNodeRunsItsModelServer(db);
            String in1 = keyOn(db, 1, "b");
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                c.setModel("mlp", AiOrchestratorIT.MODEL, "ONNX", "CPU");
                runsTheModel(c, in1, "y1");
            }
            long first = pid(db.shards().get(1));
            String firstClient = db.shards().get(1).handle().get(PbsLauncher.AI_CLIENT);
            assertThat(firstClient).as("the ssh client here that carries n2's model server").matches("[0-9]+");
            ProcessHandle.of(first).orElseThrow().destroyForcibly(); // SIGKILL on n2: no shutdown hook
            AiTestbed.awaitGone(first);
            AiTestbed.awaitEvent(db.plan().dir(), Event.MODEL_SERVER_RESTARTED);
            EventLog events = EventLog.in(db.plan().dir());
            LaunchedShard again = db.shards().get(1);
            long second = pid(again);
            assertThat(second).isNotEqualTo(first);
            assertThat(again.handle()).containsEntry(AiPlanner.HANDLE_NODE, "n2")
                    .containsEntry(AiPlanner.HANDLE_SOCKET, servers.get(1).socket().toString());
            assertThat(again.handle().get(PbsLauncher.AI_CLIENT)).matches("[0-9]+").isNotEqualTo(firstClient);
            assertThat(AiTestbed.cmdline(second)).contains(AiPlanner.MODEL_SERVER_MAIN, "--socket "
                    + servers.get(1).socket());
            assertThat(events.read()).noneMatch(e -> e.type().equals(Event.RESTARTING)); // no shard restarted
            assertThat(Launchers.find("pbs").probeModelServers(db.plan(), db.shards()))
                    .isEqualTo(Map.of(0, Liveness.ALIVE, 1, Liveness.ALIVE, 2, Liveness.ALIVE));
            try (Client c = Client.fromEnvironment(db.dbEnv())) { // the stored model, pushed again by the module
                runsTheModel(c, in1, "y1b");
            }
            exp.stop(db);
        }
        modelServersEnd(servers); // the revived one on n2 too: found by its socket
        assertThat(Processes.serversOn(List.of(port))).isEmpty();
    }

    /**
     * As a batch job of its own: the job's script starts each node's model server and waits until it is ready, then
     * the shards; the Java cluster client runs a model on every shard; once n2's model server is killed, its model
     * commands fail naming it while its data commands and the other nodes' model commands work; stop ends the job.
     * Status sees the model servers through each shard's module (no process of the launcher carries them here): all
     * alive before, n2's gone after, through the launcher ({@code probeModelServers}) and through {@code db status
     * --json} in another process. With auth on, so the probe must log in with the recorded plan's credentials (without
     * them every shard answers NOAUTH and each model server would show unknown).
     */
    @Test
    void asABatchJobAKilledModelServerFailsOnlyItsNodesModelCommandsStatusShowsItGoneAndStopEndsTheJob()
            throws Exception {
        int port = bed.ports(1);
        List<ModelServerPlan> servers;
        try (Experiment exp = experiment("ai-pbs-batch")) {
            Orchestrator db = exp.createOrchestrator(spec(port).auth(true).launcherOption("batch", "true")
                    .launcherOption("time", "00:10:00").build());
            exp.start(db);
            String job = db.shards().get(0).handle().get("jobId");
            servers = db.plan().modelServers();
            eachNodeRunsItsModelServer(db);
            String in0 = keyOn(db, 0, "a");
            String in1 = keyOn(db, 1, "b");
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                c.setModel("mlp", AiOrchestratorIT.MODEL, "ONNX", "CPU"); // on every shard, as SmartRedis
                runsTheModel(c, in0, "y0");
                runsTheModel(c, in1, "y1");
            }
            assertThat(db.shards()).allSatisfy(s -> assertThat(s.handle()).doesNotContainKey(PbsLauncher.AI_CLIENT));
            assertThat(Launchers.find("pbs").probeModelServers(db.plan(), db.shards()))
                    .as("a batch job's model servers, asked through each shard's module")
                    .isEqualTo(Map.of(0, Liveness.ALIVE, 1, Liveness.ALIVE, 2, Liveness.ALIVE));
            long killed = pid(db.shards().get(1));
            ProcessHandle.of(killed).orElseThrow().destroyForcibly(); // SIGKILL on n2: no shutdown hook
            long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (Pids.running(killed) && System.nanoTime() < until) {
                Thread.sleep(10);
            }
            assertThat(Pids.running(killed)).isFalse();
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                assertThatThrownBy(() -> c.runModel("mlp", List.of(in1), List.of("y1b")))
                        .isInstanceOf(ClientException.class).hasMessageContaining("ERR model server ")
                        .hasMessageContaining(servers.get(1).socket().toString());
                runsTheModel(c, in0, "y0b"); // n1's model server still serves shard 0
                c.putTensor(in1, TensorData.of(X, 1, 4)); // tensors are data: shard 1 serves them
                assertThat(c.getTensor(in1).asFloats()).containsExactly(X);
            }
            // SIGKILL left n2's socket file: shard 1's module answers "not connected (socket ...: Connection refused)"
            assertThat(Launchers.find("pbs").probeModelServers(db.plan(), db.shards()))
                    .isEqualTo(Map.of(0, Liveness.ALIVE, 1, Liveness.GONE, 2, Liveness.ALIVE));
            Map<String, String> shown = new HashMap<>();
            JsonNode status = statusJson(tmp.resolve("exp"));
            status.get("orchestrators").get(0).get("modelServers").forEach(m -> shown.put(m.get("socket").asText(),
                    m.get("process").asText()));
            assertThat(shown).as(status.toString()).isEqualTo(Map.of(servers.get(0).socket().toString(), "alive",
                    servers.get(1).socket().toString(), "gone", servers.get(2).socket().toString(), "alive"));
            exp.stop(db);
            assertThat(SH.run(List.of("qstat", "-f", job), CMD).stdout()).doesNotContain("job_state = R");
        }
        modelServersEnd(servers);
        assertThat(Processes.serversOn(List.of(port))).isEmpty();
    }

}
