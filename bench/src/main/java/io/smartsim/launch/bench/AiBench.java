package io.smartsim.launch.bench;

import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.ai.testing.OnnxModels;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.TensorData;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The AI serving figures (issue 9), printed as Markdown for BENCHMARKS.md's "AI serving" section:
 * <pre>
 * mvn -B -o -q -pl bench,ai-dist -am package -DskipTests
 * java -cp bench/target/smartsim-launch-bench.jar io.smartsim.launch.bench.AiBench [--seconds 10]
 * </pre>
 * 1. put_tensor / run_model / get_tensor of a small MLP (32 -> 64 -> 8, batch 1, ONNX) on a local 3-shard
 * orchestrator started with {@code --ai onnx --no-auth}, through the Java client in cluster mode (SmartRedis's
 * commands, with its input-copy dance), at 1 and 16 concurrent clients: latency per call and calls per second.
 * 2. What {@code --ai} costs plain commands: {@code redis-benchmark -t set,get} at 1 and 16 connections against a
 * 1-shard {@code --ai} orchestrator (redis-server with the smartsim-ai module) and against a 1-shard plain
 * orchestrator, same run, same machine, alternating, {@value #ROUNDS} rounds each, the median round reported.
 * Ports 25900-25904 (+10000 bus). Stops everything it started.
 */
public final class AiBench {
    static final int CLUSTER_PORT = 25900;
    static final int STANDALONE_PORT = 25903;
    static final int IN = 32;
    static final int HIDDEN = 64;
    static final int OUT = 8;

    private AiBench() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = 10;
        int benchRequests = 100_000;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--requests" -> benchRequests = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: AiBench [--seconds 10] [--requests 100000]");
                    System.exit(2);
                }
            }
        }
        Path scratch = Files.createTempDirectory("smartsim-ai-bench-");
        Random rnd = new Random(42);
        float[] w1 = random(rnd, IN * HIDDEN);
        float[] b1 = random(rnd, HIDDEN);
        float[] w2 = random(rnd, HIDDEN * OUT);
        float[] b2 = random(rnd, OUT);
        byte[] model = OnnxModels.mlp(IN, HIDDEN, OUT, w1, b1, w2, b2);
        System.out.printf("load average at start: %s%n", Files.readString(Path.of("/proc/loadavg")).strip());
        System.out.printf("machine: %d CPUs, %s %s; model: MLP %d->%d->%d (ONNX, %d bytes), batch 1; %d s per row%n%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name"),
                System.getProperty("java.version"), IN, HIDDEN, OUT, model.length, seconds);
        try (Experiment exp = Experiment.create("ai-bench", scratch)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().id("ai3").port(CLUSTER_PORT)
                    .instancesPerNode(3).auth(false).ai(AiSpec.of(List.of("onnx"))).build());
            exp.start(db);
            Map<String, String> env = db.dbEnv();
            try (Client c = Client.fromEnvironment(env)) {
                c.setModel("mlp", model, "ONNX", "CPU");
            }
            models(env, 4, 3, false); // warm-up: JIT in the model server and here, models loaded on every shard
            System.out.println("| clients | call | p50 ms | p99 ms | calls/s (all clients) |");
            System.out.println("|---|---|---|---|---|");
            for (int clients : List.of(1, 16)) {
                models(env, clients, seconds, true);
            }
            exp.stop(db);
        }
        System.out.println();
        try (Experiment exp = Experiment.create("ai-bench-plain", scratch)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().id("ai1").port(STANDALONE_PORT)
                    .auth(false).ai(AiSpec.of(List.of("onnx"))).build());
            Orchestrator plain = exp.createOrchestrator(OrchestratorSpec.builder().id("plain1")
                    .port(STANDALONE_PORT + 1).auth(false).build());
            exp.start(db, plain);
            int ai = db.shards().get(0).port();
            int redis = plain.shards().get(0).port();
            redisBenchmark(ai, 16, 20_000); // warm-up, not reported
            System.out.println("| connections | command | plain shard req/s | --ai shard req/s | --ai/plain "
                    + "| p50 ms plain -> --ai |");
            System.out.println("|---|---|---|---|---|---|");
            for (int c : List.of(1, 16)) {
                // Alternating rounds, median of each side: the machine is shared, so load comes and goes.
                List<List<String[]>> alone = new ArrayList<>();
                List<List<String[]>> withAi = new ArrayList<>();
                for (int round = 0; round < ROUNDS; round++) {
                    alone.add(redisBenchmark(redis, c, benchRequests));
                    withAi.add(redisBenchmark(ai, c, benchRequests));
                }
                for (int i = 0; i < alone.get(0).size(); i++) {
                    String[] a = median(alone, i);
                    String[] f = median(withAi, i);
                    double ar = Double.parseDouble(a[1]);
                    double fr = Double.parseDouble(f[1]);
                    System.out.printf(Locale.ROOT, "| %d | %s | %,.0f | %,.0f | %.0f %% | %s -> %s |%n", c, a[0], ar, fr,
                            100 * fr / ar, a[4], f[4]);
                }
            }
            exp.stop(db);
            exp.stop(plain);
        }
        System.out.printf("%nload average at end: %s%n", Files.readString(Path.of("/proc/loadavg")).strip());
    }

    static final int ROUNDS = 3;

    /** The row {@code i} of the round with the median throughput. */
    private static String[] median(List<List<String[]>> rounds, int i) {
        List<String[]> rows = new ArrayList<>(rounds.stream().map(r -> r.get(i)).toList());
        rows.sort(java.util.Comparator.comparingDouble(r -> Double.parseDouble(r[1])));
        return rows.get(rows.size() / 2);
    }

    private static float[] random(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian() * 0.2f;
        }
        return v;
    }

    /** {@code clients} threads, each its own client, doing put_tensor, run_model, get_tensor for {@code seconds}. */
    private static void models(Map<String, String> env, int clients, int seconds, boolean print) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Future<long[][]>> futures = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            int id = t;
            futures.add(pool.submit(() -> {
                List<long[]> lat = new ArrayList<>();
                Random rnd = new Random(id);
                try (Client c = Client.fromEnvironment(env)) {
                    int i = 0;
                    while (System.nanoTime() < end) {
                        float[] x = random(rnd, IN);
                        String in = "x." + id + "." + (i % 64);
                        String out = "y." + id + "." + (i % 64);
                        long t0 = System.nanoTime();
                        c.putTensor(in, TensorData.of(x, 1, IN));
                        long t1 = System.nanoTime();
                        c.runModel("mlp", List.of(in), List.of(out));
                        long t2 = System.nanoTime();
                        float[] y = c.getTensor(out).asFloats();
                        long t3 = System.nanoTime();
                        if (y.length != OUT) {
                            throw new IllegalStateException("output of " + y.length + " values");
                        }
                        lat.add(new long[] {t1 - t0, t2 - t1, t3 - t2});
                        i++;
                    }
                }
                return lat.toArray(long[][]::new);
            }));
        }
        List<long[]> all = new ArrayList<>();
        for (Future<long[][]> f : futures) {
            all.addAll(Arrays.asList(f.get(seconds + 120L, TimeUnit.SECONDS)));
        }
        pool.shutdown();
        if (!print) {
            return;
        }
        String[] names = {"put_tensor", "run_model", "get_tensor"};
        for (int k = 0; k < 3; k++) {
            int kk = k;
            long[] v = all.stream().mapToLong(a -> a[kk]).sorted().toArray();
            System.out.printf(Locale.ROOT, "| %d | %s | %.3f | %.3f | %,.0f |%n", clients, names[k],
                    v[v.length / 2] / 1e6, v[(int) (v.length * 0.99)] / 1e6, v.length / (double) seconds);
        }
        long[] cycle = all.stream().mapToLong(a -> a[0] + a[1] + a[2]).sorted().toArray();
        System.out.printf(Locale.ROOT, "| %d | **put + run + get** | %.3f | %.3f | %,.0f |%n", clients,
                cycle[cycle.length / 2] / 1e6, cycle[(int) (cycle.length * 0.99)] / 1e6, cycle.length / (double) seconds);
    }

    /** redis-benchmark SET and GET: rows of [test, rps, avg, min, p50, ...] from its CSV. */
    private static List<String[]> redisBenchmark(int port, int clients, int requests) throws Exception {
        Process p = new ProcessBuilder("redis-benchmark", "-h", "127.0.0.1", "-p", Integer.toString(port), "-t",
                "set,get", "-n", Integer.toString(requests), "-c", Integer.toString(clients), "--csv")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("redis-benchmark failed: " + out);
        }
        List<String[]> rows = new ArrayList<>();
        for (String line : out.lines().toList()) {
            if (line.startsWith("\"SET\"") || line.startsWith("\"GET\"")) {
                rows.add(line.replace("\"", "").split(","));
            }
        }
        return rows;
    }
}
