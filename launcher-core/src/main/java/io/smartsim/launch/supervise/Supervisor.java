package io.smartsim.launch.supervise;

import io.smartsim.launch.status.Event;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.cluster.Ping;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.spi.Leasable;
import io.smartsim.launch.spi.Restartable;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.util.Deadline;
import io.smartsim.launch.spec.Durations;
import io.smartsim.launch.util.Parallel;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The watchdog of one orchestrator: every {@link Settings#probeInterval} it asks the launcher whether each shard's
 * process exists and PINGs the ones that do. A shard whose process is gone, or that has not answered for
 * {@link Settings#hungAfter} (it is then terminated), is started again with {@link Launcher#restart} on its node and
 * port with its config and cluster state file, within the {@link RestartBudget}; the watchdog then waits until it
 * has rejoined (the orchestrator healthy and every other shard seeing it connected). With a lease it renews the
 * lease while its controller lives, and restarts nothing once the lease has run out (the guards stopped the shards on
 * purpose). Every transition goes to the events log. Runs on the caller's thread ({@link #run}) or a daemon thread
 * ({@link #start}); {@link #close} stops it, and nothing it starts is left unrecorded after close returns.
 */
public final class Supervisor implements AutoCloseable {
    /**
     * The watchdog's timing.
     *
     * @param probeInterval how often shards are checked: the bound on noticing a dead process
     * @param pingTimeout   one PING's timeout
     * @param hungAfter     how long a live shard may fail to answer before it is taken for hung and restarted
     * @param budget        restarts allowed per shard
     * @param leaseBackstop under {@code --lease}: how long after the lease ran out a shard may still run before the
     *                      watchdog stops it itself (its guard is gone: on Slurm and PBS nobody restarts one); longer
     *                      than a guard's own SIGTERM-to-SIGKILL grace, so a working guard always acts first
     */
    public record Settings(Duration probeInterval, Duration pingTimeout, Duration hungAfter, RestartBudget budget,
                           Duration leaseBackstop) {
        /** A guard's grace ({@link LeaseGuard#GRACE}) plus 15 s for its checks and a slow shared file system. */
        public static final Duration LEASE_BACKSTOP = LeaseGuard.GRACE.plusSeconds(15);

        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(10),
                    RestartBudget.defaults(), LEASE_BACKSTOP);
        }

        /** These settings with another {@link #leaseBackstop} (tests). */
        public Settings withLeaseBackstop(Duration d) {
            return new Settings(probeInterval, pingTimeout, hungAfter, budget, d);
        }
    }

    /**
     * What the supervisor needs from its owner.
     *
     * @param shards          where the shards run now (the manifest's or the orchestrator's view)
     * @param restarted       told about each shard process a restart starts, as soon as it exists: record it
     * @param controllerAlive whether the lease should still be renewed
     * @param wanted          false once the orchestrator has been stopped or replaced: the watchdog then ends
     */
    public record Owner(Supplier<List<LaunchedShard>> shards, Consumer<LaunchedShard> restarted,
                        BooleanSupplier controllerAlive, BooleanSupplier wanted) {
    }

    private final LaunchPlan plan;
    private final Launcher launcher;
    private final Owner owner;
    private final Settings settings;
    private final EventLog events;
    private final Clock clock;
    private final Set<Integer> givenUp = new HashSet<>();
    private final Set<Integer> down = new HashSet<>();
    private final Map<Integer, Instant> silentSince = new HashMap<>();
    /** Shards whose lost guard could not be started again, said once until it can. */
    private final Set<Integer> guardFailed = new HashSet<>();
    /** Renews the lease on a thread of its own (under {@code --lease}); ends with this watchdog. */
    private LeaseKeeper keeper;
    private boolean controllerGoneSaid;
    private boolean leaseExpiredSaid;
    /** When this watchdog first saw the lease run out (the time to go by when the lease file was removed). */
    private Instant leaseOutSeen;
    /** Shards the watchdog has stopped itself after the lease ran out, said once each. */
    private final Set<Integer> enforced = new HashSet<>();
    private Instant lastEnforced = Instant.EPOCH;
    private boolean enforceFailedSaid;
    /** How long after a model server failed to start the watchdog tries again (each try is a JVM start). */
    static final Duration MODEL_SERVER_RETRY = Duration.ofSeconds(5);
    private Instant modelServerRetryAt = Instant.EPOCH;
    private boolean modelServerFailedSaid;
    private volatile boolean closed;
    private volatile String closedBecause = "stopped";
    private volatile Thread thread;
    /** Kept for the watchdog's life: a check every second must not make threads every second. */
    private Parallel.Pool pings;

    public Supervisor(LaunchPlan plan, Launcher launcher, Owner owner, Settings settings, Clock clock) {
        this.plan = plan;
        this.launcher = launcher;
        Supervision.refuseUnsupported(launcher, plan.spec()); // what it is asked to do, this launcher can
        this.owner = owner;
        this.settings = settings;
        this.events = EventLog.in(plan.dir());
        this.clock = clock;
    }

    /** Whether an orchestrator with this spec needs a watchdog: {@code --restart on-failure} or a lease. */
    public static boolean needed(LaunchPlan plan) {
        return plan.spec().restart() == RestartPolicy.ON_FAILURE || plan.spec().lease().isPresent();
    }

    /** Runs the watchdog on a daemon thread of its own. */
    public Supervisor start() {
        Thread t = new Thread(this::run, "smartsim-launch-watchdog-" + plan.id());
        t.setDaemon(true);
        thread = t;
        t.start();
        return this;
    }

    /** Waits for the watchdog thread started by {@link #start} to end. */
    public void join() throws InterruptedException {
        Thread t = thread;
        if (t != null) {
            t.join();
        }
    }

    /** Watches until {@link #close}, an interrupt, the owner no longer wanting it, or a lease run out with every shard gone. */
    public void run() {
        events.append(Event.of(plan.id(), Event.SUPERVISING, what()));
        String why = null;
        pings = new Parallel.Pool(plan.shards().size());
        try {
            while (!closed) {
                if (!owner.wanted().getAsBoolean()) {
                    why = "asked to stop, or the orchestrator is no longer recorded as running";
                    break;
                }
                Optional<String> end = cycle();
                if (end.isPresent()) {
                    why = end.get();
                    break;
                }
                Thread.sleep(settings.probeInterval().toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            why = "failed: " + e;
            throw e;
        } finally {
            pings.close();
            closeKeeper();
            events.append(Event.of(plan.id(), Event.WATCHDOG_EXIT, why != null ? why : closedBecause));
        }
    }

    private String what() {
        StringBuilder sb = new StringBuilder("watchdog (pid " + ProcessHandle.current().pid() + ") of "
                + plan.shards().size() + " shard(s): ");
        if (plan.spec().restart() == RestartPolicy.ON_FAILURE) {
            sb.append("restart on failure (checked every ").append(Durations.format(settings.probeInterval()))
                    .append(", hung after ").append(Durations.format(settings.hungAfter())).append(" without PING, at most ")
                    .append(settings.budget().describe()).append(" per shard)");
        } else {
            sb.append("no restarts");
        }
        plan.spec().lease().ifPresent(l -> sb.append("; lease ").append(Durations.format(l)).append(", renewed every ")
                .append(Durations.format(renewEvery(l))));
        return sb.toString();
    }

    /** A third of the lease (at most a minute): two renewals can fail before the shards stop. */
    static Duration renewEvery(Duration lease) {
        return LeaseKeeper.renewEvery(lease);
    }

    /**
     * Takes over {@code k}, which has been renewing since the lease was first written (an {@code Experiment}'s start):
     * it now follows this watchdog's shards and controller, and ends with it. Call before {@link #start}.
     */
    public Supervisor adopt(LeaseKeeper k) {
        k.follow(owner.shards(), owner.controllerAlive());
        keeper = k;
        return this;
    }

    /** The lease's keeper, started on first use (when no start handed one over). */
    private synchronized LeaseKeeper keeper() {
        if (keeper == null && !closed) {
            keeper = new LeaseKeeper(plan, (Leasable) launcher, owner.shards(), owner.controllerAlive(), clock);
        }
        return keeper == null ? null : keeper.start();
    }

    /** One check of every shard; a reason to end the watchdog, if any. */
    Optional<String> cycle() throws InterruptedException {
        Instant now = clock.instant();
        boolean leaseOut = false;
        if (plan.spec().lease().isPresent()) {
            Lease file = Lease.in(plan.dir());
            leaseOut = file.expired(now);
            if (leaseOut && leaseOutSeen == null) {
                leaseOutSeen = now;
            }
            if (leaseOut) {
                if (!leaseExpiredSaid) {
                    leaseExpiredSaid = true;
                    events.append(Event.of(plan.id(), Event.LEASE_EXPIRED, "the lease ran out at "
                            + file.expiry().map(Instant::toString).orElse("(lease file removed)")
                            + "; the lease guards stop the shards and the watchdog restarts none"));
                }
            } else if (owner.controllerAlive().getAsBoolean()) {
                keeper(); // renewals run on the keeper's own thread, never behind a probe or a restart
            } else if (!controllerGoneSaid) {
                controllerGoneSaid = true;
                events.append(Event.of(plan.id(), Event.CONTROLLER_GONE, "the controller has ended: the watchdog no "
                        + "longer renews the lease, so the shards stop at " + file.expiry().map(Instant::toString)
                        .orElse("?") + " unless it is renewed ('db renew')"));
            }
        }
        if (plan.spec().lease().isPresent()) {
            // Also once the lease has run out: a guard started again then stops its shard at once.
            reviveGuards();
        }
        if (!leaseOut && plan.spec().restart() != RestartPolicy.ON_FAILURE) {
            return Optional.empty(); // a lease alone needs no probe (on Slurm one is an squeue call)
        }
        if (!leaseOut) {
            reviveModelServers(now);
        }
        List<LaunchedShard> shards = owner.shards().get();
        Map<Integer, Liveness> live = launcher.probe(shards);
        if (leaseOut) {
            boolean allGone = live.values().stream().allMatch(l -> l == Liveness.GONE);
            if (allGone) {
                return Optional.of("the lease ran out and every shard has stopped");
            }
            enforceLease(shards, live, now);
            return Optional.empty();
        }
        // PINGs in parallel: one hung shard costs one timeout per check, not one per shard behind it.
        Set<Integer> answered = new HashSet<>(pings.map(shards.stream().filter(s -> live.getOrDefault(s.index(),
                Liveness.UNKNOWN) != Liveness.GONE).toList(), s -> Ping.answers(s.host(), s.port(),
                (int) settings.pingTimeout().toMillis(), plan.access()) ? s.index() : -1));
        for (LaunchedShard s : shards) {
            if (closed || givenUp.contains(s.index())) {
                continue;
            }
            Liveness l = live.getOrDefault(s.index(), Liveness.UNKNOWN);
            if (l == Liveness.GONE) {
                failed(s, "its process is gone (" + launcher.name() + " launcher's probe"
                        + s.pid().map(p -> ", pid " + p).orElse("") + ")");
            } else if (answered.contains(s.index())) {
                silentSince.remove(s.index());
                down.remove(s.index());
            } else {
                Instant since = silentSince.computeIfAbsent(s.index(), k -> now);
                Duration silent = Duration.between(since, now);
                if (silent.compareTo(settings.hungAfter()) >= 0) {
                    events.append(Event.of(plan.id(), Event.SHARD_DOWN, s.index(), "its process exists but has not "
                            + "answered PING for " + silent.toSeconds() + " s (hung?): terminating it"));
                    down.add(s.index());
                    launcher.stop(List.of(s), Duration.ZERO);
                    failed(s, "terminated after not answering");
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Under {@code --ai} served by the Redis module: the launcher starts again each model server that is gone
     * ({@link Restartable#reviveModelServers}); the shards whose records name the new one are recorded. The shards keep
     * running meanwhile (their data commands never stopped). A model server that cannot start is tried again after
     * {@link #MODEL_SERVER_RETRY}, its failure written once until it starts.
     */
    private void reviveModelServers(Instant now) {
        if (plan.modelServers().isEmpty() || closed || now.isBefore(modelServerRetryAt)
                || !(launcher instanceof Restartable restartable)) {
            return;
        }
        List<LaunchedShard> shards = owner.shards().get();
        List<LaunchedShard> changed;
        try {
            changed = restartable.reviveModelServers(plan, shards, new LaunchContext(
                    Deadline.after(plan.spec().startupTimeout()), line -> { }, owner.restarted()));
        } catch (LaunchException e) {
            modelServerRetryAt = now.plus(MODEL_SERVER_RETRY);
            if (!modelServerFailedSaid) {
                modelServerFailedSaid = true;
                events.append(Event.of(plan.id(), Event.MODEL_SERVER_RESTART_FAILED, "the --ai model server is gone "
                        + "and could not be started again (model commands fail meanwhile; data commands work): "
                        + firstLine(e.getMessage())));
            }
            return;
        }
        modelServerFailedSaid = false;
        // every shard's record names the new model server before the event says it started: whoever reads the event
        // (db status, a test, the dashboard) then finds the records agree with it
        changed.forEach(owner.restarted());
        Set<String> said = new HashSet<>();
        for (LaunchedShard again : changed) {
            String pid = again.handle().getOrDefault(AiPlanner.HANDLE_PID, "?");
            LaunchedShard before = shards.stream().filter(x -> x.index() == again.index()).findFirst().orElse(again);
            String old = before.handle().getOrDefault(AiPlanner.HANDLE_PID, "?");
            if (said.add(pid)) {
                events.append(Event.of(plan.id(), Event.MODEL_SERVER_RESTARTED, "the --ai model server (pid " + old
                        + ") was gone: started again as pid " + pid + " on "
                        + again.handle().getOrDefault(AiPlanner.HANDLE_SOCKET, "its socket")
                        + "; the shards' modules reconnect and push their models on their next model command"));
            }
        }
    }

    /**
     * Under {@code --lease}: starts again the guard of every shard whose server runs without one (someone killed it),
     * since that shard would outlive the lease. Launchers that cannot see their guards (not a
     * {@link Leasable.GuardWatch}) are not asked.
     */
    private void reviveGuards() {
        if (!(launcher instanceof Leasable.GuardWatch guards)) {
            return;
        }
        List<LaunchedShard> shards = owner.shards().get();
        Set<Integer> missing;
        try {
            missing = guards.missingGuards(plan, shards);
        } catch (LaunchException e) {
            return; // cannot look now (a host unreachable): the next check tries again
        }
        for (int index : missing) {
            if (closed || !owner.wanted().getAsBoolean()) {
                return;
            }
            LaunchedShard s = shards.stream().filter(x -> x.index() == index).findFirst().orElseThrow();
            String old = guardPid(s).map(p -> "(pid " + p + ") ").orElse("");
            try {
                LaunchedShard again = guards.restartGuard(plan, s);
                owner.restarted().accept(again);
                guardFailed.remove(index);
                events.append(Event.of(plan.id(), Event.GUARD_RESTARTED, index, "its lease guard " + old
                        + "was gone while the shard" + s.pid().map(p -> " (pid " + p + ")").orElse("") + " runs: "
                        + "started it again" + guardPid(again).map(p -> " as pid " + p).orElse("")));
            } catch (LaunchException e) {
                if (guardFailed.add(index)) {
                    events.append(Event.of(plan.id(), Event.GUARD_RESTART_FAILED, index, "its lease guard " + old
                            + "is gone and could not be started again (the shard may outlive the lease): "
                            + firstLine(e.getMessage())));
                }
            }
        }
    }

    /**
     * The backstop of the lease: shards still running {@link Settings#leaseBackstop} after it ran out have lost their
     * guard (killed, on a launcher where nobody restarts one), so the watchdog stops them itself through the launcher,
     * as {@code db stop} would (SIGTERM, SIGKILL after 5 s; Slurm cancels the step). Tried again every 10 s while they
     * run (a host out of reach); each shard's {@code lease-enforced} event, and a failure, are written once.
     */
    private void enforceLease(List<LaunchedShard> shards, Map<Integer, Liveness> live, Instant now) {
        Instant ranOut = Lease.in(plan.dir()).expiry().orElse(leaseOutSeen);
        if (now.isBefore(ranOut.plus(settings.leaseBackstop())) || now.isBefore(lastEnforced.plusSeconds(10))
                || closed || !owner.wanted().getAsBoolean()) {
            return;
        }
        List<LaunchedShard> left = shards.stream().filter(s -> live.get(s.index()) == Liveness.ALIVE).toList();
        if (left.isEmpty()) {
            return;
        }
        lastEnforced = now;
        for (LaunchedShard s : left) {
            if (enforced.add(s.index())) {
                events.append(Event.of(plan.id(), Event.LEASE_ENFORCED, s.index(), "still running "
                        + Duration.between(ranOut, now).toSeconds() + " s after the lease ran out at " + ranOut
                        + " (its lease guard is gone): the watchdog stops it" + s.pid().map(p -> " (pid " + p + ")")
                        .orElse("")));
            }
        }
        try {
            launcher.stop(left, Duration.ZERO);
        } catch (LaunchException e) {
            if (!enforceFailedSaid) {
                enforceFailedSaid = true;
                events.append(Event.of(plan.id(), Event.LEASE_ENFORCED, "could not stop every shard the lease no "
                        + "longer covers, trying again every 10 s: " + firstLine(e.getMessage())));
            }
        }
    }

    private static Optional<String> guardPid(LaunchedShard s) {
        return Optional.ofNullable(s.handle().get(LeaseGuard.HANDLE_PID));
    }

    /** A shard found dead: restart it within the budget, or give it up. */
    private void failed(LaunchedShard s, String how) throws InterruptedException {
        silentSince.remove(s.index());
        if (!owner.wanted().getAsBoolean()) {
            closed = true; // being stopped: the shard went down on purpose
            closedBecause = "the orchestrator is being stopped";
            return;
        }
        if (down.add(s.index())) {
            events.append(Event.of(plan.id(), Event.SHARD_DOWN, s.index(), how));
        }
        // Its slots to a replica first, restart or not: the data the replica has is kept, and serving resumes now.
        new Handover(plan, settings.pingTimeout()).before(s, owner.shards().get(),
                Deadline.after(plan.spec().startupTimeout()))
                .ifPresent(o -> events.append(Event.of(plan.id(), o.event(), s.index(), o.detail())));
        Instant now = clock.instant();
        if (!settings.budget().take(s.index(), now)) {
            givenUp.add(s.index());
            events.append(Event.of(plan.id(), Event.GAVE_UP, s.index(), "restarted " + settings.budget().max()
                    + " time(s) within " + Durations.format(settings.budget().window()) + " (the budget, "
                    + settings.budget().describe() + "); leaving it down: the orchestrator is DEGRADED"));
            return;
        }
        events.append(Event.of(plan.id(), Event.RESTARTING, s.index(), "attempt " + settings.budget().used(s.index(), now)
                + " of " + settings.budget().max() + " within " + Durations.format(settings.budget().window())
                + ", on " + s.address()));
        Instant t0 = clock.instant();
        Deadline deadline = Deadline.after(plan.spec().startupTimeout());
        LaunchedShard again;
        try {
            again = ((Restartable) launcher).restart(plan, s,
                    new LaunchContext(deadline, line -> { }, owner.restarted()));
        } catch (LaunchException e) {
            events.append(Event.of(plan.id(), Event.RESTART_FAILED, s.index(), firstLine(e.getMessage())));
            return;
        }
        owner.restarted().accept(again);
        // Slurm's shards have no pid here (a step on a node): the address is what identifies them.
        events.append(Event.of(plan.id(), Event.RESTARTED, s.index(), again.pid().map(p -> "pid " + p)
                .orElse("the new process") + " answers PING on " + again.address() + " after " + millis(t0)));
        Optional<String> problem = Rejoin.await(owner.shards(), plan, settings.pingTimeout(), () -> closed, again,
                deadline);
        if (problem.isEmpty()) {
            down.remove(s.index());
            events.append(Event.of(plan.id(), Event.REJOINED, s.index(), (plan.clustered()
                    ? "cluster_state:ok and every other shard sees it connected" : "answers and serves")
                    + ", " + millis(t0) + " after the restart began"));
        } else {
            events.append(Event.of(plan.id(), Event.RESTART_FAILED, s.index(), "restarted but did not rejoin within "
                    + plan.spec().startupTimeout().toSeconds() + " s: " + problem.get()));
        }
    }

    private String millis(Instant t0) {
        return String.format(java.util.Locale.ROOT, "%.2f s", Duration.between(t0, clock.instant()).toMillis() / 1000.0);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Stops the watchdog and waits for it (bounded); a restart under way is abandoned and its process stopped. */
    @Override
    public void close() {
        close("stopped");
    }

    /** As {@link #close()}, with the reason the events log gives for the watchdog's end. */
    public void close(String because) {
        closedBecause = because;
        closed = true;
        closeKeeper();
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            t.interrupt();
            try {
                t.join(15_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void closeKeeper() {
        LeaseKeeper k;
        synchronized (this) {
            k = keeper;
        }
        if (k != null) {
            k.close();
        }
    }
}
