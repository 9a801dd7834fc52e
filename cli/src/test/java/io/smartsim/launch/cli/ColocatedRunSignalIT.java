package io.smartsim.launch.cli;

import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The shaded jar's {@code run} of a model with a colocated database, interrupted: nothing of the database stays. */
@Timeout(180)
class ColocatedRunSignalIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest();
    @TempDir
    Path tmp;
    private Process run;

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(Files.isRegularFile(JarRunner.JAR), "run through 'mvn verify': needs " + JarRunner.JAR);
        TestServers.assumeRedis();
        Path model = tmp.resolve("model.sh");
        // each rank writes its key through the socket, then waits: only a stop ends it
        Files.writeString(model, "#!/bin/bash\nredis-cli -s \"${SSDB#unix://}\" SET \"rank:$SMARTSIM_RANK\" x\n"
                + "exec sleep 600\n");
        Files.setPosixFilePermissions(model, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(tmp.resolve("experiment.yaml"), "name: colo\nmodels:\n  - name: sim\n    exe: ./model.sh\n"
                + "    run: { tasks: 2 }\n    colocatedDb: { unixSocket: " + tmp.resolve("db.sock") + " }\n");
    }

    @AfterEach
    void stopRun() {
        if (run != null) {
            run.destroyForcibly();
        }
    }

    @Test
    void sigintOfRunStopsTheRanksAndTheirDatabaseAndRemovesItsFiles() throws Exception {
        interruptAndCheck("INT", 130);
    }

    @Test
    void sigtermDoesTheSame() throws Exception {
        interruptAndCheck("TERM", 143);
    }

    private void interruptAndCheck(String signal, int exit) throws Exception {
        // A JVM whose parent ignores SIGINT (a job started in the background by a non-interactive shell, as CI
        // runners and this machine's build sessions do) inherits that and has no Ctrl-C handler: python3 puts
        // SIGINT back to its default before it execs the JVM, as an interactive shell would have it.
        run = new ProcessBuilder("python3", "-c", "import os, signal, sys; signal.signal(signal.SIGINT, "
                + "signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])", JarRunner.javaBinary(), "-jar",
                JarRunner.JAR.toString(), "run", tmp.resolve("experiment.yaml").toString(), "--exp-dir",
                tmp.resolve("exp").toString())
                .redirectOutput(tmp.resolve("run.out").toFile()).redirectError(tmp.resolve("run.err").toFile()).start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (keys() < 2) {
            assertThat(run.isAlive()).as("run exited early: %s", Files.readString(tmp.resolve("run.err"))).isTrue();
            assertThat(System.nanoTime()).as("both ranks wrote within 60 s").isLessThan(until);
            Thread.sleep(50);
        }
        assertThat(Processes.serversUnder(tmp)).hasSize(1);

        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(run.pid())).start().waitFor()).isZero();
        assertThat(run.waitFor(60, TimeUnit.SECONDS)).as("run exits after SIG%s", signal).isTrue();
        assertThat(run.exitValue()).as(Files.readString(tmp.resolve("run.err"))).isEqualTo(exit);

        assertThat(Processes.leftUnder(tmp, Processes.GRACE)).as("ranks, keeper and server").isEmpty();
        assertThat(tmp.resolve("db.sock")).doesNotExist();
        try (Stream<Path> files = Files.list(tmp.resolve("exp/sim"))) {
            List<String> names = files.map(p -> p.getFileName().toString()).toList();
            assertThat(names).noneMatch(f -> f.endsWith(".pid") || f.startsWith(".colocated-"))
                    .anyMatch(f -> f.startsWith("colocated-") && f.endsWith(".log"));
        }
    }

    private long keys() throws IOException, InterruptedException {
        if (!Files.exists(tmp.resolve("db.sock"))) {
            return 0;
        }
        Process p = new ProcessBuilder("redis-cli", "-s", tmp.resolve("db.sock").toString(), "DBSIZE").start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        p.waitFor(10, TimeUnit.SECONDS);
        return out.matches("[0-9]+") ? Long.parseLong(out) : 0;
    }
}
