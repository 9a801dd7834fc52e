package io.smartsim.launch.util;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/** A point in time every step of one operation shares. The clock is injectable so tests can drive it. */
public record Deadline(Instant at, Clock clock, Duration budget) {

    public static Deadline after(Duration budget) {
        return after(budget, Clock.systemUTC());
    }

    public static Deadline after(Duration budget, Clock clock) {
        return new Deadline(clock.instant().plus(budget), clock, budget);
    }

    public Duration remaining() {
        Duration d = Duration.between(clock.instant(), at);
        return d.isNegative() ? Duration.ZERO : d;
    }

    public boolean expired() {
        return !clock.instant().isBefore(at);
    }

    /** The smaller of {@code cap} and what remains, at least 1 ms: a bound for one blocking call. */
    public int capMillis(Duration cap) {
        long ms = Math.min(cap.toMillis(), remaining().toMillis());
        return (int) Math.max(1, ms);
    }
}
