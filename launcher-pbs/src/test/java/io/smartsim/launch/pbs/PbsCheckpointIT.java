package io.smartsim.launch.pbs;

import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.DataChecks;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.smartsim.launch.pbs.PbsTestJobs.CMD;
import static io.smartsim.launch.pbs.PbsTestJobs.SH;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --checkpoint} and {@code resume} through the pbs launcher on the testbed's Torque front end (slurm-wlm-torque
 * over the Slurm testbed), shards over ssh: in an existing job (stop and resume, then every shard SIGKILLed and resume
 * again), and as batch jobs (the job deleted with {@code qdel}, then resume as a new batch job). Every key back each
 * time; nothing left, ports free. Ports 13300-13599.
 */
// Longer than the 5 min default: on the shared testbed a job may wait up to 120 s for nodes other tests hold,
// a batch orchestrator gets 150 s to start, and a job 60 s to end.
@org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
@TestbedLock(TestbedLock.Bed.SLURM)
@TestbedLock(TestbedLock.Bed.PBS)
class PbsCheckpointIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path tmp;
    private final List<String> jobs = new ArrayList<>();
    private final List<String> progress = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void frontEnd() {
        PbsTestJobs.frontEndUp();
    }

    @AfterEach
    void nothingLeft() {
        PbsTestJobs.deleteJobs(progress, jobs);
        // Then the Leftovers check: processes by working dir, ports (bus and --ai too) on every address.
    }

    private Experiment experiment() {
        long t0 = System.nanoTime();
        return Experiment.create("pbs-ck", tmp.resolve("exp"), line -> {
            progress.add(line);
            System.out.printf("  [%6.2f s] %s%n", (System.nanoTime() - t0) / 1e9, line);
        });
    }

    private OrchestratorRecord record() {
        return new ManifestStore(tmp.resolve("exp")).read().orElseThrow().find("db").orElseThrow();
    }

    private static String perms(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private static void allBack(Orchestrator db, int n) {
        assertThat(DataChecks.missing(db, n)).as("keys not back").isEmpty();
        CommandResult check = DataChecks.clusterCheck(db);
        assertThat(check.exitCode()).as(check.describe()).isZero();
    }

    @Test
    void inAnExistingJobStopAndResumeThenSigkillAndResumeBringEveryKeyBack() throws Exception {
        String job = PbsTestJobs.holder(tmp, jobs::add);
        int port = 13300;
        leftovers.shardPorts(port, 1);
        OrchestratorSpec spec = PbsTestJobs.inJob(OrchestratorSpec.builder().id("db").nodes(3).instancesPerNode(1)
                .port(port).checkpoint(Checkpoint.every(Duration.ofSeconds(1))), job).build();
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec);
            exp.start(db);
            DataChecks.write(db, 3000);
            exp.stop(db); // SHUTDOWN SAVE: a last snapshot holds every key
        }
        assertThat(record().data()).hasSize(3).allSatisfy(d -> {
            assertThat(d.lastSave()).contains("saved by SHUTDOWN SAVE at stop");
            assertThat(perms(d.path())).as("%s, written on the node under the wrapper's umask 077", d.path())
                    .isEqualTo("rw-------");
        });
        long t0 = System.nanoTime();
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec);
            exp.resume(db);
            System.out.printf("pbs alloc resume 3x1 (RDB, 3000 keys) healthy in %.2f s%n",
                    (System.nanoTime() - t0) / 1e9);
            allBack(db, 3000);
            DataChecks.write(db, 4000); // 1000 more, then the allocation's shards are lost
            DataChecks.awaitSnapshot(db);
            for (LaunchedShard s : db.shards()) {
                // The testbed's nodes are this machine's loopback addresses: the node's pid is a pid here.
                CommandResult kill = SH.run(List.of("kill", "-9", s.handle().get(PbsLauncher.NODE_PID)), CMD);
                assertThat(kill.exitCode()).as(kill.describe()).isZero();
            }
            long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (!Processes.serversUnder(tmp).isEmpty() && System.nanoTime() < until) {
                Thread.sleep(100);
            }
            assertThat(Processes.serversUnder(tmp)).isEmpty();
            exp.detach(db);
        }
        t0 = System.nanoTime();
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec);
            exp.resume(db);
            System.out.printf("pbs alloc resume 3x1 (RDB, 4000 keys) after SIGKILL healthy in %.2f s%n",
                    (System.nanoTime() - t0) / 1e9);
            allBack(db, 4000);
            exp.stop(db);
        }
        assertThat(PbsTestJobs.job(job).map(PbsParsers.Job::running).orElse(false))
                .as("the user's job outlives the orchestrator").isTrue();
    }

    private String trail() throws Exception {
        return PbsTestJobs.trail(tmp.resolve("exp").resolve("db"));
    }

    /** 3 nodes x 1 shard with {@code --checkpoint aof} as a batch job over ssh, on {@code port}. */
    private OrchestratorSpec aofBatch(int port) {
        leftovers.shardPorts(port, 1);
        return PbsTestJobs.batch(OrchestratorSpec.builder().id("db").nodes(3).instancesPerNode(1).port(port)
                .checkpoint(Checkpoint.aof())).build();
    }

    /** Starts {@code spec}, writes {@code keys} keys, and leaves it running unwatched, as a lost allocation is. */
    private String startBatchWithAofAndLoseIt(OrchestratorSpec spec, int keys) throws Exception {
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec);
            exp.start(db);
            String job = db.shards().get(0).handle().get(PbsLauncher.JOB);
            jobs.add(job);
            DataChecks.write(db, keys);
            // Every acknowledged write in the AOF files, which the loss keeps: looked for there, not guessed from a pause.
            DataChecks.awaitAllInAppendOnlyFiles(db);
            exp.detach(db); // the allocation is lost next; nobody stops it
            return job;
        }
    }

    /**
     * On a real PBS a job's processes may get SIGKILL with no SIGTERM first ({@code qdel -W force}, a kill delay
     * run out, the mother superior's processes killed): the batch script's trap never runs. Its ssh clients die,
     * sshd ends their sessions, and each shard's wrapper stops its server (SIGTERM: AOF flushed).
     */
    @Test
    void batchShardsOverSshEndWhenTheJobsSshClientsAreKilled() throws Exception {
        String job = startBatchWithAofAndLoseIt(aofBatch(13500), 1000);
        assertThat(Processes.serversUnder(tmp)).hasSize(3);
        // The job's own processes, as the scheduler's SIGKILL would find them: the batch shell (on the testbed, the
        // Slurm batch step's script) and its ssh clients.
        String clients = "ssh .*" + tmp + "/exp/db/db_[0-9]/db_[0-9].pbs.sh .* end-with-ssh";
        CommandResult batchShell = SH.run(List.of("pkill", "-9", "-f",
                "/job0*" + job.replaceAll("\\D.*", "") + "/slurm_script$"), CMD);
        CommandResult kill = SH.run(List.of("pkill", "-9", "-f", clients), CMD);
        assertThat(kill.exitCode()).as("ssh clients found and killed: %s (batch shell: %s)", kill.describe(),
                batchShell.describe()).isZero();
        long t0 = System.nanoTime();
        long until = t0 + Duration.ofSeconds(20).toNanos();
        while (!Processes.serversUnder(tmp).isEmpty() && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        assertThat(Processes.serversUnder(tmp)).as("shards ended with their ssh sessions; %s", trail()).isEmpty();
        System.out.printf("pbs batch, ssh clients SIGKILLed: every shard gone in %.2f s%n",
                (System.nanoTime() - t0) / 1e9);
        assertThat(trail()).contains("the ssh session of shard 0 ended: stopping its server",
                "the ssh session of shard 2 ended: stopping its server");
    }

    @Test
    void aDeletedBatchJobsDataComesBackInANewBatchJob() throws Exception {
        OrchestratorSpec spec = aofBatch(13400);
        String first = startBatchWithAofAndLoseIt(spec, 3000);
        CommandResult qdel = SH.run(PbsCommands.qdel(List.of(first)), CMD);
        assertThat(qdel.exitCode()).as(qdel.describe()).isZero();
        assertThat(PbsTestJobs.awaitFinished(first)).as("job %s gone after qdel", first).isTrue();
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Processes.serversUnder(tmp).isEmpty() && System.nanoTime() < until) {
            Thread.sleep(200);
        }
        assertThat(Processes.serversUnder(tmp)).as("shards ended with their job; %s", trail()).isEmpty();
        long t0 = System.nanoTime();
        String second;
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec);
            exp.resume(db);
            System.out.printf("pbs batch resume 3x1 (AOF, 3000 keys) after qdel healthy in %.2f s%n",
                    (System.nanoTime() - t0) / 1e9);
            second = db.shards().get(0).handle().get(PbsLauncher.JOB);
            jobs.add(second);
            assertThat(second).isNotEqualTo(first);
            allBack(db, 3000);
            exp.stop(db);
        }
        assertThat(PbsTestJobs.awaitFinished(second)).as("batch job %s ended by db stop", second).isTrue();
        assertThat(record().data()).hasSize(3).allSatisfy(d -> assertThat(d.lastSave()).hasValueSatisfying(
                s -> assertThat(s).startsWith("AOF flushed and fsynced by SHUTDOWN at stop")));
    }
}
