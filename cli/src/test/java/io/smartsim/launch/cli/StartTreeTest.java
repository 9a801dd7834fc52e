package io.smartsim.launch.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code db start} runs in a tree of that command only; it must answer exactly as the whole tree does. */
@Timeout(60)
class StartTreeTest {
    @TempDir
    Path dir;

    @Test
    void dbStartArgumentsGetTheSmallTreeAndEverythingElseTheWholeOne() {
        assertThat((Object) Main.commandLine(new String[] {"db", "start", "--per-node", "3"}).getCommand())
                .isInstanceOf(StartTree.class);
        assertThat((Object) Main.commandLine(new String[] {"db", "status"}).getCommand()).isInstanceOf(Main.class);
        assertThat((Object) Main.commandLine(new String[] {"--help"}).getCommand()).isInstanceOf(Main.class);
    }

    @Test
    void helpVersionAndUsageErrorsOfDbStartAreTheSameInBothTrees() {
        String exp = dir.resolve("exp").toString();
        List<String[]> cases = List.of(
                new String[] {"db", "start", "--help"},
                new String[] {"db", "start", "--version"},
                new String[] {"db", "start", "--no-such-option"},
                new String[] {"db", "start", "--exp-dir", exp, "--port", "70000"},
                new String[] {"db", "start", "--exp-dir", exp, "--per-node", "0"},
                new String[] {"db", "start", "--exp-dir", exp, "--launcher", "no-such-launcher"},
                new String[] {"db", "start", "--exp-dir", exp, "--per-node"});
        for (String[] args : cases) {
            Cli.Result whole = run(Main.commandLine(), args);
            Cli.Result small = run(Main.commandLine(args), args);
            assertThat(small).as(String.join(" ", args)).isEqualTo(whole);
            assertThat(whole.exit()).as(String.join(" ", args) + ": " + whole).isIn(0, 2);
        }
        assertThat(run(Main.commandLine(), new String[] {"db", "start", "--help"}).out())
                .contains("Usage: smartsim-launch db start");
    }

    private static Cli.Result run(CommandLine cl, String[] args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Cli.Result(exit, out.toString(), err.toString());
    }
}
