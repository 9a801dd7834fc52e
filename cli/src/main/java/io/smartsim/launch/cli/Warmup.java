package io.smartsim.launch.cli;

import io.smartsim.launch.ThisMachine;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.spec.OrchestratorSpec;

import java.util.Locale;
import java.util.Optional;

/**
 * Loads what {@code db start} needs before its first server is spawned, on a second thread while picocli reads the
 * command line: a local plan, the manifest record of it as JSON (Jackson and its serializers), the process launcher.
 * Every millisecond before the spawn adds to the start, while what follows it overlaps Redis's 2 s
 * {@code CLUSTER_WRITABLE_DELAY}. It plans a default orchestrator under a directory that is never written: pure work,
 * no file and no process; a failure here is ignored (the command itself then reports it).
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
            // a local plan, its manifest record and an events-log line as JSON (the 'started' event comes right
            // before the spawn): the API's warm-up, which writes nothing
            ThisMachine.warmUp(OrchestratorSpec.builder().launcher("local").instancesPerNode(3).build(),
                    Optional.empty());
            // then the progress lines' and the summary's format (java.util.Formatter's first use loads and parses a
            // lot): the first progress line comes after the STARTING record, which needs the above first
            String.format(Locale.ROOT, "[%6.2fs] %s %d%n", 0.5, "warmup", 1);
            return true;
        } catch (Exception | LinkageError ignored) {
            return false; // only a head start: the command does the same work itself and reports what fails
        }
    }
}
