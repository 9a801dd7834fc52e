package io.smartsim.launch.bench;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Issue 14 point 6: {@code db start --per-node 3} through the CLI beside the same start through the Java API, in one
 * run, alternating (API, then each CLI form, then the next round), so a machine whose load changes meanwhile weighs on
 * both alike. The API is timed in this (warm) JVM from {@code Experiment.create} until {@code start} returns; a CLI
 * form is timed from spawning its process until that process has exited (JVM start and exit included). Each start is
 * stopped before the next. Prints every sample, the load average before each round, and the medians.
 *
 * <pre>
 * java -cp bench/target/smartsim-launch-bench.jar io.smartsim.launch.bench.CliVsApi [--runs 9] \
 *     [--cli 'LABEL=COMMAND WORDS'] ...    (default: bin/smartsim-launch and java -jar cli/target/smartsim-launch.jar)
 * </pre>
 */
public final class CliVsApi {
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    private CliVsApi() {
    }

    public static void main(String[] args) throws Exception {
        int runs = 9;
        Map<String, List<String>> clis = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--cli" -> {
                    String[] kv = args[++i].split("=", 2);
                    clis.put(kv[0], Arrays.asList(kv[1].trim().split("\\s+")));
                }
                default -> {
                    System.err.println("usage: CliVsApi [--runs N] [--cli 'LABEL=COMMAND WORDS']...");
                    System.exit(2);
                }
            }
        }
        Path repo = Path.of("").toAbsolutePath();
        if (clis.isEmpty()) {
            clis.put("bin/smartsim-launch", List.of(repo.resolve("bin/smartsim-launch").toString()));
            clis.put("java -jar", List.of("java", "-jar", repo.resolve("cli/target/smartsim-launch.jar").toString()));
        }
        Path scratch = Files.createTempDirectory("smartsim-bench-clivsapi-");
        try {
            System.out.println("date: " + Instant.now() + "; " + Runtime.getRuntime().availableProcessors()
                    + " CPUs; JDK " + Runtime.version() + "; load average " + load());
            api(scratch.resolve("warm"), 1); // the first launch in this JVM loads the classes: not counted
            Map<String, List<Double>> samples = new LinkedHashMap<>();
            samples.put("API", new ArrayList<>());
            clis.keySet().forEach(k -> samples.put(k, new ArrayList<>()));
            List<String> loads = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                loads.add(load());
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "round %d (load %s):", r, loads.get(r)));
                double api = api(scratch.resolve("api-" + r), 3);
                samples.get("API").add(api);
                line.append(String.format(Locale.ROOT, " API %.3f", api));
                int k = 0;
                for (Map.Entry<String, List<String>> c : clis.entrySet()) {
                    double s = cli(c.getValue(), scratch.resolve("cli-" + r + "-" + k++));
                    samples.get(c.getKey()).add(s);
                    line.append(String.format(Locale.ROOT, " | %s %.3f", c.getKey(), s));
                }
                System.out.println(line);
            }
            double apiMedian = Stats.of(samples.get("API")).median();
            System.out.println();
            System.out.println("| how | db start --per-node 3, healthy | minus API (medians) |");
            System.out.println("|---|---|---|");
            for (Map.Entry<String, List<Double>> e : samples.entrySet()) {
                Stats s = Stats.of(e.getValue());
                System.out.printf(Locale.ROOT, "| %s | %s | %s |%n", e.getKey(), s.seconds(),
                        e.getKey().equals("API") ? "-" : String.format(Locale.ROOT, "+%.3f s", s.median() - apiMedian));
            }
            System.out.println();
            System.out.println("load average before each round: " + String.join("; ", loads) + "; at the end: " + load());
        } finally {
            Leftovers.kill(scratch);
            try (var files = Files.walk(scratch)) { // the experiment directories, logs and manifests of every run
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        System.exit(0);
    }

    /** Seconds from creating the experiment until {@code start} returned; then stopped. */
    private static double api(Path dir, int shards) {
        long t0 = System.nanoTime();
        try (Experiment exp = Experiment.create("bench", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(shards)
                    .port(LocalLaunchBench.API_PORT).build());
            exp.start(db);
            double s = (System.nanoTime() - t0) / 1e9;
            exp.stop(db);
            return s;
        }
    }

    /** Wall-clock seconds of {@code db start --per-node 3}; then {@code db stop}. */
    private static double cli(List<String> cmd, Path dir) {
        List<String> start = new ArrayList<>(cmd);
        start.addAll(List.of("db", "start", "--per-node", "3", "--port", Integer.toString(CliBench.PORT),
                "--exp-dir", dir.toString()));
        Sh.Result r = Sh.run(start, TIMEOUT);
        List<String> stop = new ArrayList<>(cmd);
        stop.addAll(List.of("db", "stop", "--exp-dir", dir.toString()));
        Sh.Result s = Sh.run(stop, TIMEOUT);
        if (!r.ok() || !s.ok()) {
            throw new IllegalStateException("failed: " + start + "\n" + r.out() + "\n" + s.out());
        }
        return r.seconds();
    }

    private static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException e) {
            return "?";
        }
    }
}
