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
 * stopped before the next. Prints every sample, the load average before each round, and the medians; and where each
 * start's time went, from the shards' own logs (Redis stamps each line to the millisecond): from the start to the
 * last shard's "Ready to accept connections" (before: the JVM, the command line, the plan, the spawn), from there to
 * its "Cluster state changed: ok" (Redis's 2 s), and from there until the start returned (seeing it, the health
 * check, the records, the JVM's exit).
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
            Map<String, List<double[]>> phases = new LinkedHashMap<>();
            samples.put("API", new ArrayList<>());
            clis.keySet().forEach(k -> samples.put(k, new ArrayList<>()));
            samples.keySet().forEach(k -> phases.put(k, new ArrayList<>()));
            List<String> loads = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                loads.add(load());
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "round %d (load %s):", r, loads.get(r)));
                Path apiDir = scratch.resolve("api-" + r);
                long apiAt = System.currentTimeMillis();
                double api = api(apiDir, 3);
                samples.get("API").add(api);
                phases.get("API").add(phases(apiDir, apiAt, api));
                line.append(String.format(Locale.ROOT, " API %.3f", api));
                int k = 0;
                for (Map.Entry<String, List<String>> c : clis.entrySet()) {
                    Path dir = scratch.resolve("cli-" + r + "-" + k++);
                    long at = System.currentTimeMillis();
                    double s = cli(c.getValue(), dir);
                    samples.get(c.getKey()).add(s);
                    phases.get(c.getKey()).add(phases(dir, at, s));
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
            System.out.println("| how | to the last shard ready | ready to cluster ok | ok to returned (medians, ms) |");
            System.out.println("|---|---|---|---|");
            for (Map.Entry<String, List<double[]>> e : phases.entrySet()) {
                System.out.printf(Locale.ROOT, "| %s | %.0f | %.0f | %.0f |%n", e.getKey(), medianOf(e.getValue(), 0),
                        medianOf(e.getValue(), 1), medianOf(e.getValue(), 2));
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

    /**
     * Milliseconds of one start begun at {@code startedAt} (epoch ms) that took {@code seconds}: until the last shard's
     * "Ready to accept connections", from there to its "Cluster state changed: ok", from there until the start
     * returned; read from the shards' logs under {@code dir} (NaN where a line is missing).
     */
    private static double[] phases(Path dir, long startedAt, double seconds) {
        long ready = lastStamp(dir, "Ready to accept connections");
        long ok = lastStamp(dir, "Cluster state changed: ok");
        if (ready < 0 || ok < 0) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN};
        }
        double end = startedAt + seconds * 1000;
        return new double[] {ready - startedAt, ok - ready, end - ok};
    }

    private static final java.time.format.DateTimeFormatter REDIS_STAMP = java.time.format.DateTimeFormatter
            .ofPattern("dd MMM yyyy HH:mm:ss.SSS", Locale.ENGLISH).withZone(java.time.ZoneId.systemDefault());
    private static final java.util.regex.Pattern REDIS_STAMP_TEXT = java.util.regex.Pattern
            .compile("\\d\\d \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d\\.\\d{3}");

    /** The latest epoch ms among the shards' log lines containing {@code text}; -1 when there is none. */
    private static long lastStamp(Path dir, String text) {
        long last = -1;
        try (var files = Files.walk(dir)) {
            for (Path log : files.filter(f -> f.getFileName().toString().matches(".*_\\d+\\.log")).toList()) {
                for (String l : Files.readAllLines(log)) {
                    java.util.regex.Matcher m = REDIS_STAMP_TEXT.matcher(l);
                    if (l.contains(text) && m.find()) {
                        last = Math.max(last, Instant.from(REDIS_STAMP.parse(m.group())).toEpochMilli());
                    }
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
        return last;
    }

    private static double medianOf(List<double[]> rows, int column) {
        return Stats.of(rows.stream().map(r -> r[column]).toList()).median();
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
