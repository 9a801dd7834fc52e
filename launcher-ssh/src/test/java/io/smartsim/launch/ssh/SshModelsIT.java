package io.smartsim.launch.ssh;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Model;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spec.RunSettings;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.spi.LaunchedModel;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Models on the ssh launcher through the loopback sshd (hosts 127.0.1.1-3, each its own address: a rank tells which
 * host's sshd started it by {@code SSH_CONNECTION}): each node runs its share of the ranks with its rank numbers and
 * the model's environment; a failing rank fails the model with its exit code and host; a later process polls and
 * stops it; bad settings are refused naming the field, and a start that fails on one host leaves nothing on another.
 */
@TestbedLock(value = TestbedLock.Bed.SSH, shared = true)
class SshModelsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;
    private Path ranks;
    private Path out;

    @BeforeAll
    static void sshdUp() {
        SshTestbed.up();
    }

    /** Each rank writes "host-address rank ntasks greeting" to out/rank-N, fails when it is FAIL_RANK, then sleeps. */
    @BeforeEach
    void script() throws IOException {
        out = Files.createDirectories(dir.resolve("out"));
        ranks = dir.resolve("ranks.sh");
        Files.writeString(ranks, String.join("\n", "#!/bin/sh",
                "set -- $SSH_CONNECTION",
                "printf '%s %s %s %s\\n' \"$3\" \"$SMARTSIM_RANK\" \"$SMARTSIM_NTASKS\" \"$GREETING\" "
                        + ">\"$OUT/rank-$SMARTSIM_RANK.tmp\" && mv \"$OUT/rank-$SMARTSIM_RANK.tmp\" "
                        + "\"$OUT/rank-$SMARTSIM_RANK\"",
                "[ \"$SMARTSIM_RANK\" = \"${FAIL_RANK:-}\" ] && exit 3",
                "exec sleep \"${SLEEP:-0}\"", ""));
        Files.setPosixFilePermissions(ranks, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private ModelSpec.Builder model(String name, RunSettings run) {
        return ModelSpec.builder(name, ranks.toString()).launcher("ssh").run(run)
                .launcherOption("hosts", String.join(",", SshTestbed.HOSTS))
                .launcherOption("ssh-config", SshTestbed.sshConfig().toString())
                .env("OUT", out.toString()).env("GREETING", "hello");
    }

    private List<String> lines(int n) throws IOException {
        List<String> l = new java.util.ArrayList<>();
        for (int r = 0; r < n; r++) {
            l.add(Files.readString(out.resolve("rank-" + r)).strip());
        }
        return l;
    }

    @Test
    void eachHostRunsItsRanksWithTheirNumbersAndTheModelsEnvironment() throws Exception {
        try (Experiment exp = Experiment.create("ssh-models", dir.resolve("exp"))) {
            Model sim = exp.createModel(model("sim", RunSettings.builder().nodes(3).tasksPerNode(2).build()).build());
            exp.start(true, sim);

            assertThat(sim.status()).as(String.valueOf(sim.detail())).isEqualTo(EntityStatus.COMPLETED);
            assertThat(sim.exitCode()).contains(0);
            assertThat(lines(6)).containsExactly("127.0.1.1 0 6 hello", "127.0.1.1 1 6 hello",
                    "127.0.1.2 2 6 hello", "127.0.1.2 3 6 hello", "127.0.1.3 4 6 hello", "127.0.1.3 5 6 hello");
            assertThat(out.resolve("rank-6")).doesNotExist();
            // The environment reached the ranks through an owner-only file each host read and removed, not the
            // command line (a password among it would show in ps there).
            assertThat(SshModelLauncher.envFile(sim.plan(), 0)).doesNotExist();
            LaunchedModel launched = sim.launched().orElseThrow();
            assertThat(launched.handle()).containsEntry(LaunchedModel.NODE, "127.0.1.1,127.0.1.2,127.0.1.3");
            assertThat(exp.summaryTable()).contains("sim").contains("COMPLETED");
        }
    }

    @Test
    void aRankThatFailsFailsTheModelWithItsExitCodeAndHostAndTasksSpreadOverTheNodes() throws Exception {
        try (Experiment exp = Experiment.create("ssh-models", dir.resolve("exp"))) {
            // 3 tasks on 2 nodes: the first node takes 2 (ranks 0, 1), the second 1 (rank 2), which fails.
            Model sim = exp.createModel(model("sim", RunSettings.builder().nodes(2).tasks(3).build())
                    .env("FAIL_RANK", "2").build());
            exp.start(true, sim);

            assertThat(sim.status()).isEqualTo(EntityStatus.FAILED);
            assertThat(sim.exitCode()).contains(3);
            assertThat(sim.detail()).hasValueSatisfying(d -> assertThat(d).contains("127.0.1.2")
                    .contains("exited with code 3"));
            assertThat(lines(3)).containsExactly("127.0.1.1 0 3 hello", "127.0.1.1 1 3 hello",
                    "127.0.1.2 2 3 hello");
        }
    }

    @Test
    void aLaterProcessSeesTheModelRunningAndStopsItOnEveryHost() throws Exception {
        Path exp1 = dir.resolve("exp");
        try (Experiment exp = Experiment.create("ssh-models", exp1)) {
            Model sim = exp.createModel(model("sim", RunSettings.builder().nodes(3).build()).env("SLEEP", "600")
                    .build());
            exp.start(sim);
            awaitFiles(3);
            assertThat(Processes.under(dir)).as("a sleep on each host").hasSizeGreaterThanOrEqualTo(3);

            try (Experiment later = Experiment.reconnect(exp1)) {
                Model seen = later.models().get(0);
                later.poll();
                assertThat(seen.status()).isEqualTo(EntityStatus.RUNNING);
                later.stop(seen);
                assertThat(seen.status()).isEqualTo(EntityStatus.CANCELLED);
                assertThat(Processes.leftUnder(dir, Processes.GRACE)).as("every host's ranks ended").isEmpty();
            }

            assertThat(exp.finished(sim)).as("the first process sees it ended too").isTrue();
        }
    }

    @Test
    void ranksThatIgnoreSigtermAreKilledOnceTheGraceHasPassed() throws Exception {
        Path stubborn = dir.resolve("stubborn.sh");
        Files.writeString(stubborn, "#!/bin/sh\ntrap '' TERM\nprintf x >\"$OUT/rank-$SMARTSIM_RANK\"\nexec sleep 600\n");
        Files.setPosixFilePermissions(stubborn, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (Experiment exp = Experiment.create("ssh-models", dir.resolve("exp"))) {
            Model sim = exp.createModel(model("sim", RunSettings.builder().nodes(2).build()).build().toBuilder()
                    .exe(stubborn.toString()).build());
            exp.start(sim);
            awaitFiles(2);
            long t0 = System.nanoTime();
            exp.stop(sim);
            assertThat(sim.status()).isEqualTo(EntityStatus.CANCELLED);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("SIGTERM ignored: the grace ran out before SIGKILL")
                    .isGreaterThanOrEqualTo(Experiment.MODEL_STOP_GRACE);
            assertThat(Processes.leftUnder(dir, Processes.GRACE)).as("killed on both hosts").isEmpty();
        }
    }

    @Test
    void badSettingsAreRefusedNamingTheFieldAndAFailedStartLeavesNothing() throws Exception {
        try (Experiment exp = Experiment.create("ssh-models", dir.resolve("exp"))) {
            assertThatThrownBy(() -> exp.createModel(ModelSpec.builder("nohosts", ranks.toString()).launcher("ssh")
                    .build())).isInstanceOf(InvalidSpecException.class)
                    .satisfies(e -> assertThat(((InvalidSpecException) e).field()).isEqualTo("launcherOptions.hosts"))
                    .hasMessageContaining("hosts: node1,node2");
            assertThatThrownBy(() -> exp.createModel(model("four", RunSettings.builder().nodes(4).build()).build()))
                    .isInstanceOf(InvalidSpecException.class).hasMessageContaining("4 nodes")
                    .hasMessageContaining("names 3");
            assertThatThrownBy(() -> exp.createModel(model("part", RunSettings.defaults())
                    .launcherOption("partition", "debug").build()))
                    .isInstanceOf(InvalidSpecException.class).hasMessageContaining("[partition]")
                    .hasMessageContaining("hosts");
            assertThatThrownBy(() -> exp.createModel(model("batch", RunSettings.builder().cpusPerTask(2).build())
                    .build())).isInstanceOf(InvalidSpecException.class)
                    .satisfies(e -> assertThat(((InvalidSpecException) e).field()).isEqualTo("run.cpusPerTask"));

            // The third host does not answer (no sshd on 127.0.1.9): the ranks already started on the first two are
            // stopped before the error, and their output file says they had started.
            Model cut = exp.createModel(model("cut", RunSettings.builder().nodes(3).build()).env("SLEEP", "600")
                    .launcherOption("hosts", "127.0.1.1,127.0.1.2,127.0.1.9").build());
            assertThatThrownBy(() -> exp.start(cut)).isInstanceOf(LaunchException.class)
                    .hasMessageContaining("127.0.1.9");
            assertThat(cut.stdout()).as("the first hosts had started their ranks").exists();
            assertThat(Processes.leftUnder(dir, Processes.GRACE)).isEmpty();

            Model missing = exp.createModel(model("missing", RunSettings.builder().nodes(2).build()).build()
                    .toBuilder().exe("/nonexistent/sim").build());
            assertThatThrownBy(() -> exp.start(missing)).isInstanceOf(LaunchException.class)
                    .hasMessageContaining("/nonexistent/sim").hasMessageContaining("host 127.0.1.1");
            assertThat(Processes.leftUnder(dir, Processes.GRACE)).isEmpty();
        }
    }

    private void awaitFiles(int n) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (java.util.stream.IntStream.range(0, n).anyMatch(r -> !Files.exists(out.resolve("rank-" + r)))) {
            assertThat(System.nanoTime()).as("every rank wrote its file within 60 s").isLessThan(until);
            Thread.sleep(50);
        }
    }

}
