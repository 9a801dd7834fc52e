package io.smartsim.launch.ai.dist;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.ClientException;
import io.smartsim.launch.client.TensorData;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.plan.Crc16;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.spi.Launchers;
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

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
    private static final Path TESTBED = Path.of("../testbeds/pbs").toAbsolutePath().normalize();
    private static final Path SSH_CONFIG = Path.of(System.getenv().getOrDefault("PBS_TESTBED_STATE",
            "/var/tmp/smartsim-pbs-testbed")).resolve("ssh_config");

    @TempDir
    Path tmp;
    final AiTestbed bed = new AiTestbed(leftovers);
    private final List<String> jobs = new ArrayList<>();
    private final List<String> progress = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void pbsFrontEndIsHere() {
        io.smartsim.launch.testing.Testbeds.pbs(TESTBED.resolve("up"));
    }

    @AfterEach
    void deleteJobs() {
        progress.stream().filter(l -> l.startsWith("submitted batch job ")).map(l -> l.split(" ")[3])
                .filter(id -> !jobs.contains(id)).forEach(jobs::add);
        if (!jobs.isEmpty()) {
            List<String> argv = new ArrayList<>(List.of("qdel"));
            argv.addAll(jobs);
            SH.run(argv, CMD);
        }
        // Then the Leftovers check: shards and model servers by working dir, ports on every address.
    }

    private Experiment experiment(String name) {
        return Experiment.create(name, tmp.resolve("exp"), progress::add);
    }

    private static OrchestratorSpec.Builder spec(int port) {
        return AiTestbed.spec(port, 1).launcher("pbs").nodes(3).auth(false)
                .startupTimeout(Duration.ofSeconds(150)).launcherOption("runCommand", "ssh")
                .launcherOption("sshConfig", SSH_CONFIG.toString());
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
    @Test
    void inAJobWithTlsRedisCliRunsAModelThroughTheModuleAndStopEndsEveryModelServer() throws Exception {
        String job = io.smartsim.launch.pbs.PbsTestJobs.holder(tmp, jobs::add);
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
            assertThat(Launchers.find("pbs").probeModelServers(db.shards()).values()).containsOnly(Liveness.ALIVE)
                    .hasSize(3);
            exp.stop(db);
        }
        modelServersEnd(servers);
        assertThat(Processes.serversOn(List.of(port))).isEmpty();
    }

    /**
     * As a batch job of its own: the job's script starts each node's model server and waits until it is ready, then
     * the shards; the Java cluster client runs a model on every shard; once n2's model server is killed, its model
     * commands fail naming it while its data commands and the other nodes' model commands work; stop ends the job.
     */
    @Test
    void asABatchJobAKilledModelServerFailsOnlyItsNodesModelCommandsAndStopEndsTheJob() throws Exception {
        int port = bed.ports(1);
        List<ModelServerPlan> servers;
        try (Experiment exp = experiment("ai-pbs-batch")) {
            Orchestrator db = exp.createOrchestrator(spec(port).launcherOption("batch", "true")
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
            exp.stop(db);
            assertThat(SH.run(List.of("qstat", "-f", job), CMD).stdout()).doesNotContain("job_state = R");
        }
        modelServersEnd(servers);
        assertThat(Processes.serversOn(List.of(port))).isEmpty();
    }

}
