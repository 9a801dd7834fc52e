package io.smartsim.launch.pbs;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Model;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.BatchSettings;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spec.RunSettings;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Models as PBS batch jobs on the Slurm testbed through Debian's slurm-wlm-torque front end (testbeds/pbs/up): a
 * 3-node PBS orchestrator (its own batch job, ssh run command) and model batch jobs submitted with {@code qsub}
 * that find it through {@code SSDB} and log in with {@code SSDB_USER}/{@code SSDB_PASSWORD}.
 *
 * <p>This front end's qstat has no {@code exit_status} (a finished job is just {@code C}): the exit codes seen here
 * come from the exit file the model's batch script writes. PBS Pro's {@code Exit_status}, the {@code select}
 * script and the in-job run commands are covered by PbsModelStatesTest and PbsModelScriptsTest, not live.
 */
// Longer than the 5 min default: on the shared testbed a job may wait up to 120 s for nodes other tests hold,
// a batch orchestrator gets 150 s to start, and a job 60 s to end.
@org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
@TestbedLock(TestbedLock.Bed.SLURM)
@TestbedLock(TestbedLock.Bed.PBS)
class PbsModelsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(60);
    private static final LocalCommandRunner SH = new LocalCommandRunner();
    private static final BatchSettings FIVE_MINUTES = new BatchSettings(Optional.of(Duration.ofMinutes(5)),
            Optional.empty(), Optional.of("debug"), Optional.empty(), List.of());

    @TempDir
    Path tmp;
    private Path writer;
    private final List<String> jobs = new ArrayList<>();
    private final List<String> progress = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void pbsFrontEndIsHere() {
        // Skips when declined (SKIP_SLURM=1) or impossible here (no qsub, not root); fails when it does not come up.
        PbsTestJobs.frontEndUp();
    }

    @BeforeEach
    void copyTheModel() throws Exception {
        writer = tmp.resolve("ssdb-writer.sh");
        try (InputStream in = getClass().getResourceAsStream("/models/ssdb-writer.sh")) {
            Files.write(writer, in.readAllBytes());
        }
        Files.setPosixFilePermissions(writer, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void deleteEverything() {
        PbsTestJobs.deleteJobs(progress, jobs);
        if (!jobs.isEmpty()) {
            assertThat(PbsParsers.qstatText(SH.run(PbsCommands.qstat(Dialect.TORQUE, jobs), CMD).stdout()))
                    .as("jobs of this test still queued or running").allMatch(PbsParsers.Job::finished);
        }
        // Then the Leftovers check: processes by working dir, ports (bus and --ai too) on every address.
    }

    private Experiment experiment() {
        long t0 = System.nanoTime();
        return Experiment.create("pbs-models-it", tmp.resolve("exp"), line -> {
            progress.add(line);
            System.out.printf("  [%6.2f s] %s%n", (System.nanoTime() - t0) / 1e9, line);
        });
    }

    private Orchestrator threeNodes(Experiment exp, int port) {
        return exp.createOrchestrator(OrchestratorSpec.builder().launcher("pbs").nodes(3).instancesPerNode(1)
                .port(leftovers.shardPorts(port, 1))
                .startupTimeout(Duration.ofSeconds(150)).launcherOption("batch", "true")
                .launcherOption("time", "00:10:00").launcherOption("runCommand", "ssh")
                .launcherOption("sshConfig", PbsTestJobs.SSH_CONFIG.toString()).build());
    }

    private Model batchModel(Experiment exp, String name, String key, String value, String exitWith) {
        return exp.createModel(ModelSpec.builder(name, writer.toString()).launcher("pbs").env("KEY", key)
                .env("VALUE", value).env("EXIT_WITH", exitWith).run(RunSettings.builder().batch(FIVE_MINUTES).build())
                .build());
    }

    private String jobOf(Model m) {
        String id = m.launched().orElseThrow().id();
        jobs.add(id);
        return id;
    }

    @Test
    void aBatchModelWritesThroughSsdbWithThePasswordAndAFailingOneIsFailedWithItsExitCode() throws Exception {
        long t0 = System.nanoTime();
        try (Experiment exp = experiment()) {
            Orchestrator db = threeNodes(exp, 15880);
            Model ok = batchModel(exp, "writer", "from-pbs", "42", "0");
            Model bad = batchModel(exp, "failing", "from-failing", "7", "3");
            exp.start(db);
            System.out.printf("orchestrator healthy in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            assertThat(db.plan().auth()).as("auth is on by default").isPresent();

            long t1 = System.nanoTime();
            exp.start(true, ok, bad);
            System.out.printf("2 batch models done in %.2f s%n", (System.nanoTime() - t1) / 1e9);
            String okJob = jobOf(ok);
            jobOf(bad);
            assertThat(ok.status()).as(Files.readString(ok.stderr())).isEqualTo(EntityStatus.COMPLETED);
            assertThat(ok.exitCode()).contains(0);
            assertThat(Files.readString(ok.stdout())).startsWith("ok from-pbs=42 type=Clustered host=");
            assertThat(bad.status()).isEqualTo(EntityStatus.FAILED);
            assertThat(bad.exitCode()).as("the exit code, from the script's exit file").contains(3);
            assertThat(Files.readString(bad.stdout())).startsWith("ok from-failing=7 ");

            Path script = PbsModelScripts.batchPath(ok.plan());
            assertThat(Files.getPosixFilePermissions(script)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(Files.readString(script)).contains("#PBS -l nodes=1:ppn=1", "#PBS -l walltime=00:05:00",
                    "#PBS -q debug", "export SR_DB_TYPE=Clustered", "export SSDB_USER=", "export SSDB_PASSWORD=");
            // The front end has no exit_status: the job is C with nothing more, and the exit file said 0.
            PbsParsers.Job j = PbsParsers.find(PbsParsers.qstatText(SH.run(List.of("qstat", "-f", okJob), CMD)
                    .stdout()), okJob).orElseThrow();
            assertThat(j.finished()).isTrue();
            assertThat(j.exitStatus()).isEmpty();
            // Where it ran, learnt by poll from exec_host once the job ran (before: no node, "-" on the dashboard):
            // in its handle and in the manifest the dashboard and db status read. One of the testbed's n1..n3.
            String node = String.join(",", PbsParsers.execHosts(j.execHost()));
            assertThat(node).matches("n[1-3]");
            assertThat(ok.launched().orElseThrow().handle()).containsEntry(PbsModelLauncher.NODE, node);
            try (Experiment other = Experiment.reconnect(tmp.resolve("exp"))) {
                assertThat(other.models().stream().filter(x -> x.name().equals("writer")).findFirst().orElseThrow()
                        .launched().orElseThrow().handle()).containsEntry(PbsModelLauncher.NODE, node);
            }
            System.out.print(exp.summaryTable());
            exp.stop(db);
        }
    }

    @Test
    void aStoppedBatchModelIsCancelledAndItsJobLeavesTheQueue() throws Exception {
        Path sleeper = tmp.resolve("sleeper.sh");
        Files.writeString(sleeper, "#!/bin/sh\necho started\nexec sleep 300\n");
        Files.setPosixFilePermissions(sleeper, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (Experiment exp = experiment()) {
            Model m = exp.createModel(ModelSpec.builder("sleeper", sleeper.toString()).launcher("pbs")
                    .run(RunSettings.builder().batch(FIVE_MINUTES).build()).build());
            exp.start(m);
            String id = jobOf(m);
            // The handle says RUNNING from the submission on; the node comes with the first poll that sees the job
            // run (exec_host), so wait for the node, not for the status.
            long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (m.launched().orElseThrow().handle().get(PbsModelLauncher.NODE) == null
                    && System.nanoTime() < until) {
                exp.poll();
                Thread.sleep(200);
            }
            assertThat(m.launched().orElseThrow().handle().get(PbsModelLauncher.NODE)).as("its node once it runs")
                    .matches("n[1-3]");
            assertThat(m.status()).isEqualTo(EntityStatus.RUNNING);
            long t0 = System.nanoTime();
            exp.stop(m);
            System.out.printf("batch model stopped in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            assertThat(m.status()).isEqualTo(EntityStatus.CANCELLED);
            PbsParsers.Job j = PbsParsers.find(PbsParsers.qstatText(SH.run(List.of("qstat", "-f", id), CMD)
                    .stdout()), id).orElseThrow();
            assertThat(j.finished()).as("job %s after stop: %s", id, j.describe()).isTrue();
        }
    }
}
