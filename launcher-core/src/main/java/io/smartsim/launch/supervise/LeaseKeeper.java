package io.smartsim.launch.supervise;

import io.smartsim.launch.status.Event;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Leasable;
import io.smartsim.launch.spec.Durations;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Renews one orchestrator's lease ({@code --lease}) on a thread of its own, from the moment the lease is first written
 * (before the first shard starts) until it is closed, its controller has gone, or the lease has run out.
 *
 * <p>Apart from the watchdog's checks on purpose: a probe over SSH, a guard check or a restart that waits for a shard
 * to rejoin can take longer than a short lease, and a renewal must not wait behind them. The rule, all relative to
 * the lease:
 * <ul>
 *   <li>the file here is renewed every {@link #renewEvery third of the lease} (at most every minute), on schedule,
 *       however long the pushes to the hosts take;</li>
 *   <li>each group of hosts the launcher names ({@link Leasable#leaseTargets}: one per SSH host) gets the new expiry
 *       on its own lane, side by side: a slow or hung host delays no other host's renewal. A lane still pushing when a
 *       newer expiry comes pushes the newest one next (never an older one after a newer);</li>
 *   <li>a push that failed is tried again after {@link #RETRY}, not a period later; a push may take up to the lease
 *       (at most {@link #PUSH_TIMEOUT_CAP}): a busy host is waited for, a hung one given up;</li>
 *   <li>a push that reached its hosts with less than a third of the lease left on the expiry they had is
 *       {@link Event#LEASE_RENEWAL_LATE late}: said in the events log (at most once a minute, with a count), since it
 *       means the machine or the hosts are slow enough that a longer lease is needed.</li>
 * </ul>
 * {@link #tick} is a function of the clock, the launcher and the lease file; tests drive it with pushes run inline.
 */
public final class LeaseKeeper implements AutoCloseable {
    /** How soon a push that failed is tried again. */
    public static final Duration RETRY = Duration.ofMillis(500);
    /** The longest a push to one group of hosts may take, however long the lease. */
    static final Duration PUSH_TIMEOUT_CAP = Duration.ofSeconds(30);
    /** Late renewals are said at most this often (the rest are counted into the next note). */
    static final Duration LATE_NOTE_EVERY = Duration.ofMinutes(1);

    private final LaunchPlan plan;
    private final Leasable launcher;
    private final Duration lease;
    private final Lease file;
    private final EventLog events;
    private final Clock clock;
    /** Runs the lanes' pushes; inline in tests. */
    private final java.util.concurrent.Executor pushes;
    private final ExecutorService pool;
    private volatile Supplier<List<LaunchedShard>> shards;
    private volatile BooleanSupplier controllerAlive;
    private volatile boolean closed;
    private volatile Thread thread;
    /** What the renewing thread waits on between ticks ({@link #close} and finished pushes wake it). */
    private final Object wake = new Object();

    /** When the next renewal of the file here is due. */
    private Instant due;
    private final Map<String, Lane> lanes = new LinkedHashMap<>();
    private Instant lastLateNote = Instant.EPOCH;
    private int lateUnsaid;
    private int renewals;
    private int pushed;

    /**
     * @param shards          the shards whose hosts get each renewal (the ones started so far, during a start)
     * @param controllerAlive whether to renew at all; once false nothing is renewed until it is true again
     */
    public LeaseKeeper(LaunchPlan plan, Leasable launcher, Supplier<List<LaunchedShard>> shards,
                       BooleanSupplier controllerAlive, Clock clock) {
        this(plan, launcher, shards, controllerAlive, clock, null);
    }

    /** As above, with {@code pushes} running the lanes' pushes (null: threads of its own). */
    LeaseKeeper(LaunchPlan plan, Leasable launcher, Supplier<List<LaunchedShard>> shards,
                BooleanSupplier controllerAlive, Clock clock, java.util.concurrent.Executor pushes) {
        this.lease = plan.spec().lease().orElseThrow(() -> new IllegalArgumentException("orchestrator '" + plan.id()
                + "' has no lease; nothing to keep"));
        this.plan = plan;
        this.launcher = launcher;
        this.shards = shards;
        this.controllerAlive = controllerAlive;
        this.clock = clock;
        this.file = Lease.in(plan.dir());
        this.events = EventLog.in(plan.dir());
        this.due = clock.instant();
        if (pushes == null) {
            this.pool = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "smartsim-launch-lease-push-" + plan.id());
                t.setDaemon(true);
                return t;
            });
            this.pushes = pool;
        } else {
            this.pool = null;
            this.pushes = pushes;
        }
    }

    /** A third of the lease (at most a minute): two renewals can fail before the shards stop. */
    public static Duration renewEvery(Duration lease) {
        Duration third = lease.dividedBy(3);
        return third.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : third;
    }

    /** From now on, pushes go to these shards' hosts and renewals follow this controller (the watchdog's view). */
    public void follow(Supplier<List<LaunchedShard>> shards, BooleanSupplier controllerAlive) {
        this.shards = shards;
        this.controllerAlive = controllerAlive;
    }

    /** Renews on a daemon thread of its own until {@link #close}. */
    public synchronized LeaseKeeper start() {
        if (thread == null) {
            Thread t = new Thread(this::run, "smartsim-launch-lease-" + plan.id());
            t.setDaemon(true);
            thread = t;
            t.start();
        }
        return this;
    }

    private void run() {
        try {
            while (!closed) {
                Optional<Instant> next = tick(clock.instant());
                if (next.isEmpty()) {
                    return; // the lease has run out: renewing now would bring back what the guards are stopping
                }
                long ms = Math.max(1, Duration.between(clock.instant(), next.get()).toMillis());
                synchronized (wake) {
                    if (!closed) {
                        wake.wait(Math.min(ms, 1000)); // at least every second: the controller may come and go
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * One step at {@code now}: renews the file here when due (and the controller lives), hands the new expiry to every
     * lane, and starts the pushes that are ready; returns when to look again, or empty once the lease has run out.
     */
    synchronized Optional<Instant> tick(Instant now) {
        if (file.expired(now)) {
            return Optional.empty();
        }
        if (closed) {
            return Optional.of(due);
        }
        if (!now.isBefore(due)) {
            if (controllerAlive.getAsBoolean()) {
                try {
                    Instant expiry = file.renew(lease, now);
                    renewals++;
                    due = now.plus(renewEvery(lease));
                    for (Map.Entry<String, List<LaunchedShard>> g : launcher.leaseTargets(shards.get()).entrySet()) {
                        lanes.computeIfAbsent(g.getKey(), k -> new Lane()).offer(expiry, g.getValue());
                    }
                } catch (LaunchException e) { // the file here could not be written
                    events.append(Event.of(plan.id(), Event.LEASE_PUSH_FAILED, e.getMessage() + " (tried again in "
                            + Durations.format(RETRY) + ")"));
                    due = now.plus(RETRY);
                }
            } else {
                due = now.plusSeconds(1);
            }
        }
        Instant next = due;
        for (Lane lane : lanes.values()) {
            Optional<Instant> ready = lane.readyAt();
            if (ready.isPresent() && !now.isBefore(ready.get())) {
                lane.push();
            }
            ready = lane.readyAt();
            if (ready.isPresent() && ready.get().isBefore(next)) {
                next = ready.get().isAfter(now) ? ready.get() : now.plusMillis(10);
            }
        }
        return Optional.of(next);
    }

    /**
     * One group of hosts ({@link Leasable#leaseTargets}): the newest expiry still to push, at most one push at a time,
     * and what its hosts are known to have.
     */
    private final class Lane {
        private Instant pending;
        private List<LaunchedShard> targets = List.of();
        private boolean busy;
        private Instant retryAt;
        private boolean failing;
        /** The expiry its hosts are known to have: the last push that got through (none yet: not judged late). */
        private Instant hostsExpiry;

        void offer(Instant expiry, List<LaunchedShard> to) {
            synchronized (this) {
                pending = expiry;
                targets = List.copyOf(to);
                retryAt = null; // a new expiry goes at once, even while the last one waits for its retry
            }
        }

        /** When a push can start: empty while one runs or when there is nothing to push. */
        synchronized Optional<Instant> readyAt() {
            if (busy || pending == null) {
                return Optional.empty();
            }
            return Optional.of(retryAt == null ? Instant.MIN : retryAt);
        }

        void push() {
            Instant e;
            List<LaunchedShard> to;
            synchronized (this) {
                e = pending;
                to = targets;
                pending = null;
                busy = true;
            }
            Runnable work = () -> pushNow(e, to);
            try {
                pushes.execute(work);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                synchronized (this) {
                    busy = false;
                }
            }
        }

        private void pushNow(Instant expiry, List<LaunchedShard> to) {
            Instant t0 = clock.instant();
            Duration timeout = lease.compareTo(PUSH_TIMEOUT_CAP) > 0 ? PUSH_TIMEOUT_CAP : lease;
            LaunchException failed = null;
            try {
                launcher.pushLease(plan, to, expiry, timeout);
            } catch (LaunchException ex) {
                failed = ex;
            }
            Instant done = clock.instant();
            if (failed != null) {
                // Those hosts keep the expiry they had: their shards stop then unless a retry gets through.
                events.append(Event.of(plan.id(), Event.LEASE_PUSH_FAILED, failed.getMessage() + " (tried again in "
                        + Durations.format(RETRY) + ")"));
                synchronized (this) {
                    failing = true;
                    if (pending == null) {
                        pending = expiry;
                    }
                    retryAt = done.plus(RETRY);
                    busy = false;
                }
            } else {
                Instant before;
                boolean afterFailures;
                synchronized (this) {
                    before = hostsExpiry;
                    afterFailures = failing;
                    failing = false;
                    if (hostsExpiry == null || expiry.isAfter(hostsExpiry)) {
                        hostsExpiry = expiry;
                    }
                    busy = false;
                }
                if (before != null) {
                    Duration left = Duration.between(done, before);
                    if (left.compareTo(lease.dividedBy(3)) < 0 || afterFailures) {
                        late(left, Duration.between(t0, done), afterFailures, done);
                    }
                }
                synchronized (LeaseKeeper.this.wake) {
                    pushed++;
                }
            }
            synchronized (wake) {
                wake.notifyAll(); // a newer expiry or a retry may be waiting for this lane
            }
        }
    }

    private void late(Duration left, Duration took, boolean afterFailures, Instant now) {
        String note;
        synchronized (wake) {
            lateUnsaid++;
            if (now.isBefore(lastLateNote.plus(LATE_NOTE_EVERY))) {
                return;
            }
            String more = lateUnsaid > 1 ? " (" + lateUnsaid + " late renewals since the last note)" : "";
            note = String.format("a renewal reached its hosts %.1f s before the previous expiry%s (lease %s, renewed "
                            + "every %s; this push took %.1f s): the machine or the hosts are slow, a longer lease "
                            + "leaves more margin%s", left.toMillis() / 1000.0,
                    afterFailures ? ", after failed tries" : "", Durations.format(lease),
                    Durations.format(renewEvery(lease)), took.toMillis() / 1000.0, more);
            lastLateNote = now;
            lateUnsaid = 0;
        }
        events.append(Event.of(plan.id(), Event.LEASE_RENEWAL_LATE, note));
    }

    /** How many times the file here has been renewed. */
    public synchronized int renewals() {
        return renewals;
    }

    /** How many pushes (one per group of hosts) have got through. */
    public int pushed() {
        synchronized (wake) {
            return pushed;
        }
    }

    /** Stops renewing and waits (bounded) for the pushes under way. Safe to call twice. */
    @Override
    public void close() {
        closed = true;
        synchronized (wake) {
            wake.notifyAll();
        }
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (pool != null) {
            pool.shutdown();
            try {
                pool.awaitTermination(PUSH_TIMEOUT_CAP.toSeconds() + 5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
