package io.smartsim.launch.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IFactory;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.ServiceConfigurationError;
import java.util.concurrent.Callable;

/** The {@code smartsim-launch} command: {@code db start|status|stop|plan} and {@code doctor}. */
@Command(name = "smartsim-launch",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Launch, inspect and stop Redis/KeyDB orchestrators: the database of a SmartSim-like experiment.",
        subcommands = {DbCommand.class, RunCommand.class, DashboardCommand.class, DoctorCommand.class, HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                Errors.EXIT_DOC_OK,
                Errors.EXIT_DOC_FAILED,
                Errors.EXIT_DOC_USAGE},
        footerHeading = "%nExamples:%n",
        footer = {
                "  smartsim-launch doctor                 which servers and schedulers are here",
                "  smartsim-launch db plan --per-node 3   what would run; nothing is started",
                "  smartsim-launch db start --per-node 3  a 3-shard cluster on ports 6780-6782",
                "  smartsim-launch db status              every orchestrator in ./exp",
                "  smartsim-launch db stop",
                "  eval \"$(smartsim-launch db env)\"      SSDB and SR_DB_TYPE in this shell",
                "  smartsim-launch run experiment.yaml    orchestrators, then models and ensembles"})
public final class Main implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command: choose db, run or doctor");
    }

    /** The command line with the documented exit codes and error handling wired in. */
    public static CommandLine commandLine() {
        return commandLine(CommandLine.defaultFactory());
    }

    /** As {@link #commandLine()}, with commands made by {@code factory} (tests hand in their own). */
    public static CommandLine commandLine(IFactory factory) {
        return wired(new CommandLine(new Main(), factory));
    }

    /** The command line {@code args} run in: for {@code db start}, a tree of that command only ({@link StartTree}). */
    static CommandLine commandLine(String[] args) {
        return Warmup.wanted(args) ? wired(new CommandLine(new StartTree())) : commandLine();
    }

    private static CommandLine wired(CommandLine cl) {
        SchedulerOptions.install(cl); // each launcher module's own flags (--partition, --queue, --hosts, ...)
        Errors errors = new Errors();
        cl.setExecutionExceptionHandler(errors);
        cl.setParameterExceptionHandler(errors);
        cl.setExitCodeExceptionMapper(errors);
        cl.setExecutionStrategy(parsed -> {
            try {
                return new CommandLine.RunLast().execute(parsed);
            } catch (ServiceConfigurationError e) {
                return errors.handleBrokenLauncher(e, parsed);
            }
        });
        return cl;
    }

    public static void main(String[] args) throws InterruptedException {
        if (Warmup.wanted(args)) {
            Warmup.start();
        }
        int code = commandLine(args).execute(args);
        if (shuttingDown()) {
            // SIGINT or SIGTERM began the JVM's shutdown: its hooks stop what the command started (a model then ends
            // CANCELLED, so the command returns 1), and the JVM exits with 128 + the signal, as documented. An exit
            // with the command's code now could take the place of that status: Java 17's Shutdown.exit halts at once
            // with a non-zero status given once the hooks are done (ColocatedRunSignalIT saw 1 instead of 143).
            Thread.currentThread().join();
        }
        System.exit(code);
    }

    /** Whether the JVM's shutdown has begun: no hook can be added then. */
    static boolean shuttingDown() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
        } catch (IllegalStateException inProgress) {
            return true;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(probe);
        } catch (IllegalStateException inProgress) {
            return true;
        }
        return false;
    }

    /** The version Maven built, from a filtered resource. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("/smartsim-launch.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"smartsim-launch " + p.getProperty("version", "(unknown version)"),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
