package io.smartsim.launch.pbs;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.cluster.Ping;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.supervise.Lease;
import io.smartsim.launch.testing.LeaseWaits;
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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --lease} and {@code --restart on-failure} with the pbs launcher, through the testbed's Torque front end
 * (Debian's slurm-wlm-torque qsub/qstat/qdel over the Slurm testbed, testbeds/pbs/up): shards started over ssh in an
 * existing job (a holder job, {@code alloc=ID}), as in PbsLauncherIT. Ports 14800-15299.
 */
// Longer than the 5 min default: on the shared testbed a job may wait up to 120 s for nodes other tests hold,
// a batch orchestrator gets 150 s to start, and a job 60 s to end.
@org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
@TestbedLock(TestbedLock.Bed.SLURM)
@TestbedLock(TestbedLock.Bed.PBS)
class PbsSupervisionIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(60);
    private static final LocalCommandRunner SH = new LocalCommandRunner();

    @TempDir
    Path tmp;
    private final List<String> jobs = new ArrayList<>();

    @BeforeAll
    static void pbsFrontEndIsHere() {
        // Skips when declined (SKIP_SLURM=1) or impossible here (no qsub, not root); fails when it does not come up.
        PbsTestJobs.frontEndUp();
    }

    @AfterEach
    void deleteEverything() {
        if (!jobs.isEmpty()) {
            SH.run(PbsCommands.qdel(jobs), CMD);
        }
        // Then the Leftovers check: shards by working dir, lease guards by their arguments, ports on every address.
    }

    private List<String> ofThisTest(String what) {
        return SH.run(List.of("pgrep", "-af", what), CMD).stdout().lines().filter(l -> l.contains(tmp.toString()))
                .toList();
    }

    private static PbsParsers.Job job(String id) {
        return PbsParsers.find(PbsParsers.qstatText(SH.run(List.of("qstat", "-f", id), CMD).stdout()), id)
                .orElseThrow();
    }

    /** A job holding the 3 nodes, as a user's qsub -I would; running when this returns. */
    private String holder() throws Exception {
        return PbsTestJobs.holder(tmp, jobs::add);
    }

    private OrchestratorSpec.Builder spec(String job, int port) {
        return OrchestratorSpec.builder().launcher("pbs").nodes(3).instancesPerNode(1)
                .port(leftovers.shardPorts(port, 1))
                .launcherOption("alloc", job).launcherOption("runCommand", "ssh")
                .launcherOption("sshConfig", PbsTestJobs.SSH_CONFIG.toString());
    }

    private static boolean anyAnswers(List<LaunchedShard> shards) {
        return shards.stream().anyMatch(s -> Ping.answers(s.host(), s.port(), 300,
                io.smartsim.launch.spi.TlsFiles.access(s)));
    }

    @Test
    void shardsStartedOverSshStopThemselvesOnceTheLeaseIsNoLongerRenewed() throws Exception {
        String job = holder();
        Duration lease = Duration.ofSeconds(6);
        List<LaunchedShard> shards;
        Instant lastRenewal;
        try (Experiment exp = Experiment.create("pbs-lease", tmp.resolve("exp"))) {
            Orchestrator db = exp.createOrchestrator(spec(job, 15100).lease(lease).build());
            exp.start(db);
            shards = db.shards();
            assertThat(Files.readString(tmp.resolve("exp/orchestrator/lease-guard.sh"))).contains("lease");
            for (int i = 0; i < 4; i++) { // renewed by hand; the open experiment renews too
                Thread.sleep(2500);
                exp.renewLease("orchestrator");
                assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");
            }
            assertThat(ofThisTest("lease-guard")).as("one guard per shard").hasSize(3);
            lastRenewal = Instant.now();
            exp.renewLease("orchestrator");
            exp.detach(db); // nobody renews from here
        }
        // They stop once the last expiry written has passed (waited for generously; checked against it below).
        Instant last = Lease.in(tmp.resolve("exp/orchestrator")).expiry().orElseThrow();
        long until = LeaseWaits.goneBy(last);
        while ((anyAnswers(shards) || !Processes.serversUnder(tmp).isEmpty()) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        Duration gone = Duration.between(lastRenewal, Instant.now());
        System.out.printf("pbs lease %d s: every shard gone %.2f s after the last renewal%n", lease.toSeconds(),
                gone.toMillis() / 1000.0);
        assertThat(anyAnswers(shards)).as("a shard still answers %s after the last renewal", gone).isFalse();
        assertThat(Processes.serversUnder(tmp)).as("servers left").isEmpty();
        long guardsUntil = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!ofThisTest("lease-guard").isEmpty() && System.nanoTime() < guardsUntil) {
            Thread.sleep(100);
        }
        assertThat(ofThisTest("lease-guard")).as("guards end with their shards").isEmpty();
        try (Experiment exp = Experiment.reconnect(tmp.resolve("exp"))) {
            OrchestratorStatus s = exp.status("orchestrator");
            assertThat(s.state()).isEqualTo("STALE");
            assertThat(s.error().orElseThrow()).contains("lease ran out");
            assertThat(exp.supervision("orchestrator").events().stream().filter(e -> e.type().equals(Event.LEASE_EXPIRED))
                    .filter(e -> e.shard().isPresent()).map(e -> e.shard().get()).toList())
                    .containsExactlyInAnyOrder(0, 1, 2);
            LeaseWaits.assertStoppedOnlyAfter(exp.supervision("orchestrator").events(), last);
            exp.stop(exp.orchestrator("orchestrator"));
        }
        assertThat(job(job).running()).as("the user's job outlives the orchestrator").isTrue();
    }

    /** A batch job of its own: the guards stop the shards, the script's wait returns, and the job ends by itself. */
    @Test
    void aBatchJobEndsOnceTheLeaseRunsOut() throws Exception {
        Duration lease = Duration.ofSeconds(6);
        List<LaunchedShard> shards;
        String id;
        Instant lastRenewal;
        try (Experiment exp = Experiment.create("pbs-lease-batch", tmp.resolve("exp"))) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("pbs").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(14800, 1))
                    .startupTimeout(Duration.ofSeconds(150)).lease(lease)
                    .launcherOption("batch", "true").launcherOption("time", "00:10:00")
                    .launcherOption("runCommand", "ssh")
                    .launcherOption("sshConfig", PbsTestJobs.SSH_CONFIG.toString()).build());
            exp.start(db);
            shards = db.shards();
            id = shards.get(0).handle().get(PbsLauncher.JOB);
            jobs.add(id);
            // Renewed by the open experiment: past the expiry the shards had after the start, they all still serve.
            LeaseWaits.awaitPast(exp.supervision("orchestrator").leaseExpiry().orElseThrow());
            assertThat(LeaseWaits.guardsExpired(exp.supervision("orchestrator").events())).isEmpty();
            assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");
            assertThat(ofThisTest("lease-guard")).as("one guard per shard").hasSize(3);
            lastRenewal = Instant.now();
            exp.renewLease("orchestrator");
            exp.detach(db);
        }
        // They stop once the last expiry written has passed (waited for generously; checked against it below).
        Instant last = Lease.in(tmp.resolve("exp/orchestrator")).expiry().orElseThrow();
        long until = LeaseWaits.goneBy(last);
        while ((anyAnswers(shards) || !Processes.serversUnder(tmp).isEmpty()) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        System.out.printf("pbs batch lease %d s: every shard gone %.2f s after the last renewal%n", lease.toSeconds(),
                Duration.between(lastRenewal, Instant.now()).toMillis() / 1000.0);
        assertThat(anyAnswers(shards)).as("a shard still answers").isFalse();
        long jobUntil = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (PbsParsers.find(PbsParsers.qstatText(SH.run(List.of("qstat", "-f", id), CMD).stdout()), id)
                .map(j -> !j.finished()).orElse(false) && System.nanoTime() < jobUntil) {
            Thread.sleep(250);
        }
        assertThat(PbsParsers.find(PbsParsers.qstatText(SH.run(List.of("qstat", "-f", id), CMD).stdout()), id)
                .map(PbsParsers.Job::finished).orElse(true)).as("batch job %s ended by itself", id).isTrue();
        try (Experiment exp = Experiment.reconnect(tmp.resolve("exp"))) {
            LeaseWaits.assertStoppedOnlyAfter(exp.supervision("orchestrator").events(), last);
            exp.stop(exp.orchestrator("orchestrator"));
        }
    }

    @Test
    void aKilledShardComesBackOverSshOnItsNodeAndRejoins() throws Exception {
        String job = holder();
        try (Experiment exp = Experiment.create("pbs-restart", tmp.resolve("exp"))) {
            Orchestrator db = exp.createOrchestrator(spec(job, 15200).restart(RestartPolicy.ON_FAILURE).build());
            exp.start(db);
            LaunchedShard victim = db.shards().get(1);
            long pid = Long.parseLong(victim.handle().get(PbsLauncher.NODE_PID));
            // The testbed's nodes are this machine's loopback addresses: the node's pid is a pid here.
            // Redis retitles itself "redis-server ADDRESS:PORT [cluster]"; the port is this test's own.
            assertThat(SH.run(List.of("pgrep", "-af", "redis-server"), CMD).stdout().lines()
                    .filter(l -> l.contains(" " + victim.address() + " ")).toList()).singleElement().asString()
                    .startsWith(pid + " ");
            Instant killed = Instant.now();
            SH.run(List.of("kill", "-9", Long.toString(pid)), CMD);

            long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            List<String> types = List.of();
            while (System.nanoTime() < until) {
                types = exp.supervision("orchestrator").events().stream()
                        .filter(e -> e.shard().map(i -> i == 1).orElse(false)).map(Event::type).toList();
                if (types.contains(Event.REJOINED) || types.contains(Event.RESTART_FAILED)) {
                    break;
                }
                Thread.sleep(250);
            }
            List<Event> all = exp.supervision("orchestrator").events();
            assertThat(types).as(all.toString())
                    .containsExactly(Event.SHARD_DOWN, Event.RESTARTING, Event.RESTARTED, Event.REJOINED);
            System.out.printf("pbs: kill -9 -> shard-down %d ms, -> rejoined %d ms%n", Duration.between(killed,
                    all.stream().filter(e -> e.type().equals(Event.SHARD_DOWN)).findFirst().orElseThrow().time())
                    .toMillis(), Duration.between(killed, all.stream().filter(e -> e.type().equals(Event.REJOINED))
                    .findFirst().orElseThrow().time()).toMillis());
            assertThat(all.stream().filter(e -> e.type().equals(Event.SHARD_DOWN)).findFirst().orElseThrow().detail())
                    .contains("its process is gone");
            LaunchedShard again = db.shards().get(1);
            assertThat(again.handle()).containsEntry("node", victim.handle().get("node"))
                    .containsEntry("runCommand", "ssh").containsEntry("mode", "alloc");
            assertThat(again.address()).isEqualTo(victim.address());
            assertThat(again.handle().get(PbsLauncher.NODE_PID)).isNotEqualTo(victim.handle().get(PbsLauncher.NODE_PID));
            Credentials cred = db.plan().auth().orElseThrow();
            CommandResult check = SH.run(List.of("redis-cli", "--user", cred.user(), "--cluster", "check",
                    db.shards().get(0).address()), Map.of("REDISCLI_AUTH", cred.password()), CMD);
            assertThat(check.exitCode()).as(check.describe()).isZero();
            assertThat(check.stdout()).contains("[OK] All 16384 slots covered.");
            assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");

            // The restarted shard is watched like the first: its own ssh client is recorded, so a second kill -9 is
            // seen as a gone process again (not 10 s later as a hung one).
            assertThat(again.pid()).as("the restarted shard's ssh client").isPresent();
            Instant killedAgain = Instant.now();
            SH.run(List.of("kill", "-9", again.handle().get(PbsLauncher.NODE_PID)), CMD);
            until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            List<Event> second = List.of();
            while (System.nanoTime() < until) {
                second = exp.supervision("orchestrator").events().stream().filter(e -> e.shard().map(i -> i == 1)
                        .orElse(false)).skip(4).toList(); // after the first round's four
                if (second.stream().anyMatch(e -> e.type().equals(Event.REJOINED) || e.type().equals(Event.RESTART_FAILED))) {
                    break;
                }
                Thread.sleep(250);
            }
            assertThat(second).as(second.toString()).extracting(Event::type)
                    .containsExactly(Event.SHARD_DOWN, Event.RESTARTING, Event.RESTARTED, Event.REJOINED);
            assertThat(second.get(0).detail()).contains("its process is gone");
            assertThat(second.get(1).detail()).contains("attempt 2 of 3");
            System.out.printf("pbs: second kill -9 -> shard-down %d ms, -> rejoined %d ms%n",
                    Duration.between(killedAgain, second.get(0).time()).toMillis(),
                    Duration.between(killedAgain, second.get(3).time()).toMillis());
            exp.stop(db);
            assertThat(anyAnswers(db.shards())).as("shards answering after stop").isFalse();
        }
        assertThat(Processes.serversUnder(tmp)).isEmpty();
        assertThat(job(job).running()).as("the user's job outlives the orchestrator").isTrue();
    }
}
