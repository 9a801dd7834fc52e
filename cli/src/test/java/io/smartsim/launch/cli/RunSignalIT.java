package io.smartsim.launch.cli;


import io.smartsim.launch.testing.Leftovers;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The shaded jar's {@code run} interrupted while its models run: SIGINT (Ctrl-C) and SIGTERM stop the models, their
 * children and the orchestrator; {@code --keep-db} leaves the orchestrator, and {@code db env} then prints it.
 */
class RunSignalIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path tmp;

    private int port;
    private final List<Long> started = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(Files.isRegularFile(JarRunner.JAR), "run through 'mvn verify': needs " + JarRunner.JAR);
        TestServers.assumeRedis();
        port = leftovers.freeBase(3);
        Path model = tmp.resolve("model.sh");
        // Records its own pid and its child's, then waits: only a stop ends it.
        Files.writeString(model, "#!/bin/sh\nsleep 600 &\necho \"$$ $!\" > \"$1\"\nwait\n");
        Files.setPosixFilePermissions(model, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(tmp.resolve("experiment.yaml"), "name: signals\n"
                + "orchestrators:\n  - { id: db, instancesPerNode: 3, port: " + port + " }\n"
                + "models:\n  - { name: sim, exe: ./model.sh, args: [" + tmp.resolve("sim.pids") + "] }\n"
                + "ensembles:\n  - { name: sweep, exe: ./model.sh, args: [\"" + tmp + "/;i;.pids\"], "
                + "params: { i: [a, b] }, strategy: step }\n");
    }

    @AfterEach
    void killLeftovers() throws Exception {
        for (long pid : started) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        new JarRunner(tmp).cli("db", "stop", "--exp-dir", tmp.resolve("exp").toString(), "--name", "db");
    }

    @Test
    void sigintStopsModelsTheirChildrenAndTheOrchestrator() throws Exception {
        interruptAndCheck("INT", false);
    }

    @Test
    void sigtermDoesTheSame() throws Exception {
        interruptAndCheck("TERM", false);
    }

    @Test
    void keepDbLeavesTheOrchestratorForDbEnv() throws Exception {
        interruptAndCheck("INT", true);
        JarRunner.Result env = new JarRunner(tmp).cli("db", "env", "--exp-dir", tmp.resolve("exp").toString());
        assertThat(env.exit()).as(env.toString()).isZero();
        assertThat(env.out()).isEqualTo("export SSDB=127.0.0.1:" + port + ",127.0.0.1:" + (port + 1) + ",127.0.0.1:"
                + (port + 2) + "\nexport SR_DB_TYPE=Clustered\nexport SSDB_USER=smartsim\n"
                + "# SSDB_PASSWORD is set for models; add --show-secrets to print it\n");
        JarRunner.Result stop = new JarRunner(tmp).cli("db", "stop", "--exp-dir", tmp.resolve("exp").toString(), "--name", "db");
        assertThat(stop.exit()).as(stop.toString()).isZero();
        assertThat(serverAlive()).isFalse();
    }

    private void interruptAndCheck(String signal, boolean keepDb) throws Exception {
        List<String> argv = new ArrayList<>(List.of(JarRunner.javaBinary(), "-jar", JarRunner.JAR.toString(), "run",
                tmp.resolve("experiment.yaml").toString(), "--exp-dir", tmp.resolve("exp").toString()));
        if (keepDb) {
            argv.add("--keep-db");
        }
        Process run = new ProcessBuilder(argv).redirectOutput(tmp.resolve("run.out").toFile())
                .redirectError(tmp.resolve("run.err").toFile()).start();
        started.add(run.pid());
        List<Path> pidFiles = List.of(tmp.resolve("sim.pids"), tmp.resolve("a.pids"), tmp.resolve("b.pids"));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!pidFiles.stream().allMatch(RunSignalIT::written)) {
            assertThat(run.isAlive()).as("run exited early: %s", Files.readString(tmp.resolve("run.err"))).isTrue();
            assertThat(System.nanoTime()).as("models did not start").isLessThan(until);
            Thread.sleep(20);
        }
        List<Long> modelPids = new ArrayList<>();
        for (Path f : pidFiles) {
            for (String pid : Files.readString(f).strip().split(" ")) {
                modelPids.add(Long.parseLong(pid));
            }
        }
        started.addAll(modelPids);
        assertThat(serverAlive()).isTrue();

        long t0 = System.nanoTime();
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(run.pid())).start();
        assertThat(kill.waitFor()).isZero();
        assertThat(run.waitFor(60, TimeUnit.SECONDS)).as("run exits after SIG%s", signal).isTrue();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        String err = Files.readString(tmp.resolve("run.err"));

        assertThat(run.exitValue()).as(err).isEqualTo(signal.equals("INT") ? 130 : 143);
        assertThat(modelPids).as("model processes and their children left after %d ms", ms)
                .allSatisfy(pid -> assertThat(io.smartsim.launch.testing.Pids.running(pid))
                        .as("pid %d (a zombie has exited)", pid).isFalse());
        assertThat(err).contains("stopping 3 model(s): sim, sweep_0, sweep_1");
        assertThat(serverAlive()).as(err).isEqualTo(keepDb);
        if (!keepDb) {
            assertThat(err).contains("stopping 3 shard(s) of 'db'");
        }
    }

    private static boolean written(Path f) {
        try {
            return Files.exists(f) && Files.readString(f).strip().contains(" ");
        } catch (IOException e) {
            return false;
        }
    }

    private boolean serverAlive() {
        return !io.smartsim.launch.testing.Processes.serversOn(List.of(port, port + 1, port + 2)).isEmpty();
    }
}
