package io.smartsim.launch.bench;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Model;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.ai.testing.OnnxModels;
import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.spec.ColocatedDb;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spec.OrchestratorSpec;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Issue 17's benchmark: a colocated database over its Unix socket vs over loopback TCP vs the clustered orchestrator
 * (3 local shards), side by side in one run, every one serving models (the smartsim-ai module and a model server, as
 * {@code --ai onnx} and a colocated database with a stored model have them):
 * <pre>
 * mvn -B -o -q -pl bench,ai-dist -am package -DskipTests
 * java -cp bench/target/smartsim-launch-bench.jar io.smartsim.launch.bench.ColocatedBench [--rounds 3]
 * </pre>
 * For each target, size (16 B, 1 MiB) and connection count (1, 16): redis-benchmark 7's SET and GET ({@code -t
 * set,get -d SIZE}) and {@code AI.TENSORSET k UINT8 1 SIZE BLOB <SIZE bytes>} (the blob through {@code -x}, from
 * stdin); ops/s and p50 latency from its CSV, the median of {@code --rounds} rounds, the targets alternating within
 * each round. In cluster mode the key carries redis-benchmark's {@code {tag}}, so each connection writes to a shard
 * that owns it (no MOVED). Ports 26900 (TCP colocated) and 26910-26912 (+10000 bus). Stops everything it started.
 */
public final class ColocatedBench {
    static final int TCP_PORT = 26900;
    static final int CLUSTER_PORT = 26910;
    static final List<Integer> SIZES = List.of(16, 1 << 20);
    static final List<Integer> CONNECTIONS = List.of(1, 16);

