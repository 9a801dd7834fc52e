package io.smartsim.launch.cli;

import io.smartsim.launch.ThisMachine;
import io.smartsim.launch.spec.OrchestratorSpec;

import java.util.Locale;

/**
 * Loads what {@code db start} needs before its first server is spawned, on a second thread while picocli reads the
 * command line: a local plan and the process launcher. Every millisecond before the spawn adds to the start, while what
 * follows it overlaps Redis's 2 s {@code CLUSTER_WRITABLE_DELAY}. Not the manifest's JSON (Jackson): the local launcher
 * holds its shards until they are recorded, so the record is written once the first one runs, and JSON warmed here
 * only took CPU from the parsing on two cores (measured: exec to the last shard up 278 -> 248 ms without it). It plans
 * a default orchestrator under a directory that is never written: pure work, no file and no process; a failure here is
 * ignored (the command itself then reports it).
 */
final class Warmup {
    private Warmup() {
    }

    /** Whether {@code args} ask for {@code db start}, the one command that gains from {@link #start()}. */
    static boolean wanted(String[] args) {
        return args.length >= 2 && args[0].equals("db") && args[1].equals("start");
    }

    static void start() {
        Thread t = new Thread(Warmup::run, "smartsim-launch-warmup");
        t.setDaemon(true);
        t.start();
    }

    /** The warm-up itself, on the caller's thread; true when all of it ran. */
    static boolean run() {
        try {
            Class.forName("java.lang.ProcessImpl", true, ClassLoader.getSystemClassLoader());
            ThisMachine.warmUpPlanning(OrchestratorSpec.builder().launcher("local").instancesPerNode(3).build());
            // then the progress lines' and the summary's format (java.util.Formatter's first use loads and parses a
            // lot): the first progress line comes right after the plan
            String.format(Locale.ROOT, "[%6.2fs] %s %d%n", 0.5, "warmup", 1);
            return true;
        } catch (Exception | LinkageError ignored) {
            return false; // only a head start: the command does the same work itself and reports what fails
        }
    }
}
