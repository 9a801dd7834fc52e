package io.smartsim.launch.slurm;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import io.smartsim.launch.planned.Credentials;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisCluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Slurm launcher on the real testbed (testbeds/slurm/up: nodes n1-n3 at 127.0.1.1-3, partition debug).
 * Each shard on its own node uses the same port: the nodes have different addresses.
 */
@TestbedLock(TestbedLock.Bed.SLURM)
class SlurmLauncherIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(30);
    private static final LocalCommandRunner SH = new LocalCommandRunner();

    @TempDir
    Path tmp;
    private final List<String> jobs = new ArrayList<>();
    private final List<String> progress = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void slurmIsHere() {
        HolderJobs.assumeSlurmIsUp();
    }

    @AfterEach
    void cancelEverything() {
        if (!jobs.isEmpty()) {
            SH.run(SlurmCommands.scancel(jobs), CMD);
        }
        // Then the Leftovers check: whatever the test did, nothing of this test's experiment may keep running.
    }

    private static CommandResult sh(String... argv) {
        return SH.run(List.of(argv), CMD);
    }

    private static List<Processes.Proc> redisOf(Path dir) {
        return Processes.serversUnder(dir); // by working dir: Redis's title no longer names its config
    }

    /** A job holding 3 nodes, as a user's salloc would; returns once it runs. */
    private String holder() throws InterruptedException {
        return HolderJobs.hold3("slurm-it-holder", jobs::add);
    }

    private Experiment experiment() {
        long t0 = System.nanoTime();
        return Experiment.create("slurm-it", tmp.resolve("exp"), line -> {
            progress.add(line);
            System.out.printf("  [%6.2f s] %s%n", (System.nanoTime() - t0) / 1e9, line);
        });
    }

    private static Set<String> steps(String job) {
        return SlurmParsers.steps(SH.run(SlurmCommands.squeueSteps(List.of(job)), CMD).stdout()).stream()
                .map(SlurmParsers.Step::id).collect(Collectors.toSet());
    }

    /** The orchestrator's own credentials (auth is on by default), as a client given SSDB_USER/SSDB_PASSWORD uses them. */
    private static DefaultJedisClientConfig login(Orchestrator db) {
        Credentials c = db.plan().auth().orElseThrow();
        return DefaultJedisClientConfig.builder().user(c.user()).password(c.password()).build();
    }

    private static void clusterWorks(Orchestrator db) {
        LaunchedShard first = db.shards().get(0);
        Credentials cred = db.plan().auth().orElseThrow();
        CommandResult check = SH.run(List.of("redis-cli", "--user", cred.user(), "--cluster", "check",
                first.address()), Map.of("REDISCLI_AUTH", cred.password()), CMD);
        assertThat(check.exitCode()).as(check.describe()).isZero();
        Set<HostAndPort> seeds = db.shards().stream().map(s -> new HostAndPort(s.host(), s.port()))
                .collect(Collectors.toSet());
        try (JedisCluster c = new JedisCluster(seeds, login(db))) {
            for (int i = 0; i < 200; i++) {
                c.set("key:" + i, "value:" + i);
            }
            for (int i = 0; i < 200; i++) {
                assertThat(c.get("key:" + i)).isEqualTo("value:" + i);
            }
        }
    }

    @Test
    void threeNodesOneShardEachInAnAllocation() throws Exception {
        String job = holder();
        long t0 = System.nanoTime();
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(11800, 1)).launcherOption("alloc", job).build());
            assertThat(db.plan().shards()).extracting(s -> s.host()).containsExactly("n1", "n2", "n3");
            exp.start(db);
            System.out.printf("alloc 3x1 healthy in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            assertThat(db.addresses()).containsExactly("127.0.1.1:11800", "127.0.1.2:11800", "127.0.1.3:11800");
            assertThat(db.shards()).allSatisfy(s -> assertThat(s.handle()).containsEntry("jobId", job)
                    .containsEntry("mode", "alloc").containsKeys("stepId", "node"));
            assertThat(steps(job)).containsAll(SlurmLauncher.stepIds(db.shards()));
            clusterWorks(db);
            assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");
            exp.stop(db);
        }
        assertThat(redisOf(tmp)).isEmpty();
        assertThat(steps(job)).containsOnly(job + ".batch"); // only the holder's own batch step
        System.out.printf("alloc 3x1 total %.2f s%n", (System.nanoTime() - t0) / 1e9);
    }

    @Test
    void aKilledStepShowsInStatus() throws Exception {
        String job = holder();
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(11810, 1)).launcherOption("alloc", job).build());
            exp.start(db);
            String victim = SlurmLauncher.stepIds(db.shards()).get(1);
            assertThat(sh("scancel", victim).ok()).isTrue();
            OrchestratorStatus st = exp.status("orchestrator");
            long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (!st.state().equals("DEGRADED") && System.nanoTime() < until) {
                Thread.sleep(200);
                st = exp.status("orchestrator");
            }
            assertThat(st.state()).isEqualTo("DEGRADED");
            assertThat(st.liveness()).containsEntry(1, io.smartsim.launch.spi.Launcher.Liveness.GONE)
                    .containsEntry(0, io.smartsim.launch.spi.Launcher.Liveness.ALIVE);
            exp.stop(db);
        }
        assertThat(steps(job)).containsOnly(job + ".batch");
    }

    @Test
    void threeNodesTwoShardsEachAsABatchJob() throws Exception {
        long t0 = System.nanoTime();
        String job;
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                    .instancesPerNode(2).port(leftovers.shardPorts(11820, 2)).launcherOption("batch", "true").build());
            exp.start(db);
            System.out.printf("batch 3x2 healthy in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            job = db.shards().get(0).handle().get("jobId");
            jobs.add(job);
            assertThat(db.addresses()).containsExactly("127.0.1.1:11820", "127.0.1.1:11821", "127.0.1.2:11820",
                    "127.0.1.2:11821", "127.0.1.3:11820", "127.0.1.3:11821");
            assertThat(progress).anyMatch(l -> l.startsWith("submitted batch job " + job));
            clusterWorks(db);
            exp.stop(db);
        }
        assertThat(redisOf(tmp)).isEmpty();
        assertThat(SlurmParsers.jobs(SH.run(SlurmCommands.squeueJobs(List.of(job)), CMD).stdout()))
                .allMatch(SlurmParsers.Job::finished);
        System.out.printf("batch 3x2 total %.2f s%n", (System.nanoTime() - t0) / 1e9);
    }

    @Test
    void oneStandaloneShardAsABatchJobWithOptions() throws Exception {
        long t0 = System.nanoTime();
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm")
                    .port(leftovers.shardPorts(11830, 1))
                    .launcherOption("batch", "true").launcherOption("partition", "debug")
                    .launcherOption("time", "00:10:00").build());
            exp.start(db);
            jobs.add(db.shards().get(0).handle().get("jobId"));
            LaunchedShard s = db.shards().get(0);
            try (Jedis j = new Jedis(new HostAndPort(s.host(), s.port()), login(db))) {
                j.set("k", "v");
                assertThat(j.get("k")).isEqualTo("v");
            }
            exp.stop(db);
        }
        System.out.printf("batch 1x1 total %.2f s%n", (System.nanoTime() - t0) / 1e9);
    }

    @Test
    void aBadPartitionShowsSbatchsOwnWords() {
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm")
                    .port(leftovers.shardPorts(21780, 1))
                    .launcherOption("batch", "true").launcherOption("partition", "nope").build());
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(LaunchException.class)
                    .hasMessageContaining("sbatch rejected").hasMessageContaining("invalid partition specified: nope");
        }
    }

    @Test
    void aJobPendingPastTheDeadlineIsCancelledAndTheReasonGiven() {
        try (Experiment exp = experiment()) {
            // 4 nodes on a 3-node partition: accepted, then pending for PartitionNodeLimit forever.
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(4)
                    .port(leftovers.shardPorts(21880, 1))
                    .startupTimeout(Duration.ofSeconds(3)).launcherOption("batch", "true").build());
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(io.smartsim.launch.error.ReadinessTimeoutException.class)
                    .hasMessageContaining("was cancelled").hasMessageContaining("pending reason: PartitionNodeLimit");
            String job = progress.stream().filter(l -> l.startsWith("submitted batch job ")).findFirst().orElseThrow()
                    .split(" ")[3];
            jobs.add(job);
            assertThat(progress).contains("batch job " + job + " PENDING (PartitionNodeLimit)");
            assertThat(SlurmParsers.jobs(SH.run(SlurmCommands.squeueJobs(List.of(job)), CMD).stdout()))
                    .allMatch(SlurmParsers.Job::finished);
        }
    }

    @Test
    void outsideAnAllocationSaysWhatToDo() {
        SlurmLauncher l = new SlurmLauncher(SH, java.util.Map.of());
        assertThatThrownBy(() -> l.place(OrchestratorSpec.builder().launcher("slurm").build()))
                .hasMessageContaining("SLURM_JOB_ID is not set");
    }
}
