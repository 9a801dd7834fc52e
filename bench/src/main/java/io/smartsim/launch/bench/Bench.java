package io.smartsim.launch.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The benchmark of issue 8, one command: {@code ./bench/run [options]}. Prints the figures as Markdown tables and
 * writes them into BENCHMARKS.md between the {@value #BEGIN} and {@value #END} markers (the analysis around them
 * stays). Every server it starts lives under one scratch directory and is stopped before it exits.
 */
public final class Bench {
    static final String BEGIN = "<!-- bench:figures:begin -->";
    static final String END = "<!-- bench:figures:end -->";
    private static final List<String> ALL = List.of("local", "cli", "slurm", "data", "footprint", "replicas");

    private Bench() {
    }

    private static final String USAGE = """
            usage: bench/run [--sections local,cli,slurm,data,footprint,replicas] [--sizes 1,3,16,64,128] [--runs 5]
                             [--footprint-shards 128] [--footprint-seconds 60] [--footprint-poll 5]
                             [--data-ops 20000,2000] [--out BENCHMARKS.md | --no-write]
              Ports: 19000+ (API), 19200+ (reference), 19400+ (data), 19500+ (footprint), 19700+ (CLI),
              19800 and 19900 (Slurm); cluster bus ports are each +10000, below Linux's ephemeral range (32768+),
              where an outgoing connection could already hold a bus port.""";

    public static void main(String[] args) throws Exception {
        Set<String> sections = new LinkedHashSet<>(ALL);
        List<Integer> sizes = List.of(1, 3, 16, 64, 128);
        int runs = 5;
        int fpShards = 128;
        int fpSeconds = 60;
        int fpPoll = 5;
        int smallOps = 20000;
        int largeOps = 2000;
        Path out = Path.of("BENCHMARKS.md");
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--sections" -> sections = new LinkedHashSet<>(Arrays.asList(args[++i].split(",")));
                case "--sizes" -> sizes = Arrays.stream(args[++i].split(",")).map(Integer::parseInt).toList();
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--footprint-shards" -> fpShards = Integer.parseInt(args[++i]);
                case "--footprint-seconds" -> fpSeconds = Integer.parseInt(args[++i]);
                case "--footprint-poll" -> fpPoll = Integer.parseInt(args[++i]);
                case "--data-ops" -> {
                    String[] d = args[++i].split(",");
                    smallOps = Integer.parseInt(d[0]);
                    largeOps = Integer.parseInt(d[1]);
                }
                case "--out" -> out = Path.of(args[++i]);
                case "--no-write" -> out = null;
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> {
                    System.err.println("unknown option " + a + "\n" + USAGE);
                    System.exit(2);
                }
            }
        }
        if (!ALL.containsAll(sections)) {
            System.err.println("unknown section in " + sections + "; choose from " + ALL);
            System.exit(2);
        }
        Path repo = Path.of("").toAbsolutePath();
        Path scratch = Files.createTempDirectory("smartsim-bench-");
        Thread cleanup = new Thread(() -> Leftovers.kill(scratch), "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);

        Report report = new Report();
        report.note(machine(String.join(" ", args)));
        try {
            if (sections.contains("local")) {
                new LocalLaunchBench(scratch, report).run(sizes, runs);
            }
            if (sections.contains("cli")) {
                new CliBench(repo, scratch, report).run(runs);
            }
            if (sections.contains("slurm")) {
                new SlurmBench(scratch, report).run(Math.min(runs, 3));
            }
            if (sections.contains("data")) {
                new DataPlaneBench(scratch, report).run(smallOps, largeOps);
            }
            if (sections.contains("footprint")) {
                new FootprintBench(scratch, report).run(fpShards, fpSeconds, fpPoll);
            }
            if (sections.contains("replicas")) {
                new ReplicaBench(scratch, report).run(runs);
            }
        } finally {
            int left = Leftovers.kill(scratch);
            if (left > 0) {
                System.err.println("bench: ended " + left + " leftover process(es) of this run");
            }
        }
        if (out != null) {
            write(out, report.markdown());
            System.out.println("figures written to " + out.toAbsolutePath());
        }
        System.exit(0); // daemon threads of the launchers' process reapers must not keep the JVM up
    }

    private static String machine(String args) {
        String mem = "?";
        try {
            mem = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
                    .findFirst().map(l -> String.format(Locale.ROOT, "%.1f GiB",
                            Long.parseLong(l.replaceAll("[^0-9]", "")) / 1048576.0)).orElse("?");
        } catch (IOException | RuntimeException e) {
            // leave "?"
        }
        String load = "?";
        try {
            load = Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            // leave "?"
        }
        String cpu = "?";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        } catch (IOException e) {
            // leave "?"
        }
        String commit = Sh.firstLine(List.of("git", "describe", "--always", "--dirty"));
        List<String> lines = new ArrayList<>();
        lines.add("- date: " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        lines.add("- machine: " + Runtime.getRuntime().availableProcessors() + " CPUs (nproc) " + cpu + ", " + mem
                + " memory; load average at start: " + load);
        lines.add("- JDK: " + System.getProperty("java.vm.name") + " " + Runtime.version());
        lines.add("- server: " + Sh.firstLine(List.of("redis-server", "--version")));
        lines.add("- commit: " + commit);
        lines.add("- command: `./bench/run" + (args.isEmpty() ? "" : " " + args) + "`");
        return String.join("\n", lines);
    }

    /** Replaces the figures between the markers of {@code file}, or appends them with markers. */
    static void write(Path file, String figures) throws IOException {
        String block = BEGIN + "\n" + figures.strip() + "\n" + END;
        String text = Files.exists(file) ? Files.readString(file) : "# Benchmarks\n\n";
        int b = text.indexOf(BEGIN);
        int e = text.indexOf(END);
        if (b >= 0 && e > b) {
            text = text.substring(0, b) + block + text.substring(e + END.length());
        } else {
            text = text.stripTrailing() + "\n\n" + block + "\n";
        }
        Files.writeString(file, text);
    }

}
