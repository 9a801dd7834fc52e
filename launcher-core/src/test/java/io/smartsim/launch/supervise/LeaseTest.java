package io.smartsim.launch.supervise;

import io.smartsim.launch.status.Event;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.testing.Golden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class LeaseTest {
    @TempDir
    Path dir;

    @Test
    void renewWritesTheExpiryInWholeSecondsRoundedUp() throws Exception {
        Lease lease = Lease.in(dir.resolve("db"));
        assertThat(lease.expiry()).isEmpty();
        assertThat(lease.expired(Instant.now())).as("no lease file: run out").isTrue();
        Instant now = Instant.parse("2026-11-25T21:00:00.400Z");
        Instant expiry = lease.renew(Duration.ofSeconds(6), now);
        assertThat(expiry).isEqualTo(Instant.parse("2026-11-25T21:00:07Z"));
        assertThat(Files.readString(lease.file())).isEqualTo(expiry.getEpochSecond() + "\n");
        assertThat(lease.expiry()).contains(expiry);
        assertThat(lease.expired(expiry.minusMillis(1))).isFalse();
        assertThat(lease.expired(expiry)).isTrue();
    }

    @Test
    void renewEveryIsAThirdOfTheLeaseAtMostAMinute() {
        assertThat(Supervisor.renewEvery(Duration.ofSeconds(6))).isEqualTo(Duration.ofSeconds(2));
        assertThat(Supervisor.renewEvery(Duration.ofHours(1))).isEqualTo(Duration.ofMinutes(1));
    }

    private LaunchPlan plan(Path expDir, Duration lease) {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").auth(false).lease(lease).build();
        return Planner.plan("demo", expDir, spec, new Placement(List.of(new Placement.Node("localhost",
                List.of("127.0.0.1")))), Optional.empty());
    }

    @Test
    void guardScriptGolden() {
        Golden.assertMatches(LeaseGuard.render(plan(Path.of("/exp"), Duration.ofMinutes(10))), "lease-guard.sh");
        assertThat(LeaseGuard.argv(plan(Path.of("/exp"), Duration.ofMinutes(10)), 42, 1))
                .containsExactly("/bin/bash", "/exp/db/lease-guard.sh", "42", "1");
    }

    /** The rendered guard run by bash against a real process: kept alive while renewed, stopped once run out. */
    @Test
    void theGuardStopsItsProcessOnceTheLeaseRunsOutAndSaysWhy() throws Exception {
        LaunchPlan plan = plan(dir, Duration.ofSeconds(5));
        Files.createDirectories(plan.dir());
        Files.writeString(LeaseGuard.path(plan), LeaseGuard.render(plan));
        Lease lease = Lease.in(plan.dir());
        lease.renew(Duration.ofSeconds(5), Instant.now());
        Process victim = new ProcessBuilder("sleep", "300").start();
        Process guard = new ProcessBuilder(LeaseGuard.argv(plan, victim.pid(), 0)).redirectErrorStream(true).start();
        try {
            assertThat(victim.waitFor(1500, TimeUnit.MILLISECONDS)).as("alive while the lease runs").isFalse();
            Files.writeString(lease.file(), (Instant.now().getEpochSecond() - 1) + "\n");
            assertThat(victim.waitFor(3, TimeUnit.SECONDS)).as("stopped within a poll of the lease running out")
                    .isTrue();
            assertThat(victim.exitValue()).as("SIGTERM").isEqualTo(128 + 15);
            assertThat(guard.waitFor(3, TimeUnit.SECONDS)).as("the guard exits with its shard").isTrue();
            List<Event> events = EventLog.in(plan.dir()).read();
            assertThat(events).hasSize(1);
            assertThat(events.get(0).type()).isEqualTo(Event.LEASE_EXPIRED);
            assertThat(events.get(0).shard()).contains(0);
            assertThat(events.get(0).detail()).contains("without being renewed").contains("pid " + victim.pid());
        } finally {
            victim.destroyForcibly();
            guard.destroyForcibly();
        }
    }

    @Test
    void removingTheLeaseFileRevokesIt() throws Exception {
        LaunchPlan plan = plan(dir, Duration.ofSeconds(5));
        Files.createDirectories(plan.dir());
        Files.writeString(LeaseGuard.path(plan), LeaseGuard.render(plan));
        Lease.in(plan.dir()).renew(Duration.ofMinutes(5), Instant.now());
        Process victim = new ProcessBuilder("sleep", "300").start();
        Process guard = new ProcessBuilder(LeaseGuard.argv(plan, victim.pid(), 3)).start();
        try {
            assertThat(victim.waitFor(1200, TimeUnit.MILLISECONDS)).isFalse();
            Files.delete(Lease.in(plan.dir()).file());
            assertThat(victim.waitFor(3, TimeUnit.SECONDS)).isTrue();
            assertThat(guard.waitFor(3, TimeUnit.SECONDS)).isTrue();
            assertThat(EventLog.in(plan.dir()).read().get(0).detail()).contains("was removed");
        } finally {
            victim.destroyForcibly();
            guard.destroyForcibly();
        }
    }

    /**
     * A push as a host's sh runs it (here through the local runner, the same command): a missing file and its missing
     * directory get the expiry; a later expiry already there is kept (a push that lands late never takes a renewal
     * back); an earlier one, or no number at all, is replaced; no temporary file is left.
     */
    @Test
    void aPushNeverReplacesALaterExpiry() {
        Lease lease = new Lease(dir.resolve("new dir/db/lease"));
        io.smartsim.launch.exec.LocalCommandRunner sh = new io.smartsim.launch.exec.LocalCommandRunner();
        Duration t = Duration.ofSeconds(10);
        lease.push(sh, Instant.ofEpochSecond(1_800_000_010L), t);
        assertThat(lease.expiry()).contains(Instant.ofEpochSecond(1_800_000_010L));
        assertThat(sh.run(Lease.pushCommand(lease.file(), Instant.ofEpochSecond(1_800_000_004L)), t).stdout())
                .as("an older expiry landing late").isEqualTo("kept\n");
        lease.push(sh, Instant.ofEpochSecond(1_800_000_010L), t);
        assertThat(lease.expiry()).contains(Instant.ofEpochSecond(1_800_000_010L));
        lease.push(sh, Instant.ofEpochSecond(1_800_000_016L), t);
        assertThat(lease.expiry()).contains(Instant.ofEpochSecond(1_800_000_016L));
        for (String notANumber : List.of("", "17x\n")) {
            try {
                Files.writeString(lease.file(), notANumber);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            lease.push(sh, Instant.ofEpochSecond(1_800_000_020L), t);
            assertThat(lease.expiry()).as("after %s", notANumber).contains(Instant.ofEpochSecond(1_800_000_020L));
        }
        assertThat(lease.file().getParent().toFile().list()).as("no temporary file left").containsExactly("lease");
    }
}
