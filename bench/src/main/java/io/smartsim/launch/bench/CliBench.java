package io.smartsim.launch.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Section 2: the CLI, wall clock including the JVM: {@code db start} of 3 shards, {@code db status}, {@code db stop};
 * once as {@code java -jar smartsim-launch.jar} (what the issue names) and once through {@code bin/smartsim-launch}
 * (its JVM options and class-data archive). {@code --version} shows the JVM's own share.
 */
final class CliBench {
    static final int PORT = 19700;
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    private final Path repo;
    private final Path scratch;
    private final Report report;

    CliBench(Path repo, Path scratch, Report report) {
        this.repo = repo;
        this.scratch = scratch;
        this.report = report;
    }

    void run(int runs) {
        report.heading("2. CLI, 3 shards, wall clock including the JVM");
        Path jar = repo.resolve("cli/target/smartsim-launch.jar");
        Path wrapper = repo.resolve("bin/smartsim-launch");
        if (!Files.isRegularFile(jar)) {
            report.note("skipped: " + jar + " is missing (build with mvn -DskipTests install)");
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        rows.add(row("java -jar cli/target/smartsim-launch.jar", List.of("java", "-jar", jar.toString()), runs, "jar"));
        rows.add(row("bin/smartsim-launch", List.of(wrapper.toString()), runs, "wrapper"));
        report.table(List.of("how", "--version (JVM floor)", "db start --per-node 3", "db status", "db stop"), rows);
    }

    private List<String> row(String label, List<String> cmd, int runs, String tag) {
        // One unmeasured call: the wrapper may build its class-data archive on first use.
        Sh.run(concat(cmd, List.of("--version")), TIMEOUT);
        List<Double> version = new ArrayList<>();
        List<Double> start = new ArrayList<>();
        List<Double> status = new ArrayList<>();
        List<Double> stop = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            version.add(timed(concat(cmd, List.of("--version"))));
            String dir = scratch.resolve("cli-" + tag + "-" + i).toString();
            start.add(timed(concat(cmd, List.of("db", "start", "--per-node", "3", "--port", Integer.toString(PORT),
                    "--exp-dir", dir))));
            status.add(timed(concat(cmd, List.of("db", "status", "--exp-dir", dir))));
            stop.add(timed(concat(cmd, List.of("db", "stop", "--exp-dir", dir))));
            System.out.printf(Locale.ROOT, "  %s run %d: version %.3f start %.3f status %.3f stop %.3f%n", tag, i,
                    version.get(i), start.get(i), status.get(i), stop.get(i));
        }
        return List.of(label, Stats.of(version).seconds(), Stats.of(start).seconds(), Stats.of(status).seconds(),
                Stats.of(stop).seconds());
    }

    private double timed(List<String> argv) {
        Sh.Result r = Sh.run(argv, repo, TIMEOUT);
        if (!r.ok()) {
            throw new IllegalStateException("failed (exit " + r.exit() + "): " + argv + "\n" + r.out());
        }
        return r.seconds();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
