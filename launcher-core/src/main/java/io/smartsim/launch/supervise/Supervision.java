package io.smartsim.launch.supervise;

import io.smartsim.launch.status.Event;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.manifest.SupervisionRecord;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.status.SupervisionStatus;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The supervision of one orchestrator as a whole: which launchers can carry it out, what the manifest records, and
 * the detached watchdog process ({@code db watch}) that a later {@code db stop} or {@code db cleanup} ends first.
 */
public final class Supervision {
    /** How long a watchdog process gets to finish a restart under way after SIGTERM before it is killed. */
    public static final Duration WATCHDOG_GRACE = Duration.ofSeconds(15);

    private Supervision() {
    }

    /**
     * Refuses, at plan time, {@code --restart on-failure} and {@code --lease} for launchers that cannot carry them out
     * (it is not {@link io.smartsim.launch.spi.Restartable} or {@link io.smartsim.launch.spi.Leasable}), naming the
     * launcher.
     */
    public static void refuseUnsupported(Launcher launcher, OrchestratorSpec spec) {
        if (spec.restart() == RestartPolicy.ON_FAILURE
                && !(launcher instanceof io.smartsim.launch.spi.Restartable)) {
            throw new InvalidSpecException("restart", "--restart on-failure is not supported by the " + launcher.name()
                    + " launcher (it cannot start one shard again; the local, slurm, ssh and pbs launchers can); "
                    + "leave it out, and check the orchestrator with 'db status'");
        }
        if (spec.lease().isPresent() && !(launcher instanceof io.smartsim.launch.spi.Leasable)) {
            throw new InvalidSpecException("lease", "--lease is not supported by the " + launcher.name()
                    + " launcher (it cannot start a lease guard beside each shard; the local, slurm, ssh and pbs "
                    + "launchers can); leave it out, and stop the orchestrator with 'db stop' (for example "
                    + "from an EXIT trap in the batch script)");
        }
    }

    /** What the manifest records for a plan before its shards start: the events log, and the lease file under --lease. */
    public static SupervisionRecord record(LaunchPlan plan) {
        return new SupervisionRecord(EventLog.in(plan.dir()).file(),
                plan.spec().lease().map(l -> Lease.in(plan.dir()).file()), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty());
    }

    /**
     * What a start does before its first shard: withdraws an earlier stop request, and under {@code --lease} writes
     * the lease, so that each shard's guard reads a valid one from its first second.
     */
    public static void prepare(LaunchPlan plan) {
        StopRequest.clear(plan.dir());
        plan.spec().lease().ifPresent(l -> Lease.in(plan.dir()).renew(l, Instant.now()));
    }

    /** Supervision as recorded for {@code r}, checked now. */
    public static SupervisionStatus status(OrchestratorRecord r) {
        Optional<Instant> expiry = Optional.empty();
        boolean expired = false;
        if (r.spec().lease().isPresent()) {
            Lease lease = Lease.in(r.plan().dir());
            expiry = lease.expiry();
            expired = lease.expired(Instant.now());
        }
        Optional<SupervisionRecord> s = r.supervision();
        Optional<Long> pid = s.flatMap(SupervisionRecord::watchdogPid);
        return new SupervisionStatus(r.spec().restart(), r.spec().lease(), expiry, expired, pid,
                s.flatMap(Supervision::watchdog).isPresent(), EventLog.in(r.plan().dir()).read());
    }

