package io.smartsim.launch.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code db}: the orchestrator commands. */
@Command(name = "db",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Plan, start, inspect and stop orchestrators of an experiment directory.",
        subcommands = {DbPlanCommand.class, DbStartCommand.class, DbStatusCommand.class, DbStopCommand.class,
                DbCleanupCommand.class, DbEnvCommand.class, DbRenewCommand.class, DbWatchCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {Errors.EXIT_DOC_OK, Errors.EXIT_DOC_FAILED, Errors.EXIT_DOC_USAGE})
public final class DbCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(),
                "missing subcommand: choose plan, start, status, stop, cleanup, env or renew");
    }
}
