package io.smartsim.launch.local;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.supervise.Lease;
import io.smartsim.launch.supervise.LeaseGuard;
import io.smartsim.launch.testing.LeaseWaits;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 7 item 5, the gap of a killed lease guard, against real redis-server processes: the watchdog (here the open
 * experiment) sees a shard's guard gone while the shard runs and starts it again, and the restarted guard still ends
 * the shard once the lease is no longer renewed.
 */
class LeaseGuardRestartIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;

    private static Optional<ProcessHandle> live(long pid) {
        return ProcessHandle.of(pid).filter(h -> h.isAlive() && !LocalLauncher.exited(h.pid()));
    }

    private static long guardPid(LaunchedShard s) {
        return Long.parseLong(s.handle().get(LeaseGuard.HANDLE_PID));
    }

    @Test
    void aKilledGuardIsStartedAgainAndStillEndsItsShardOnceTheLeaseIsNotRenewed() throws Exception {
        int base = leftovers.freeBase(3);
        Duration lease = Duration.ofSeconds(6);
        List<LaunchedShard> shards;
        long restartedGuard;
        try (Experiment exp = Experiment.create("guard", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().id("db").instancesPerNode(3).port(base)
                    .lease(lease).build());
            exp.start(db);
            LaunchedShard victim = db.shards().get(1);
            long killedGuard = guardPid(victim);
            assertThat(live(killedGuard)).isPresent();
            Instant killed = Instant.now();
            Process kill = new ProcessBuilder("kill", "-9", Long.toString(killedGuard)).start();
            assertThat(kill.waitFor()).isZero();

            long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            List<Event> events = exp.supervision("db").events();
            while (events.stream().noneMatch(e -> e.type().startsWith("guard-")) && System.nanoTime() < until) {
                Thread.sleep(50);
                events = exp.supervision("db").events();
            }
            List<Event> restarts = events.stream().filter(e -> e.type().startsWith("guard-")).toList();
            assertThat(restarts).as(events.toString()).hasSize(1);
            Event e = restarts.get(0);
            assertThat(e.type()).isEqualTo(Event.GUARD_RESTARTED);
            assertThat(e.shard()).contains(1);
            restartedGuard = guardPid(db.shards().get(1));
            assertThat(restartedGuard).isNotEqualTo(killedGuard);
            assertThat(e.detail()).isEqualTo("its lease guard (pid " + killedGuard + ") was gone while the shard (pid "
                    + victim.pid().orElseThrow() + ") runs: started it again as pid " + restartedGuard);
            System.out.printf("kill -9 of a guard -> guard-restarted %d ms%n",
                    Duration.between(killed, e.time()).toMillis());
            assertThat(live(restartedGuard)).as("the new guard runs").isPresent();
            assertThat(live(restartedGuard).orElseThrow().info().arguments().orElseThrow())
                    .containsExactly(LeaseGuard.path(db.plan()).toString(), Long.toString(victim.pid().orElseThrow()),
                            "1");
            assertThat(guardPid(exp.status("db").shards().get(1))).as("the manifest records the new guard")
                    .isEqualTo(restartedGuard);
            assertThat(db.shards().get(1).pid()).as("the shard itself was left alone").isEqualTo(victim.pid());
            Thread.sleep(1500);
            assertThat(exp.supervision("db").events().stream().filter(x -> x.type().startsWith("guard-")))
                    .as("started once, not again every check").hasSize(1);
            shards = db.shards();
            exp.detach(db); // nobody renews from here
        }
        // Nobody renews now: every shard stops once the last expiry written has passed (waited for generously).
        Instant closed = Instant.now();
        Instant last = Lease.in(dir.resolve("db")).expiry().orElseThrow();
        long until = LeaseWaits.goneBy(last);
        while (shards.stream().anyMatch(s -> live(s.pid().orElseThrow()).isPresent()) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        Duration took = Duration.between(closed, Instant.now());
        System.out.printf("every shard (one with a restarted guard) gone %d ms after the last renewal could have "
                + "been, %d ms after the last expiry%n", took.toMillis(), Duration.between(last, Instant.now()).toMillis());
        assertThat(shards).as("every shard gone once the lease ran out at %s", last).allSatisfy(s ->
                assertThat(live(s.pid().orElseThrow())).isEmpty());
        until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (live(restartedGuard).isPresent() && System.nanoTime() < until) {
            Thread.sleep(50);
        }
        assertThat(live(restartedGuard)).as("the restarted guard ended with its shard").isEmpty();
        try (Experiment exp = Experiment.reconnect(dir)) {
            List<Event> expired = exp.supervision("db").events().stream()
                    .filter(e -> e.type().equals(Event.LEASE_EXPIRED) && e.shard().isPresent()).toList();
            assertThat(expired).as("one per guard, the restarted one too").extracting(e -> e.shard().orElseThrow())
                    .containsExactlyInAnyOrder(0, 1, 2);
            assertThat(expired.stream().filter(e -> e.shard().orElseThrow() == 1).findFirst().orElseThrow().detail())
                    .contains("without being renewed");
            LeaseWaits.assertStoppedOnlyAfter(expired, last);
            assertThat(exp.status("db").state()).isEqualTo("STALE");
            exp.stop(exp.orchestrator("db"));
            assertThat(exp.status("db").state()).isEqualTo("STOPPED");
        }
    }
}
