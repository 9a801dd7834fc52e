package io.smartsim.launch.slurm;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Every argv exactly: these are what a user would type. */
class SlurmCommandsTest {

    @Test
    void queries() {
        assertThat(SlurmCommands.squeueJobs(List.of("25"))).containsExactly("squeue", "-h", "-j", "25", "-o",
                "%i|%j|%T|%r|%N");
        assertThat(SlurmCommands.squeueJobsAnyState(List.of("25", "28"))).containsExactly("squeue", "-h", "-t", "all",
                "-j", "25,28", "-o", "%i|%j|%T|%r|%N");
        assertThat(SlurmCommands.squeueSteps(List.of("34", "35"))).containsExactly("squeue", "-h", "-s", "-j",
                "34,35", "-o", "%i|%j|%N");
        assertThat(SlurmCommands.sacct(List.of("25", "28"))).containsExactly("sacct", "-n", "-P", "-j", "25,28", "-o",
                "JobID,JobName,State,ExitCode,NodeList");
        assertThat(SlurmCommands.hostnames("n[1-3]")).containsExactly("scontrol", "show", "hostnames", "n[1-3]");
    }

    @Test
    void submitAndCancel() {
        assertThat(SlurmCommands.sbatch(Path.of("/exp/db/db.sbatch"), Path.of("/exp/db"), Path.of("/exp/db/db-%j.out")))
                .containsExactly("sbatch", "--parsable", "--chdir=/exp/db", "--output=/exp/db/db-%j.out",
                        "/exp/db/db.sbatch");
        assertThat(SlurmCommands.scancel(List.of("34.0", "34.2"))).containsExactly("scancel", "34.0", "34.2");
    }

    @Test
    void srunInAnAllocation() {
        assertThat(SlurmCommands.srunShard(Optional.of("34"), "n2", "db_1", Path.of("/exp/db/db_1"),
                Path.of("/exp/db/db_1/db_1.slurm.sh"), 1)).containsExactly("srun", "--jobid=34", "--nodes=1", "--ntasks=1",
                "--ntasks-per-node=1", "--overlap", "--nodelist=n2", "--job-name=db_1", "--chdir=/exp/db/db_1", "bash",
                "/exp/db/db_1/db_1.slurm.sh");
    }

    @Test
    void srunInsideTheJobNeedsNoJobId() {
        assertThat(SlurmCommands.srunShard(Optional.empty(), "n1", "db_0", Path.of("/w"), Path.of("/w/s.sh"), 1))
                .doesNotContain("--jobid=34").first().isEqualTo("srun");
    }

    @Test
    void cpusPerShardAboveOneAsksTheStepForThatManyCpus() {
        assertThat(SlurmCommands.srunShard(Optional.empty(), "n1", "db_0", Path.of("/w"), Path.of("/w/s.sh"), 4))
                .containsExactly("srun", "--nodes=1", "--ntasks=1", "--ntasks-per-node=1", "--cpus-per-task=4",
                        "--overlap", "--nodelist=n1", "--job-name=db_0", "--chdir=/w", "bash", "/w/s.sh");
        assertThat(SlurmCommands.srunShard(Optional.empty(), "n1", "db_0", Path.of("/w"), Path.of("/w/s.sh"), 1))
                .noneMatch(a -> a.startsWith("--cpus-per-task"));
    }
    /**
     * srunAlive run for real against processes of known command lines: this shard's srun (here a sleeping bash whose
     * argv carries the same arguments), another shard's, and a pid that has exited.
     */
    @Test
    void srunAliveTellsThisShardsSrunFromAnotherProcessAndFromAnExitedPid() throws Exception {
        Process srun = new ProcessBuilder("bash", "-c", "sleep 60; :", "srun", "--jobid=7", "--nodes=1",
                "--job-name=db_1", "--chdir=/exp/db_1").start();
        try {
            assertThat(exit(SlurmCommands.srunAlive(srun.pid(), "7", "db_1"))).isZero();
            assertThat(exit(SlurmCommands.srunAlive(srun.pid(), "7", "db_10"))).isEqualTo(1);
            assertThat(exit(SlurmCommands.srunAlive(srun.pid(), "8", "db_1"))).isEqualTo(1);
        } finally {
            srun.destroyForcibly();
            assertThat(srun.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }
        assertThat(exit(SlurmCommands.srunAlive(srun.pid(), "7", "db_1"))).isEqualTo(1);
    }

    /** srunPids run for real: it finds the srun by job, step name and work directory, and never itself. */
    @Test
    void srunPidsFindsTheShardsSrunByItsCommandLineAndNothingElse() throws Exception {
        Process srun = new ProcessBuilder("bash", "-c", "sleep 60; :", "srun", "--jobid=7", "--nodes=1",
                "--job-name=db_1", "--chdir=/exp/db/db_1", "bash", "/exp/db/db_1/db_1.slurm.sh").start();
        try {
            assertThat(out(SlurmCommands.srunPids("7", "db_1", Path.of("/exp/db/db_1"))).lines())
                    .containsExactly(Long.toString(srun.pid()));
            assertThat(out(SlurmCommands.srunPids("7", "db_1", Path.of("/exp/db")))).as("another work dir").isEmpty();
            assertThat(out(SlurmCommands.srunPids("7", "db_", Path.of("/exp/db/db_1")))).as("another step").isEmpty();
            assertThat(out(SlurmCommands.srunPids("77", "db_1", Path.of("/exp/db/db_1")))).as("another job").isEmpty();
        } finally {
            srun.destroyForcibly();
            assertThat(srun.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }
        assertThat(out(SlurmCommands.srunPids("7", "db_1", Path.of("/exp/db/db_1")))).as("once it has exited").isEmpty();
    }

    private static String out(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).as("%s finished", argv).isTrue();
        assertThat(p.exitValue()).as("%s exit code", argv).isZero();
        return out;
    }

    private static int exit(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        assertThat(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).as("%s finished", argv).isTrue();
        return p.exitValue();
    }
}
