package io.smartsim.launch.cli;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.error.StateException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/** {@code db env}: the database variables a model gets, as {@code export} lines for a shell to eval. */
@Command(name = "env",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        description = {"Print the environment a model of this experiment gets, as shell export lines: SSDB "
                + "(comma-separated host:port) and SR_DB_TYPE (Clustered or Standalone) for the first running "
                + "orchestrator (or --name), SSDB_<id> and SR_DB_TYPE_<id> for each other one; with a password, "
                + "SSDB_USER and SSDB_PASSWORD (SSDB_USER_<id>, SSDB_PASSWORD_<id>). The password is printed only "
                + "with --show-secrets. Values are shell-quoted, so that",
                "  eval \"$(smartsim-launch db env --exp-dir exp --show-secrets)\"",
                "sets them in the current shell (the password goes into the shell, not onto the screen), to run a "
                + "model by hand."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:Printed.", "1:No running orchestrator (or --name is not running), or no readable "
                + "manifest.", Errors.EXIT_DOC_USAGE})
public final class DbEnvCommand implements Callable<Integer> {
    private static final Pattern SHELL_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    @Spec
    CommandSpec spec;

    @Mixin
    ExpDirOption expDir;

    @Option(names = "--name", paramLabel = "ID", order = 1,
            description = "The orchestrator that goes in SSDB (default: the first running one in the manifest).")
    String name;

    @Option(names = "--show-secrets", order = 2,
            description = "Print the database passwords too (SSDB_PASSWORD...); without it they are left out.")
    boolean showSecrets;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() {
        Map<String, String> env;
        try (Experiment exp = Experiment.reconnect(expDir.dir())) {
            env = name == null ? exp.dbEnv() : exp.dbEnv(name);
        }
        if (env.isEmpty()) {
            throw new StateException("no orchestrator is running in " + expDir.dir() + "; start one with "
                    + "smartsim-launch db start --exp-dir " + Text.shellQuote(expDir.dir().toString()));
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(render(env, showSecrets));
        out.flush();
        return Errors.OK;
    }

    /** {@code export NAME=value} lines; a name a shell cannot export (an id with '-') becomes a comment saying so. */
    static String render(Map<String, String> env, boolean showSecrets) {
        StringBuilder sb = new StringBuilder();
        env.forEach((k, v) -> {
            if (k.startsWith("SSDB_PASSWORD") && !showSecrets) {
                sb.append("# ").append(k).append(" is set for models; add --show-secrets to print it\n");
            } else if (SHELL_NAME.matcher(k).matches()) {
                sb.append("export ").append(k).append('=').append(Text.shellQuote(v)).append('\n');
            } else {
                sb.append("# ").append(k).append(" is not a name a shell can export (models started by "
                        + "smartsim-launch get it); its value: ").append(Text.shellQuote(v)).append('\n');
            }
        });
        return sb.toString();
    }
}
