package io.smartsim.launch.ssh;

import io.smartsim.launch.entity.ModelPlanner;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.spec.BatchSettings;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spec.RunSettings;
import io.smartsim.launch.spi.RenderedLaunch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The ssh model launcher's pure parts: ranks per node, the dry run, and what it refuses. */
class SshModelLauncherTest {
    private static ModelPlan plan(RunSettings run, String hosts) {
        ModelSpec.Builder b = ModelSpec.builder("sim", "/opt/sim").args("--steps", "10").launcher("ssh").run(run);
        if (hosts != null) {
            b.launcherOption("hosts", hosts);
        }
        return ModelPlanner.plan(Path.of("/scratch/exp"), b.build());
    }

    @Test
    void ranksAreSpreadOverTheNodesTheFirstTakingOneMore() {
        assertThat(SshModelLauncher.ranksPerNode(RunSettings.builder().nodes(3).tasksPerNode(2).build()))
                .containsExactly(2, 2, 2);
        assertThat(SshModelLauncher.ranksPerNode(RunSettings.builder().nodes(3).tasks(7).build()))
                .containsExactly(3, 2, 2);
        assertThat(SshModelLauncher.ranksPerNode(RunSettings.builder().nodes(2).tasks(4).tasksPerNode(2).build()))
                .containsExactly(2, 2);
        assertThat(SshModelLauncher.ranksPerNode(RunSettings.defaults())).containsExactly(1);
    }

    @Test
    void theDryRunShowsTheFirstNodesCommandAndWhichRanksEachHostRuns() {
        RenderedLaunch r = new SshModelLauncher().render(plan(RunSettings.builder().nodes(2).tasks(3).build(),
                "n1,n2,n3"), Map.of("SSDB", "10.0.0.1:6780"));
        assertThat(r.argv()).containsExactly("ssh", "n1", "bash", "-c", SshModelLauncher.RANKS, "ranks", "2", "0", "3",
                "/opt/sim", "--steps", "10");
        assertThat(r.env()).containsEntry("SSDB", "10.0.0.1:6780");
        assertThat(r.scripts().get("ssh-nodes")).isEqualTo(
                "node 0: n1, ranks 0-1, exit code to /scratch/exp/sim/sim.node0.exit\n"
                        + "node 1: n2, ranks 2, exit code to /scratch/exp/sim/sim.node1.exit\n");
        assertThat(SshModelLauncher.nodeArgv(plan(RunSettings.builder().nodes(2).tasks(3).build(), "n1,n2"), 1))
                .startsWith("bash", "-c", SshModelLauncher.RANKS, "ranks", "1", "2", "3");
    }

    @Test
    void whatItCannotHonourIsRefusedNamingTheField() {
        SshModelLauncher l = new SshModelLauncher();
        List<Object[]> cases = List.of(
                new Object[] {plan(RunSettings.defaults(), null), "launcherOptions.hosts", "launcherOptions: {hosts:"},
                new Object[] {plan(RunSettings.builder().nodes(3).build(), "n1,n2"), "run.nodes",
                        "asks for 3 nodes but launcherOptions.hosts names 2 [n1, n2]"},
                new Object[] {plan(RunSettings.builder().nodes(2).tasks(1).build(), "n1,n2"), "run.tasks",
                        "leaves a node without a rank"},
                new Object[] {plan(RunSettings.builder().cpusPerTask(4).build(), "n1"), "run.cpusPerTask",
                        "cannot reserve"},
                new Object[] {plan(RunSettings.builder().runArg("--exclusive").build(), "n1"), "run.runArgs",
                        "[--exclusive]"},
                new Object[] {plan(RunSettings.builder().batch(BatchSettings.defaults()).build(), "n1"),
                        "run.batch", "batch job"},
                new Object[] {plan(RunSettings.builder().alloc("1234").build(), "n1"), "run.alloc", "1234"});
        for (Object[] c : cases) {
            assertThatThrownBy(() -> l.validate((ModelPlan) c[0])).as((String) c[1])
                    .isInstanceOf(InvalidSpecException.class)
                    .satisfies(e -> assertThat(((InvalidSpecException) e).field()).isEqualTo(c[1]))
                    .hasMessageContaining((String) c[2]);
        }
        l.validate(plan(RunSettings.builder().nodes(2).tasksPerNode(4).build(), "n1,n2,n3"));
    }

