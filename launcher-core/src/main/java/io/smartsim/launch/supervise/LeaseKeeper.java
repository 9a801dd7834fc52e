package io.smartsim.launch.supervise;

import io.smartsim.launch.LaunchException;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.util.Durations;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Renews one orchestrator's lease ({@code --lease}) on a thread of its own, from the moment the lease is first written
 * (before the first shard starts) until it is closed, its controller has gone, or the lease has run out.
 *
 * <p>Apart from the watchdog's checks on purpose: a probe over SSH, a guard check or a restart that waits for a shard
 * to rejoin can take longer than a short lease, and a renewal must not wait behind them. Timing, all relative to the
 * lease:
 * <ul>
 *   <li>a renewal every {@link #renewEvery third of the lease} (at most every minute), counted from the start of the
 *       previous one, so how long a renewal takes does not stretch the period;</li>
 *   <li>a renewal that failed (the file here, or a push to some host) is tried again after {@link #RETRY}, not a
 *       whole period later;</li>
 *   <li>a push may take until the hosts' current expiry (at least one period, at most {@link #PUSH_TIMEOUT_CAP}):
 *       waiting longer is useless, the shards there are stopping by then;</li>
 *   <li>a renewal that reached every host with less than a third of the lease left on the expiry they had is
 *       {@link Event#LEASE_RENEWAL_LATE late}: said in the events log (at most once a minute, with a count), since
 *       it means the machine or the hosts are slow enough that a longer lease is needed.</li>
 * </ul>
 * The tick ({@link #tick}) is a function of the clock, the launcher and the lease file, so tests can drive it.
 */
public final class LeaseKeeper implements AutoCloseable {
    /** How soon a renewal that failed is tried again. */
    public static final Duration RETRY = Duration.ofMillis(500);
    /** The longest a push to the hosts may take, however long the lease. */
    static final Duration PUSH_TIMEOUT_CAP = Duration.ofSeconds(30);
    /** Late renewals are said at most this often (the rest are counted into the next note). */
    static final Duration LATE_NOTE_EVERY = Duration.ofMinutes(1);

    private final LaunchPlan plan;
    private final Launcher launcher;
    private final Duration lease;
    private final Lease file;
    private final EventLog events;
    private final Clock clock;
    private volatile Supplier<List<LaunchedShard>> shards;
    private volatile BooleanSupplier controllerAlive;
    private volatile boolean closed;
    private volatile Thread thread;
    /** What the renewing thread waits on between ticks ({@link #close} wakes it); apart from the tick's lock. */
    private final Object wake = new Object();

    /** When the next renewal is due. */
    private Instant due;
    /** The expiry every host is known to have (the last renewal that reached all of them, or the first write). */
    private Instant hostsExpiry;
    private boolean failing;
    private Instant lastLateNote = Instant.EPOCH;
    private int lateUnsaid;
    private int renewals;

    /**
     * @param shards          the shards whose hosts get each renewal (the ones started so far, during a start)
     * @param controllerAlive whether to renew at all; once false nothing is renewed until it is true again
     */
    public LeaseKeeper(LaunchPlan plan, Launcher launcher, Supplier<List<LaunchedShard>> shards,
                       BooleanSupplier controllerAlive, Clock clock) {
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
        this.hostsExpiry = file.expiry().orElse(null);
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
     * One step at {@code now}: renews (the file here, then the push to the hosts) when due and the controller lives;
     * returns when to look again, or empty once the lease has run out (nothing is renewed any more).
     */
    synchronized Optional<Instant> tick(Instant now) {
        if (file.expired(now)) {
            return Optional.empty();
        }
        if (now.isBefore(due) || closed) {
            return Optional.of(due);
        }
        if (!controllerAlive.getAsBoolean()) {
            due = now.plusSeconds(1);
            return Optional.of(due);
        }
        Duration every = renewEvery(lease);
        Instant before = hostsExpiry;
        Instant expiry;
        try {
            expiry = file.renew(lease, now);
            launcher.pushLease(plan, shards.get(), expiry, pushTimeout(now, every));
        } catch (LaunchException e) {
            // Those hosts keep the expiry they had: their shards stop then unless a retry gets through.
            failing = true;
            events.append(Event.of(plan.id(), Event.LEASE_PUSH_FAILED, e.getMessage() + " (tried again in "
                    + Durations.format(RETRY) + ")"));
            due = clock.instant().plus(RETRY);
            return Optional.of(due);
        }
        Instant done = clock.instant();
        renewals++;
        hostsExpiry = expiry;
        due = now.plus(every);
        if (!due.isAfter(done)) {
            due = done; // a renewal that took a whole period: the next one at once
        }
        if (before != null) {
            Duration left = Duration.between(done, before);
            if (left.compareTo(lease.dividedBy(3)) < 0 || failing) {
                late(left, Duration.between(now, done), failing, done);
            }
        }
        failing = false;
        return Optional.of(due);
    }

    private Duration pushTimeout(Instant now, Duration every) {
        Duration left = hostsExpiry == null ? lease : Duration.between(now, hostsExpiry);
        Duration t = left.compareTo(every) < 0 ? every : left;
        return t.compareTo(PUSH_TIMEOUT_CAP) > 0 ? PUSH_TIMEOUT_CAP : t;
    }

    private void late(Duration left, Duration took, boolean afterFailures, Instant now) {
        lateUnsaid++;
        if (now.isBefore(lastLateNote.plus(LATE_NOTE_EVERY))) {
            return;
        }
        String more = lateUnsaid > 1 ? " (" + lateUnsaid + " late renewals since the last note)" : "";
        events.append(Event.of(plan.id(), Event.LEASE_RENEWAL_LATE, String.format("a renewal reached every host "
                        + "%.1f s before the previous expiry%s (lease %s, renewed every %s; this one took %.1f s): the "
                        + "machine or the hosts are slow, a longer lease leaves more margin%s",
                left.toMillis() / 1000.0, afterFailures ? ", after failed tries" : "", Durations.format(lease),
                Durations.format(renewEvery(lease)), took.toMillis() / 1000.0, more)));
        lastLateNote = now;
        lateUnsaid = 0;
    }

    /** How many renewals have reached every host so far. */
    public synchronized int renewals() {
        return renewals;
    }

    /** Stops renewing and waits (bounded) for a renewal under way. Safe to call twice. */
    @Override
    public void close() {
        closed = true;
        synchronized (wake) {
            wake.notifyAll();
        }
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(PUSH_TIMEOUT_CAP.toMillis() + 5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
