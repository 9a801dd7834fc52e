package io.smartsim.launch.ssh;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.error.SchedulerUnreachableException;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.exec.Routes;
import io.smartsim.launch.exec.Transports;
import io.smartsim.launch.spi.LaunchedShard;
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
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Slurm launcher with {@code remote=}: every scheduler command, file and in-allocation srun goes through the
 * loopback sshd (127.0.0.1:2222, the "login node") to the real Slurm testbed (nodes n1-n3 at 127.0.1.1-3), and the
 * shards are reached through ports forwarded over that session. {@link RecordingTransport} logs each call on the
 * way, so the tests can show what went through SSH.
 */
@TestbedLock(TestbedLock.Bed.SLURM)
@TestbedLock(TestbedLock.Bed.SSH)
class RemoteSlurmIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(30);
    private static final LocalCommandRunner SH = new LocalCommandRunner();
    private static final String LOGIN = "recording://127.0.0.1";

    @TempDir
    Path dir;
    private final List<String> jobs = new ArrayList<>();

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
        RecordingTransport.afterRun = argv -> { };
        List<Processes.Proc> left = Processes.serversUnder(dir); // by working dir: the title lost the config
        // The holder jobs first, whatever follows: left behind, they would hold the Slurm testbed's nodes for
        // 10 minutes and make every later Slurm test wait for resources.
        if (!jobs.isEmpty()) {
            SH.run(List.of("scancel", String.join(",", jobs)), CMD);
        }
        if (!java.nio.file.Files.exists(SshTestbed.DIR.resolve("sshd.pid"))) {
            SshTestbed.up(); // a test that cut the connection and failed before bringing it back
        }
        Transports.closeAll();
        assertThat(left).as("redis-server processes of this test left behind").isEmpty();
        // Then the Leftovers check: anything of this test still there after scancel, ports on every address.
    }

    private OrchestratorSpec.Builder spec(int port) {
        return OrchestratorSpec.builder().launcher("slurm").nodes(3).instancesPerNode(1)
                .port(leftovers.shardPorts(port, 1))
                .launcherOption("remote", LOGIN).launcherOption("ssh-config", SshTestbed.sshConfig().toString());
    }

    private static List<String> log(String prefix) {
        return RecordingTransport.LOG.stream().filter(l -> l.startsWith(prefix)).toList();
    }

    /** The lease pushes to {@code leaseFile} that went through the login node ({@link io.smartsim.launch.supervise.Lease#pushCommand}). */
    private static List<String> leasePushes(String leaseFile) {
        List<String> argv = io.smartsim.launch.supervise.Lease.pushCommand(java.nio.file.Path.of(leaseFile),
                java.time.Instant.EPOCH);
        return log("run " + String.join(" ", argv.subList(0, argv.size() - 1)) + " ");
    }

    private static List<String> queued(String job) {
        CommandResult r = SH.run(List.of("squeue", "-h", "-j", job, "-o", "%i %T"), CMD);
        return r.stdout().lines().filter(l -> !l.isBlank()).toList();
    }

    private static void assertRecordedForReconnect(List<LaunchedShard> shards) {
        assertThat(shards).allSatisfy(s -> assertThat(s.handle()).containsEntry("remote", LOGIN)
                .containsEntry("ssh-config", SshTestbed.sshConfig().toString())
                .doesNotContainKey("accept-new-host-key"));
    }

    @Test
    void batchJobStartStatusStopThroughTheLoginNode() throws Exception {
        int port = 15380;
        long t0 = System.nanoTime();
        String job;
        try (Experiment exp = Experiment.create("remote-slurm", dir, line -> System.out.printf("  [%6.2f s] %s%n",
                (System.nanoTime() - t0) / 1e9, line))) {
            Orchestrator db = exp.createOrchestrator(spec(port).launcherOption("batch", "true").build());
            exp.start(db);
            System.out.printf("remote batch 3x1 healthy in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            job = db.shards().get(0).handle().get("jobId");
            jobs.add(job);
            assertThat(db.addresses()).containsExactly("127.0.1.1:" + port, "127.0.1.2:" + port, "127.0.1.3:" + port);
            assertRecordedForReconnect(db.shards());
            // Scheduler commands, files and reports all went through the transport.
            assertThat(log("run sbatch")).hasSize(1);
            assertThat(log("run squeue")).isNotEmpty();
            assertThat(log("write ")).anyMatch(l -> l.endsWith(".sbatch")).anyMatch(l -> l.endsWith(".slurm.sh"))
                    .anyMatch(l -> l.endsWith(".conf"));
            assertThat(log("read ")).anyMatch(l -> l.endsWith(".where"));
            // The shards are reached through ports forwarded over the SSH session: PING, cluster forming, health.
            assertThat(log("expose ")).containsExactlyInAnyOrder("expose 127.0.1.1:" + port,
                    "expose 127.0.1.2:" + port, "expose 127.0.1.3:" + port);
            assertThat(Routes.routed("127.0.1.2", port)).isTrue();
            assertThat(Routes.resolve("127.0.1.2", port).getAddress().getHostAddress()).isEqualTo("127.0.0.1");
            exp.detach(db); // left running, as db start leaves it, for the later process below
        }
        // A later process: status and stop from the manifest, through the same transport.
        Transports.closeAll();
        RecordingTransport.LOG.clear();
        long t1 = System.nanoTime();
        try (Experiment later = Experiment.reconnect(dir)) {
            OrchestratorStatus st = later.status("orchestrator");
            assertThat(st.state()).as(st.toString()).isEqualTo("RUNNING");
            assertThat(log("run squeue")).isNotEmpty();
            later.stop(later.orchestrator("orchestrator"));
        }
        System.out.printf("remote status + stop in %.2f s%n", (System.nanoTime() - t1) / 1e9);
        assertThat(queued(job)).isEmpty();
    }

    @Test
    void inAllocationSrunStepsAreStartedDetachedOnTheLoginNode() throws Exception {
        CommandResult holder = SH.run(List.of("sbatch", "--parsable", "-N3", "-J", "remote-it-holder",
                "--output=/dev/null", "--wrap", "sleep 600"), CMD);
        assertThat(holder.ok()).as(holder.describe()).isTrue();
        String job = holder.stdout().strip().split(";")[0];
        jobs.add(job);
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!queued(job).equals(List.of(job + " RUNNING")) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        int port = 15480;
        long t0 = System.nanoTime();
        try (Experiment exp = Experiment.create("remote-alloc", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(port).launcherOption("alloc", job).build());
            exp.start(db);
            System.out.printf("remote alloc 3x1 healthy in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            assertThat(log("spawn srun")).hasSize(3).allMatch(l -> l.contains("--jobid=" + job));
            assertRecordedForReconnect(db.shards());
            assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");
            exp.stop(db);
        }
        List<String> steps = SH.run(List.of("squeue", "-h", "-s", "-j", job, "-o", "%i"), CMD).stdout().lines()
                .filter(l -> !l.isBlank()).toList();
        assertThat(steps).containsOnly(job + ".batch");
    }

    /**
     * --lease behind a login node: the lease file the guards read is written on the login node's side at start, and
     * every renewal of the open experiment is pushed there; once renewals stop, the shards end themselves.
     */
    @Test
    void aLeaseIsPushedThroughTheLoginNodeAndShardsEndOnceItIsNoLongerRenewed() throws Exception {
        CommandResult holder = SH.run(List.of("sbatch", "--parsable", "-N3", "-J", "remote-it-lease",
                "--output=/dev/null", "--wrap", "sleep 600"), CMD);
        assertThat(holder.ok()).as(holder.describe()).isTrue();
        String job = holder.stdout().strip().split(";")[0];
        jobs.add(job);
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!queued(job).equals(List.of(job + " RUNNING")) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        Duration lease = Duration.ofSeconds(6);
        List<LaunchedShard> shards;
        String leaseFile;
        try (Experiment exp = Experiment.create("remote-lease", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(22470).launcherOption("alloc", job).lease(lease).build());
            exp.start(db);
            leaseFile = db.plan().dir().resolve("lease").toString();
            assertThat(leasePushes(leaseFile)).as("the lease file written through the login node").isNotEmpty();
            int written = leasePushes(leaseFile).size();
            // The open experiment renews: past the expiry the steps had after the start, they all still run.
            io.smartsim.launch.testing.LeaseWaits.awaitPast(exp.supervision("orchestrator").leaseExpiry().orElseThrow());
            assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");
            assertThat(leasePushes(leaseFile).size()).as("renewals pushed through the login node").isGreaterThan(written);
            shards = db.shards();
            exp.detach(db); // nobody renews from here
        }
        // The steps end once the last expiry pushed has passed (waited for generously).
        java.time.Instant last = io.smartsim.launch.supervise.Lease.in(java.nio.file.Path.of(leaseFile).getParent())
                .expiry().orElseThrow();
        io.smartsim.launch.slurm.SlurmLauncher slurm = new io.smartsim.launch.slurm.SlurmLauncher();
        long end = io.smartsim.launch.testing.LeaseWaits.goneBy(last);
        while (slurm.probe(shards).values().stream().anyMatch(l -> l != io.smartsim.launch.spi.Launcher.Liveness.GONE)
                && System.nanoTime() < end) {
            Thread.sleep(250);
        }
        assertThat(slurm.probe(shards).values()).as("every step ended once the lease ran out at %s", last)
                .containsOnly(io.smartsim.launch.spi.Launcher.Liveness.GONE);
        try (Experiment exp = Experiment.reconnect(dir)) {
            io.smartsim.launch.testing.LeaseWaits.assertStoppedOnlyAfter(exp.supervision("orchestrator").events(), last);
            exp.stop(exp.orchestrator("orchestrator"));
        }
    }

    /**
     * Regression: a stop from a new process (db stop --remote) sent SHUTDOWN before any port was forwarded, so no
     * shard got it and the stop waited out the launcher's 10 s grace before scancel. Now the launcher makes the
     * recorded shards reachable first ({@code Launcher.reach}), and the steps end with their servers.
     */
    @Test
    void stopFromAFreshProcessShutsTheShardsDownThroughForwardsWithoutWaitingOutTheGrace() throws Exception {
        String job = holder();
        int port = 22680;
        List<Path> shardLogs;
        try (Experiment exp = Experiment.create("remote-fresh-stop", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(port).launcherOption("alloc", job).build());
            exp.start(db);
            shardLogs = db.plan().shards().stream().map(s -> s.logPath()).toList();
            exp.detach(db);
        }
        Transports.closeAll(); // what a new process has: no session, no forwarded port
        assertThat(Routes.routed("127.0.1.1", port)).isFalse();
        RecordingTransport.LOG.clear();
        long t0 = System.nanoTime();
        try (Experiment later = Experiment.reconnect(dir)) {
            later.stop(later.orchestrator("orchestrator"));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("remote stop from a fresh process in %.2f s%n", seconds);
        // Forwarded before SHUTDOWN was sent: the only scheduler command before them is none at all.
        assertThat(RecordingTransport.LOG.subList(0, 3)).containsExactlyInAnyOrder("expose 127.0.1.1:" + port,
                "expose 127.0.1.2:" + port, "expose 127.0.1.3:" + port);
        assertThat(log("run scancel")).as("the steps ended with their servers, not by scancel").isEmpty();
        // Each server shut down, and not on a signal ("Received SIGTERM"): on SHUTDOWN (this machine's loopback
        // addresses are the testbed's nodes: one file system).
        for (Path log : shardLogs) {
            assertThat(java.nio.file.Files.readString(log)).as("%s", log).contains("User requested shutdown")
                    .doesNotContain("Received SIG");
        }
        assertThat(steps(job)).containsOnly(job + ".batch");
    }

    /**
     * Regression: {@code accept-new-host-key} stayed in the spec's launcher options recorded in manifest.json, so
     * every later process would have accepted a new key too. It is a permission for the first connection only: the
     * manifest leaves it out, and a later status connects under strict checking with the key recorded then.
     */
    @Test
    void acceptNewHostKeyIsNotRecordedAndALaterStatusConnectsWithTheKeyItRecorded() throws Exception {
        String job = holder();
        int port = 15780;
        Path knownHosts = dir.resolve("fresh_known_hosts"); // the login node's key is not in it yet
        try (Experiment exp = Experiment.create("remote-accept-new", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(port).launcherOption("alloc", job)
                    .launcherOption("known-hosts", knownHosts.toString())
                    .launcherOption("accept-new-host-key", "true").build());
            exp.start(db);
            exp.detach(db);
        }
        assertThat(java.nio.file.Files.readString(knownHosts)).as("the key accepted at start").contains("[127.0.0.1]:2222");
        String manifest = java.nio.file.Files.readString(dir.resolve("manifest.json"));
        assertThat(manifest).doesNotContain("accept-new-host-key").contains(knownHosts.toString());
        Transports.closeAll(); // a later process: a new session, opened from what the manifest recorded
        try (Experiment later = Experiment.reconnect(dir)) {
            OrchestratorStatus st = later.status("orchestrator");
            assertThat(st.state()).as(st.toString()).isEqualTo("RUNNING");
            later.stop(later.orchestrator("orchestrator"));
        }
        assertThat(steps(job)).containsOnly(job + ".batch");
    }

    private String holder() throws InterruptedException {
        CommandResult holder = SH.run(List.of("sbatch", "--parsable", "-N3", "-J", "remote-it-holder",
                "--output=/dev/null", "--wrap", "sleep 600"), CMD);
        assertThat(holder.ok()).as(holder.describe()).isTrue();
        String job = holder.stdout().strip().split(";")[0];
        jobs.add(job);
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!queued(job).equals(List.of(job + " RUNNING")) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        return job;
    }

    private static List<String> steps(String job) {
        return SH.run(List.of("squeue", "-h", "-s", "-j", job, "-o", "%i"), CMD).stdout().lines()
                .filter(l -> !l.isBlank()).toList();
    }

    @Test
    void aConnectionCutMidLaunchIsSchedulerUnreachableAndDbStopCleansUpOnceBack() throws Exception {
        int port = 22580;
        AtomicBoolean cut = new AtomicBoolean();
        RecordingTransport.afterRun = argv -> {
            if (argv.get(0).equals("sbatch") && cut.compareAndSet(false, true)) {
                SshTestbed.cut(); // the login node drops off the network right after accepting the job
            }
        };
        try (Experiment exp = Experiment.create("remote-cut", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(port).launcherOption("batch", "true").build());
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(SchedulerUnreachableException.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContainIgnoringCase("not found")
                            .doesNotContainIgnoringCase("left the queue"));
        }
        assertThat(cut).isTrue();
        assertThat(log("run sbatch")).hasSize(1);
        // The job was submitted and still runs: Slurm never heard of the client's trouble.
        List<String> mine = SH.run(List.of("squeue", "-h", "-o", "%i %T %Z"), CMD).stdout()
                .lines().filter(l -> l.contains(dir.toString())).toList();
        assertThat(mine).as("the job submitted before the cut").hasSize(1);
        String submitted = mine.get(0).split(" ")[0];
        jobs.add(submitted);

        SshTestbed.up();
        RecordingTransport.afterRun = argv -> { };
        long t0 = System.nanoTime();
        try (Experiment later = Experiment.reconnect(dir)) {
            later.stop(later.orchestrator("orchestrator"));
        }
        System.out.printf("db stop after the cut in %.2f s%n", (System.nanoTime() - t0) / 1e9);
        assertThat(queued(submitted)).isEmpty();
    }
}
