package io.smartsim.launch.cli;

import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.manifest.Manifest;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.spi.Launchers;
import io.smartsim.launch.supervise.Supervision;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
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
            OrchestratorSpec spec = OrchestratorSpec.builder().instancesPerNode(3).build();
            var local = Launchers.find("local");
            LaunchPlan plan = Planner.plan("warmup", Path.of("/nonexistent/smartsim-launch-warmup"), spec,
                    local.place(spec));
            OrchestratorRecord r = new OrchestratorRecord(plan.id(), local.name(), Status.STARTING, plan.spec(), plan,
                    List.of(), Instant.now(), Optional.empty(), List.of(), Optional.of(Supervision.record(plan)));
            Json.mapper().writeValueAsBytes(Manifest.empty("warmup").with(r));
            // then an events-log line, written as EventLog writes it (the 'started' event comes right before the spawn)
            Json.mapper().writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(io.smartsim.launch.status.Event.of("warmup",
                            io.smartsim.launch.status.Event.STARTED, "warmup"));
            // then the progress lines' and the summary's format (java.util.Formatter's first use loads and parses a
            // lot): the first progress line comes after the STARTING record, which needs the above first
            String.format(Locale.ROOT, "[%6.2fs] %s %d%n", 0.5, "warmup", 1);
            return true;
        } catch (Exception | LinkageError ignored) {
            return false; // only a head start: the command does the same work itself and reports what fails
        }
    }
}
