package io.smartsim.launch.cli;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.spec.LeaseController;
import io.smartsim.launch.spec.OrchestratorSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code db watch} (hidden): the detached watchdog process that {@code db start} leaves for an orchestrator with
 * {@code --restart on-failure} or {@code --lease}. Not for users: {@code db stop} and {@code db cleanup} end it.
 */
@Command(name = "watch",
        hidden = true,
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Supervise an orchestrator until it is stopped (started by 'db start'; see docs/supervision.md).")
public final class DbWatchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ExpDirOption expDir;

    @Option(names = "--name", paramLabel = "ID", defaultValue = OrchestratorSpec.DEFAULT_ID)
    String name;

    @Option(names = "--controller", paramLabel = "PID",
            description = "Renew the lease only while this process lives (default: always).")
    Long controller;

    @Option(names = "--controller-start", paramLabel = "INSTANT",
            description = "The controller's start time (ISO-8601), to tell it from a later process with its pid.")
    String controllerStart;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        Experiment.watch(expDir.dir(), name, Optional.ofNullable(controller).map(pid -> new LeaseController(pid,
                Optional.ofNullable(controllerStart).map(java.time.Instant::parse))), line -> {
            err.println(line);
            err.flush();
        });
        return Errors.OK;
    }
}