    private static int sh(String script, String... args) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of("sh", "-c", script, "sh"));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    /**
     * The node check and the stop's liveness run here with sh as they run on a host: a group whose only member is a
     * zombie (its parent never reaps it, as a slow init) has ended, although {@code kill -0} still finds it.
     */
    @Test
    void aGroupOfZombiesOnlyHasEndedAndAnExitFileGivesTheCode() throws Exception {
        Process parent = new ProcessBuilder("sh", "-c", "setsid sleep 0.1 & echo $!; exec sleep 60").start();
        try {
            String zombie = new java.io.BufferedReader(new java.io.InputStreamReader(parent.getInputStream()))
                    .readLine().strip();
            long until = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
            while (!java.nio.file.Files.readString(Path.of("/proc/" + zombie + "/stat")).contains(") Z ")) {
                assertThat(System.nanoTime()).as("pid %s a zombie within 30 s", zombie).isLessThan(until);
                Thread.sleep(20);
            }
            assertThat(sh("kill -s 0 -- -\"$1\"", zombie)).as("what kill -0 says").isZero();
            assertThat(sh(SshModelLauncher.GROUP_ALIVE, zombie)).as("alive?").isEqualTo(1);
            assertThat(sh(SshModelLauncher.NODE_CHECK, "/nonexistent/exit", zombie)).isZero();
        } finally {
            parent.destroyForcibly();
        }
        Process live = new ProcessBuilder("setsid", "sleep", "60").start();
        try {
            assertThat(sh(SshModelLauncher.GROUP_ALIVE, Long.toString(live.pid()))).isZero();
            assertThat(sh(SshModelLauncher.NODE_CHECK, "/nonexistent/exit", Long.toString(live.pid())))
                    .isEqualTo(SshCommands.RUNNING);
        } finally {
            live.destroyForcibly();
        }
        Path exit = java.nio.file.Files.createTempFile("node", ".exit");
        java.nio.file.Files.writeString(exit, "3\n");
        Process out = new ProcessBuilder("sh", "-c", SshModelLauncher.NODE_CHECK, "sh", exit.toString(), "1").start();
        assertThat(new String(out.getInputStream().readAllBytes()).strip()).isEqualTo("exited with code 3");
        java.nio.file.Files.delete(exit);
    }

    /**
     * A node that ends while it is being checked is "exited with code 0", never "ended (killed)": the check looks for
     * the exit file, then whether the group still runs; a node that wrote its exit file and ended between the two
     * looks killed unless the check looks for the file again once the group is gone (SshHostsIT's colocated model
     * failed so, "ranks on host2 ended", in a full run on a busy machine). Many nodes ending at different moments,
     * each checked again and again as the launcher's poll does, the same way they are started (SPAWN's wrapper).
     */
    @Test
    void aNodeThatEndsWhileItIsCheckedHasExitedWithItsCodeNeverKilled(@TempDir Path dir) throws Exception {
        for (int trial = 0; trial < 40; trial++) {
            Path exit = dir.resolve(trial + ".exit");
            String sleep = "0.0" + (trial % 8);
            // as SPAWN starts a node: its own session (pgid = pid), the exit code written when the command ends
            Process node = new ProcessBuilder("setsid", "sh", "-c", "\"$@\"; echo $? >\"$0\"", exit.toString(),
                    "sleep", sleep).start();
            String pgid = Long.toString(node.pid());
            long until = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
            // checked once it is a group of its own, as on a host (SPAWN prints the pid after setsid ran)
            while (!groupOfItsOwn(node.pid()) && node.isAlive()) {
                assertThat(System.nanoTime()).as("trial %d: setsid within 30 s", trial).isLessThan(until);
                Thread.sleep(1);
            }
            String seen;
            while (true) {
                Process check = new ProcessBuilder("sh", "-c", SshModelLauncher.NODE_CHECK, "sh", exit.toString(),
                        pgid).start();
                seen = new String(check.getInputStream().readAllBytes()).strip();
                if (check.waitFor() != SshCommands.RUNNING) {
                    break;
                }
                assertThat(System.nanoTime()).as("trial %d: node of 'sleep %s' ended within 30 s", trial, sleep)
                        .isLessThan(until);
            }
            assertThat(seen).as("trial %d (sleep %s)", trial, sleep).isEqualTo("exited with code 0");
            node.waitFor();
        }
    }

    /**
     * The pid a node's spawn prints is its process group by the time it is printed: a failed start kills the group of
     * every node already started, right after their spawns returned, and a kill of -PID sent before setsid had run
     * found no such group and left the node running (SshModelsIT's "a failed start leaves nothing", once in 3 full
     * runs: host 3 refused at once while host 2's spawn had just returned). Spawned as on a host, killed at once.
     */
    @Test
    void aNodeKilledRightAfterItsSpawnReturnedIsGone(@TempDir Path dir) throws Exception {
        List<String> spawned = new java.util.ArrayList<>();
        try {
            for (int trial = 0; trial < 20; trial++) {
                Path env = dir.resolve(trial + ".env");
                java.nio.file.Files.writeString(env, "");
                Process spawn = new ProcessBuilder("sh", "-c", SshModelLauncher.SPAWN, "sh", dir.toString(),
                        dir.resolve(trial + ".out").toString(), dir.resolve(trial + ".err").toString(),
                        dir.resolve(trial + ".exit").toString(), env.toString(), "sleep", "600").start();
                String pid = new String(spawn.getInputStream().readAllBytes()).strip();
                assertThat(spawn.waitFor()).as("spawn, trial %d", trial).isZero();
                spawned.add(pid);
                assertThat(sh(String.join(" ", SshCommands.killGroup("KILL", Long.parseLong(pid))))).as(
                        "kill -s KILL -- -%s right after the spawn returned, trial %d", pid, trial).isZero();
                long until = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
                while (sh(SshModelLauncher.GROUP_ALIVE, pid) == 0) {
                    assertThat(System.nanoTime()).as("trial %d: group %s gone within 30 s of its kill", trial, pid)
                            .isLessThan(until);
                    Thread.sleep(10);
                }
            }
        } finally {
            for (String pid : spawned) { // what a failed trial left: its group, or the process before setsid ran
                sh("kill -s KILL -- -\"$1\" \"$1\" 2>/dev/null; true", pid);
            }
        }
    }

    /** Whether process {@code pid} leads a process group of its own (field 5 of /proc/PID/stat is its group). */
    private static boolean groupOfItsOwn(long pid) {
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return f[2].equals(Long.toString(pid));
        } catch (java.io.IOException gone) {
            return false;
        }
    }

    /** The environment file sh sources on a host gives back every value as it was, quotes and spaces included. */
    @Test
    void theEnvironmentFileGivesBackEveryValueAsItWas() throws Exception {
        Map<String, String> env = new java.util.LinkedHashMap<>();
        env.put("SSDB", "10.0.0.1:6780,10.0.0.2:6780");
        env.put("SSDB_PASSWORD", "it's a \"secret\" $HOME `x`");
        env.put("EMPTY", "");
        Path f = java.nio.file.Files.createTempFile("node", ".env");
        try {
            java.nio.file.Files.writeString(f, SshModelLauncher.exports(env));
            Process p = new ProcessBuilder("sh", "-c", ". \"$1\"; printf '%s|%s|%s' \"$SSDB\" \"$SSDB_PASSWORD\" "
                    + "\"${EMPTY-unset}\"", "sh", f.toString()).start();
            assertThat(new String(p.getInputStream().readAllBytes()))
                    .isEqualTo("10.0.0.1:6780,10.0.0.2:6780|it's a \"secret\" $HOME `x`|");
        } finally {
            java.nio.file.Files.delete(f);
        }
    }
}
