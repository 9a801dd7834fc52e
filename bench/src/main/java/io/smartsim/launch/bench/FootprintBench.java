package io.smartsim.launch.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Section 5: the launcher's footprint. A separate JVM ({@link Supervise}) starts a 128-shard orchestrator and checks
 * its health every few seconds; this process reads that JVM's resident set and CPU time from /proc.
 */
final class FootprintBench {
    static final int PORT = 19500;
    private static final long CLOCK_TICKS = 100; // USER_HZ on Linux

    private final Path scratch;
    private final Report report;

    FootprintBench(Path scratch, Report report) {
        this.scratch = scratch;
        this.report = report;
    }

    void run(int shards, int seconds, int pollSeconds) throws Exception {
        report.heading("5. Footprint: a JVM supervising a " + shards + "-shard orchestrator");
        String jar = Path.of(FootprintBench.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", jar, Supervise.class.getName(),
                scratch.resolve("footprint").toString(), Integer.toString(PORT), Integer.toString(shards),
                Integer.toString(seconds), Integer.toString(pollSeconds))
                .redirectErrorStream(true).start();
        long pid = p.pid();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String ready = out.readLine();
            if (ready == null || !ready.startsWith("READY")) {
                throw new IllegalStateException("the supervising JVM did not start the orchestrator: " + ready);
            }
            long rssAtReady = rssKiB(pid);
            Thread.sleep(2000); // let the start's threads and buffers settle before the idle window
            long cpu0 = cpuTicks(pid);
            long w0 = System.nanoTime();
            long maxRss = rssAtReady;
            List<Long> rss = new ArrayList<>();
            long windowEnd = w0 + Duration.ofSeconds(seconds - 3L).toNanos();
            while (System.nanoTime() < windowEnd) {
                Thread.sleep(1000);
                long r = rssKiB(pid);
                rss.add(r);
                maxRss = Math.max(maxRss, r);
            }
            long cpu1 = cpuTicks(pid);
            double window = (System.nanoTime() - w0) / 1e9;
            String done = out.readLine();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroy();
            }
            double cpuSeconds = (cpu1 - cpu0) / (double) CLOCK_TICKS;
            report.table(List.of("figure", "value"), List.of(
                    List.of("time to healthy in that JVM", ready.substring(6) + " s"),
                    List.of("RSS when healthy", mib(rssAtReady)),
                    List.of("RSS while idle-monitoring (last / max)", mib(rss.isEmpty() ? rssAtReady : rss.get(rss.size() - 1))
                            + " / " + mib(maxRss)),
                    List.of("CPU while idle-monitoring (health every " + pollSeconds + " s)",
                            String.format(Locale.ROOT, "%.2f CPU-s per minute (%.2f s over %.0f s)",
                                    cpuSeconds * 60 / window, cpuSeconds, window)),
                    List.of("health checks", done == null ? "?" : done.replace("DONE ", ""))));
            report.note("The JVM runs with default options (java -cp bench.jar " + Supervise.class.getSimpleName()
                    + "); RSS is VmRSS from /proc/PID/status, CPU is utime+stime of the whole process.");
        } finally {
            if (p.isAlive()) {
                p.destroy();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static String mib(long kib) {
        return String.format(Locale.ROOT, "%.0f MiB", kib / 1024.0);
    }

    static long rssKiB(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
    }
}
