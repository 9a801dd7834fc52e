package io.smartsim.launch.pbs;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.testing.FileStamps;
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
 * The PBS launcher end to end on the Slurm testbed through a PBS front end: Debian's slurm-wlm-torque
 * {@code qsub}/{@code qstat}/{@code qdel} (real commands, Torque-style), a TaskProlog that gives jobs
 * {@code PBS_JOBID}, {@code PBS_NODEFILE} and {@code PBS_O_WORKDIR}, and a loopback sshd on the nodes' addresses
 * 127.0.1.1-3 (testbeds/pbs/up) for the {@code ssh} run command.
 *
 * <p>What this front end does NOT cover: the PBS Pro / OpenPBS dialect ({@code -l select=...:mpiprocs=...} with
 * {@code place=scatter}, and {@code qstat -f -F json}), {@code pbsdsh}, Torque's own exit_status (the wrapper has
 * none) and PBS's job history. Those are covered by the golden script and argv tests and by the parser tests fed
 * real OpenPBS 23.06 output (PbsScriptsTest, PbsCommandsTest, PbsParsersTest). The wrapper's qsub turns
 * {@code #PBS -l nodes=3:ppn=2} into {@code sbatch -N3 --ntasks-per-node=2}, so the Torque script is exercised.
 */
// Longer than the 5 min default: on the shared testbed a job may wait up to 120 s for nodes other tests hold,
// a batch orchestrator gets 150 s to start, and a job 60 s to end.
@org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
@TestbedLock(TestbedLock.Bed.SLURM)
@TestbedLock(TestbedLock.Bed.PBS)
class PbsLauncherIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(60);
    private static final LocalCommandRunner SH = new LocalCommandRunner();

    @TempDir
    Path tmp;
    private final List<String> jobs = new ArrayList<>();
    private final List<String> progress = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void pbsFrontEndIsHere() {
        // Skips when declined (SKIP_SLURM=1) or impossible here (no qsub, not root); fails when it does not come up.
        PbsTestJobs.frontEndUp();
    }

    @AfterEach
    void deleteEverything() {
        PbsTestJobs.deleteJobs(progress, jobs);
        // Then the Leftovers check: whatever the test did, nothing of this test's experiment may keep running.
    }

    /**
     * Test JVMs bring the testbed up side by side while others log in over its sshd: the script must leave the files
     * sshd and the clients read alone when they are already right (it used to truncate and write them again, cp and
     * cat >, and known_hosts line by line), and rename a complete file over one that changes.
     */
    @Test
    void bringingTheTestbedUpAgainRewritesNoFileThatIsAlreadyRight() throws Exception {
        Path state = PbsTestJobs.SSH_CONFIG.getParent();
        List<Path> files = List.of(state.resolve("authorized_keys"), state.resolve("known_hosts"),
                state.resolve("ssh_config"));
        Map<Path, List<Object>> before = FileStamps.of(files);
        CommandResult up = SH.run(List.of(PbsTestJobs.TESTBED.resolve("up").toString()), Duration.ofMinutes(3));
        assertThat(up.ok()).as(up.describe()).isTrue();
        assertThat(FileStamps.of(files)).as("inode and modification time of each file sshd or a client reads")
                .isEqualTo(before);
    }

    private static CommandResult sh(String... argv) {
        return SH.run(List.of(argv), CMD);
    }

    private static List<Processes.Proc> redisOf(Path dir) {
        return Processes.serversUnder(dir); // by working dir: the title lost the config
    }

    private static PbsParsers.Job job(String id) {
        return PbsParsers.find(PbsParsers.qstatText(sh("qstat", "-f", id).stdout()), id).orElseThrow();
    }

    private Experiment experiment() {
        long t0 = System.nanoTime();
        return Experiment.create("pbs-it", tmp.resolve("exp"), line -> {
            progress.add(line);
            System.out.printf("  [%6.2f s] %s%n", (System.nanoTime() - t0) / 1e9, line);
        });
    }

    private static void clusterWorks(Orchestrator db) {
        // Auth is on by default: redis-cli logs in as the orchestrator's user, with the password from REDISCLI_AUTH.
        Credentials cred = db.plan().auth().orElseThrow();
        CommandResult check = SH.run(List.of("redis-cli", "--user", cred.user(), "--cluster", "check",
                db.shards().get(0).address()), Map.of("REDISCLI_AUTH", cred.password()), CMD);
        assertThat(check.exitCode()).as(check.describe()).isZero();
        assertThat(check.stdout()).contains("[OK] All 16384 slots covered.");
        Set<HostAndPort> seeds = db.shards().stream().map(s -> new HostAndPort(s.host(), s.port()))
                .collect(Collectors.toSet());
        try (JedisCluster c = new JedisCluster(seeds, DefaultJedisClientConfig.builder().user(cred.user())
                .password(cred.password()).build())) {
            for (int i = 0; i < 200; i++) {
                c.set("key:" + i, "value:" + i);
            }
            for (int i = 0; i < 200; i++) {
                assertThat(c.get("key:" + i)).isEqualTo("value:" + i);
            }
        }
    }

    @Test
    void threeNodesTwoShardsEachAsABatchJobOverSsh() throws Exception {
        long t0 = System.nanoTime();
        String id;
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("pbs").nodes(3)
                    .instancesPerNode(2).port(leftovers.shardPorts(15580, 2))
                    .startupTimeout(Duration.ofSeconds(150)).launcherOption("batch", "true")
                    .launcherOption("time", "00:10:00").launcherOption("runCommand", "ssh")
                    .launcherOption("sshConfig", PbsTestJobs.SSH_CONFIG.toString()).build());
            exp.start(db);
            System.out.printf("batch 3x2 healthy in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            id = db.shards().get(0).handle().get(PbsLauncher.JOB);
            jobs.add(id);
            assertThat(progress).anyMatch(l -> l.startsWith("PBS dialect torque (qstat --version named no PBS version"));
            assertThat(progress).anyMatch(l -> l.startsWith("submitted batch job " + id));
            assertThat(progress).anyMatch(l -> l.startsWith("batch job " + id + " running on n1/2+n2/2+n3/2"));
            assertThat(db.addresses()).containsExactly("127.0.1.1:15580", "127.0.1.1:15581", "127.0.1.2:15580",
                    "127.0.1.2:15581", "127.0.1.3:15580", "127.0.1.3:15581");
            assertThat(db.shards()).allSatisfy(s -> assertThat(s.handle()).containsEntry("mode", "batch")
                    .containsEntry("runCommand", "ssh").containsEntry("dialect", "torque").containsKey("nodePid"));
            assertThat(job(id).running()).isTrue();
            clusterWorks(db);
            assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");
            exp.stop(db);
        }
        assertThat(redisOf(tmp)).isEmpty();
        assertThat(job(id).finished()).as("job %s after stop", id).isTrue();
        System.out.printf("batch 3x2 total %.2f s%n", (System.nanoTime() - t0) / 1e9);
    }

    @Test
    void threeNodesInAnExistingJobOverSsh() throws Exception {
        // A job holding the 3 nodes, as a user's qsub -I would; the launcher runs outside it (alloc=ID), so the nodes
        // come from qstat's exec_host and ssh is the only run command that reaches them.
        String id = PbsTestJobs.holder(tmp, jobs::add);
        long t0 = System.nanoTime();
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("pbs").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(15680, 1)).launcherOption("alloc", id)
                    .launcherOption("sshConfig", PbsTestJobs.SSH_CONFIG.toString()).build());
            assertThat(db.plan().shards()).extracting(s -> s.host()).containsExactly("n1", "n2", "n3");
            exp.start(db);
            System.out.printf("alloc 3x1 healthy in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            assertThat(progress).contains("run command ssh (auto: outside the job's environment only ssh reaches its "
                    + "nodes)");
            assertThat(db.addresses()).containsExactly("127.0.1.1:15680", "127.0.1.2:15680", "127.0.1.3:15680");
            clusterWorks(db);
            // The shard's ssh client on this machine is its handle: were it killed (with the job it ran in, or by
            // hand), the shard must not live on unseen. sshd ends the session, the wrapper's watch stops the server.
            long client = db.shards().get(1).pid().orElseThrow();
            assertThat(ProcessHandle.of(client).flatMap(h -> h.info().command()).orElse("")).endsWith("ssh");
            assertThat(sh("kill", "-9", Long.toString(client)).exitCode()).isZero();
            long t1 = System.nanoTime();
            long until = t1 + Duration.ofSeconds(10).toNanos();
            while (redisOf(tmp).size() > 2 && System.nanoTime() < until) {
                Thread.sleep(100);
            }
            assertThat(redisOf(tmp)).as("shard 1 ended with its ssh client, the others run").hasSize(2)
                    .noneMatch(p -> p.cwd().endsWith("/db_1"));
            System.out.printf("alloc, shard 1's ssh client SIGKILLed: its server gone in %.2f s%n",
                    (System.nanoTime() - t1) / 1e9);
            exp.stop(db);
        }
        assertThat(redisOf(tmp)).isEmpty();
        assertThat(job(id).running()).as("the user's job outlives the orchestrator").isTrue();
    }

    /**
     * Shards started over ssh from outside the job (alloc=ID) are not the job's processes: when the job ends they run
     * on. Status must not call them gone (they still serve), and stop must end them.
     */
    @Test
    void shardsStartedOverSshFromOutsideAJobThatEndedAreNotCalledGoneAndStopEndsThem() throws Exception {
        String id = PbsTestJobs.holder(tmp, jobs::add);
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("pbs").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(22780, 1)).launcherOption("alloc", id)
                    .launcherOption("sshConfig", PbsTestJobs.SSH_CONFIG.toString()).build());
            exp.start(db);
            assertThat(sh("qdel", id).exitCode()).isZero();
            assertThat(PbsTestJobs.awaitFinished(id)).as("job %s ended", id).isTrue();
            assertThat(redisOf(tmp)).as("the servers outlive the job").hasSize(3);
            assertThat(exp.status(db.id()).state()).as("still serving, so not STALE").isEqualTo("RUNNING");
            exp.stop(db);
        }
        assertThat(redisOf(tmp)).as("stop ended them").isEmpty();
    }

    @Test
    void aBadQueueShowsTheSchedulersOwnWords() {
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("pbs")
                    .port(leftovers.shardPorts(22580, 1))
                    .launcherOption("batch", "true").launcherOption("queue", "nope")
                    .launcherOption("runCommand", "ssh")
                    .launcherOption("sshConfig", PbsTestJobs.SSH_CONFIG.toString()).build());
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(LaunchException.class)
                    .hasMessageContaining("qsub rejected the batch job of 'orchestrator'")
                    .hasMessageContaining("invalid partition specified: nope");
        }
    }

    @Test
    void aShardThatCannotStartDeletesTheJob() {
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("pbs").nodes(3)
                    .port(leftovers.shardPorts(22680, 1))
                    .serverBinary(Path.of("/nonexistent/redis-server")).startupTimeout(Duration.ofSeconds(20))
                    .launcherOption("batch", "true").launcherOption("runCommand", "ssh")
                    .launcherOption("sshConfig", PbsTestJobs.SSH_CONFIG.toString()).build());
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(LaunchException.class)
                    .hasMessageMatching("(?s)batch job \\d+ of 'orchestrator' ended (before its shards started|while its shards were starting).*")
                    .hasMessageContaining("/nonexistent/redis-server: No such file or directory");
            String id = progress.stream().filter(l -> l.startsWith("submitted batch job ")).findFirst().orElseThrow()
                    .split(" ")[3];
            jobs.add(id);
            assertThat(job(id).finished()).as("job %s after the failed launch", id).isTrue();
        }
    }
}
