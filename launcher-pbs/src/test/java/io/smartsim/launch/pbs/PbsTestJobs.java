package io.smartsim.launch.pbs;

import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The testbed's PBS front end (Debian's slurm-wlm-torque over the Slurm testbed, testbeds/pbs/up) for the data-safety
 * ITs (and it-ai's AiPbsIT, through this module's test jar): bringing it up, a holder job as a user's
 * {@code qsub -I} would hold nodes, and a job's state.
 */
public final class PbsTestJobs {
    static final Duration CMD = Duration.ofSeconds(60);
    static final LocalCommandRunner SH = new LocalCommandRunner();
    static final Path TESTBED = Path.of("../testbeds/pbs").toAbsolutePath().normalize();
    /** Written by testbeds/pbs/up into its state directory (PBS_TESTBED_STATE, default /var/tmp/smartsim-pbs-testbed). */
    public static final Path SSH_CONFIG = Path.of(System.getenv().getOrDefault("PBS_TESTBED_STATE",
            "/var/tmp/smartsim-pbs-testbed")).resolve("ssh_config");

    private PbsTestJobs() {
    }

    /**
     * Skips when the testbed is declined (SKIP_SLURM=1) or cannot be here (no qsub/sinfo, not root); otherwise brings
     * the front end up (idempotent), failing when it does not come up.
     */
    public static void frontEndUp() {
        io.smartsim.launch.testing.Testbeds.pbs(TESTBED.resolve("up"));
    }

    /** The ids of the batch jobs a start reported in its progress lines ({@code submitted batch job ID (...)}). */
    public static List<String> submitted(List<String> progress) {
        return progress.stream().filter(l -> l.startsWith("submitted batch job ")).map(l -> l.split(" ")[3]).toList();
    }

    /**
     * A test's clean-up, before its Leftovers check: adds to {@code jobs} each batch job {@code progress} reported and
     * it does not hold yet, then deletes them all with one {@code qdel}, whatever the test did.
     */
    public static void deleteJobs(List<String> progress, List<String> jobs) {
        submitted(progress).stream().filter(id -> !jobs.contains(id)).forEach(jobs::add);
        if (!jobs.isEmpty()) {
            SH.run(PbsCommands.qdel(jobs), CMD);
        }
    }

    static Optional<PbsParsers.Job> job(String id) {
        return PbsParsers.find(PbsParsers.qstatText(SH.run(List.of("qstat", "-f", id), CMD).stdout()), id);
    }

    /** A job holding the 3 nodes; running when this returns. Its id goes to {@code owned} as soon as it exists. */
    public static String holder(Path dir, Consumer<String> owned) throws Exception {
        Path script = dir.resolve("holder.sh");
        Files.writeString(script, "#!/bin/bash\n#PBS -l nodes=3:ppn=1\nsleep 900\n");
        CommandResult q = SH.run(PbsCommands.qsub(script, dir.resolve("holder.out")), CMD);
        assertThat(q.ok()).as(q.describe()).isTrue();
        String id = PbsParsers.jobId(q.stdout());
        owned.accept(id);
        long until = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!job(id).map(PbsParsers.Job::running).orElse(false) && System.nanoTime() < until) {
            Thread.sleep(200);
        }
        assertThat(job(id).map(PbsParsers.Job::running).orElse(false)).as("holder job %s running within 120 s (the "
                + "testbed is shared: other tests' jobs may hold the nodes)", id).isTrue();
        return id;
    }

    /** Whether job {@code id} runs (a test's holder job, which must outlive what ran in it). */
    public static boolean holderRunning(String id) {
        return job(id).map(PbsParsers.Job::running).orElse(false);
    }

    /** Until PBS no longer lists {@code id} as unfinished (up to 60 s). */
    static boolean awaitFinished(String id) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (job(id).map(j -> !j.finished()).orElse(false) && System.nanoTime() < until) {
            Thread.sleep(250);
        }
        return job(id).map(PbsParsers.Job::finished).orElse(true);
    }

    /** The batch options of a PBS orchestrator of its own, shards over ssh. */
    static io.smartsim.launch.spec.OrchestratorSpec.Builder batch(io.smartsim.launch.spec.OrchestratorSpec.Builder b) {
        return b.launcher("pbs").startupTimeout(Duration.ofSeconds(150)).launcherOption("batch", "true")
                .launcherOption("time", "00:10:00").launcherOption("runCommand", "ssh")
                .launcherOption("sshConfig", SSH_CONFIG.toString());
    }

    /** In an existing job, shards over ssh. */
    static io.smartsim.launch.spec.OrchestratorSpec.Builder inJob(io.smartsim.launch.spec.OrchestratorSpec.Builder b, String job) {
        return b.launcher("pbs").launcherOption("alloc", job).launcherOption("runCommand", "ssh")
                .launcherOption("sshConfig", SSH_CONFIG.toString());
    }

    /** The batch job's output and each shard's run-command output under an orchestrator's directory, for a failure. */
    static String trail(Path orchestratorDir) throws java.io.IOException {
        StringBuilder out = new StringBuilder();
        if (!java.nio.file.Files.isDirectory(orchestratorDir)) {
            return "(no " + orchestratorDir + ")";
        }
        try (var files = java.nio.file.Files.walk(orchestratorDir)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".out")).sorted().toList()) {
                out.append("\n--- ").append(orchestratorDir.relativize(f)).append(":\n")
                        .append(java.nio.file.Files.readString(f));
            }
        }
        return out.toString();
    }
}