    /**
     * Renews {@code r}'s lease for its duration from now ({@code db renew}); refuses an orchestrator without a lease,
     * not recorded as running, or whose lease has already run out (its shards are stopping: start it again).
     */
    public static Instant renew(OrchestratorRecord r) {
        java.time.Duration duration = r.spec().lease().orElseThrow(() -> new io.smartsim.launch.error.StateException(
                "orchestrator '" + r.id() + "' has no lease (it was started without --lease); nothing to renew"));
        if (r.status() != io.smartsim.launch.status.Status.RUNNING) {
            throw new io.smartsim.launch.error.StateException("orchestrator '" + r.id() + "' is not running (recorded: "
                    + r.status() + "); nothing to renew");
        }
        Lease lease = Lease.in(r.plan().dir());
        Instant now = Instant.now();
        if (lease.expired(now)) {
            throw new io.smartsim.launch.error.StateException("the lease of '" + r.id() + "' ran out at "
                    + lease.expiry().map(Instant::toString).orElse("? (its lease file was removed)")
                    + ": its shards have stopped themselves or are stopping; clear it with 'db stop' and start it again");
        }
        Instant expiry = lease.renew(duration, now);
        // Hosts without this file system (ssh) keep their own copy: the launcher pushes the new expiry there.
        if (io.smartsim.launch.spi.Launchers.find(r.launcher()) instanceof io.smartsim.launch.spi.Leasable l) {
            l.pushLease(r.plan(), r.shards(), expiry);
        }
        return expiry;
    }

    /** The recorded watchdog process, if it still runs (same pid and start time). */
    static Optional<ProcessHandle> watchdog(SupervisionRecord s) {
        return s.watchdogPid().flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive).filter(h -> {
            Optional<Instant> started = h.info().startInstant();
            return s.watchdogStart().isEmpty() || started.isEmpty() || started.equals(s.watchdogStart());
        });
    }

    /**
     * Ends the recorded watchdog process of {@code r} before its shards are stopped, so it never restarts what stop is
     * killing: SIGTERM (it finishes or abandons a restart under way, recording what it started), then SIGKILL after
     * {@link #WATCHDOG_GRACE}. Returns once it is gone; does nothing when none runs.
     */
    public static void stopWatchdog(OrchestratorRecord r, Consumer<String> progress) {
        Optional<SupervisionRecord> rec = r.supervision().filter(s -> s.watchdogPid().isPresent());
        if (rec.isEmpty()) {
            return;
        }
        // Told through the file system too: a watchdog on another host (db start in a batch job, db stop from the
        // login node) cannot be signalled, but checks for this file before every restart and every second.
        StopRequest.write(r.plan().dir());
        Optional<String> host = rec.get().watchdogHost();
        if (host.isPresent() && !host.get().equals(hostname())) {
            progress.accept("asking the watchdog of '" + r.id() + "' on " + host.get() + " (pid "
                    + rec.get().watchdogPid().get() + ") to stop");
            awaitExitEvent(r, StopRequest.GRACE);
            return;
        }
        Optional<ProcessHandle> h = watchdog(rec.get());
        if (h.isEmpty()) {
            return;
        }
        progress.accept("stopping the watchdog of '" + r.id() + "' (pid " + h.get().pid() + ")");
        ProcessHandle p = h.get();
        p.destroy();
        if (!awaitExit(p, WATCHDOG_GRACE)) {
            p.destroyForcibly();
            awaitExit(p, Duration.ofSeconds(5));
        }
    }

    /** This machine's host name, as the manifest records where a watchdog runs. */
    public static String hostname() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return Optional.ofNullable(System.getenv("HOSTNAME")).orElse("localhost");
        }
    }

    /** Waits, bounded, for a watchdog elsewhere to log its exit after the stop request. */
    private static void awaitExitEvent(OrchestratorRecord r, Duration limit) {
        Instant asked = Instant.now().minusSeconds(1);
        long until = System.nanoTime() + limit.toNanos();
        EventLog log = EventLog.in(r.plan().dir());
        while (System.nanoTime() < until) {
            if (log.recent(5).stream().anyMatch(e -> e.type().equals(Event.WATCHDOG_EXIT) && e.time().isAfter(asked))) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static boolean awaitExit(ProcessHandle p, Duration limit) {
        long until = System.nanoTime() + limit.toNanos();
        while (io.smartsim.launch.util.ProcStat.running(p)) { // a zombie (not yet reaped) counts as gone
            if (System.nanoTime() >= until) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

}
