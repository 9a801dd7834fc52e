package io.smartsim.launch.ai.dist;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.OnnxModels;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.status.ShardHealth;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.ClientException;
import io.smartsim.launch.client.TensorData;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Pids;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code --ai onnx} end to end on the local launcher: real redis-servers loading the smartsim-ai module with the real
 * model server (from ai-dist/target/ai), the Java client as a user's model would run it, and tools nobody here wrote
 * (redis-cli).
 */
class AiOrchestratorIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    /** The model every test serves: Y = X W + B, X [batch, 4], Y [batch, 3]. */
    static final float[] W = {0.5f, -1, 2, 1, 0.25f, -0.5f, -2, 3, 1, 0, 1, -1};
    static final float[] B = {0.1f, -0.2f, 0.3f};
    static final byte[] MODEL = OnnxModels.linear(4, 3, W, B);

    @TempDir
    Path dir;
    final AiTestbed bed = new AiTestbed(leftovers);

    /** The expected output, computed here in double precision. */
    static float[] expected(float[] x, int batch) {
        float[] y = new float[batch * 3];
        for (int r = 0; r < batch; r++) {
            for (int j = 0; j < 3; j++) {
                double s = B[j];
                for (int k = 0; k < 4; k++) {
                    s += (double) x[r * 4 + k] * W[k * 3 + j];
                }
                y[r * 3 + j] = (float) s;
            }
        }
        return y;
    }

    private static String redisCli(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("redis-cli"));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    /**
     * Issue 16 changed what this checks: the shard is a redis-server loading the smartsim-ai module on the planned port
     * (no front, no server on P+20000), beside the orchestrator's one model server; the model and plain-Redis checks
     * are as they were.
     */
    @Test
    void oneShardServesModelsAndPlainRedisThroughTheModuleAndStopLeavesNothing() throws Exception {
        int base = bed.ports(1);
        try (Experiment exp = Experiment.create("ai1", dir)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 1).auth(false).build());
            assertThat(db.plan().shards().get(0).argv()).hasSize(2).doesNotContain("--server-argv");
            assertThat(db.plan().shards().get(0).config()).contains("port " + base + "\n", "loadmodule ");
            exp.start(db);
            assertThat(db.dbEnv()).containsEntry("SSDB", "127.0.0.1:" + base).containsEntry("SR_DB_TYPE", "Standalone");
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                c.setModel("mlp", MODEL, "ONNX", "CPU");
                float[] x = {1, 2, 3, 4, -1, 0.5f, 0, 2};
                c.putTensor("x", TensorData.of(x, 2, 4));
                c.runModel("mlp", List.of("x"), List.of("y"));
                assertThat(c.getTensor("y").shape()).containsExactly(2, 3);
                assertThat(c.getTensor("y").asFloats()).containsExactly(expected(x, 2),
                        org.assertj.core.data.Offset.offset(1e-5f));
            }
            assertThat(redisCli("-p", Integer.toString(base), "SET", "plain", "v")).isEqualTo("OK\n");
            assertThat(redisCli("-p", Integer.toString(base), "GET", "plain")).isEqualTo("v\n");
            assertThat(redisCli("-p", Integer.toString(base), "MODULE", "LIST")).contains("ai\n");
            assertThat(io.smartsim.launch.testing.Processes.free("127.0.0.1", base + 20000)).isTrue();
            assertThat(db.health().healthy()).isTrue();
            // The shard's process is redis-server itself; the model server is recorded beside it.
            long shard = db.shards().get(0).pid().orElseThrow();
            assertThat(AiTestbed.cmdline(shard)).matches("(/usr/bin/)?redis-server .*");
            long modelServer = Long.parseLong(db.shards().get(0).handle().get(AiPlanner.HANDLE_PID));
            assertThat(AiTestbed.cmdline(modelServer)).contains(AiPlanner.MODEL_SERVER_MAIN, "--backends ONNX");
            exp.stop(db);
            assertThat(Pids.running(modelServer)).as("the model server after stop").isFalse();
            assertThat(db.plan().modelServers().get(0).socket()).doesNotExist();
        }
    }

    @Test
    void threeShardClusterServesSixteenClientsAtOnceAndEveryAnswerIsRight() throws Exception {
        int base = bed.ports(3);
        try (Experiment exp = Experiment.create("ai3", dir)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 3).auth(false).build());
            exp.start(db);
            Map<String, String> env = db.dbEnv();
            assertThat(env).containsEntry("SR_DB_TYPE", "Clustered");

            // The cluster names the shards' planned ports: CLUSTER SLOTS sorted by slot, each master at its port.
            try (RespClient r = RespClient.connect(base)) {
                List<?> slots = (List<?>) r.call("CLUSTER", "SLOTS");
                List<Long> starts = slots.stream().map(e -> (Long) ((List<?>) e).get(0)).toList();
                assertThat(starts).isSorted().containsExactly(0L, 5462L, 10923L);
                assertThat(slots.stream().map(e -> (Long) ((List<?>) ((List<?>) e).get(2)).get(1)))
                        .containsExactly((long) base, (long) base + 1, (long) base + 2);
                String nodes = new String((byte[]) r.call("CLUSTER", "NODES"), StandardCharsets.US_ASCII);
                for (int p = base; p < base + 3; p++) {
                    assertThat(nodes).contains("127.0.0.1:" + p + "@" + (p + 10000));
                }
                assertThat(nodes).doesNotContain(":" + (base + 20000));
            }
            String check = redisCli("--cluster", "check", "127.0.0.1:" + base);
            assertThat(check).contains("[OK] All nodes agree about slots configuration.", "[OK] All 16384 slots covered.")
                    .doesNotContain(":" + (base + 20000));

            try (Client c = Client.fromEnvironment(env)) {
                assertThat(c.clustered()).isTrue();
                c.setModel("mlp", MODEL, "ONNX", "CPU");
                assertThat(c.getModel("mlp")).isEqualTo(MODEL);
                assertThat(c.modelExists("mlp")).isTrue();
            }
            int threads = 16;
            int runs = 25;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Callable<Integer> work = () -> {
                    Random rnd = new Random(id);
                    int checked = 0;
                    try (Client c = Client.fromEnvironment(env)) {
                        for (int i = 0; i < runs; i++) {
                            int batch = 1 + rnd.nextInt(4);
                            float[] x = new float[batch * 4];
                            for (int k = 0; k < x.length; k++) {
                                x[k] = rnd.nextFloat() * 10 - 5;
                            }
                            String in = "in:" + id + ":" + i;
                            String out = "out:" + id + ":" + i;
                            c.putTensor(in, TensorData.of(x, batch, 4));
                            c.runModel("mlp", List.of(in), List.of(out));
                            TensorData y = c.getTensor(out);
                            assertThat(y.shape()).containsExactly(batch, 3);
                            assertThat(y.asFloats()).containsExactly(expected(x, batch),
                                    org.assertj.core.data.Offset.offset(1e-4f));
                            checked++;
                        }
                    }
                    return checked;
                };
                done.add(pool.submit(work));
            }
            int total = 0;
            for (Future<Integer> f : done) {
                total += f.get(5, TimeUnit.MINUTES);
            }
            pool.shutdown();
            assertThat(total).isEqualTo(threads * runs);

            HealthReport h = db.health();
            assertThat(h.healthy()).as("%s", h.problems()).isTrue();
            // Inputs and outputs spread over every shard; the run temporaries were all deleted.
            assertThat(h.shards()).allSatisfy(s -> assertThat(s.keys()).isGreaterThan(3));
            assertThat(h.shards().stream().mapToLong(ShardHealth::keys).sum()).isEqualTo(2L * threads * runs + 3);

            badInputAnswersErrorsAndTheFrontKeepsServing(env, base);
            exp.stop(db);
        }
    }

    private static void badInputAnswersErrorsAndTheFrontKeepsServing(Map<String, String> env, int base)
            throws Exception {
        try (Client c = Client.fromEnvironment(env)) {
            c.putTensor("bad:x", TensorData.of(new float[] {1, 2, 3, 4}, 1, 4));
            assertThatThrownBy(() -> c.runModel("no-such-model", List.of("bad:x"), List.of("bad:y")))
                    .isInstanceOf(ClientException.class).hasMessageContaining("ERR model key is empty");
            assertThatThrownBy(() -> c.runModel("mlp", List.of("bad:missing"), List.of("bad:y")))
                    .isInstanceOf(ClientException.class).hasMessageContaining("ERR tensor key is empty");
            c.putTensor("bad:wide", TensorData.of(new float[] {1, 2, 3, 4, 5}, 1, 5));
            assertThatThrownBy(() -> c.runModel("mlp", List.of("bad:wide"), List.of("bad:y")))
                    .isInstanceOf(ClientException.class).hasMessageContaining("ERR ").hasMessageContaining("dimensions");
        }
        // Sent to the shard that owns {x}: issue 16's module answers MOVED from any other one, as Redis does (the front
        // checked the arguments before routing, one of the issue's defects).
        int slot = io.smartsim.launch.plan.Crc16.slot("{x}len");
        int owner = base + (slot <= 5461 ? 0 : slot <= 10922 ? 1 : 2);
        try (RespClient r = RespClient.connect(owner)) {
            // 3 floats declared, 2 sent; a shape that is not a number.
            Object reply = r.call("AI.TENSORSET", "{x}len", "FLOAT", "3", "BLOB", new byte[8]);
            assertThat(reply).isEqualTo(new RespError("ERR data length does not match tensor shape and type"));
            assertThat(r.call("AI.TENSORSET", "{x}neg", "FLOAT", "-1", "BLOB", new byte[0]))
                    .isEqualTo(new RespError("ERR invalid or negative value found in tensor shape"));
            // A run naming keys of two slots is refused by Redis itself, as with RedisAI inside redis-server (issue 16:
            // Redis 7's reply has no "ERR " before CROSSSLOT; the front imitated it with one).
            assertThat(r.call("AI.MODELEXECUTE", "{a}m", "INPUTS", "1", "{a}x", "OUTPUTS", "1", "{b}y"))
                    .isEqualTo(new RespError("CROSSSLOT Keys in request don't hash to the same slot"));
            assertThat(r.call("PING")).isEqualTo(new RespSimple("PONG"));
        }
    }

    /**
     * Issue 16 changed where the advice is: redis-server answers NOAUTH itself now (no front to add the advice to the
     * reply), so the start says it instead, as {@code db plan} does.
     */
    @Test
    void withAuthOnAClientThatSendsNoAuthIsToldWhyAndWhatToDo() throws Exception {
        int base = bed.ports(1);
        List<String> said = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Experiment exp = Experiment.create("ai-auth", dir, said::add)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 1).build());
            exp.start(db);
            assertThat(said).anySatisfy(l -> assertThat(l).contains("SmartRedis clients", "start it with --no-auth"));
            Credentials cred = db.plan().auth().orElseThrow();
            try (RespClient r = RespClient.connect(base)) {
                // What SmartRedis sends first: PING (standalone) or CLUSTER SLOTS (cluster). No AUTH ever.
                Object ping = r.call("PING");
                assertThat(ping).isInstanceOf(RespError.class);
                assertThat(((RespError) ping).text()).startsWith("NOAUTH Authentication required.");
                assertThat(r.call("AI.TENSORGET", "x", "META")).isEqualTo(ping);
                assertThat(r.call("AUTH", cred.user(), "wrong")).isInstanceOf(RespError.class);
                assertThat(r.call("AUTH", cred.user(), cred.password())).isEqualTo(new RespSimple("OK"));
                assertThat(r.call("AI.TENSORSET", "x", "FLOAT", "1", "BLOB", new byte[4]))
                        .isEqualTo(new RespSimple("OK"));
                assertThat(r.call("PING")).isEqualTo(new RespSimple("PONG"));
            }
            // The Java client logs in from SSDB_USER/SSDB_PASSWORD, which db env hands to models.
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                c.setModel("mlp", MODEL, "ONNX", "CPU");
                assertThat(c.modelExists("mlp")).isTrue();
            }
            exp.stop(db);
        }
    }

    /**
     * Issue 16, with --replicas: every replica attaches to its master (auth on, as users run it), and after a failover
     * (the master of slots 0-5461 killed) the promoted replica runs the model its master stored, from the copy it got
     * by replication, on an input it got the same way.
     */
    @Test
    void withReplicasThePromotedReplicaOfAKilledMasterRunsTheModelItsMasterStored() throws Exception {
        int base = bed.ports(6);
        try (Experiment exp = Experiment.create("ai-replicas", dir)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 3).replicas(1).build());
            exp.start(db); // healthy = every replica attached with master_link_status:up
            Credentials cred = db.plan().auth().orElseThrow();
            assertThat(redisCli("--user", cred.user(), "--pass", cred.password(), "--no-auth-warning", "--cluster",
                    "check", "127.0.0.1:" + base)).contains("[OK] All 16384 slots covered");
            for (int r = 3; r < 6; r++) {
                String info = redisCli("-p", Integer.toString(base + r), "--user", cred.user(), "--pass",
                        cred.password(), "--no-auth-warning", "INFO", "replication");
                assertThat(info).contains("role:slave", "master_link_status:up");
            }
            float[] x = {1, 2, 3, 4};
            // an input key of shard 0's slots (0-5461): the run after the failover goes to its promoted replica
            String in = keyInSlots("x", 0, 5461);
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                c.setModel("mlp", MODEL, "ONNX", "CPU"); // a copy on every master, as SmartRedis stores it
                c.putTensor(in, TensorData.of(x, 1, 4));
                c.runModel("mlp", List.of(in), List.of("y"));
                assertThat(c.getTensor("y").asFloats()).containsExactly(expected(x, 1),
                        org.assertj.core.data.Offset.offset(1e-5f));
            }
            // The failover: shard 0's redis-server killed; its replica takes slots 0-5461 over, with the
            // model copy and the input it got by replication.
            LaunchedShard master = db.shards().stream().filter(s -> s.index() == 0).findFirst().orElseThrow();
            ProcessHandle killed = ProcessHandle.of(master.pid().orElseThrow()).orElseThrow();
            killed.destroyForcibly();
            killed.onExit().get(30, TimeUnit.SECONDS);
            String promoted = awaitSlotZeroServedBy(cred, base + 1, base, Duration.ofSeconds(60));
            assertThat(promoted).as("the node serving slot 0 after the failover: a replica of the plan (shards 3-5)")
                    .isIn("127.0.0.1:" + (base + 3), "127.0.0.1:" + (base + 4), "127.0.0.1:" + (base + 5));
            try (Client c = Client.fromEnvironment(Map.of("SSDB", "127.0.0.1:" + (base + 1), "SR_DB_TYPE", "Clustered",
                    "SSDB_USER", cred.user(), "SSDB_PASSWORD", cred.password()))) {
                c.runModel("mlp", List.of(in), List.of("y2"));
                assertThat(c.getTensor("y2").asFloats()).as("a run on the promoted replica")
                        .containsExactly(expected(x, 1), org.assertj.core.data.Offset.offset(1e-5f));
            }
            exp.stop(db);
        }
    }

    /** A key named {@code prefix} + a number whose hash slot lies in {@code from..to}. */
    private static String keyInSlots(String prefix, int from, int to) {
        for (int i = 0; ; i++) {
            int slot = redis.clients.jedis.util.JedisClusterCRC16.getSlot(prefix + i);
            if (slot >= from && slot <= to) {
                return prefix + i;
            }
        }
    }

    /**
     * Polls {@code CLUSTER NODES} on {@code port} (bounded by {@code limit}) until a master other than the one on
     * {@code deadPort} serves slot 0 and the cluster is ok again; returns that master's address.
     */
    private static String awaitSlotZeroServedBy(Credentials cred, int port, int deadPort, Duration limit)
            throws Exception {
        long end = System.nanoTime() + limit.toNanos();
        String nodes = "";
        String info = "";
        while (System.nanoTime() < end) {
            nodes = redisCli("-p", Integer.toString(port), "--user", cred.user(), "--pass", cred.password(),
                    "--no-auth-warning", "CLUSTER", "NODES");
            info = redisCli("-p", Integer.toString(port), "--user", cred.user(), "--pass", cred.password(),
                    "--no-auth-warning", "CLUSTER", "INFO");
            for (String line : nodes.split("\n")) {
                String[] f = line.trim().split(" ");
                boolean servesZero = java.util.Arrays.stream(f).skip(8).anyMatch(r -> r.equals("0")
                        || r.startsWith("0-"));
                if (f.length > 8 && f[2].contains("master") && !f[2].contains("fail") && servesZero
                        && !f[1].startsWith("127.0.0.1:" + deadPort + "@") && info.contains("cluster_state:ok")) {
                    return f[1].substring(0, f[1].indexOf('@'));
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no other master served slot 0 within " + limit + ":\n" + nodes + "\n" + info);
    }

    /**
     * Issue 16: {@code --checkpoint} and resume with {@code --ai} on the module: the stored model (a hash in the
     * keyspace) and a tensor come back from the shards' data files, and the new run's model server, which has never
     * seen the model, runs it (the module pushes it from the keyspace on the first call).
     */
    @Test
    void aCheckpointedOrchestratorResumesWithItsModelsAndTensorsOnANewModelServer() throws Exception {
        int base = bed.ports(3);
        float[] x = {4, 3, 2, 1};
        long firstModelServer;
        try (Experiment exp = Experiment.create("ai-resume", dir)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 3).id("db")
                    .checkpoint(io.smartsim.launch.spec.Checkpoint.every(Duration.ofSeconds(1))).build());
            exp.start(db);
            firstModelServer = Long.parseLong(db.shards().get(0).handle().get(AiPlanner.HANDLE_PID));
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                c.setModel("mlp", MODEL, "ONNX", "CPU");
                c.putTensor("kept", TensorData.of(x, 1, 4));
            }
            exp.stop(db); // SHUTDOWN SAVE: every shard's data on disk
        }
        assertThat(Pids.running(firstModelServer)).as("the first run's model server after stop").isFalse();
        try (Experiment exp = Experiment.create("ai-resume", dir)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 3).id("db")
                    .checkpoint(io.smartsim.launch.spec.Checkpoint.every(Duration.ofSeconds(1))).build());
            exp.resume(db);
            long second = Long.parseLong(db.shards().get(0).handle().get(AiPlanner.HANDLE_PID));
            assertThat(second).as("a new model server").isNotEqualTo(firstModelServer);
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                assertThat(c.getTensor("kept").asFloats()).containsExactly(x);
                c.runModel("mlp", List.of("kept"), List.of("out"));
                assertThat(c.getTensor("out").asFloats()).containsExactly(expected(x, 1),
                        org.assertj.core.data.Offset.offset(1e-5f));
            }
            exp.stop(db);
        }
    }

    @Test
    void aServerThatCannotStartFailsTheLaunchNamingTheShardWithItsLogAndLeavesNothing() throws Exception {
        int base = bed.ports(3);
        try (Experiment exp = Experiment.create("ai-bad", dir)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 3).auth(false)
                    .addConfig("no-such-directive yes").build());
            // All three servers fail alike: the message names whichever the launch saw exit first.
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(io.smartsim.launch.error.ShardStartException.class)
                    .hasMessageMatching("(?s)shard ([0-2]) \\(orchestrator_\\1\\) of 'orchestrator' .*")
                    .hasMessageContaining("every shard of this launch was stopped")
                    .hasMessageContaining("no-such-directive");
        }
    }

    @Test
    void aShardLogsToItsOwnFilesInTheExperiment() throws Exception {
        int base = bed.ports(1);
        try (Experiment exp = Experiment.create("ai-logs", dir)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 1).auth(false).build());
            exp.start(db);
            exp.stop(db);
            Path work = db.plan().shards().get(0).workDir();
            String console = String.join("\n", Files.readAllLines(io.smartsim.launch.plan.PlanFiles
                    .consoleLog(db.plan().shards().get(0))));
            // Issue 16: the shard's console is redis-server's (its log is the logfile); the model server's console
            // has its ready line, and the shard's log says the module loaded.
            assertThat(console).doesNotContain("ready ");
            assertThat(Files.readString(db.plan().modelServers().get(0).console()))
                    .containsPattern("ready socket=.* backends=ONNX");
            assertThat(Files.readString(db.plan().shards().get(0).logPath())).contains("Ready to accept connections",
                    "Module 'ai' loaded");
            assertThat(work).isDirectory();
        }
    }
}
