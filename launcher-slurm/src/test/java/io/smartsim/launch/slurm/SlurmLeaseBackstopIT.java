package io.smartsim.launch.slurm;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.supervise.Lease;
import io.smartsim.launch.supervise.Supervisor;
import io.smartsim.launch.testing.LeaseWaits;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * On Slurm the lease guard runs inside the shard's step, where the watchdog cannot see it: a guard killed on the node
 * is not started again. The watchdog's backstop still ends that shard once the lease has run out: it cancels the step
 * itself ({@code lease-enforced}). The watchdog here is the one {@code db watch} runs, built directly with a backstop
 * of 3 s instead of 75 s and a controller that is gone (it renews nothing).
 */
@TestbedLock(TestbedLock.Bed.SLURM)
class SlurmLeaseBackstopIT {
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
        // Then the Leftovers check: shards and lease guards (their command line names this test's directory).
    }

    private List<String> ofThisTest(String what) {
        return SH.run(List.of("pgrep", "-af", what), CMD).stdout().lines().filter(l -> l.contains(tmp.toString()))
                .toList();
    }

    @Test
    void aShardWhoseGuardWasKilledInsideItsStepIsStoppedByTheWatchdogOnceTheLeaseHasRunOut() throws Exception {
        String job = HolderJobs.hold3("slurm-backstop-it", jobs::add);
        Duration lease = Duration.ofSeconds(6);
        List<LaunchedShard> shards;
        LaunchPlan plan;
        try (Experiment exp = Experiment.create("slurm-backstop", tmp.resolve("exp"))) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(13900, 1))
                    .launcherOption("alloc", job).lease(lease).build());
            exp.start(db);
            shards = db.shards();
            plan = db.plan();
            // The guard of shard 1, inside its step (/bin/bash .../lease-guard.sh PID 1), killed while this experiment
            // still renews: however slow the machine, the lease cannot run out before the kill.
            List<String> guard = ofThisTest("lease-guard").stream().filter(l -> l.endsWith(" 1")).toList();
            assertThat(guard).hasSize(1);
            String guardPid = guard.get(0).substring(0, guard.get(0).indexOf(' '));
            assertThat(SH.run(List.of("kill", "-9", guardPid), CMD).ok()).isTrue();
            assertThat(LeaseWaits.guardsExpired(exp.supervision("orchestrator").events())).isEmpty();
            exp.detach(db); // its watchdog ends; the one below takes over, without renewing
        }
        Instant last = Lease.in(plan.dir()).expiry().orElseThrow(); // nobody renews after this

        SlurmLauncher slurm = new SlurmLauncher();
        Supervisor watchdog = new Supervisor(plan, slurm, new Supervisor.Owner(() -> shards, s -> { }, () -> false,
                () -> true), Supervisor.Settings.defaults().withLeaseBackstop(Duration.ofSeconds(3)),
                Clock.systemUTC()).start();
        Instant t0 = Instant.now();
        try {
            long until = LeaseWaits.goneBy(last.plusSeconds(3)); // the backstop acts 3 s after the lease ran out
            while (slurm.probe(shards).values().stream().anyMatch(l -> l != Liveness.GONE)
                    && System.nanoTime() < until) {
                Thread.sleep(250);
            }
            System.out.printf("slurm: every step gone %d ms after the last renewal, one by the backstop%n",
                    Duration.between(t0, Instant.now()).toMillis());
            assertThat(slurm.probe(shards).values()).containsOnly(Liveness.GONE);
            // It ends by itself: the lease ran out and every shard has stopped. Bounded, so a watchdog that never
            // ends fails here rather than hanging the build.
            assertThat(java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    watchdog.join();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            })).as("the watchdog thread ends by itself").succeedsWithin(Duration.ofSeconds(60));
        } finally {
            watchdog.close();
        }
        try (Experiment exp = Experiment.reconnect(tmp.resolve("exp"))) {
            List<Event> events = exp.supervision("orchestrator").events();
            assertThat(events.stream().filter(e -> e.type().equals(Event.LEASE_EXPIRED) && e.shard().isPresent())
                    .map(e -> e.shard().get()).toList()).as(events.toString()).containsExactlyInAnyOrder(0, 2);
            List<Event> enforced = events.stream().filter(e -> e.type().equals(Event.LEASE_ENFORCED)).toList();
            assertThat(enforced).as(events.toString()).hasSize(1);
            assertThat(enforced.get(0).shard()).contains(1);
            assertThat(enforced.get(0).detail()).contains("after the lease ran out").contains("the watchdog stops it");
            assertThat(enforced.get(0).time()).as("the backstop acted 3 s after the lease ran out at %s", last)
                    .isAfterOrEqualTo(last.plusSeconds(3));
            LeaseWaits.assertStoppedOnlyAfter(events, last);
            assertThat(events.get(events.size() - 1).type()).isEqualTo(Event.WATCHDOG_EXIT);
            assertThat(events.get(events.size() - 1).detail()).isEqualTo("the lease ran out and every shard has stopped");
            exp.stop(exp.orchestrator("orchestrator"));
        }
    }
}
