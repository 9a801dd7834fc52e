package io.smartsim.launch.slurm;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.supervise.Lease;
import io.smartsim.launch.testing.LeaseWaits;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code --lease} on the Slurm testbed: each step's wrapper starts a lease guard that ends the step once nobody renews. */
@TestbedLock(TestbedLock.Bed.SLURM)
class SlurmSupervisionIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(60);
    private static final LocalCommandRunner SH = new LocalCommandRunner();

    @TempDir
    Path tmp;
    private final List<String> jobs = new ArrayList<>();

    @BeforeAll
    static void slurmIsHere() {
        HolderJobs.assumeSlurmIsUp();
    }

    @AfterEach
    void cancelEverything() {
        if (!jobs.isEmpty()) {
            SH.run(SlurmCommands.scancel(jobs), CMD);
        }
        // Then the Leftovers check: by working directory (Redis retitles itself), lease guards by their arguments.
    }

    private List<String> ofThisTest(String what) {
        return SH.run(List.of("pgrep", "-af", what), CMD).stdout().lines().filter(l -> l.contains(tmp.toString()))
                .toList();
    }

    private static Set<String> steps(String job) {
        return SlurmParsers.steps(SH.run(SlurmCommands.squeueSteps(List.of(job)), CMD).stdout()).stream()
                .map(SlurmParsers.Step::id).collect(Collectors.toSet());
    }

    @Test
    void stepsEndThemselvesOnceTheLeaseIsNoLongerRenewed() throws Exception {
        String job = HolderJobs.hold3("slurm-lease-it", jobs::add);
        Duration lease = Duration.ofSeconds(6);
        List<LaunchedShard> shards;
        Lease leaseFile;
        try (Experiment exp = Experiment.create("slurm-lease", tmp.resolve("exp"))) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(14900, 1))
                    .launcherOption("alloc", job).lease(lease).build());
            exp.start(db);
            shards = db.shards();
            leaseFile = Lease.in(db.plan().dir());
            // Renewed by the open experiment: past the expiry the steps had after the start, they all still run.
            LeaseWaits.awaitPast(exp.supervision("orchestrator").leaseExpiry().orElseThrow());
            assertThat(LeaseWaits.guardsExpired(exp.supervision("orchestrator").events())).isEmpty();
            assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");
            assertThat(ofThisTest("lease-guard")).hasSize(3);
            exp.detach(db); // nobody renews from here
        }
        // The steps end once the last expiry written has passed (waited for generously).
        Instant last = leaseFile.expiry().orElseThrow();
        SlurmLauncher slurm = new SlurmLauncher();
        long until = LeaseWaits.goneBy(last);
        while (slurm.probe(shards).values().stream().anyMatch(l -> l != Liveness.GONE) && System.nanoTime() < until) {
            Thread.sleep(250);
        }
        assertThat(slurm.probe(shards).values()).as("every step ended once the lease ran out at %s", last)
                .containsOnly(Liveness.GONE);
        assertThat(steps(job)).containsOnly(job + ".batch");
        try (Experiment exp = Experiment.reconnect(tmp.resolve("exp"))) {
            OrchestratorStatus s = exp.status("orchestrator");
            assertThat(s.state()).isEqualTo("STALE");
            assertThat(s.error().orElseThrow()).contains("lease ran out");
            assertThat(exp.supervision("orchestrator").events().stream().filter(e -> e.type().equals(Event.LEASE_EXPIRED))
                    .map(e -> e.shard().orElseThrow()).toList()).containsExactlyInAnyOrder(0, 1, 2);
            LeaseWaits.assertStoppedOnlyAfter(exp.supervision("orchestrator").events(), last);
            exp.stop(exp.orchestrator("orchestrator"));
        }
    }

    @Test
    void aKilledShardComesBackAsANewStepOnItsNodeAndRejoins() throws Exception {
        String job = HolderJobs.hold3("slurm-restart-it", jobs::add);
        killedShardRejoins(job, "alloc", job, 22910);
    }

    /**
     * As its own batch job: the restarted shard is a step started from outside the batch script, and the job must
     * outlive the script's own steps (the script ends with a wait loop until db stop cancels the job).
     */
    @Test
    void inABatchJobAKilledShardComesBackAndTheJobOutlivesItsOwnSteps() throws Exception {
        killedShardRejoins(null, "batch", "true", 22920);
    }

    private static void killServerOf(LaunchedShard shard) {
        List<String> server = SH.run(List.of("pgrep", "-af", "redis-server"), CMD).stdout().lines()
                .filter(l -> l.contains(" " + shard.address() + " ")).toList();
        assertThat(server).hasSize(1);
        SH.run(List.of("kill", "-9", server.get(0).split(" ", 2)[0]), CMD);
    }

    private static void awaitEvent(Experiment exp, int shard, String type) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < until) {
            if (exp.supervision("orchestrator").events().stream().anyMatch(e -> e.shard().map(i -> i == shard)
                    .orElse(false) && e.type().equals(type) && e.time().isAfter(java.time.Instant.now()
                    .minusSeconds(60)))) {
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("no " + type + " event for shard " + shard + " within 60 s: "
                + exp.supervision("orchestrator").events());
    }

    private void killedShardRejoins(String holder, String option, String value, int port) throws Exception {
        String job = holder;
        try (Experiment exp = Experiment.create("slurm-restart", tmp.resolve("exp"))) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(port, 1)).launcherOption(option, value)
                    .restart(io.smartsim.launch.spec.RestartPolicy.ON_FAILURE).build());
            exp.start(db);
            if (job == null) {
                job = db.shards().get(0).handle().get("jobId");
                jobs.add(job); // cancelled after the test whatever happens
            }
            LaunchedShard victim = db.shards().get(1);
            // Redis retitles itself "redis-server ADDRESS:PORT [cluster]"; the port is this test's own.
            List<String> server = SH.run(List.of("pgrep", "-af", "redis-server"), CMD).stdout().lines()
                    .filter(l -> l.contains(" " + victim.address() + " ")).toList();
            assertThat(server).hasSize(1);
            long pid = Long.parseLong(server.get(0).split(" ", 2)[0]);
            java.time.Instant killed = java.time.Instant.now();
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
            assertThat(types).as(exp.supervision("orchestrator").events().toString())
                    .containsExactly(Event.SHARD_DOWN, Event.RESTARTING, Event.RESTARTED, Event.REJOINED);
            List<Event> all = exp.supervision("orchestrator").events();
            System.out.printf("slurm: kill -9 -> shard-down %d ms, -> rejoined %d ms%n", Duration.between(killed,
                    all.stream().filter(e -> e.type().equals(Event.SHARD_DOWN)).findFirst().orElseThrow().time())
                    .toMillis(), Duration.between(killed, all.stream().filter(e -> e.type().equals(Event.REJOINED))
                    .findFirst().orElseThrow().time()).toMillis());
            LaunchedShard again = db.shards().get(1);
            assertThat(again.handle().get("node")).isEqualTo(victim.handle().get("node"));
            assertThat(again.address()).isEqualTo(victim.address());
            assertThat(again.handle().get("stepId")).isNotEqualTo(victim.handle().get("stepId"));
            assertThat(steps(job)).contains(job + "." + again.handle().get("stepId"));
            io.smartsim.launch.planned.Credentials cred = db.plan().auth().orElseThrow();
            io.smartsim.launch.exec.CommandResult check = SH.run(List.of("redis-cli", "--user", cred.user(),
                    "--cluster", "check", db.shards().get(0).address()), java.util.Map.of("REDISCLI_AUTH",
                    cred.password()), CMD);
            assertThat(check.exitCode()).as(check.describe()).isZero();
            assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");
            if (holder == null) {
                // Now every step the batch script started itself: once they are all gone, only the script's wait
                // loop keeps the job (and the restarted steps in it) alive.
                for (int i : List.of(0, 2)) {
                    killServerOf(db.shards().get(i));
                    awaitEvent(exp, i, Event.REJOINED);
                }
                Thread.sleep(3000);
                assertThat(steps(job)).as("restarted steps still in the job").hasSize(4); // 3 shards + the batch step
                assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");
            }
            exp.stop(db);
        }
        if (holder != null) {
            assertThat(steps(job)).containsOnly(job + ".batch");
        } else {
            assertThat(steps(job)).as("the batch job is cancelled by stop").isEmpty();
        }
    }
}
