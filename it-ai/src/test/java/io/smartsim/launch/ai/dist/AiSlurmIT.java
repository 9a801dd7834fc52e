package io.smartsim.launch.ai.dist;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.ClientException;
import io.smartsim.launch.client.TensorData;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.plan.Crc16;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.spi.Launchers;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.supervise.EventLog;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
import static org.assertj.core.api.Assertions.offset;

/**
 * {@code --ai onnx} on the Slurm testbed (testbeds/slurm/up: n1-n3 at 127.0.1.1-3), through the Redis module (issue
 * 16): each shard's srun step execs its redis-server, which loads the smartsim-ai module; each node runs one model
 * server as a step of its own, in an allocation and as a batch job. Real slurmctld/slurmd, redis-servers, model
 * servers and ONNX Runtime. The nodes share this machine's file system and process table, so the test reads their
 * processes from /proc here.
 */
@TestbedLock(TestbedLock.Bed.SLURM)
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class AiSlurmIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir (model servers too), ports anywhere
    private static final LocalCommandRunner SH = new LocalCommandRunner();
    private static final Duration CMD = Duration.ofSeconds(60);
    private static final String AI_STEP = AiPlanner.HANDLE_PREFIX + "step";

    @TempDir
    Path tmp;
    final AiTestbed bed = new AiTestbed(leftovers);
    private final List<String> jobs = new ArrayList<>();

    @BeforeAll
    static void slurmIsHere() {
        io.smartsim.launch.testing.Testbeds.slurm();
    }

    @AfterEach
    void cancel() {
        if (!jobs.isEmpty()) {
            List<String> argv = new ArrayList<>(List.of("scancel"));
            argv.addAll(jobs);
            SH.run(argv, CMD);
        }
        // Then the Leftovers check: shards and model servers by working dir, ports on every address (the shards bind
        // 127.0.1.x, where a check on 127.0.0.1 saw nothing).
    }

    /** A job holding the 3 nodes, as a user's salloc would; its id once it runs. */
    private String holder() throws InterruptedException {
        CommandResult r = SH.run(List.of("sbatch", "--parsable", "-N3", "-J", "ai-slurm-it-holder", "--output=/dev/null",
                "--wrap", "sleep 600"), CMD);
        assertThat(r.ok()).as(r.describe()).isTrue();
        String id = r.stdout().strip().split(";")[0];
        jobs.add(id);
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < until) {
            if (SH.run(List.of("squeue", "-h", "-j", id, "-o", "%T"), CMD).stdout().strip().equals("RUNNING")) {
                return id;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("holder job " + id + " did not start running within 60 s");
    }

    private OrchestratorSpec.Builder inAllocation(int port, String job) {
        return AiTestbed.spec(port, 1).launcher("slurm").nodes(3).auth(false).launcherOption("alloc", job)
                .startupTimeout(Duration.ofSeconds(150)); // three JVMs load ONNX Runtime at once on a loaded machine
    }

    /** The running steps of job {@code id} as squeue lists them ("JOB.STEP NAME" lines), its batch script's aside. */
    private static List<String> steps(String id) {
        return SH.run(List.of("squeue", "-h", "-s", "-j", id, "-o", "%i %j"), CMD).stdout().lines()
                .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith(id + ".batch ")
                        && !l.startsWith(id + ".extern ")).toList();
    }

    /**
     * Polls (30 s at most: Slurm ends a cancelled step a moment after scancel returns) until no process runs a model
     * server of {@code servers}; fails naming what is left.
     */
    private static void modelServersEnd(List<ModelServerPlan> servers) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (servers.stream().anyMatch(m -> !modelServersOf(m.socket()).isEmpty()) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        for (ModelServerPlan m : servers) {
            assertThat(modelServersOf(m.socket())).as("model server on %s", m.host()).isEmpty();
        }
    }

    /** Each node's model server runs as its own step of {@code job}, named {@code <id>-ai-<k>}, recorded by its shard. */
    private static void eachNodeHasItsModelServerStep(Orchestrator db, String job) {
        List<ModelServerPlan> servers = db.plan().modelServers();
        assertThat(servers).hasSize(3);
        List<String> live = steps(job);
        for (LaunchedShard s : db.shards()) {
            ModelServerPlan m = servers.get(s.index());
            assertThat(s.handle()).containsEntry(AiPlanner.HANDLE_SOCKET, m.socket().toString())
                    .containsEntry(AiPlanner.HANDLE_NODE, "n" + (s.index() + 1));
            assertThat(live).contains(s.handle().get(AI_STEP) + " " + db.id() + "-ai-" + s.index());
            assertThat(AiTestbed.cmdline(pid(s))).contains(AiPlanner.MODEL_SERVER_MAIN, "--socket " + m.socket());
            // one design only: nothing on the removed front's server port (+ 20000)
            assertThat(Processes.free("0.0.0.0", s.port() + 20000)).isTrue();
        }
        Path dir = db.plan().dir();
        assertThat(ProcessHandle.allProcesses().map(h -> AiTestbed.cmdline(h.pid()))
                .filter(c -> c.contains("io.smartsim.launch.ai.AiServerMain") && c.contains(dir.toString())))
                .as("fronts (removed in issue 16)").isEmpty();
    }

    @Test
    void inAnAllocationEachNodeRunsOneModelServerStepAndAModelRunsOnAllThreeNodesAtOnce() throws Exception {
        String job = holder();
        int port = bed.ports(1);
        List<ModelServerPlan> servers;
        try (Experiment exp = Experiment.create("ai-slurm", tmp.resolve("exp"))) {
            Orchestrator db = exp.createOrchestrator(inAllocation(port, job).build());
            exp.start(db);
            servers = db.plan().modelServers();
            assertThat(db.addresses()).containsExactly("127.0.1.1:" + port, "127.0.1.2:" + port, "127.0.1.3:" + port);
            eachNodeHasItsModelServerStep(db, job);
            Map<String, String> env = db.dbEnv();
            try (Client c = Client.fromEnvironment(env)) {
                c.setModel("mlp", AiOrchestratorIT.MODEL, "ONNX", "CPU");
            }
            ExecutorService pool = Executors.newFixedThreadPool(6);
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                int id = t;
                done.add(pool.submit(() -> {
                    int n = 0;
                    try (Client c = Client.fromEnvironment(env)) {
                        for (int i = 0; i < 20; i++) {
                            float[] x = {id, i, -id, 1};
                            String in = "in." + id + "." + i;
                            c.putTensor(in, TensorData.of(x, 1, 4));
                            c.runModel("mlp", List.of(in), List.of("out." + id + "." + i));
                            assertThat(c.getTensor("out." + id + "." + i).asFloats()).containsExactly(
                                    AiOrchestratorIT.expected(x, 1), org.assertj.core.data.Offset.offset(1e-4f));
                            n++;
                        }
                    }
                    return n;
                }));
            }
            int total = 0;
            for (Future<Integer> f : done) {
                total += f.get(5, TimeUnit.MINUTES);
            }
            pool.shutdown();
            assertThat(total).isEqualTo(120);
            // Every node's model server ran the model: AI.INFO counts the runs on each shard's own copy.
            for (int n = 0; n < 3; n++) {
                long calls = calls("127.0.1." + (n + 1), port);
                assertThat(calls).as("runs on node n%d", n + 1).isPositive();
            }
            exp.stop(db);
        }
        assertThat(steps(job)).as("steps of the allocation after stop").isEmpty();
        modelServersEnd(servers);
    }

    /**
     * As a batch job of its own: the job's script starts the model server steps and waits until each is ready, then the
     * shard steps. redis-cli -c stores and runs a model on the shard that owns its key from another shard (MOVED
     * followed); once node n3's model server is killed, its model commands fail naming it while its data commands and
     * the other nodes' model commands work; stop leaves nothing on any node.
     */
    @Test
    void asABatchJobRedisCliFollowsMovedForModelCommandsAndAKilledModelServerFailsOnlyItsModelCommands()
            throws Exception {
        int port = bed.ports(1);
        List<ModelServerPlan> servers;
        try (Experiment exp = Experiment.create("ai-slurm-batch", tmp.resolve("exp"))) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(port, 1).launcher("slurm").nodes(3).auth(false)
                    .startupTimeout(Duration.ofSeconds(150)).launcherOption("batch", "true")
                    .launcherOption("time", "00:10:00").build());
            exp.start(db);
            String job = db.shards().get(0).handle().get("jobId");
            jobs.add(job);
            servers = db.plan().modelServers();
            eachNodeHasItsModelServerStep(db, job);

            // {x} hashes to slot 16287: shard 2 on n3. redis-cli starts at shard 0 on n1 and follows MOVED.
            assertThat(Crc16.slot("x")).isEqualTo(16287);
            Path model = tmp.resolve("mlp.onnx");
            Files.write(model, AiOrchestratorIT.MODEL);
            assertThat(redisCli("127.0.1.1", port, model, "AI.MODELSTORE", "{x}m", "ONNX", "CPU", "BLOB"))
                    .isEqualTo("OK");
            assertThat(redisCli("127.0.1.1", port, null, "AI.TENSORSET", "{x}t", "FLOAT", "1", "4", "VALUES", "1", "2",
                    "3", "4")).isEqualTo("OK");
            assertThat(redisCli("127.0.1.1", port, null, "AI.MODELEXECUTE", "{x}m", "INPUTS", "1", "{x}t", "OUTPUTS",
                    "1", "{x}o")).isEqualTo("OK");
            List<Float> y = redisCli("127.0.1.2", port, null, "AI.TENSORGET", "{x}o", "VALUES").lines()
                    .map(String::strip).map(Float::parseFloat).toList();
            float[] want = AiOrchestratorIT.expected(X, 1);
            assertThat(y).hasSize(want.length);
            for (int j = 0; j < want.length; j++) {
                assertThat(y.get(j)).isCloseTo(want[j], offset(1e-5f));
            }
            String in0 = keyOn(db, 0, "a");
            try (Client c = Client.fromEnvironment(db.dbEnv())) { // the Java cluster client
                c.setModel("mlp", AiOrchestratorIT.MODEL, "ONNX", "CPU");
                runsTheModel(c, in0, "y0");
            }
            assertThat(Launchers.find("slurm").probeModelServers(db.plan(), db.shards()).values())
                    .containsOnly(Liveness.ALIVE)
                    .hasSize(3);

            long killed = pid(db.shards().get(2));
            ProcessHandle.of(killed).orElseThrow().destroyForcibly(); // SIGKILL on n3: no shutdown hook
            awaitGone(killed);
            assertThat(redisCli("127.0.1.1", port, null, "AI.MODELEXECUTE", "{x}m", "INPUTS", "1", "{x}t", "OUTPUTS",
                    "1", "{x}o2")).contains("ERR model server ", servers.get(2).socket().toString());
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                assertThatThrownBy(() -> c.runModel("mlp", List.of("{x}t"), List.of("{x}o3")))
                        .isInstanceOf(ClientException.class).hasMessageContaining("ERR model server ");
                runsTheModel(c, in0, "y0b"); // n1's model server still serves shard 0
            }
            // data commands on n3's shard keep working
            assertThat(redisCli("127.0.1.1", port, null, "SET", "{x}plain", "v")).isEqualTo("OK");
            assertThat(redisCli("127.0.1.1", port, null, "GET", "{x}plain")).isEqualTo("v");
            assertThat(redisCli("127.0.1.3", port, null, "AI.TENSORGET", "{x}t", "VALUES")).contains("4");
            Map<Integer, Liveness> live = Launchers.find("slurm").probeModelServers(db.plan(), db.shards());
            assertThat(live).containsEntry(0, Liveness.ALIVE).containsEntry(1, Liveness.ALIVE)
                    .containsEntry(2, Liveness.GONE);

            exp.stop(db);
            assertThat(SH.run(List.of("squeue", "-h", "-j", job, "-o", "%T"), CMD).stdout().strip())
                    .as("the batch job after stop").isIn("", "COMPLETING", "COMPLETED", "CANCELLED");
        }
        modelServersEnd(servers);
        assertThat(Processes.serversOn(List.of(port))).isEmpty();
    }

    @Test
    void aShardThatFailsToStartEndsEveryModelServerStepOfTheLaunch() throws Exception {
        String job = holder();
        int port = bed.ports(1);
        try (Experiment exp = Experiment.create("ai-slurm-bad", tmp.resolve("exp"))) {
            Orchestrator db = exp.createOrchestrator(inAllocation(port, job).addConfig("no-such-directive yes")
                    .build());
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(ShardStartException.class);
            for (ModelServerPlan m : db.plan().modelServers()) {
                // each was started and ready (its console says so), then ended with the launch
                assertThat(Files.readString(m.console())).contains(ModelServerPlan.READY);
            }
            modelServersEnd(db.plan().modelServers());
        }
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!steps(job).isEmpty() && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        assertThat(steps(job)).as("steps of the allocation after the failed start").isEmpty();
    }

    /** Under --restart on-failure the watchdog starts a killed model server again as a new step on its node. */
    @Test
    void underRestartOnFailureAKilledModelServerComesBackAsANewStepOnItsNode() throws Exception {
        String job = holder();
        int port = bed.ports(1);
        try (Experiment exp = Experiment.create("ai-slurm-restart", tmp.resolve("exp"))) {
            Orchestrator db = exp.createOrchestrator(inAllocation(port, job).restart(RestartPolicy.ON_FAILURE)
                    .build());
            exp.start(db);
            String in1 = keyOn(db, 1, "b");
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                c.setModel("mlp", AiOrchestratorIT.MODEL, "ONNX", "CPU");
                runsTheModel(c, in1, "y1");
            }
            String firstStep = db.shards().get(1).handle().get(AI_STEP);
            long first = pid(db.shards().get(1));
            ProcessHandle.of(first).orElseThrow().destroyForcibly();
            awaitGone(first);
            AiTestbed.awaitEvent(db.plan().dir(), Event.MODEL_SERVER_RESTARTED);
            EventLog events = EventLog.in(db.plan().dir());
            LaunchedShard again = db.shards().get(1);
            assertThat(again.handle().get(AI_STEP)).isNotEqualTo(firstStep);
            assertThat(steps(job)).contains(again.handle().get(AI_STEP) + " " + db.id() + "-ai-1");
            assertThat(again.handle()).containsEntry(AiPlanner.HANDLE_NODE, "n2");
            assertThat(AiTestbed.cmdline(pid(again))).contains(AiPlanner.MODEL_SERVER_MAIN, "--socket "
                    + db.plan().modelServers().get(1).socket());
            assertThat(events.read()).noneMatch(e -> e.type().equals(Event.RESTARTING)); // no shard restarted
            try (Client c = Client.fromEnvironment(db.dbEnv())) { // the stored model, loaded again by the module
                runsTheModel(c, in1, "y1b");
            }
            exp.stop(db);
        }
        assertThat(steps(job)).as("steps of the allocation after stop").isEmpty();
    }

    /**
     * {@code db start} (the launcher jar, in a process of its own) SIGKILLed in the allocation while its model servers
     * start: their steps exist, no shard's yet, and nothing more can be written. Each shard was recorded just before
     * the model server sruns were spawned, with its node's model server's step name and srun work directory, so {@code
     * db cleanup} (another process) cancels those steps and ends their sruns. Before, the manifest named no shard:
     * cleanup had nothing to stop and the model server steps ran on in the user's allocation until it ended.
     */
    @Test
    void dbStartKilledWithSigkillWhileItsModelServersStartThenDbCleanupLeavesNoStepOrModelServer() throws Exception {
        String job = holder();
        int port = bed.ports(1);
        Path exp = tmp.resolve("exp");
        Process start = dbStart(job, port, exp);
        try {
            long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (steps(job).stream().noneMatch(l -> l.endsWith("-ai-0")) && start.isAlive()
                    && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            assertThat(steps(job)).as("a model server step of the start: %s", Files.readString(tmp.resolve(
                    "start.err"))).anyMatch(l -> l.endsWith("-ai-0"));
        } finally {
            start.destroyForcibly(); // SIGKILL: no shutdown hook runs
        }
        assertThat(start.waitFor(30, TimeUnit.SECONDS)).isTrue();
        List<String> left = steps(job);
        // The kill came while the model servers started (a JVM each, loading ONNX Runtime), before any shard's srun:
        // if a shard step were there, this test would not be testing that moment.
        assertThat(left).as("steps the killed start left").isNotEmpty()
                .allMatch(l -> l.matches("\\S+ \\S+-ai-\\d"));

        Process cleanup = jar(tmp.resolve("cleanup"), "db", "cleanup", "--exp-dir", exp.toString());
        assertThat(cleanup.waitFor(3, TimeUnit.MINUTES)).isTrue();
        String out = Files.readString(tmp.resolve("cleanup.out"));
        System.out.println("db cleanup: " + out + Files.readString(tmp.resolve("cleanup.err")));
        assertThat(cleanup.exitValue()).as("%s%s", out, Files.readString(tmp.resolve("cleanup.err"))).isZero();
        assertThat(out).as(out).contains("(found STARTING)", " 0 left");
        // Slurm ends a cancelled step a moment after scancel returns: waited for, bounded.
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!steps(job).isEmpty() && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        assertThat(steps(job)).as("steps of the allocation after db cleanup").isEmpty();
        List<Path> sockets = java.util.stream.IntStream.range(0, 3)
                .mapToObj(i -> exp.resolve("orchestrator/ai/model-server-" + i + ".sock")).toList();
        until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (sockets.stream().anyMatch(so -> !modelServersOf(so).isEmpty()) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        for (Path so : sockets) {
            assertThat(modelServersOf(so)).as("model server of %s", so).isEmpty();
        }
        until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (SH.run(List.of("pgrep", "-af", "srun"), CMD).stdout().contains("--jobid=" + job + " ")
                && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        assertThat(SH.run(List.of("pgrep", "-af", "srun"), CMD).stdout()).as("sruns of the allocation")
                .doesNotContain("--jobid=" + job + " ");
        assertThat(SH.run(List.of("squeue", "-h", "-j", job, "-o", "%T"), CMD).stdout().strip())
                .as("the user's allocation").isEqualTo("RUNNING");
        // Then the Leftovers check: processes of the @TempDir, ports on every address.
    }

    /**
     * An orchestrator started by the jar's {@code db start} in the allocation, whose shards' steps all end (cancelled
     * here, as a node failure or a user's scancel would) while their model servers' steps run on: {@code db cleanup}
     * finds it STALE and ends those steps too. Before, it stopped only the shards its probe found, none here, and the
     * three model server steps ran on in the user's allocation.
     */
    @Test
    void dbCleanupOfAnOrchestratorWhoseShardsAreGoneEndsTheirModelServerSteps() throws Exception {
        String job = holder();
        int port = bed.ports(1);
        Path exp = tmp.resolve("exp");
        Process start = dbStart(job, port, exp);
        assertThat(start.waitFor(3, TimeUnit.MINUTES)).isTrue();
        assertThat(start.exitValue()).as(Files.readString(tmp.resolve("start.err"))).isZero();
        List<String> shardSteps = steps(job).stream().filter(l -> !l.matches("\\S+ \\S+-ai-\\d"))
                .map(l -> l.split(" ")[0]).toList();
        assertThat(shardSteps).as("the shards' steps: %s", steps(job)).hasSize(3);
        List<String> scancel = new ArrayList<>(List.of("scancel"));
        scancel.addAll(shardSteps);
        assertThat(SH.run(scancel, CMD).ok()).isTrue();
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (steps(job).stream().anyMatch(l -> shardSteps.contains(l.split(" ")[0])) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        assertThat(steps(job)).as("only the model servers' steps are left").hasSize(3)
                .allMatch(l -> l.matches("\\S+ \\S+-ai-\\d"));

        Process cleanup = jar(tmp.resolve("cleanup"), "db", "cleanup", "--exp-dir", exp.toString());
        assertThat(cleanup.waitFor(3, TimeUnit.MINUTES)).isTrue();
        String out = Files.readString(tmp.resolve("cleanup.out"));
        System.out.println("db cleanup: " + out + Files.readString(tmp.resolve("cleanup.err")));
        assertThat(cleanup.exitValue()).as(out).isZero();
        assertThat(out).contains("(found STALE)", " 0 left");
        until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!steps(job).isEmpty() && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        assertThat(steps(job)).as("steps of the allocation after db cleanup").isEmpty();
        for (int i = 0; i < 3; i++) {
            Path so = exp.resolve("orchestrator/ai/model-server-" + i + ".sock");
            until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!modelServersOf(so).isEmpty() && System.nanoTime() < until) {
                Thread.sleep(100);
            }
            assertThat(modelServersOf(so)).as("model server of %s", so).isEmpty();
        }
        // Then the Leftovers check: processes of the @TempDir (the db watch process of telemetry off: none), ports.
    }

    /** The jar's {@code db start}: 3 shards with {@code --ai onnx} in allocation {@code job}, in {@code exp}. */
    private Process dbStart(String job, int port, Path exp) throws Exception {
        return jar(tmp.resolve("start"), "db", "start", "--exp-dir", exp.toString(), "--launcher", "slurm", "--alloc",
                job, "--nodes", "3", "--port", Integer.toString(port), "--no-auth", "--ai", "onnx", "--telemetry",
                "off", "--timeout", "150");
    }

    private Process jar(Path name, String... args) throws Exception {
        return AiTestbed.jar(tmp, name, args);
    }

    /** The calls AI.INFO reports for the model copy of the shard at host:port (the client's prefix of its low slot). */
    private static long calls(String host, int port) throws Exception {
        try (Socket s = new Socket(host, port)) {
            s.setSoTimeout(10_000);
            var out = s.getOutputStream();
            var in = new java.io.DataInputStream(new java.io.BufferedInputStream(s.getInputStream()));
            out.write("*2\r\n$7\r\nCLUSTER\r\n$4\r\nMYID\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String idLine = readLine(in);
            String id = new String(in.readNBytes(Integer.parseInt(idLine.substring(1)) + 2), StandardCharsets.US_ASCII)
                    .strip();
            out.write("*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // Read the CLUSTER SLOTS reply through a tiny parser; find this node's lowest slot.
            List<?> slots = (List<?>) read(in);
            long lo = -1;
            for (Object o : slots) {
                List<?> e = (List<?>) o;
                List<?> m = (List<?>) e.get(2);
                if (new String((byte[]) m.get(2), StandardCharsets.US_ASCII).equals(id)) {
                    lo = (Long) e.get(0);
                }
            }
            byte[] key = SmartRedisWireIT.prefixed(SmartRedisWireIT.prefix((int) lo), "mlp");
            java.io.ByteArrayOutputStream cmd = new java.io.ByteArrayOutputStream();
            cmd.writeBytes(("*2\r\n$7\r\nAI.INFO\r\n$" + key.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            cmd.writeBytes(key);
            cmd.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(cmd.toByteArray());
            out.flush();
            List<?> info = (List<?>) read(in);
            for (int i = 0; i < info.size(); i += 2) {
                if (new String((byte[]) info.get(i), StandardCharsets.US_ASCII).equals("calls")) {
                    return (Long) info.get(i + 1);
                }
            }
            throw new AssertionError("no calls in AI.INFO: " + info);
        }
    }

    private static String readLine(java.io.DataInputStream in) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != '\r') {
            sb.append((char) c);
        }
        in.read();
        return sb.toString();
    }

    private static Object read(java.io.DataInputStream in) throws java.io.IOException {
        String line = readLine(in);
        String rest = line.substring(1);
        return switch (line.charAt(0)) {
            case ':' -> Long.parseLong(rest);
            case '+' -> rest;
            case '-' -> throw new AssertionError(rest);
            case '$' -> {
                int n = Integer.parseInt(rest);
                byte[] b = in.readNBytes(n);
                in.readNBytes(2);
                yield b;
            }
            case '*' -> {
                int n = Integer.parseInt(rest);
                List<Object> l = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    l.add(read(in));
                }
                yield l;
            }
            default -> throw new AssertionError("not RESP: " + line);
        };
    }
}
