package io.smartsim.launch.slurm;

import io.smartsim.launch.Ensemble;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Model;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.BatchSettings;
import io.smartsim.launch.spec.EnsembleSpec;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spec.RunSettings;
import io.smartsim.launch.spec.Strategy;
import io.smartsim.launch.exec.CommandResult;
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
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Models run by the Slurm model launcher on the real testbed (testbeds/slurm/up: n1-n3 at 127.0.1.1-3): an
 * orchestrator on 3 nodes and a model as an srun step of the same allocation that writes and reads through
 * {@code SSDB}, the same model as its own batch job, ensemble members as steps, exit codes, and stop.
 */
@TestbedLock(TestbedLock.Bed.SLURM)
class SlurmModelsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(30);
    private static final LocalCommandRunner SH = new LocalCommandRunner();

    @TempDir
    Path tmp;
    private Path writer;
    private final List<String> jobs = new ArrayList<>();

    @BeforeAll
    static void slurmIsHere() {
        HolderJobs.assumeSlurmIsUp();
    }

    @BeforeEach
    void copyTheModel() throws Exception {
        writer = tmp.resolve("ssdb-writer.sh");
        try (InputStream in = getClass().getResourceAsStream("/models/slurm/ssdb-writer.sh")) {
            Files.write(writer, in.readAllBytes());
        }
        Files.setPosixFilePermissions(writer, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void cancelEverything() {
        // The holder first: whatever the test did, nothing of it may keep running.
        List<String> mine = new ArrayList<>(jobs);
        mine.addAll(batchJobsOf(tmp));
        if (!mine.isEmpty()) {
            SH.run(SlurmCommands.scancel(mine), CMD);
        }
        assertThat(batchJobsOf(tmp)).as("batch jobs of this test left in the queue").isEmpty();
        // Then the Leftovers check: redis-server, srun and model processes alike, by working dir or a path of this
        // test in the command line; the shard ports on every node's address.
    }

    /** Jobs whose working directory is under this test's directory (the model batch jobs), still queued or running. */
    private static List<String> batchJobsOf(Path dir) {
        return HolderJobs.jobsUnder(dir);
    }

    private static CommandResult sh(String... argv) {
        return SH.run(List.of(argv), CMD);
    }

    /** A job holding 3 nodes, as a user's salloc would; returns once it runs. */
    private String holder() throws InterruptedException {
        return HolderJobs.hold3("models-it-holder", jobs::add);
    }

    private Experiment experiment() {
        long t0 = System.nanoTime();
        return Experiment.create("models-it", tmp.resolve("exp"), line ->
                System.out.printf("  [%6.2f s] %s%n", (System.nanoTime() - t0) / 1e9, line));
    }

    /** The node a writer model printed ({@code node=$SLURMD_NODENAME}): one of the testbed's n1..n3. */
    private static String printedNode(Model m) throws java.io.IOException {
        java.util.regex.Matcher x = java.util.regex.Pattern.compile(" node=(n[1-3]) ").matcher(
                Files.readString(m.stdout()));
        assertThat(x.find()).as("node=nX in %s", m.stdout()).isTrue();
        return x.group(1);
    }

    private static Set<String> steps(String job) {
        return SlurmParsers.steps(SH.run(SlurmCommands.squeueSteps(List.of(job)), CMD).stdout()).stream()
                .map(SlurmParsers.Step::id).collect(Collectors.toSet());
    }

    @Test
    void aModelWritesThroughSsdbAsAStepOfTheOrchestratorsAllocationThenAsItsOwnBatchJob() throws Exception {
        String job = holder();
        long t0 = System.nanoTime();
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(11850, 1)).launcherOption("alloc", job).build());
            Model step = exp.createModel(ModelSpec.builder("stepwriter", writer.toString()).launcher("slurm")
                    .env("KEY", "from-step").env("VALUE", "42")
                    .run(RunSettings.builder().alloc(job).build()).build());
            Model batch = exp.createModel(ModelSpec.builder("batchwriter", writer.toString()).launcher("slurm")
                    .env("KEY", "from-batch").env("VALUE", "43")
                    .run(RunSettings.builder().batch(new BatchSettings(Optional.of(Duration.ofMinutes(5)),
                            Optional.empty(), Optional.of("debug"), Optional.empty(), List.of())).build()).build());
            Ensemble sweep = exp.createEnsemble(EnsembleSpec.builder("sweep", writer.toString()).launcher("slurm")
                    .env("KEY", "sweep:;i;").env("VALUE", ";i;").param("i", "a", "b", "c").strategy(Strategy.STEP)
                    .run(RunSettings.builder().alloc(job).build()).build());

            exp.start(db);
            System.out.printf("orchestrator healthy in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            long t1 = System.nanoTime();
            exp.start(true, step);
            System.out.printf("step model done in %.2f s%n", (System.nanoTime() - t1) / 1e9);
            assertThat(step.status()).as(Files.readString(step.stderr())).isEqualTo(EntityStatus.COMPLETED);
            assertThat(step.exitCode()).contains(0);
            assertThat(step.launched().orElseThrow().id()).matches(job + "\\.[0-9]+");
            assertThat(Files.readString(step.stdout())).startsWith("ok from-step=42 type=Clustered node=n")
                    .contains("step=" + job + ".");
            // where it ran, as recorded for the dashboard: the node the step found at start lists, the one it printed
            assertThat(step.launched().orElseThrow().handle()).containsEntry(SlurmModelLauncher.NODE,
                    printedNode(step));

            long t2 = System.nanoTime();
            exp.start(true, batch);
            System.out.printf("batch model done in %.2f s%n", (System.nanoTime() - t2) / 1e9);
            assertThat(batch.status()).as(Files.readString(batch.stderr())).isEqualTo(EntityStatus.COMPLETED);
            String batchJob = batch.launched().orElseThrow().id();
            assertThat(batchJob).matches("[0-9]+").isNotEqualTo(job);
            assertThat(Files.readString(batch.stdout())).startsWith("ok from-batch=43 type=Clustered node=n")
                    .contains("step=" + batchJob + ".0");
            // a batch job's node, known once it ran (squeue %N), in its handle and in the manifest the dashboard reads
            assertThat(batch.launched().orElseThrow().handle()).containsEntry(SlurmModelLauncher.NODE,
                    printedNode(batch));
            try (Experiment other = Experiment.reconnect(tmp.resolve("exp"))) {
                assertThat(other.models().stream().filter(m -> m.name().equals("batchwriter")).findFirst()
                        .orElseThrow().launched().orElseThrow().handle())
                        .containsEntry(SlurmModelLauncher.NODE, printedNode(batch));
            }
            assertThat(Files.readString(SlurmModelScripts.batchPath(batch.plan()))).contains("#SBATCH --time=00:05:00",
                    "#SBATCH --partition=debug", "export SR_DB_TYPE=Clustered");

            long t3 = System.nanoTime();
            exp.start(true, sweep);
            System.out.printf("3 ensemble members done in %.2f s%n", (System.nanoTime() - t3) / 1e9);
            for (Model m : sweep.members()) {
                assertThat(m.status()).as(m.name()).isEqualTo(EntityStatus.COMPLETED);
                assertThat(Files.readString(m.stdout())).startsWith("ok sweep:" + m.plan().params().get("i") + "="
                        + m.plan().params().get("i") + " ");
            }
            assertThat(sweep.members().stream().map(m -> m.launched().orElseThrow().id()).distinct()).hasSize(3);
            System.out.print(exp.summaryTable());
            exp.stop(db);
        }
        assertThat(steps(job)).containsOnly(job + ".batch");
    }

    @Test
    void anotherProcessStopsAStepAndABatchModelThroughTheManifest() throws Exception {
        String job = holder();
        Experiment exp = experiment();
        Model step = exp.createModel(ModelSpec.builder("sleeps", "sleep").args("600").launcher("slurm")
                .run(RunSettings.builder().alloc(job).build()).build());
        Model batch = exp.createModel(ModelSpec.builder("batchsleeps", "sleep").args("600").launcher("slurm")
                .run(RunSettings.builder().batch(BatchSettings.defaults()).build()).build());
        exp.start(step, batch);
        String stepId = step.launched().orElseThrow().id();
        try (Experiment other = Experiment.reconnect(tmp.resolve("exp"))) {
            List<Model> ms = other.models();
            assertThat(ms).extracting(m -> m.launched().orElseThrow().id()).containsExactly(stepId,
                    batch.launched().orElseThrow().id());
            other.stop(ms.toArray(Model[]::new));
            assertThat(ms).extracting(m -> m.status().name()).containsExactly("CANCELLED", "CANCELLED");
        }
        assertThat(steps(job)).containsOnly(job + ".batch");
        assertThat(exp.waitFor(Duration.ofSeconds(30), step, batch)).isTrue();
        assertThat(step.status()).isEqualTo(EntityStatus.FAILED); // its srun ended by a scancel it did not send
        assertThat(batch.status()).isEqualTo(EntityStatus.CANCELLED);
        exp.close();
    }

    @Test
    void exitCodesAndStopEndAsFailedAndCancelledWithNothingLeft() throws Exception {
        String job = holder();
        try (Experiment exp = experiment()) {
            Model fails = exp.createModel(ModelSpec.builder("fails", "sh").args("-c", "echo bad >&2; exit 5")
                    .launcher("slurm").run(RunSettings.builder().alloc(job).build()).build());
            Model sleeps = exp.createModel(ModelSpec.builder("sleeps", "sleep").args("600").launcher("slurm")
                    .run(RunSettings.builder().alloc(job).nodes(2).tasksPerNode(1).build()).build());
            Model batchFails = exp.createModel(ModelSpec.builder("batchfails", "sh").args("-c", "exit 7")
                    .launcher("slurm").run(RunSettings.builder().batch(BatchSettings.defaults()).build()).build());
            Model batchSleeps = exp.createModel(ModelSpec.builder("batchsleeps", "sleep").args("600")
                    .launcher("slurm").run(RunSettings.builder().batch(BatchSettings.defaults()).build()).build());
            exp.start(fails, sleeps, batchFails, batchSleeps);
            assertThat(exp.waitFor(Duration.ofSeconds(60), fails, batchFails)).isTrue();
            assertThat(fails.status()).isEqualTo(EntityStatus.FAILED);
            assertThat(fails.exitCode()).contains(5);
            assertThat(Files.readString(fails.stderr())).contains("bad");
            assertThat(batchFails.status()).isEqualTo(EntityStatus.FAILED);
            assertThat(batchFails.exitCode()).contains(7);

            // Another process sees both models in the manifest, polls them through Slurm, and could stop them.
            try (Experiment other = Experiment.reconnect(tmp.resolve("exp"))) {
                assertThat(other.models()).extracting(Model::name).containsExactly("fails", "sleeps", "batchfails",
                        "batchsleeps");
                other.poll();
                assertThat(other.models()).extracting(m -> m.status().name()).containsExactly("FAILED", "RUNNING",
                        "FAILED", "RUNNING");
                assertThat(other.models().get(2).exitCode()).contains(7);
            }
            // Where they run: the 2-node step in Slurm's compressed form, found at start; the running batch job's
            // node learnt by the other process's poll (squeue %N) and recorded in the manifest. Before: no node.
            assertThat(sleeps.launched().orElseThrow().handle().get(SlurmModelLauncher.NODE))
                    .matches("n\\[[1-3][-,][1-3]\\]");
            try (Experiment other = Experiment.reconnect(tmp.resolve("exp"))) {
                assertThat(other.models().get(3).name()).isEqualTo("batchsleeps");
                assertThat(other.models().get(3).launched().orElseThrow().handle().get(SlurmModelLauncher.NODE))
                        .matches("n[1-3]");
            }
            String sleepStep = sleeps.launched().orElseThrow().id();
            assertThat(steps(job)).contains(sleepStep);
            assertThat(exp.finished(sleeps)).isFalse();
            String sleepJob = batchSleeps.launched().orElseThrow().id();
            long t0 = System.nanoTime();
            exp.stop(sleeps, batchSleeps);
            System.out.printf("2 models stopped in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            assertThat(sleeps.status()).isEqualTo(EntityStatus.CANCELLED);
            assertThat(batchSleeps.status()).isEqualTo(EntityStatus.CANCELLED);
            assertThat(steps(job)).containsOnly(job + ".batch");
            try (Experiment other = Experiment.reconnect(tmp.resolve("exp"))) {
                assertThat(other.models()).extracting(m -> m.status().name()).containsExactly("FAILED", "CANCELLED",
                        "FAILED", "CANCELLED");
            }
            assertThat(SlurmParsers.jobs(sh("squeue", "-h", "-j", sleepJob, "-o", SlurmCommands.JOB_FORMAT).stdout()))
                    .allSatisfy(j -> assertThat(j.finished()).isTrue());
            System.out.print(exp.summaryTable());
        }
    }
}
