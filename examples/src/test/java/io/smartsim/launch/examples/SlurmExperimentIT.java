package io.smartsim.launch.examples;

import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * examples/slurm/experiment.sbatch on the Slurm testbed (testbeds/slurm/up): one batch job that starts a 3-shard
 * cluster in its own allocation with the CLI jar, runs the example model as another srun step, and stops the
 * database, also when the model fails. Needs the cli jar and this module's classes, both built before failsafe.
 */
@TestbedLock(TestbedLock.Bed.SLURM)
class SlurmExperimentIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Path HOME = Path.of(System.getProperty("smartsim.launch.home", "..")).toAbsolutePath()
            .normalize();
    private static final Path SCRIPT = HOME.resolve("examples/slurm/experiment.sbatch");
    private static final long JOB_TIMEOUT_S = 180;

    @TempDir
    Path tmp;
    private final List<String> jobs = new ArrayList<>();

    private record Run(int exit, String out) {
    }

    @BeforeAll
    static void testbedAndBuild() throws Exception {
        io.smartsim.launch.testing.Testbeds.slurm();
        Path jar = HOME.resolve("cli/target/smartsim-launch.jar");
        assertThat(jar).as("the CLI jar (the reactor builds cli before examples; or run mvn -pl cli package)")
                .isRegularFile();
        assertThat(HOME.resolve("examples/target/classpath.txt")).isRegularFile();
    }

    @AfterEach
    void cancelWhatIsLeft() throws Exception {
        if (!jobs.isEmpty()) {
            List<String> argv = new ArrayList<>(List.of("scancel"));
            argv.addAll(jobs);
            run(argv, 30);
        }
        // Then the Leftovers check: processes by working dir, ports (bus and --ai too) on every node's address.
    }

    private static Run run(List<String> argv, long timeoutSeconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        try {
            boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(done).as(argv + " finished within " + timeoutSeconds + " s").isTrue();
            return new Run(p.exitValue(), out);
        } finally {
            p.destroyForcibly();
        }
    }

    /**
     * Submits the script and waits for the job to end; returns its exit and its output. Waited for on the job's state
     * ({@code scontrol show job}, every 200 ms), not with {@code sbatch --wait}: that polls after 2 s, then 8 s more,
     * then 32 s, so a job of 5-6 s took 10 s, and one of 11 s would take 42.
     */
    private Run submit(int port, String... extraEnv) throws Exception {
        Path exp = tmp.resolve("exp");
        leftovers.shardPorts(port, 3);
        StringBuilder export = new StringBuilder("--export=ALL,SMARTSIM_LAUNCH_HOME=" + HOME + ",EXP_DIR=" + exp
                + ",DB_PORT=" + port);
        for (String e : extraEnv) {
            export.append(',').append(e);
        }
        Path out = tmp.resolve("slurm-%j.out");
        long t0 = System.nanoTime();
        // --parsable prints the id at submission.
        Run submitted = run(List.of("sbatch", "--parsable", "--chdir=" + tmp, "--output=" + out, export.toString(),
                SCRIPT.toString()), 30);
        String id = submitted.out().strip();
        assertThat(submitted.exit()).as(id).isZero();
        assertThat(id).as("sbatch --parsable printed a job id").matches("[0-9]+(;.*)?");
        id = id.split(";")[0];
        jobs.add(id);
        int exit = awaitEnd(id, t0 + TimeUnit.SECONDS.toNanos(JOB_TIMEOUT_S));
        System.out.printf("experiment.sbatch job %s (DB_PORT=%d) took %.2f s%n", id, port,
                (System.nanoTime() - t0) / 1e9);
        String text = Files.readString(tmp.resolve("slurm-" + id + ".out"));
        System.out.print(text);
        assertThat(squeue(id)).as("squeue lists none of job " + id + "'s steps after it ended").isEmpty();
        assertThat(redisServersOf(exp)).as("redis-server processes of this experiment left behind").isEmpty();
        assertThat(Processes.leftUnder(tmp, Processes.GRACE)).as("processes of job " + id + " left after it ended")
                .isEmpty();
        return new Run(exit, text);
    }

    /** States of a job that has ended (and is no longer COMPLETING: its steps and epilog are done). */
    private static final Pattern ENDED = Pattern.compile(
            "COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE");

    /**
     * Waits until job {@code id} has ended and returns its exit code as {@code sbatch --wait} would (the script's
     * exit status; 128 + the signal when a signal ended it).
     */
    private static int awaitEnd(String id, long until) throws Exception {
        while (true) {
            String job = run(List.of("scontrol", "-o", "show", "job", id), 30).out();
            Matcher state = Pattern.compile("\\bJobState=(\\S+)").matcher(job);
            Matcher exit = Pattern.compile("\\bExitCode=(\\d+):(\\d+)").matcher(job);
            if (state.find() && ENDED.matcher(state.group(1)).matches() && exit.find()) {
                int signal = Integer.parseInt(exit.group(2));
                return signal == 0 ? Integer.parseInt(exit.group(1)) : 128 + signal;
            }
            assertThat(System.nanoTime() - until < 0).as("job %s ended within %d s; scontrol: %s", id, JOB_TIMEOUT_S,
                    job.strip()).isTrue();
            Thread.sleep(200);
        }
    }

    private static List<String> squeue(String job) throws Exception {
        Run r = run(List.of("squeue", "-h", "-s", "-j", job, "-o", "%i"), 30);
        return r.out().lines().filter(l -> !l.isBlank() && !l.contains("Invalid job id")).toList();
    }

    private static List<Processes.Proc> redisServersOf(Path exp) {
        return Processes.serversUnder(exp); // by working dir: Redis's title no longer names its config
    }

    @Test
    void theModelWritesAndReadsTenThousandKeysThroughTheOrchestratorOfItsOwnBatchJob() throws Exception {
        Run r = submit(14710);

        assertThat(r.exit()).as(r.out()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).contains("SSDB=127.0.1.1:14710,127.0.1.2:14710,127.0.1.3:14710",
                "experiment: SSDB=127.0.1.1:14710,127.0.1.2:14710,127.0.1.3:14710 SR_DB_TYPE=Clustered",
                "experiment: model exited with 0", "experiment: stopping the database");
        assertThat(lines).anyMatch(l -> l.matches("OK 10000 keys written and read back over 3 shards in \\d+\\.\\d\\d s"));
        // Each shard was a step of this job, on its own node, found through SLURM_JOB_ID (no --alloc given).
        assertThat(lines).anyMatch(l -> l.matches("\\[ *[0-9.]+s] started 3 step\\(s\\) in allocation [0-9]+"));
        assertThat(lines).anyMatch(l -> l.startsWith("stopped 'db' of experiment 'exp'")
                && l.endsWith("3 shard(s), no process left"));
    }

    /** DB_TLS=1: the shards speak TLS only, so the model gets in only by trusting SSDB_TLS_CA from db env. */
    @Test
    void withTlsTheModelTrustsTheCaFromDbEnv() throws Exception {
        Run r = submit(14700, "DB_TLS=1");

        assertThat(r.exit()).as(r.out()).isZero();
        Path ca = tmp.resolve("exp").resolve("db").resolve("tls").resolve("ca.crt");
        assertThat(r.out().lines().toList()).contains("experiment: SSDB=127.0.1.1:14700,127.0.1.2:14700,127.0.1.3:14700"
                + " SR_DB_TYPE=Clustered SSDB_TLS_CA=" + ca, "experiment: model exited with 0");
        assertThat(r.out().lines()).anyMatch(l -> l.matches("OK 10000 keys written and read back over 3 shards in \\d+\\.\\d\\d s"));
        assertThat(r.out().lines()).anyMatch(l -> l.endsWith("3 shard(s), no process left"));
    }

    @Test
    void aFailedModelStillStopsTheDatabaseAndTheJobFailsWithItsExitCode() throws Exception {
        Run r = submit(14720, "MODEL_KEYS=-1");

        assertThat(r.exit()).as(r.out()).isEqualTo(2); // the model's usage error, passed on by the script
        assertThat(r.out().lines().toList()).contains("experiment: model exited with 2",
                "experiment: stopping the database");
        assertThat(r.out().lines()).anyMatch(l -> l.endsWith("3 shard(s), no process left"));
    }
}
