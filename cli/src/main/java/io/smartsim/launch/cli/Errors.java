package io.smartsim.launch.cli;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spec.SpecFileException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IExitCodeExceptionMapper;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.PrintWriter;
import java.util.Map;
import java.util.ServiceConfigurationError;

/**
 * Maps failures to the documented exit codes and prints them as one {@code error:} line. Stack traces only
 * with {@code --verbose}.
 */
final class Errors implements IExecutionExceptionHandler, IParameterExceptionHandler, IExitCodeExceptionMapper {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    static final String EXIT_DOC_OK = "0:Success. For 'db status': every orchestrator shown is healthy (RUNNING).";
    static final String EXIT_DOC_FAILED = "1:Failed, or not healthy: a start that failed (everything it started was "
            + "stopped), an orchestrator that is not running, a missing or corrupt manifest, a status other than "
            + "RUNNING, 'doctor' without redis-server.";
    static final String EXIT_DOC_USAGE = "2:Bad usage: an unknown option or command, or an invalid value (the "
            + "message names the field); nothing was started.";

    private static final String LAUNCHER_OPTION = "launcherOptions.";

    /** Spec fields as users set them on the command line. */
    private static final Map<String, String> OPTIONS = Map.ofEntries(
            Map.entry("id", "--name"),
            Map.entry("launcher", "--launcher"),
            Map.entry("backend", "--backend"),
            Map.entry("nodes", "--nodes"),
            Map.entry("instancesPerNode", "--per-node"),
            Map.entry("nodes/instancesPerNode", "--nodes/--per-node"),
            Map.entry("port", "--port"),
            Map.entry("interfaces", "--interface"),
            Map.entry("cpusPerShard", "--cpus"),
            Map.entry("maxMemory", "--max-memory"),
            Map.entry("evictionPolicy", "--eviction"),
            Map.entry("extraConfig", "--config"),
            Map.entry("startupTimeout", "--timeout"),
            Map.entry("serverBinary", "--server-binary"),
            Map.entry("replicas", "--replicas"),
            Map.entry("checkpoint", "--checkpoint"),
            Map.entry("port/replicas", "--port/--replicas"),
            Map.entry("experiment name", "--experiment"),
            Map.entry("experiment directory", "--exp-dir"));

    @Override
    public int getExitCode(Throwable t) {
        return t instanceof InvalidSpecException || t instanceof ParameterException ? USAGE : FAILED;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, ParseResult parsed) throws Exception {
        if (ex instanceof ParameterException pe) {
            return handleParseException(pe, parsed.originalArgs().toArray(String[]::new));
        }
        PrintWriter err = cl.getErr();
        boolean verbose = verbose(parsed);
        if (ex instanceof SpecFileException) {
            err.println("error: " + ex.getMessage()); // file:line:column: field: message
        } else if (ex instanceof InvalidSpecException ise) {
            err.println("error: " + describe(ise));
        } else if (ex instanceof LaunchException) {
            err.println("error: " + ex.getMessage());
        } else {
            err.println("error: unexpected " + ex.getClass().getName() + ": " + ex.getMessage()
                    + (verbose ? "" : " (run again with --verbose for the stack trace)"));
        }
        if (verbose) {
            ex.printStackTrace(err);
        }
        err.flush();
        return getExitCode(ex);
    }

    /** A launcher listed in META-INF/services that cannot be loaded: a packaging fault, not the user's input. */
    int handleBrokenLauncher(ServiceConfigurationError e, ParseResult parsed) {
        CommandLine cl = parsed.asCommandLineList().get(parsed.asCommandLineList().size() - 1);
        PrintWriter err = cl.getErr();
        err.println("error: a launcher module of this smartsim-launch build is broken: " + e.getMessage()
                + "; rebuild it (mvn -q -DskipTests package)");
        if (verbose(parsed)) {
            e.printStackTrace(err);
        }
        err.flush();
        return FAILED;
    }

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("error: " + ex.getMessage());
        UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for usage.");
        err.flush();
        return USAGE;
    }

    /** {@code <field> (<option>): <message>}; the option is left out when it is not a command-line one. */
    static String describe(InvalidSpecException e) {
        String field = e.field();
        String message = e.getMessage();
        String prefix = field + ": ";
        String rest = message.startsWith(prefix) ? message.substring(prefix.length()) : message;
        String option = OPTIONS.get(field);
        if (option == null && field.startsWith(LAUNCHER_OPTION)) { // a launcher module's flag, if one sets it
            option = SchedulerOptions.flagOf(field.substring(LAUNCHER_OPTION.length())).orElse(null);
        }
        return option == null ? field + ": " + rest : field + " (" + option + "): " + rest;
    }

    /** Whether the command that failed was given {@code --verbose}. */
    private static boolean verbose(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.hasSubcommand() ? p.subcommand() : null) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }
}
