package io.smartsim.launch.cli;

import io.smartsim.launch.spec.LeaseController;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spec.Durations;
import io.smartsim.launch.spec.WatchdogCommand;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** How {@code db start} leaves a watchdog behind: this same jar, run as {@code db watch} in a JVM of its own. */
final class Watchdogs {
    private Watchdogs() {
    }

    /**
     * The command of {@code db watch} for orchestrator {@code id} ({@link WatchdogCommand}), renewing its lease while
     * the process that ran this command (its parent: the user's shell or batch script) lives.
     */
    static List<String> command(Path expDir, String id) {
        return command(expDir, id, LeaseController.parentOfThisProcess());
    }

    static List<String> command(Path expDir, String id, java.util.Optional<LeaseController> controller) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> argv = new ArrayList<>();
        argv.add(java);
        argv.addAll(WatchdogCommand.JVM_OPTIONS);
        argv.addAll(List.of("-cp", absoluteClassPath(), Main.class.getName(), "db", "watch",
                "--exp-dir", expDir.toString(), "--name", id));
        controller.ifPresent(c -> {
            argv.addAll(List.of("--controller", Long.toString(c.pid())));
            c.start().ifPresent(t -> argv.addAll(List.of("--controller-start", t.toString())));
        });
        return argv;
    }

    /**
     * This JVM's class path with every entry made absolute: the watchdog runs in the experiment directory, where a
     * relative {@code java -jar cli/target/smartsim-launch.jar} would name nothing.
     */
    static String absoluteClassPath() {
        List<String> entries = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            entries.add(e.isEmpty() ? e : Path.of(e).toAbsolutePath().normalize().toString());
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    /** " (restart on failure, lease 10m renewed while pid 123 lives)". */
    static String what(LaunchPlan plan) {
        List<String> parts = new ArrayList<>();
        if (plan.spec().restart() == RestartPolicy.ON_FAILURE) {
            parts.add("restarts dead shards");
        }
        plan.spec().lease().ifPresent(l -> parts.add("renews the " + Durations.format(l) + " lease while pid "
                + ProcessHandle.current().parent().map(p -> Long.toString(p.pid())).orElse("?")
                + " (the process that ran 'db start') lives; 'db renew' renews it too"));
        if (plan.spec().telemetry().on()) {
            parts.add("records telemetry every " + Durations.format(plan.spec().telemetry().interval()) + " under "
                    + "the experiment's telemetry/");
        }
        return parts.isEmpty() ? "" : " (" + String.join("; ", parts) + ")";
    }
}
