package io.smartsim.launch.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CLI knows no scheduler: each launcher module's flags (its {@code LauncherFlags} mixin, found through
 * ServiceLoader) are added to {@code db start} and {@code db plan} at run time, listed in their help, parsed into
 * launcher options, and a bad value is refused by the launcher when it plans, naming the flag.
 */
@Timeout(60)
class LauncherFlagsTest {
    /** Every flag the launcher modules on this class path contribute (cli's own code declares none of them). */
    private static final List<String> CONTRIBUTED = List.of("--alloc", "--batch", "--time", "--account",
            "--partition", "--qos", "--constraint", "--sbatch", "--queue", "--pbs-dialect", "--run-command", "--pbs",
            "--remote", "--hosts", "--ssh-user", "--ssh-port", "--identity", "--accept-new-host-key");

    @TempDir
    Path tmp;

    @Test
    void theLaunchersMixinsAreFoundAndAddedOnceToBothCommandsInBothTrees() {
        for (String command : List.of("start", "plan")) {
            CommandSpec spec = Main.commandLine().getSubcommands().get("db").getSubcommands().get(command)
                    .getCommandSpec();
            assertThat(spec.mixins().keySet()).as(command).contains(
                    "launcher flags io.smartsim.launch.batch.BatchFlags",
                    "launcher flags io.smartsim.launch.slurm.SlurmFlags",
                    "launcher flags io.smartsim.launch.pbs.PbsFlags",
                    "launcher flags io.smartsim.launch.ssh.SshLauncherFlags",
                    "launcher flags io.smartsim.launch.ssh.SshTransportFlags");
            CONTRIBUTED.forEach(f -> assertThat(spec.findOption(f)).as(command + " " + f).isNotNull());
        }
        CommandSpec small = Main.commandLine(new String[] {"db", "start"}).getSubcommands().get("db")
                .getSubcommands().get("start").getCommandSpec();
        CONTRIBUTED.forEach(f -> assertThat(small.findOption(f)).as("StartTree " + f).isNotNull());
    }

    @Test
    void helpListsEachLaunchersFlagsOnce() {
        for (String command : List.of("start", "plan")) {
            Cli.Result r = Cli.run("db", command, "--help");
            assertThat(r.exit()).as(r.toString()).isZero();
            for (String f : CONTRIBUTED) {
                // an option's own line: "      --flag=LABEL   description" (wrapped text is indented further)
                assertThat(r.out().lines().filter(l -> l.startsWith("      " + f + "=") || l.startsWith("      " + f + " ")
                        || l.equals("      " + f))).as(command + " --help: " + f + "\n" + r.out()).hasSize(1);
            }
            assertThat(r.out()).contains("--pbs-dialect=pro|torque", "--partition=NAME", "--hosts=H1,H2,...");
        }
    }

    @Test
    void flagsBecomeTheLaunchersOptionsUnderTheirKeys() {
        CommandLine cl = Main.commandLine();
        CommandLine.ParseResult parsed = cl.parseArgs("db", "plan", "--launcher", "slurm", "--batch", "--time",
                "00:10:00", "--partition", "debug", "--sbatch=--mem=4G", "--sbatch=--exclusive", "--queue", "q",
                "--pbs-dialect", "torque", "--run-command", "ssh", "--hosts", "a,b", "--remote", "me@login",
                "--identity", "/k/id", "--accept-new-host-key", "--launcher-option", "x=1");
        DbPlanCommand plan = (DbPlanCommand) parsed.subcommand().subcommand().commandSpec().userObject();
        assertThat(plan.schedulerOptions.toLauncherOptions()).containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
                Map.entry("x", "1"), Map.entry("batch", "true"), Map.entry("time", "00:10:00"),
                Map.entry("partition", "debug"), Map.entry("sbatch", "--mem=4G\n--exclusive"),
                Map.entry("queue", "q"), Map.entry("dialect", "torque"), Map.entry("runCommand", "ssh"),
                Map.entry("hosts", "a,b"), Map.entry("remote", "me@login"), Map.entry("identity", "/k/id"),
                Map.entry("accept-new-host-key", "true")));
        assertThat(plan.schedulerOptions.batchKeys()).containsExactlyInAnyOrder("batch", "time", "account",
                "partition", "qos", "constraint", "sbatch", "queue", "pbs");
    }

    @Test
    void aBadPbsDialectIsRefusedNamingTheFlagAndTheFix() {
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", tmp.resolve("exp").toString(), "--launcher", "pbs",
                "--batch", "--pbs-dialect", "openpbs");
        assertThat(r.exit()).as(r.toString()).isEqualTo(Errors.USAGE);
        assertThat(r.err().strip()).isEqualTo("error: launcherOptions.dialect (--pbs-dialect): 'openpbs' is not a PBS "
                + "dialect; use pro (PBS Professional, OpenPBS), torque, or auto (detect from qstat --version)");
        assertThat(tmp.resolve("exp")).doesNotExist();
    }

    @Test
    void aFlagOfAnotherLauncherIsRefusedByTheChosenOneNamingIt() {
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", tmp.resolve("exp").toString(), "--launcher", "slurm",
                "--batch", "--queue", "debug");
        assertThat(r.exit()).as(r.toString()).isEqualTo(Errors.USAGE);
        assertThat(r.err()).contains("the slurm launcher does not know [queue]");
    }
}
