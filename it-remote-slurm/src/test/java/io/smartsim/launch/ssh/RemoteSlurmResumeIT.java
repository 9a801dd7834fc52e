package io.smartsim.launch.ssh;

import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.exec.Transports;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.testing.DataChecks;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --checkpoint} and {@code resume} with the Slurm launcher behind a login node ({@code remote=}, as in
 * {@link RemoteSlurmIT}): which data exists, how big and how new, and the copies a resume makes, are asked through the
 * login node's session ({@link RecordingTransport} shows the {@code find}s), not on this machine's file system. The
 * login node here is the loopback sshd and shares this file system, so the log is what shows where the files were
 * looked at. Ports 13600-13799 (bus ports below the ephemeral range).
 */
@TestbedLock(TestbedLock.Bed.SLURM)
@TestbedLock(value = TestbedLock.Bed.SSH, shared = true)
class RemoteSlurmResumeIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(30);
    private static final LocalCommandRunner SH = new LocalCommandRunner();
    private static final String LOGIN = "recording://127.0.0.1";

    @TempDir
    Path dir;
    private final List<String> jobs = new ArrayList<>();
    private final List<String> progress = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void testbedsUp() {
        SshTestbed.upWithSlurm();
    }

    @BeforeEach
    void freshLog() {
        RecordingTransport.reset();
    }

    @AfterEach
    void nothingLeft() {
        Transports.closeAll();
        List<Processes.Proc> left = Processes.serversUnder(dir);
        if (!jobs.isEmpty()) {
            SH.run(List.of("scancel", String.join(",", jobs)), CMD);
        }
        assertThat(left).as("redis-server processes of this test left behind").isEmpty();
        // Then the Leftovers check: anything of this test still there after scancel, ports on every address.
    }

    private static OrchestratorSpec.Builder spec(int port, Checkpoint cp) {
        return OrchestratorSpec.builder().id("db").launcher("slurm").nodes(3).instancesPerNode(1).port(port)
                .checkpoint(cp).launcherOption("remote", LOGIN)
                .launcherOption("ssh-config", SshTestbed.sshConfig().toString());
    }

    private Experiment experiment() {
        long t0 = System.nanoTime();
        return Experiment.create("remote-ck", dir, line -> {
            progress.add(line);
            System.out.printf("  [%6.2f s] %s%n", (System.nanoTime() - t0) / 1e9, line);
        });
    }

    private OrchestratorRecord record() {
        return new ManifestStore(dir).read().orElseThrow().find("db").orElseThrow();
    }

    private static List<String> finds() {
        return RecordingTransport.LOG.stream().filter(l -> l.startsWith("run find ")).toList();
    }

    private static String holder(String name) throws InterruptedException {
        CommandResult holder = SH.run(List.of("sbatch", "--parsable", "-N3", "-J", name, "--output=/dev/null",
                "--wrap", "sleep 600"), CMD);
        assertThat(holder.ok()).as(holder.describe()).isTrue();
        String job = holder.stdout().strip().split(";")[0];
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!SH.run(List.of("squeue", "-h", "-j", job, "-o", "%T"), CMD).stdout().strip().equals("RUNNING")
                && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        return job;
    }

    @Test
    void aBatchJobsDataIsSavedAtStopAndResumedInANewBatchJobThroughTheLoginNode() throws Exception {
        int port = 13600;
        leftovers.shardPorts(port, 1);
        OrchestratorSpec spec = spec(port, Checkpoint.every(Duration.ofSeconds(1))).launcherOption("batch", "true")
                .build();
        String first;
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec);
            exp.start(db);
            first = db.shards().get(0).handle().get("jobId");
            jobs.add(first);
            assertThat(finds()).as("the leftover check of a plain start, on the login node")
                    .anyMatch(l -> l.contains(dir.resolve("db/db_0/appendonlydir").toString()));
            DataChecks.write(db, 3000);
            RecordingTransport.LOG.clear();
            exp.stop(db);
            // The data records at stop: sizes read through the login node.
            assertThat(finds()).anyMatch(l -> l.contains(dir.resolve("db/db_2/dump.rdb").toString()));
        }
        assertThat(record().data()).hasSize(3).allSatisfy(d -> {
            assertThat(d.lastSave()).contains("saved by SHUTDOWN SAVE at stop");
            assertThat(d.bytes()).hasValueSatisfying(b -> assertThat(b).isGreaterThan(1000));
        });
        // A later process, as 'db start --resume --remote ...' is.
        Transports.closeAll();
        RecordingTransport.LOG.clear();
        progress.clear();
        long t0 = System.nanoTime();
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec);
            exp.resume(db);
            System.out.printf("remote resume 3x1 (RDB, 3000 keys, batch) healthy in %.2f s%n",
                    (System.nanoTime() - t0) / 1e9);
            String second = db.shards().get(0).handle().get("jobId");
            jobs.add(second);
            assertThat(second).isNotEqualTo(first);
            assertThat(progress).anyMatch(l -> l.startsWith("resuming 'db' from the data of its previous run")
                    && l.endsWith("data on " + Transports.open(spec.launcherOptions()).where()));
            assertThat(progress).anySatisfy(l -> assertThat(l).startsWith("shard 0 (slots 0-5461): resuming from "
                    + dir.resolve("db/db_0/dump.rdb")));
            assertThat(finds()).as("what each shard resumes from, asked on the login node: one find for all")
                    .hasSize(1);
            assertThat(DataChecks.missing(db, 3000)).as("keys not back").isEmpty();
            CommandResult check = DataChecks.clusterCheck(db);
            assertThat(check.exitCode()).as(check.describe()).isZero();
            exp.stop(db);
        }
    }

    /**
     * A lost allocation behind the login node, with replicas: master 1 is killed, its replica (shard 4) takes over and
     * takes more writes, then the allocation is cancelled under every shard. Nothing was recorded at a stop, so the
     * resume picks each range's newest data by the files' times and copies the promoted replica's AOF into master 1's
     * directory: all through the login node ({@code find}, {@code cp}, {@code rm}).
     */
    @Test
    void aCancelledAllocationsDataComesBackInANewAllocationThroughTheLoginNodeWithThePromotedReplicasNewerData()
            throws Exception {
        String job = holder("remote-ck-holder");
        jobs.add(job);
        int port = 13700;
        leftovers.shardPorts(port, 2);
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec(port, Checkpoint.aof()).replicas(1)
                    .launcherOption("alloc", job).build());
            exp.start(db);
            DataChecks.write(db, 3000);
            // On every replica and in every AOF, masters' and replicas': not guessed from a pause.
            DataChecks.awaitReplicatedAndWritten(db);
            // Master 1 dies. The testbed's nodes are this machine's loopback addresses; Redis retitles itself
            // "redis-server ADDRESS:PORT [cluster]".
            String master1 = db.shards().get(1).address();
            List<String> victim = Processes.serversOn(List.of(port)).stream().filter(l -> l.contains(" " + master1 + " "))
                    .toList();
            assertThat(victim).as("master 1 at %s", master1).hasSize(1);
            CommandResult kill = SH.run(List.of("kill", "-9", victim.get(0).split(" ")[0]), CMD);
            assertThat(kill.exitCode()).as(kill.describe()).isZero();
            long until = System.nanoTime() + Duration.ofSeconds(40).toNanos();
            while (!exp.status("db").serving()) {
                assertThat(System.nanoTime()).as("a replica took over within 40 s").isLessThan(until);
                Thread.sleep(200);
            }
            DataChecks.write(db, 3000, 4000); // a third of these only the promoted replica (shard 4) ever holds
            DataChecks.awaitReplicatedAndWritten(db);
            exp.detach(db);
        }
        CommandResult cancel = SH.run(List.of("scancel", job), CMD);
        assertThat(cancel.exitCode()).as(cancel.describe()).isZero();
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!Processes.serversUnder(dir).isEmpty() && System.nanoTime() < until) {
            Thread.sleep(200);
        }
        assertThat(Processes.serversUnder(dir)).as("shards ended with their allocation").isEmpty();
        String again = holder("remote-ck-holder2");
        jobs.add(again);
        Transports.closeAll();
        RecordingTransport.LOG.clear();
        progress.clear();
        long t0 = System.nanoTime();
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec(port, Checkpoint.aof()).replicas(1)
                    .launcherOption("alloc", again).build());
            exp.resume(db);
            System.out.printf("remote resume 3x1 + 1 replica each (AOF, 4000 keys) after failover and scancel "
                    + "healthy in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            assertThat(progress).anySatisfy(l -> assertThat(l).startsWith("shard 1 (slots 5462-10922): resuming from "
                    + dir.resolve("db/db_1/appendonlydir")).endsWith(", copied from "
                    + dir.resolve("db/db_4/appendonlydir")));
            assertThat(RecordingTransport.LOG).as("the copy, made on the login node's side, replacing the old data")
                    .containsSubsequence("run rm -rf -- " + dir.resolve("db/db_1/appendonlydir"),
                            "run cp -R -p -T -- " + dir.resolve("db/db_4/appendonlydir") + " "
                            + dir.resolve("db/db_1/appendonlydir"));
            assertThat(RecordingTransport.LOG).as("the replicas' old data removed there, in one command")
                    .containsOnlyOnce("run rm -rf -- " + String.join(" ", java.util.stream.IntStream.of(3, 4, 5)
                            .mapToObj(i -> dir.resolve("db/db_" + i + "/dump.rdb") + " "
                                    + dir.resolve("db/db_" + i + "/appendonlydir")).toList()));
            assertThat(finds()).as("one look per question, not one per shard").hasSizeLessThanOrEqualTo(4);
            assertThat(DataChecks.missing(db, 4000)).as("keys not back").isEmpty();
            DataChecks.replicasOnOtherNodes(db, 3, 1);
            exp.stop(db);
        }
        assertThat(record().data()).hasSize(6).allSatisfy(d -> assertThat(d.lastSave()).hasValueSatisfying(
                x -> assertThat(x).startsWith("AOF flushed and fsynced by SHUTDOWN at stop")));
    }
}
