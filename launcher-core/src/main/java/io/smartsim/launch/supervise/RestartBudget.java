package io.smartsim.launch.supervise;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * How often the watchdog may restart one shard: at most {@code max} restarts within any {@code window}. A shard
 * that dies again once its budget is spent is given up (left down; the orchestrator reports DEGRADED), so a crash
 * loop does not spin. Not thread-safe: one watchdog owns it.
 */
public final class RestartBudget {
    /** The default: 3 restarts of one shard within 10 minutes. */
    public static final int DEFAULT_MAX = 3;
    public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(10);

    private final int max;
    private final Duration window;
    private final Map<Integer, Deque<Instant>> attempts = new HashMap<>();

    public RestartBudget(int max, Duration window) {
        if (max < 1 || window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("a restart budget needs max >= 1 and a positive window, got " + max
                    + " in " + window);
        }
        this.max = max;
        this.window = window;
    }

    public static RestartBudget defaults() {
        return new RestartBudget(DEFAULT_MAX, DEFAULT_WINDOW);
    }

    /** Takes one restart of {@code shard} at {@code now} if the budget allows it; false when it is spent. */
    public boolean take(int shard, Instant now) {
        Deque<Instant> q = attempts.computeIfAbsent(shard, k -> new ArrayDeque<>());
        while (!q.isEmpty() && !q.peekFirst().isAfter(now.minus(window))) {
            q.removeFirst();
        }
        if (q.size() >= max) {
            return false;
        }
        q.addLast(now);
        return true;
    }

    /** Restarts of {@code shard} counted in the window ending at {@code now}. */
    public int used(int shard, Instant now) {
        Deque<Instant> q = attempts.getOrDefault(shard, new ArrayDeque<>());
        return (int) q.stream().filter(t -> t.isAfter(now.minus(window))).count();
    }

    public int max() {
        return max;
    }

    public Duration window() {
        return window;
    }

    /** "3 in 10m", as events and docs say it. */
    public String describe() {
        return max + " in " + io.smartsim.launch.spec.Durations.format(window);
    }
}
