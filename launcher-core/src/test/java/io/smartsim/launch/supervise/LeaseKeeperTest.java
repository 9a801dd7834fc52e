package io.smartsim.launch.supervise;

import io.smartsim.launch.status.Event;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.spi.Leasable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lease keeper's timing, driven by a clock the test moves. The launcher here is a stand-in that only records
 * the pushes it is asked for (and can be told to fail or to take time): the real pushes over SSH, under a CPU hog,
 * are in SshSupervisionIT.
 */
@Timeout(30)
class LeaseKeeperTest {
    @TempDir
    Path dir;

    private static final Duration LEASE = Duration.ofSeconds(6);
    private final MovingClock clock = new MovingClock(Instant.parse("2026-12-06T00:00:00.250Z"));

    /**
     * Records the pushes it is asked for, one group per shard (as the ssh launcher groups by host); a push costs
     * {@code takes} on the clock, fails {@code failNext} times as SshLauncher does for a lost host, and a group named
     * in {@code hold} blocks until released.
     */
    private final class Pushes implements Leasable {
        final List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());
        final List<Instant> expiries = java.util.Collections.synchronizedList(new ArrayList<>());
        final List<Instant> at = java.util.Collections.synchronizedList(new ArrayList<>());
        final List<Duration> timeouts = java.util.Collections.synchronizedList(new ArrayList<>());
        volatile Duration takes = Duration.ZERO;
        volatile int failNext;
        volatile String hold = "";
        final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Consumer<Instant> during = e -> { };

        @Override
        public Map<String, List<LaunchedShard>> leaseTargets(List<LaunchedShard> shards) {
            Map<String, List<LaunchedShard>> out = new java.util.LinkedHashMap<>();
            shards.forEach(s -> out.put(s.host(), List.of(s)));
            return out;
        }

        @Override
        public void pushLease(LaunchPlan plan, List<LaunchedShard> shards, Instant expiry, Duration timeout) {
            String host = shards.get(0).host();
            log.add(host + " " + expiry.getEpochSecond());
            at.add(clock.instant());
            timeouts.add(timeout);
            during.accept(expiry);
            if (host.equals(hold)) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            clock.advance(takes);
            if (failNext > 0) {
                failNext--;
                throw new LaunchException("host " + host + ": cannot reach (test)");
            }
            expiries.add(expiry);
        }

        @Override
        public String name() {
            return "test";
        }

        @Override
        public Placement place(OrchestratorSpec spec) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void preflight(LaunchPlan plan) {
        }

        @Override
        public List<LaunchedShard> start(LaunchPlan plan, LaunchContext context) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Map<Integer, Liveness> probe(List<LaunchedShard> shards) {
            return Map.of();
        }

