package io.smartsim.launch.testing;

import io.smartsim.launch.status.Event;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lease tests wait on a lease's recorded expiry (the lease file's Unix time), never on a guess of how fast this
 * machine renews, starts a JVM or stops a shard (issue 21 §3):
 * <ul>
 *   <li>"the renewals kept the shards up": wait until this machine's clock has passed the expiry the shards had
 *       before the renewals ({@link #awaitPast}), then check they still serve and no guard said {@code lease-expired};</li>
 *   <li>"once nobody renews they stop": wait until they are gone with a generous deadline ({@link #goneBy}: the last
 *       expiry plus {@link #GRACE}), then check each guard acted only once that expiry had passed
 *       ({@link #assertStoppedOnlyAfter}).</li>
 * </ul>
 */
public final class LeaseWaits {
    /**
     * A guard checks its lease file every second and expiries are whole seconds: past an expiry by this much, a guard
     * that saw only that expiry has stopped its shard on a machine that is not starved.
     */
    public static final Duration GUARD_SLACK = Duration.ofSeconds(2);
    /** How long past the last expiry a test waits for the shards to be gone before it fails: generous. */
    public static final Duration GRACE = Duration.ofSeconds(60);

    private LeaseWaits() {
    }

    /** Waits until this machine's clock has passed {@code expiry} + {@link #GUARD_SLACK}; fails if not within a minute after. */
    public static void awaitPast(Instant expiry) throws InterruptedException {
        Instant t = expiry.plus(GUARD_SLACK);
        long until = System.nanoTime() + Math.max(0, Duration.between(Instant.now(), t).plus(GRACE).toNanos());
        while (!Instant.now().isAfter(t) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        assertThat(Instant.now()).as("the clock passed %s", t).isAfter(t);
    }

    /** The {@link System#nanoTime} deadline for shards whose last lease runs out at {@code expiry} to be gone. */
    public static long goneBy(Instant expiry) {
        return System.nanoTime() + Math.max(0, Duration.between(Instant.now(), expiry).plus(GRACE).toNanos());
    }

    /** Every {@code lease-expired} event among {@code events} written by a guard (one with a shard). */
    public static List<Event> guardsExpired(List<Event> events) {
        return events.stream().filter(e -> e.type().equals(Event.LEASE_EXPIRED) && e.shard().isPresent()).toList();
    }

    /** Each guard's {@code lease-expired} is at or after {@code expiry}: the shards stopped only once it ran out. */
    public static void assertStoppedOnlyAfter(List<Event> events, Instant expiry) {
        assertThat(guardsExpired(events)).as("each guard acted only once the lease it had (%s) ran out", expiry)
                .isNotEmpty().allSatisfy(e -> assertThat(e.time()).isAfterOrEqualTo(expiry));
    }
}