    private ColocatedBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = 3;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--rounds")) {
                rounds = Integer.parseInt(args[++i]);
            } else {
                System.err.println("usage: ColocatedBench [--rounds 3]");
                System.exit(2);
            }
        }
        Path tmp = Files.createTempDirectory("colobench");
        Path model = Files.write(tmp.resolve("linear.onnx"), OnnxModels.linear(4, 3,
                new float[] {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}, new float[] {0, 0, 0}));
        Path socket = tmp.resolve("ssdb.sock");
        try {
            run(tmp, model, socket, rounds);
        } finally {
            // its logs, configs and blobs; a stopped model server's exit file can land a moment after the stop
            for (int i = 0; i < 10 && Files.exists(tmp); i++) {
                try (java.util.stream.Stream<Path> files = Files.walk(tmp)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                } catch (java.io.IOException | java.io.UncheckedIOException e) {
                    // a file went while walking: the next round sees what is left
                }
                if (Files.exists(tmp)) {
                    Thread.sleep(500);
                }
            }
        }
    }

    private static void run(Path tmp, Path model, Path socket, int rounds) throws Exception {
        try (Experiment exp = Experiment.create("colobench", tmp.resolve("exp"))) {
            Model overSocket = exp.createModel(ModelSpec.builder("socket", "/bin/sleep").args("3600")
                    .colocatedDb(ColocatedDb.unixSocket(socket.toString(), 0700).noPinning()
                            .withModel("m", "ONNX", "CPU", model.toString())).build());
            Model overTcp = exp.createModel(ModelSpec.builder("tcp", "/bin/sleep").args("3600")
                    .colocatedDb(ColocatedDb.tcp(TCP_PORT).noPinning()
                            .withModel("m", "ONNX", "CPU", model.toString())).build());
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().id("db").instancesPerNode(3)
                    .port(CLUSTER_PORT).auth(false).ai(AiSpec.of(List.of("onnx"))).build());
            exp.start(db);
            exp.start(overSocket, overTcp);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!(healthy(overSocket) && healthy(overTcp))) {
                if (System.nanoTime() > until) {
                    throw new IllegalStateException("the colocated databases did not answer within 120 s: "
                            + overSocket.colocatedDatabases() + " " + overTcp.colocatedDatabases());
                }
                Thread.sleep(100);
            }
            Map<String, List<String>> targets = new LinkedHashMap<>();
            targets.put("colocated, Unix socket", List.of("-s", socket.toString()));
            targets.put("colocated, loopback TCP", List.of("-h", "127.0.0.1", "-p", Integer.toString(TCP_PORT)));
            targets.put("clustered, 3 shards", List.of("--cluster", "-h", "127.0.0.1", "-p",
                    Integer.toString(CLUSTER_PORT)));
            Map<String, List<double[]>> results = new LinkedHashMap<>(); // key -> per round [rps, p50 ms]
            for (int r = 0; r < rounds; r++) {
                for (int size : SIZES) {
                    Path blob = Files.write(tmp.resolve("blob-" + size), "x".repeat(size)
                            .getBytes(StandardCharsets.US_ASCII));
                    int requests = size > 1024 ? 2_000 : 100_000;
                    for (int conns : CONNECTIONS) {
                        for (Map.Entry<String, List<String>> t : targets.entrySet()) {
                            boolean cluster = t.getValue().contains("--cluster");
                            for (String[] row : setGet(t.getValue(), size, conns, requests)) {
                                add(results, t.getKey(), size, conns, row[0], row);
                            }
                            String key = cluster ? "t{tag}" : "t";
                            String[] row = tensorSet(t.getValue(), key, size, conns, requests, blob);
                            add(results, t.getKey(), size, conns, "AI.TENSORSET", row);
                        }
                    }
                }
            }
            System.out.println("| size | connections | command | target | ops/s | p50 ms |");
            System.out.println("|---|---|---|---|---|---|");
            results.forEach((k, rows) -> {
                double[] rps = rows.stream().mapToDouble(x -> x[0]).sorted().toArray();
                double[] p50 = rows.stream().mapToDouble(x -> x[1]).sorted().toArray();
                System.out.printf(Locale.ROOT, "| %s | %,.0f | %.3f |%n", k, rps[rps.length / 2], p50[p50.length / 2]);
            });
        }
    }

    private static boolean healthy(Model m) {
        return !m.colocatedDatabases().isEmpty() && m.colocatedDatabases().stream()
                .allMatch(n -> n.health().equals("healthy"));
    }

    /** One result row, under "size | connections | command | target". */
    private static void add(Map<String, List<double[]>> results, String target, int size, int conns, String command,
                            String[] row) {
        String k = (size > 1024 ? (size >> 20) + " MiB" : size + " B") + " | " + conns + " | " + command + " | "
                + target;
        results.computeIfAbsent(k, x -> new ArrayList<>()).add(new double[] {Double.parseDouble(row[1]),
                Double.parseDouble(row[4])});
    }

    /** redis-benchmark SET and GET: [test, rps, avg, min, p50, p95, p99, max] rows of its CSV. */
    private static List<String[]> setGet(List<String> target, int size, int conns, int requests) throws Exception {
        List<String> argv = new ArrayList<>(List.of("redis-benchmark"));
        argv.addAll(target);
        argv.addAll(List.of("-t", "set,get", "-d", Integer.toString(size), "-n", Integer.toString(requests), "-c",
                Integer.toString(conns), "--csv"));
        List<String[]> rows = new ArrayList<>();
        for (String line : run(argv, null).lines().toList()) {
            if (line.startsWith("\"SET\"") || line.startsWith("\"GET\"")) {
                rows.add(line.replace("\"", "").split(","));
            }
        }
        if (rows.size() != 2) {
            throw new IllegalStateException("redis-benchmark gave no SET and GET rows: " + argv);
        }
        return rows;
    }

    /**
     * redis-benchmark {@code AI.TENSORSET key UINT8 1 SIZE BLOB} with the blob from {@code blob} ({@code -x}): its CSV
     * row as [name, rps, avg, min, p50, ...] (the name, which holds the command, cut off).
     */
    private static String[] tensorSet(List<String> target, String key, int size, int conns, int requests, Path blob)
            throws Exception {
        List<String> argv = new ArrayList<>(List.of("redis-benchmark"));
        argv.addAll(target);
        argv.addAll(List.of("-n", Integer.toString(requests), "-c", Integer.toString(conns), "--csv", "-x",
                "AI.TENSORSET", key, "UINT8", "1", Integer.toString(size), "BLOB"));
        for (String line : run(argv, blob).lines().toList()) {
            String[] f = line.replace("\"", "").split(",");
            if (line.startsWith("\"AI.TENSORSET") && f.length >= 8) {
                String[] out = Arrays.copyOfRange(f, f.length - 8, f.length);
                out[0] = "AI.TENSORSET";
                return out;
            }
        }
        throw new IllegalStateException("redis-benchmark gave no AI.TENSORSET row: " + argv.subList(0, argv.size()));
    }

    private static String run(List<String> argv, Path stdin) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        if (stdin != null) {
            pb.redirectInput(stdin.toFile());
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("redis-benchmark failed: " + String.join(" ", argv) + "\n"
                    + out.substring(0, Math.min(out.length(), 2000)));
        }
        return out;
    }
}
