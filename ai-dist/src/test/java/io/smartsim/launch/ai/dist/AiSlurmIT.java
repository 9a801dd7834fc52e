package io.smartsim.launch.ai.dist;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.TensorData;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --ai onnx} on the Slurm testbed (testbeds/slurm/up: n1-n3 at 127.0.1.1-3): each shard's srun step execs the
 * front, which runs its redis-server; a model runs on all three nodes at once.
 */
@TestbedLock(TestbedLock.Bed.SLURM)
class AiSlurmIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final LocalCommandRunner SH = new LocalCommandRunner();
    private static final Duration CMD = Duration.ofSeconds(60);

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
        // Then the Leftovers check: fronts and shards by working dir, ports on every address (the shards bind
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

    @Test
    void aModelRunsOnAllThreeNodesAtOnce() throws Exception {
        String job = holder();
        int port = bed.ports(1);
        try (Experiment exp = Experiment.create("ai-slurm", tmp.resolve("exp"))) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(port, 1).launcher("slurm").nodes(3).auth(false)
                    .launcherOption("alloc", job).build());
            exp.start(db);
            assertThat(db.addresses()).containsExactly("127.0.1.1:" + port, "127.0.1.2:" + port, "127.0.1.3:" + port);
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
            // Every node's front ran the model: AI.INFO counts the runs on each shard's own copy.
            for (int n = 0; n < 3; n++) {
                try (Socket probe = new Socket("127.0.1." + (n + 1), port)) {
                    assertThat(probe.isConnected()).isTrue();
                }
                long calls = calls("127.0.1." + (n + 1), port);
                assertThat(calls).as("runs on node n%d", n + 1).isPositive();
            }
            exp.stop(db);
        }
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
