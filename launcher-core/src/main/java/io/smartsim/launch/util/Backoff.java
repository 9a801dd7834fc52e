package io.smartsim.launch.util;

import java.time.Duration;

/** Growing pauses between polls of a condition, bounded by a deadline. Interrupts propagate. */
public final class Backoff {
    private final Deadline deadline;
    private final long maxMillis;
    private long nextMillis;

    public Backoff(Deadline deadline, Duration first, Duration max) {
        this.deadline = deadline;
        this.nextMillis = Math.max(1, first.toMillis());
        this.maxMillis = Math.max(nextMillis, max.toMillis());
    }

    /** Pauses before the next poll; false when the deadline has passed. */
    public boolean pause() throws InterruptedException {
        if (deadline.expired()) {
            return false;
        }
        long ms = Math.min(nextMillis, deadline.remaining().toMillis());
        if (ms > 0) {
            Thread.sleep(ms);
        }
        nextMillis = Math.min(maxMillis, nextMillis * 2);
        return !deadline.expired();
    }
}
