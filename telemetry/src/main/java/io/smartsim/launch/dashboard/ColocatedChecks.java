package io.smartsim.launch.dashboard;

import io.smartsim.launch.status.ColocatedNode;
import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.colocated.ColocatedStatus;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The dashboard's checks of the models' colocated databases ({@link ColocatedStatus#nodes}: one PING per node, each
 * up to its timeout when a server hangs), run off the refresh thread: at most one at a time per model, the models'
 * concurrently, each on a thread of its own. {@link #poll} never waits: it gives the last result with its time and
 * whether a check runs now (starting one when none does), so one hung node delays neither the page's refresh nor the
 * other models' checks.
 */
final class ColocatedChecks implements AutoCloseable {
    /**
     * A model's last finished check and the one running now.
     *
     * @param nodes    what the last finished check found (empty before the first)
     * @param checked  when that check finished; null before the first
     * @param checkingSince since when the check running now runs; null when none does
     */
    record Check(List<ColocatedNode> nodes, Instant checked, Instant checkingSince) {
        Check {
            nodes = List.copyOf(nodes);
        }

        static final Check NONE = new Check(List.of(), null, null);
    }

    private final Function<ColocatedPlan, List<ColocatedNode>> check;
    private final ExecutorService threads;
    private final Map<String, Check> checks = new ConcurrentHashMap<>();

    ColocatedChecks() {
        this(ColocatedStatus::nodes);
    }

    ColocatedChecks(Function<ColocatedPlan, List<ColocatedNode>> check) {
        this.check = check;
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "dashboard-colocated");
            t.setDaemon(true);
            return t;
        });
    }

    /** The last check of {@code model}'s databases; starts the next one unless one runs. Never waits. */
    Check poll(String model, ColocatedPlan plan) {
        Instant now = Instant.now();
        boolean[] start = {false};
        Check before = checks.compute(model, (k, c) -> {
            if (c != null && c.checkingSince() != null) {
                return c; // one runs: its result comes when it ends
            }
            start[0] = true;
            return c == null ? new Check(List.of(), null, now) : new Check(c.nodes(), c.checked(), now);
        });
        if (start[0]) {
            try {
                threads.execute(() -> run(model, plan));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                checks.computeIfPresent(model, (k, c) -> new Check(c.nodes(), c.checked(), null)); // closed
            }
        }
        return before;
    }

    private void run(String model, ColocatedPlan plan) {
        List<ColocatedNode> nodes;
        try {
            nodes = check.apply(plan);
        } catch (RuntimeException e) {
            checks.computeIfPresent(model, (k, c) -> new Check(c.nodes(), c.checked(), null)); // next poll tries again
            return;
        }
        Instant done = Instant.now();
        checks.put(model, new Check(nodes, done, null));
    }

    /**
     * Starts a check of each model in {@code plans} and waits, at most {@code limit}, until each has finished one:
     * for the first page, so that it shows what the servers say rather than "checking".
     */
    void awaitFirst(Map<String, ColocatedPlan> plans, Duration limit) throws InterruptedException {
        plans.forEach(this::poll);
        long end = System.nanoTime() + limit.toNanos();
        for (String model : plans.keySet()) {
            while (checks.getOrDefault(model, Check.NONE).checked() == null && System.nanoTime() < end) {
                TimeUnit.MILLISECONDS.sleep(10);
            }
        }
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }
}
