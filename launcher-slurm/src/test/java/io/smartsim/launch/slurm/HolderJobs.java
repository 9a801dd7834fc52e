package io.smartsim.launch.slurm;

import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/** The Slurm testbed for tests: whether it is up, and allocations to launch into (3 nodes held, as salloc would). */
final class HolderJobs {
    private static final LocalCommandRunner SH = new LocalCommandRunner();
    private static final Duration CMD = Duration.ofSeconds(60);

    private HolderJobs() {
    }

    /**
     * Skips the calling test class when the Slurm testbed is declined (SKIP_SLURM=1) or not installed; fails it when
     * Slurm is installed but does not answer ({@code testbeds/slurm/up} brings the testbed up).
     */
    static void assumeSlurmIsUp() {
        io.smartsim.launch.testing.Testbeds.slurm();
    }

    /**
     * Submits a 3-node job named {@code name} that sleeps, hands its id to {@code submitted} at once (so the test
     * cancels it whatever happens next), and returns the id once the job runs.
     */
    static String hold3(String name, Consumer<String> submitted) throws InterruptedException {
        return hold(name, List.of("-N3"), submitted);
    }

    /**
     * As {@link #hold3}, with {@code shape} as the job's size ({@code -N1 -c2}: both CPUs of one node, for a step of
     * two tasks there).
     */
    static String hold(String name, List<String> shape, Consumer<String> submitted) throws InterruptedException {
        List<String> argv = new java.util.ArrayList<>(List.of("sbatch", "--parsable"));
        argv.addAll(shape);
        argv.addAll(List.of("-J", name, "--output=/dev/null", "--wrap", "sleep 600"));
        CommandResult r = SH.run(argv, CMD);
        assertThat(r.ok()).as(r.describe()).isTrue();
        String id = SlurmParsers.parsableJobId(r.stdout());
        submitted.accept(id);
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < until) {
            List<SlurmParsers.Job> j = SlurmParsers.jobs(SH.run(SlurmCommands.squeueJobs(List.of(id)), CMD).stdout());
            if (!j.isEmpty() && j.get(0).running()) {
                return id;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("holder job " + id + " did not start running within 30 s");
    }

    /** Jobs whose working directory is under {@code dir} (a test's model batch jobs), still queued or running. */
    static List<String> jobsUnder(java.nio.file.Path dir) {
        return SH.run(List.of("squeue", "-h", "-o", "%i|%Z|%T"), CMD).stdout().lines().map(l -> l.split("\\|"))
                .filter(f -> f.length == 3 && f[1].startsWith(dir.toString())).map(f -> f[0]).toList();
    }

    /** Whether job {@code id} has ended for good (or left squeue) within 30 s. */
    static boolean gone(String id) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < until) {
            List<SlurmParsers.Job> j = SlurmParsers.jobs(SH.run(SlurmCommands.squeueJobs(List.of(id)), CMD).stdout());
            if (j.isEmpty() || j.get(0).finished()) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }
}