        @Override
        public void stop(List<LaunchedShard> shards, Duration grace) {
        }
    }

    private static LaunchedShard shard(int i, String host) {
        return new LaunchedShard(i, "db_" + i, host, 6780, Optional.empty(), Optional.empty(), Map.of());
    }

    private LaunchPlan plan() {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").auth(false).lease(LEASE).build();
        return Planner.plan("demo", dir, spec, new Placement(List.of(new Placement.Node("localhost",
                List.of("127.0.0.1")))), Optional.empty());
    }

    /** A keeper whose pushes run inline, on the tick's thread, to one host. */
    private LeaseKeeper keeper(LaunchPlan plan, Leasable launcher, boolean[] alive) {
        Lease.in(plan.dir()).renew(LEASE, clock.instant()); // as a start writes it, before the first shard
        return new LeaseKeeper(plan, launcher, () -> List.of(shard(0, "h1")), () -> alive[0], clock, Runnable::run);
    }

    /** One tick now; the clock then moves to when the keeper looks again (never back: a push may have moved it). */
    private void step(LeaseKeeper k) {
        Instant next = k.tick(clock.instant()).orElseThrow();
        if (next.isAfter(clock.instant())) {
            clock.set(next);
        }
    }

    private List<Event> events(LaunchPlan plan, String type) {
        return EventLog.in(plan.dir()).read().stream().filter(e -> e.type().equals(type)).toList();
    }

    @Test
    void renewsEveryThirdOfTheLeaseOnScheduleHoweverLongThePushesTake() {
        LaunchPlan plan = plan();
        Pushes pushes = new Pushes();
        pushes.takes = Duration.ofMillis(1500); // a slow push: the period must not stretch by it
        LeaseKeeper k = keeper(plan, pushes, new boolean[] {true});
        Instant t0 = clock.instant();
        for (int i = 0; i < 4; i++) {
            step(k);
        }
        assertThat(pushes.at).containsExactly(t0, t0.plusSeconds(2), t0.plusSeconds(4), t0.plusSeconds(6));
        // Each push carries the file's new expiry: the renewal's start + the lease, rounded up to a second.
        assertThat(pushes.expiries.get(1)).isEqualTo(Instant.ofEpochSecond(t0.plusSeconds(2 + 6).getEpochSecond() + 1));
        assertThat(Lease.in(plan.dir()).expiry()).contains(pushes.expiries.get(3));
        assertThat(k.renewals()).isEqualTo(4);
        assertThat(k.pushed()).isEqualTo(4);
        assertThat(pushes.timeouts).as("a push may take up to the lease").containsOnly(LEASE);
        assertThat(events(plan, Event.LEASE_RENEWAL_LATE)).as("1.5 s pushes leave 2.5 s or more: not late").isEmpty();
    }

    @Test
    void aFailedPushIsTriedAgainAfterHalfASecondAndANewerExpiryGoesAtOnce() {
        LaunchPlan plan = plan();
        Pushes pushes = new Pushes();
        LeaseKeeper k = keeper(plan, pushes, new boolean[] {true});
        Instant t0 = clock.instant();
        step(k); // renewed at t0; next at t0 + 2 s
        pushes.failNext = 3;
        pushes.takes = Duration.ofMillis(400);
        for (int i = 0; i < 4; i++) {
            step(k);
        }
        // Due at t0+2 s; each failure (0.4 s) is tried again 0.5 s after it ended, until the renewal due at t0+4 s
        // (done as soon as the third failure has returned, at t0+4.2 s) brings a newer expiry, which goes at once.
        assertThat(pushes.at).containsExactly(t0, t0.plusMillis(2000), t0.plusMillis(2900), t0.plusMillis(3800),
                t0.plusMillis(4200));
        long e2 = t0.plusSeconds(2 + 6).getEpochSecond() + 1;
        long e4 = t0.plusMillis(4200 + 6000).getEpochSecond() + 1;
        assertThat(pushes.log).containsExactly("h1 " + (t0.plusSeconds(6).getEpochSecond() + 1), "h1 " + e2,
                "h1 " + e2, "h1 " + e2, "h1 " + e4);
        assertThat(events(plan, Event.LEASE_PUSH_FAILED)).hasSize(3)
                .allSatisfy(e -> assertThat(e.detail()).contains("host h1: cannot reach").contains("tried again in"));
        List<Event> late = events(plan, Event.LEASE_RENEWAL_LATE);
        assertThat(late).as("reached the host after failed tries").hasSize(1);
        assertThat(late.get(0).detail()).contains("after failed tries").contains("lease 6s, renewed every 2s");
    }

    @Test
    void aPushThatReachesItsHostsWithLessThanAThirdLeftIsLate() {
        LaunchPlan plan = plan();
        Pushes pushes = new Pushes();
        LeaseKeeper k = keeper(plan, pushes, new boolean[] {true});
        Instant t0 = clock.instant();
        step(k);
        Instant hosts = pushes.expiries.get(0); // t0 + 6 s, rounded up: 6.75 s from t0
        pushes.takes = Duration.ofMillis(3000); // done at t0 + 5 s: 1.75 s left of the hosts' expiry, under 2 s
        step(k);
        List<Event> late = events(plan, Event.LEASE_RENEWAL_LATE);
        assertThat(late).hasSize(1);
        assertThat(late.get(0).detail()).contains("1.8 s before the previous expiry").contains("this push took 3.0 s");
        assertThat(Duration.between(t0.plusSeconds(5), hosts)).isEqualTo(Duration.ofMillis(1750));
        // Said at most once a minute.
        for (int i = 0; i < 3; i++) {
            step(k);
        }
        assertThat(events(plan, Event.LEASE_RENEWAL_LATE)).hasSize(1);
        clock.advance(Duration.ofMinutes(1));
        // Long past the expiry now: nothing is renewed any more.
        assertThat(k.tick(clock.instant())).isEmpty();
    }

    @Test
    void nothingIsRenewedWhileTheControllerIsGoneNorOnceTheLeaseHasRunOut() {
        LaunchPlan plan = plan();
        Pushes pushes = new Pushes();
        boolean[] alive = {false};
        LeaseKeeper k = keeper(plan, pushes, alive);
        Instant t0 = clock.instant();
        assertThat(k.tick(t0)).contains(t0.plusSeconds(1));
        assertThat(pushes.at).isEmpty();
        alive[0] = true;
        clock.set(t0.plusSeconds(1));
        k.tick(clock.instant());
        assertThat(pushes.at).containsExactly(t0.plusSeconds(1));
        alive[0] = false;
        clock.set(Lease.in(plan.dir()).expiry().orElseThrow());
        assertThat(k.tick(clock.instant())).as("run out: the guards are stopping the shards").isEmpty();
        alive[0] = true;
        assertThat(k.tick(clock.instant())).isEmpty();
        assertThat(pushes.at).hasSize(1);
    }

    /** Two hosts, one hung: the other still gets every renewal; the hung one gets the newest expiry once it answers. */
    @Test
    void aHungHostHoldsBackNoOtherHost() throws Exception {
        LaunchPlan plan = plan();
        Pushes pushes = new Pushes();
        pushes.hold = "h1";
        Lease.in(plan.dir()).renew(LEASE, clock.instant());
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newCachedThreadPool();
        try {
            LeaseKeeper k = new LeaseKeeper(plan, pushes, () -> List.of(shard(0, "h1"), shard(1, "h2")), () -> true,
                    clock, pool);
            Instant t0 = clock.instant();
            long e0 = t0.plusSeconds(6).getEpochSecond() + 1;
            long e2 = t0.plusSeconds(2 + 6).getEpochSecond() + 1;
            long e4 = t0.plusSeconds(4 + 6).getEpochSecond() + 1;
            k.tick(t0);
            awaitPushed(k, 1);
            clock.set(t0.plusSeconds(2));
            k.tick(clock.instant());
            awaitPushed(k, 2);
            clock.set(t0.plusSeconds(4));
            k.tick(clock.instant());
            awaitPushed(k, 3);
            assertThat(pushes.log).as("h2 renewed on schedule while h1 hangs").containsSubsequence("h2 " + e0,
                    "h2 " + e2, "h2 " + e4).filteredOn(l -> l.startsWith("h1")).containsExactly("h1 " + e0);
            pushes.release.countDown();
            awaitPushed(k, 4); // h1's first push returns
            k.tick(clock.instant());
            awaitPushed(k, 5);
            assertThat(pushes.log).filteredOn(l -> l.startsWith("h1")).as("then the newest expiry, not the ones missed")
                    .containsExactly("h1 " + e0, "h1 " + e4);
        } finally {
            pushes.release.countDown();
            pool.shutdownNow();
        }
    }

    private static void awaitPushed(LeaseKeeper k, int n) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (k.pushed() < n && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(k.pushed()).isGreaterThanOrEqualTo(n);
    }

    /** The thread: renews on its own until closed, and close ends it. */
    @Test
    void theThreadRenewsUntilClosed() throws Exception {
        LaunchPlan plan = plan();
        Pushes pushes = new Pushes();
        java.util.concurrent.CountDownLatch two = new java.util.concurrent.CountDownLatch(2);
        pushes.during = e -> two.countDown();
        Supervision.prepare(plan);
        LeaseKeeper k = new LeaseKeeper(plan, pushes, () -> List.of(shard(0, "h1")), () -> true,
                Clock.systemUTC()).start();
        try {
            assertThat(two.await(20, java.util.concurrent.TimeUnit.SECONDS)).as("two renewals").isTrue();
        } finally {
            k.close();
        }
        int n = k.renewals();
        assertThat(n).isGreaterThanOrEqualTo(2);
        assertThat(k.tick(Instant.now())).as("closed: not renewed, only the due time given").isPresent();
        assertThat(k.renewals()).isEqualTo(n);
    }

    /** A clock the test moves. */
    private static final class MovingClock extends Clock {
        private volatile Instant now;

        MovingClock(Instant start) {
            now = start;
        }

        void set(Instant t) {
            now = t;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }
}
