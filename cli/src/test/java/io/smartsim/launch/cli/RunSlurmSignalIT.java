package io.smartsim.launch.cli;

import io.smartsim.launch.script.Shell;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The shaded jar's {@code run} on the Slurm testbed (testbeds/slurm/up), interrupted: an orchestrator as 3 steps of
 * an allocation, a model and two ensemble members as steps of the same allocation, and a model as its own batch job.
 * SIGINT, while the models run or while the orchestrator is still starting, leaves no step, job, srun or server of
 * the run behind; the allocation itself is the user's and keeps running. And issue 7 item 5 on Slurm: {@code db
 * start} killed with SIGKILL mid-start (it can clean nothing up itself), then {@code db cleanup} leaves nothing.
 */
@TestbedLock(TestbedLock.Bed.SLURM)
class RunSlurmSignalIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path tmp;

    private String holder;
    private int port;
    private int startPort;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Files.isRegularFile(JarRunner.JAR), "run through 'mvn verify': needs " + JarRunner.JAR);
        io.smartsim.launch.testing.Testbeds.slurm();
        Sh r = sh("sbatch", "--parsable", "-N3", "-J", "run-signal-it-holder", "--output=/dev/null", "--wrap",
                "sleep 600");
        assertThat(r.exit).as(r.err).isZero();
        holder = r.out.strip().split(";")[0];
        await(() -> sh("squeue", "-h", "-j", holder, "-o", "%T").out.strip().equals("RUNNING"), 30, "holder runs");
        // From Processes.freeBase, reserved across test JVMs: 21700-21799 (and 19700-19799 for db start) lay in the
        // bus ports of every other module's freeBase (20000-21767) and in DbResumeLayoutIT's range (19000-19799).
        port = leftovers.freeBase(1);
        startPort = leftovers.freeBase(1); // db start's
        Files.writeString(tmp.resolve("experiment.yaml"), "name: slurmsignals\n"
                + "orchestrators:\n  - { id: db, launcher: slurm, nodes: 3, instancesPerNode: 1, port: " + port
                + ", launcherOptions: { alloc: \"" + holder + "\" } }\n"
                + "models:\n"
                + "  - { name: sim, launcher: slurm, exe: sleep, args: [\"600\"], run: { alloc: \"" + holder + "\" } }\n"
                + "  - { name: batchsim, launcher: slurm, exe: sleep, args: [\"600\"], run: { batch: { time: \"00:10:00\" } } }\n"
                + "ensembles:\n  - { name: sweep, launcher: slurm, exe: sleep, args: [\";t;\"], params: { t: [\"600\", \"601\"] },"
                + " strategy: step, run: { alloc: \"" + holder + "\" } }\n");
    }

    @AfterEach
    void cleanUp() throws Exception {
        List<String> jobs = new ArrayList<>(jobsOfThisRun());
        if (holder != null) {
            jobs.add(holder);
        }
        if (!jobs.isEmpty()) {
            List<String> argv = new ArrayList<>(List.of("scancel"));
            argv.addAll(jobs);
            sh(argv.toArray(String[]::new));
        }
        // Then the Leftovers check: processes by working dir, ports (bus and --ai too) on every node's address.
    }

    @Test
    void sigintWhileModelsRunCancelsTheirStepsTheBatchJobAndTheOrchestrator() throws Exception {
        Process run = start();
        await(() -> stepNames().containsAll(List.of("db_0", "db_1", "db_2", "sim", "sweep_0", "sweep_1"))
                && jobsOfThisRun().size() == 1, 90, "every step runs and the batch model is submitted");
        // The batch model may still be pending (the testbed is shared): cancelled just the same.
        interruptAndCheck(run, "stopping 4 model(s): sim, batchsim, sweep_0, sweep_1");
    }

    @Test
    void sigintWhileTheOrchestratorStartsCancelsItsSteps() throws Exception {
        Process run = start();
        await(() -> !stepNames().isEmpty(), 60, "the first shard step exists");
        interruptAndCheck(run, null);
    }

    @Test
    void dbStartKilledWithSigkillInTheAllocationThenDbCleanupLeavesNoStepSrunOrServer() throws Exception {
        Process start = dbStart("--alloc", holder);
        await(() -> stepNames().size() == 3, 60, "the three shard steps exist");
        start.destroyForcibly(); // SIGKILL: no shutdown hook runs
        assertThat(start.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(stepNames()).as("the steps outlive the killed launcher").hasSize(3);
        cleanupLeavesNothing();
    }

    /**
     * The moment a full run once hit by chance (1 run in 4): the kill lands just after {@code db start} spawned a
     * shard's srun, before it wrote anything more. Here a shim in front of the real {@code srun} (PATH) SIGKILLs its
     * parent, the launching JVM, as it starts for shard 2, then becomes the real srun, which creates its step in the
     * allocation. Before the fix the manifest named only shards 0 and 1, and cleanup reported "2 of 2 shard(s)
     * stopped, 0 left" with shard 2's step and srun still running.
     */
    @Test
    void dbStartKilledWithSigkillAsItSpawnsAShardsSrunThenDbCleanupEndsThatStepToo() throws Exception {
        Path bin = srunShim("kill -KILL \"$PPID\"");
        Process start = dbStart(Optional.of(bin), "--alloc", holder);
        assertThat(start.waitFor(60, TimeUnit.SECONDS)).as("db start killed by the srun shim").isTrue();
        assertThat(start.exitValue()).as(Files.readString(tmp.resolve("start.err"))).isEqualTo(128 + 9);
        // The srun of shard 2 outlives the JVM that spawned it and creates its step.
        await(() -> stepNames().size() == 3, 60, "the three shard steps exist");
        cleanupLeavesNothing();
    }

    /**
     * As above, and shard 2's srun is slower than the cleanup to ask Slurm for its step (a busy slurmctld): the shim
     * waits for the test's go-ahead, given only once {@code db cleanup} has answered, before it becomes the real srun.
     * The JVM died before recording the srun's pid, so the cleanup finds that srun by its command line (job, step
     * name, work directory) and ends it. Before, the shard counted as gone ("2 of 3 shard(s) stopped, 0 left") and
     * its srun went on to create a step after the cleanup.
     */
    @Test
    void dbStartKilledWithSigkillBeforeAShardsSrunHasAStepThenDbCleanupEndsThatSrun() throws Exception {
        Path go = tmp.resolve("go");
        String goFile = Shell.quote(go.toString());
        Path bin = srunShim("kill -KILL \"$PPID\"; i=0; while [ ! -e " + goFile + " ] && [ $i -lt 1200 ]; do sleep 0.1; "
                + "i=$((i + 1)); done; [ -e " + goFile + " ] || exit 1"); // 2 minutes at most without the go-ahead
        Process start = dbStart(Optional.of(bin), "--alloc", holder);
        assertThat(start.waitFor(60, TimeUnit.SECONDS)).as("db start killed by the srun shim").isTrue();
        assertThat(start.exitValue()).as(Files.readString(tmp.resolve("start.err"))).isEqualTo(128 + 9);
        await(() -> stepNames().size() == 2, 60, "the steps of shards 0 and 1 exist");
        assertThat(sh("pgrep", "-af", "--", "--jobid=" + holder + " ").out.lines()
                .filter(l -> l.contains(" --job-name=orchestrator_2 "))).as("shard 2's srun, waiting").hasSize(1);
        cleanupLeavesNothing(() -> Files.createFile(go));
    }

    @Test
    void dbStartKilledWithSigkillAfterSubmittingItsBatchJobThenDbCleanupCancelsTheJob() throws Exception {
        Process start = dbStart("--batch", "--time", "00:10:00");
        await(() -> jobsOfThisRun().size() == 1, 60, "the orchestrator's batch job is submitted");
        String job = jobsOfThisRun().get(0);
        // Pending or starting: the manifest names the job from its submission on (it is written just after sbatch
        // returns; a kill in between leaves a job nothing records, which no cleanup can find).
        // Every shard: the launcher records them one by one after sbatch returns, and a kill after the first only
        // leaves 1 of 3 recorded (seen in both full runs beside other modules; cleanup then says "1 of 1").
        await(() -> manifestNames(job) == 3, 60, "the manifest records batch job " + job + " for all 3 shards");
        start.destroyForcibly();
        assertThat(start.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(jobsOfThisRun()).as("the job outlives the killed launcher").hasSize(1);
        cleanupLeavesNothing();
    }

    private Process dbStart(String... mode) throws IOException {
        return dbStart(Optional.empty(), mode);
    }

    /** {@code db start} of 3 shards, with {@code binFirst} (if given) ahead of everything else on its PATH. */
    private Process dbStart(Optional<Path> binFirst, String... mode) throws IOException {
        List<String> argv = new ArrayList<>(List.of(JarRunner.javaBinary(), "-jar", JarRunner.JAR.toString(), "db",
                "start", "--launcher", "slurm", "--nodes", "3", "--port", Integer.toString(startPort), "--exp-dir",
                tmp.resolve("exp").toString(), "--timeout", "60"));
        argv.addAll(List.of(mode));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectOutput(tmp.resolve("start.out").toFile())
                .redirectError(tmp.resolve("start.err").toFile());
        binFirst.ifPresent(b -> pb.environment().merge("PATH", b.toString(), (path, dir) -> dir + ":" + path));
        return pb.start();
    }

    /**
     * A directory with an {@code srun} that, for shard 2 (orchestrator_2), runs {@code shard2} first (in the shell
     * the JVM spawned as that srun: {@code $PPID} is the JVM), then becomes the real srun with the same arguments.
     */
    private Path srunShim(String shard2) throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path shim = bin.resolve("srun");
        Files.writeString(shim, "#!/bin/sh\n"
                + "# RunSlurmSignalIT: what a SIGKILL of the launching JVM just after it spawned shard 2's srun leaves\n"
                + "case \" $* \" in *\" --job-name=orchestrator_2 \"*) " + shard2 + " ;; esac\n"
                + "exec " + Shell.quote(realSrun().toString()) + " \"$@\"\n");
        assertThat(shim.toFile().setExecutable(true)).isTrue();
        return bin;
    }

    /** The srun on this process's PATH, resolved (the shim in front of it must not find itself). */
    private static Path realSrun() {
        return java.util.Arrays.stream(System.getenv("PATH").split(":")).map(d -> Path.of(d, "srun"))
                .filter(Files::isExecutable).findFirst().orElseThrow(() -> new AssertionError("no srun on PATH"));
    }

    /**
     * {@code db cleanup} names every planned shard, and says "0 left" only once Slurm lists no step or job of the run
     * (it waits for that before it answers): checked at once, not waited for. The servers and sruns, which end with
     * their steps, are given a bounded moment to exit.
     */
    private void cleanupLeavesNothing() throws Exception {
        cleanupLeavesNothing(() -> null);
    }

    /** As {@link #cleanupLeavesNothing()}; {@code afterCleanup} runs once cleanup has answered and no step is left. */
    private void cleanupLeavesNothing(java.util.concurrent.Callable<?> afterCleanup) throws Exception {
        JarRunner.Result cleanup = new JarRunner(Files.createDirectories(tmp.resolve("calls"))).cli("db", "cleanup",
                "--exp-dir", tmp.resolve("exp").toString());
        assertThat(cleanup.exit()).as(cleanup.toString()).isZero();
        assertThat(cleanup.outLines().get(0)).as(cleanup.toString())
                .isEqualTo("cleaned up 'orchestrator' of experiment 'exp' (found STARTING): 3 of 3 shard(s) stopped, "
                        + "0 left; recorded FAILED");
        assertThat(stepNames()).as("steps still listed after db cleanup said 0 left; squeue -s: %s",
                sh("squeue", "-h", "-s").out.strip()).isEmpty();
        assertThat(jobsOfThisRun()).as("batch jobs still queued after db cleanup said 0 left").isEmpty();
        afterCleanup.call();
        await(() -> Processes.serversUnder(tmp).isEmpty(), 30, "no redis-server of the run");
        await(() -> sh("pgrep", "-af", "srun").out.lines().noneMatch(l -> l.contains("--jobid=" + holder)), 30,
                "no srun process of the run left");
        assertThat(sh("squeue", "-h", "-j", holder, "-o", "%T").out.strip()).as("the user's allocation")
                .isEqualTo("RUNNING");
    }

    private Process start() throws IOException {
        return new ProcessBuilder(JarRunner.javaBinary(), "-jar", JarRunner.JAR.toString(), "run",
                tmp.resolve("experiment.yaml").toString(), "--exp-dir", tmp.resolve("exp").toString())
                .redirectOutput(tmp.resolve("run.out").toFile()).redirectError(tmp.resolve("run.err").toFile()).start();
    }

    private void interruptAndCheck(Process run, String expectedLine) throws Exception {
        long t0 = System.nanoTime();
        assertThat(new ProcessBuilder("kill", "-INT", Long.toString(run.pid())).start().waitFor()).isZero();
        boolean exited = run.waitFor(90, TimeUnit.SECONDS);
        if (!exited) {
            run.destroyForcibly();
        }
        String err = Files.readString(tmp.resolve("run.err"));
        System.out.printf("run exited %.2f s after SIGINT%n%s%n", (System.nanoTime() - t0) / 1e9, err);
        assertThat(exited).as("run exits after SIGINT: %s", err).isTrue();
        assertThat(run.exitValue()).as(err).isEqualTo(130);
        if (expectedLine != null) {
            assertThat(err).contains(expectedLine);
        }
        // Cancelled steps and jobs leave squeue, and their processes exit, a moment after run has asked Slurm to
        // end them: waited for, with a deadline, as cleanupLeavesNothing does.
        await(() -> stepNames().isEmpty(), 30, "no step of the run left in allocation " + holder);
        await(() -> jobsOfThisRun().isEmpty(), 30, "no batch job of the run left in the queue");
        await(() -> Processes.serversUnder(tmp).isEmpty(), 30, "no redis-server process of the run left");
        await(() -> sh("pgrep", "-af", "srun").out.lines().noneMatch(l -> l.contains("--jobid=" + holder)), 30,
                "no srun process of the run left");
        assertThat(sh("squeue", "-h", "-j", holder, "-o", "%T").out.strip()).as("the user's allocation")
                .isEqualTo("RUNNING");
    }

    /** Whether the run's manifest records batch job {@code job} for a shard. */
    /** How many shards the manifest records with batch job {@code job}. */
    private long manifestNames(String job) {
        Path manifest = tmp.resolve("exp/manifest.json");
        try {
            return Files.exists(manifest) ? io.smartsim.launch.spec.Json.mapper().readTree(manifest.toFile())
                    .findValuesAsText("jobId").stream().filter(job::equals).count() : 0;
        } catch (IOException e) {
            return 0; // being replaced: asked again
        }
    }

    /** Names of the holder's running steps other than its own batch step. */
    private List<String> stepNames() {
        return sh("squeue", "-h", "-s", "-j", holder, "-o", "%i|%j").out.lines().map(l -> l.split("\\|"))
                .filter(f -> f.length == 2 && !f[0].endsWith(".batch")).map(f -> f[1]).toList();
    }

    /** Jobs, other than the holder, whose working directory is in this test's experiment. */
    private List<String> jobsOfThisRun() {
        return sh("squeue", "-h", "-o", "%i|%Z").out.lines().map(l -> l.split("\\|"))
                .filter(f -> f.length == 2 && f[1].startsWith(tmp.toString())).map(f -> f[0]).toList();
    }

    private record Sh(int exit, String out, String err) {
    }

    private Sh sh(String... argv) {
        try {
            Path out = Files.createTempFile(tmp, "sh", ".out");
            Path err = Files.createTempFile(tmp, "sh", ".err");
            Process p = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", argv) + " did not finish in 30 s");
            }
            Sh r = new Sh(p.exitValue(), Files.readString(out), Files.readString(err));
            Files.delete(out);
            Files.delete(err);
            return r;
        } catch (IOException e) {
            return new Sh(127, "", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private void await(BooleanSupplier condition, int seconds, String what) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() >= until) {
                throw new AssertionError("waited " + seconds + " s for: " + what + "; steps: " + stepNames()
                        + ", jobs: " + jobsOfThisRun() + "; squeue -s: " + sh("squeue", "-h", "-s").out.strip());
            }
            Thread.sleep(50);
        }
    }
}
