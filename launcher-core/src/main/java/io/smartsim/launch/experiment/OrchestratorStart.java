package io.smartsim.launch.experiment;

import io.smartsim.launch.error.ClusterFormingException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.error.StateException;
import io.smartsim.launch.spec.TelemetrySpec;
import io.smartsim.launch.cluster.ClusterFormer;
import io.smartsim.launch.cluster.HealthChecker;
import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.ShardData;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.security.TlsGenerator;
import io.smartsim.launch.security.TlsNames;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.spi.Leasable;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.spi.Launchers;
import io.smartsim.launch.status.OrchestratorState;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.supervise.EventLog;
import io.smartsim.launch.supervise.LeaseKeeper;
import io.smartsim.launch.supervise.Supervision;
import io.smartsim.launch.supervise.Supervisor;
import io.smartsim.launch.supervise.Watchdog;
import io.smartsim.launch.spec.WatchdogCommand;
import io.smartsim.launch.telemetry.Telemetry;
import io.smartsim.launch.telemetry.TelemetryOptions;
import io.smartsim.launch.util.Deadline;
import io.smartsim.launch.plan.EphemeralPorts;
import redis.clients.jedis.exceptions.JedisException;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The start of one orchestrator, in order: refuse one still running, the launcher's preflight, the data to resume,
 * the STARTING record, warnings, the events log, the lease, TLS, {@link Launcher#start}, cluster forming, the health
 * check, the RUNNING record, then supervision as chosen up front ({@link Supervise}): a watchdog thread here, or a
 * watchdog process of its own. Returns the {@link StartedOrchestrator} handle; on any failure it closes that handle
 * (stopping exactly what this start started), records FAILED and throws. A JVM exit during the start (SIGINT,
 * SIGTERM) stops what it has started so far too.
 *
 * @param experiment the experiment's name (TLS certificates name it)
 * @param expDir     its directory
 * @param recorder   where each transition is recorded
 * @param progress   receives short lines while the start waits
 */
public record OrchestratorStart(String experiment, Path expDir, Recorder recorder, Consumer<String> progress) {

    /**
     * Starts {@code db} ({@code resume}: on the data its previous run kept) and returns once it is healthy and
     * supervised as {@code how} says. {@code running} is told, once the orchestrator is healthy and before it is
     * recorded RUNNING, so that the caller keeps it (and stops it at its JVM's exit) from then on.
     */
    public StartedOrchestrator start(OrchestratorHandle db, boolean resume, Supervise how,
                                     BiConsumer<OrchestratorHandle, Instant> running) {
        if (db.state() == OrchestratorState.RUNNING) {
            throw new StateException("orchestrator '" + db.id() + "' is already running at " + db.ssdb());
        }
        LaunchPlan plan = db.plan();
        Launcher launcher = db.launcher();
        refuseIfRunningElsewhere(plan);
        launcher.preflight(plan);
        List<ShardData> data = Resume.prepare(recorder.find(plan.id()), plan, resume, progress,
                DataFiles.of(launcher.transport(plan.spec())));
        Instant t0 = Instant.now();
        // Recorded STARTING before anything runs, so a cleanup finds what a killed start left; or, by a launcher that
        // holds its shards until they are recorded, once the first one exists: then the JSON of the record (about
        // 0.1 s in a new JVM) runs beside Redis's first milliseconds instead of before them.
        // --timeout is the start's (spawn, readiness, forming), not the record's: a record written during the start
        // stops the deadline's clock meanwhile, as one written before it began did not count either.
        StoppableClock clock = new StoppableClock(Clock.systemUTC());
        Starting starting = new Starting(plan, launcher.name(), t0, data, clock);
        if (!launcher.holdsUntilRecorded(plan)) {
            starting.record();
        }
        StartedOrchestrator started = new StartedOrchestrator(plan.id(), launcher, plan.access());
        AbortOnExit abort = new AbortOnExit(started);
        Thread cleanupOnExit = new Thread(abort::run, "smartsim-launch-abort-" + plan.id());
        Runtime.getRuntime().addShutdownHook(cleanupOnExit);
        Deadline deadline = Deadline.after(plan.spec().startupTimeout(), clock);
        WatchdogSpawn watchdog = null;
        try {
            announce(plan, launcher);
            Supervision.prepare(plan);
            if (plan.spec().lease().isPresent() && launcher instanceof Leasable leasable) { // not Leasable: refused at plan time
                // Renewed from now on, not from the end of the start: a start that outlasts the lease (a busy machine,
                // slow hosts) must not see its shards stop themselves. The hosts started so far get each renewal.
                started.keeper(new LeaseKeeper(plan, leasable, started::shards, () -> true, Clock.systemUTC())
                        .start());
            }
            plan.tls().ifPresent(t -> {
                progress.accept("making a CA and certificate for '" + plan.id() + "' (--tls) in " + t.dir());
                TlsGenerator.generate(t, experiment + "/" + plan.id(), tlsNames(plan), new LocalCommandRunner());
            });
            List<LaunchedShard> shards = launcher.start(plan, new LaunchContext(deadline, progress, s -> {
                started.spawned(s);
                recorder.spawned(starting.record(), s);
            }));
            // what runs once the cluster is writable, run once ahead while Redis keeps it from that for 2 s
            WarmUp.whileWaiting(OrchestratorHandle.targets(plan, shards), plan.clustered(), plan.access());
            if (how.watchdog().isPresent() && Watchdog.needed(plan)) {
                // Now, beside the forming, not once healthy: its JVM starts while Redis waits out its 2 s before the
                // cluster is writable, so db start does not pay for the spawn after the cluster is healthy. It
                // supervises once the record says RUNNING, and ends by itself if the start fails (Watchdog.run).
                watchdog = WatchdogSpawn.begin(() -> Watchdog.spawn(expDir, experiment, db.id(),
                        how.watchdog().get().argv(expDir, db.id())));
            }
            if (plan.clustered()) {
                progress.accept("forming a Redis Cluster over " + shards.size() + " shards");
                ClusterFormer.form(OrchestratorHandle.members(plan, shards), deadline, progress, plan.access());
            }
            HealthReport health = HealthChecker.check(OrchestratorHandle.targets(plan, shards), plan.clustered(),
                    Duration.ofMillis(deadline.capMillis(StartedOrchestrator.CONTROL_TIMEOUT)), plan.access());
            if (!health.healthy()) {
                throw new LaunchException("orchestrator '" + plan.id() + "' started but is not healthy: "
                        + String.join("; ", health.problems()));
            }
            db.started(shards, health);
            running.accept(db, t0);
            String healthyIn = String.format("'%s' healthy in %.2f s", plan.id(),
                    Duration.between(t0, Instant.now()).toMillis() / 1000.0);
            // before RUNNING: a watchdog process waiting for RUNNING logs 'supervising' only after 'healthy'
            EventLog.in(plan.dir()).append(Event.of(plan.id(), Event.HEALTHY, healthyIn));
            recorder.running(starting.record(), shards);
            if (how.watchdog().isEmpty()) {
                superviseHere(db, started);
                progress.accept(healthyIn);
            } else {
                progress.accept(healthyIn);
                if (watchdog != null) {
                    started.watchdogPid(watchdog.pid());
                }
                handOver(db, started, how.watchdog().get());
            }
            return started;
        } catch (RuntimeException e) {
            LaunchException failure = e instanceof LaunchException le ? le : e instanceof JedisException
                    ? new ClusterFormingException("orchestrator '" + plan.id() + "': " + e.getMessage(), e)
                    : new LaunchException("orchestrator '" + plan.id() + "' failed to start: " + e, e);
            boolean stoppedAll = true;
            if (watchdog != null) {
                watchdog.end(plan.dir(), failure::addSuppressed);
            }
            try {
                started.close();
            } catch (RuntimeException teardown) {
                failure.addSuppressed(teardown);
                stoppedAll = false;
            }
            db.ended(OrchestratorState.FAILED);
            if (stoppedAll) {
                try {
                    recorder.failed(starting.record(), failure.getMessage());
                } catch (RuntimeException unrecorded) { // the manifest cannot be written: the failure says why
                    failure.addSuppressed(unrecorded);
                }
            }
            // else: what it started may still run (its launcher could not reach them to stop them). The record stays
            // STARTING with every shard reported, so 'db stop' and 'db cleanup' end them once they are reachable.
            throw failure;
        } finally {
            abort.launchEnded();
            try {
                Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to: it does the cleanup
            }
        }
    }

    /**
     * The STARTING record of one start, written once, when first asked for (each shard's record and the outcome's need
     * it first), with the events log's 'started' line.
     */
    private final class Starting {
        private final LaunchPlan plan;
        private final String launcher;
        private final Instant at;
        private final List<ShardData> data;
        private final StoppableClock clock;
        private OrchestratorRecord record;

        Starting(LaunchPlan plan, String launcher, Instant at, List<ShardData> data, StoppableClock clock) {
            this.plan = plan;
            this.launcher = launcher;
            this.at = at;
            this.data = data;
            this.clock = clock;
        }

        synchronized OrchestratorRecord record() {
            if (record == null) {
                clock.stop();
                try {
                    record = recorder.starting(plan, launcher, at, data);
                    EventLog.in(plan.dir()).append(Event.of(plan.id(), Event.STARTED, plan.shards().size()
                            + " shard(s) with the " + launcher + " launcher"));
                } finally {
                    clock.restart();
                }
            }
            return record;
        }
    }

    /** A clock that can be stopped: the time while stopped is left out of every instant it tells from then on. */
    static final class StoppableClock extends Clock {
        private final Clock base;
        private long stoppedAt = -1;
        private long left;

        StoppableClock(Clock base) {
            this.base = base;
        }

        synchronized void stop() {
            if (stoppedAt < 0) {
                stoppedAt = System.nanoTime();
            }
        }

        synchronized void restart() {
            if (stoppedAt >= 0) {
                left += System.nanoTime() - stoppedAt;
                stoppedAt = -1;
            }
        }

        @Override
        public synchronized Instant instant() {
            long out = left + (stoppedAt < 0 ? 0 : System.nanoTime() - stoppedAt);
            return base.instant().minusNanos(out);
        }

        @Override
        public java.time.ZoneId getZone() {
            return base.getZone();
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            throw new UnsupportedOperationException("a start's deadline clock keeps its zone");
        }
    }

    /** What the start says before its first shard: what starts, what it gives up, what the plan warns about. */
    private void announce(LaunchPlan plan, Launcher launcher) {
        progress.accept("starting " + plan.shards().size() + " shard(s)" + (plan.spec().replicas() == 0 ? ""
                : " (" + plan.masters().size() + " masters, " + plan.spec().replicas() + " replica(s) each)")
                + " of '" + plan.id() + "' with the " + launcher.name() + " launcher");
        if (plan.auth().isEmpty()) {
            progress.accept(noAuthWarning(plan));
        } else if (plan.spec().ai().isPresent()) {
            progress.accept(ModelServerPlan.smartRedisAuthNote(plan));
        }
        plan.warnings().forEach(w -> progress.accept("warning: " + w));
        if (launcher.shardsOnThisMachine()) { // other machines' range is not this one's
            EphemeralPorts.warning(plan, EphemeralPorts.local())
                    .ifPresent(w -> progress.accept("warning: '" + plan.id() + "': " + w));
        }
    }

    /**
     * Supervised here: the collector ({@code --telemetry on}) and a watchdog thread while the experiment is open, the
     * latter renewing the lease from the start's keeper.
     */
    private void superviseHere(OrchestratorHandle db, StartedOrchestrator started) {
        TelemetrySpec telemetry = db.plan().spec().telemetry();
        if (telemetry.on()) {
            recorder.find(db.id()).ifPresent(r -> started.telemetry(Telemetry.start(expDir, r,
                    TelemetryOptions.defaults().withInterval(telemetry.interval()))));
        }
        if (!Supervisor.needed(db.plan())) {
            return;
        }
        Supervisor.Owner owner = new Supervisor.Owner(db::shards, s -> {
            db.restarted(s);
            recorder.restarted(db.id(), s);
        }, () -> true, () -> db.state() == OrchestratorState.RUNNING);
        Supervisor sup = new Supervisor(db.plan(), db.launcher(), owner, Supervisor.Settings.defaults(),
                Clock.systemUTC());
        // renewing since the lease was written; the watchdog owns it from here
        started.keeper().ifPresent(sup::adopt);
        started.supervisor(sup.start());
    }

    /**
     * Detached: the start's lease renewals end, the lease is renewed in full (the watchdog process renews from its
     * first second, but its JVM may take a while to get there on a busy machine), and the watchdog process starts,
     * recorded in the manifest. Nothing supervises it here.
     */
    private void handOver(OrchestratorHandle db, StartedOrchestrator started, WatchdogCommand command) {
        started.release("handed over to a watchdog process");
        if (!Watchdog.needed(db.plan())) {
            return;
        }
        OrchestratorRecord r = recorder.find(db.id()).orElseThrow(() -> new StateException("orchestrator '"
                + db.id() + "' is no longer recorded in " + expDir + "; cannot hand it to a watchdog process"));
        if (db.plan().spec().lease().isPresent()) {
            Supervision.renew(r);
        }
        if (started.watchdogPid().isEmpty()) { // spawned as soon as the shards were (start)
            started.watchdogPid(Watchdog.spawn(expDir, experiment, db.id(), command.argv(expDir, db.id())));
        }
    }

    /**
     * The abort hook of one start: at the JVM's exit (SIGINT, SIGTERM) it stops the shards the launcher has reported
     * so far. The start itself goes on meanwhile on its own thread (a signal interrupts none), so once the hook has
     * begun a shard reported later ends the start (the launcher stops what it started), and the hook waits, bounded,
     * for the start to end before it stops whatever was reported after its first pass.
     */
    private static final class AbortOnExit {
        private final StartedOrchestrator started;
        private final CountDownLatch ended = new CountDownLatch(1);

        AbortOnExit(StartedOrchestrator started) {
            this.started = started;
        }

        void launchEnded() {
            ended.countDown();
        }

        void run() {
            List<LaunchedShard> first = started.refuseMore();
            started.teardown(first);
            try {
                ended.await(StartedOrchestrator.STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            started.teardown(started.shards().stream().filter(s -> !first.contains(s)).toList());
        }
    }

    /**
     * The hosts and addresses a {@code --tls} certificate must name: every shard's host and bind addresses, and what
     * this machine resolves the hosts to ({@link TlsNames}).
     */
    static List<String> tlsNames(LaunchPlan plan) {
        List<String> names = new ArrayList<>();
        plan.shards().forEach(s -> {
            names.add(s.host());
            names.addAll(s.bindAddresses());
        });
        return TlsNames.of(names);
    }

    /** What {@code --no-auth} gives up, said at every start without a password. */
    static String noAuthWarning(LaunchPlan plan) {
        boolean loopbackOnly = plan.shards().stream().allMatch(s -> !s.bindAddresses().isEmpty()
                && s.bindAddresses().stream().allMatch(a -> a.startsWith("127.") || a.equals("::1")));
        return "warning: '" + plan.id() + "' has no password (--no-auth): anyone who can reach its ports ("
                + (loopbackOnly ? "any user or process on this machine" : "any user of the nodes, and anyone on their "
                + "network") + ") can read, change or delete its data";
    }

    private void refuseIfRunningElsewhere(LaunchPlan plan) {
        Optional<OrchestratorRecord> prior = recorder.find(plan.id());
        if (prior.isEmpty() || !(prior.get().status() == Status.RUNNING || prior.get().status() == Status.STARTING)) {
            return;
        }
        OrchestratorRecord r = prior.get();
        boolean anyAlive = Launchers.find(r.launcher()).probe(r.shards()).values().stream()
                .anyMatch(l -> l != Liveness.GONE);
        if (anyAlive) {
            throw new StateException("orchestrator '" + plan.id() + "' is already running in " + expDir + " at "
                    + String.join(",", r.shards().stream().map(LaunchedShard::address).toList())
                    + "; stop it first (smartsim-launch db stop --exp-dir " + expDir + " --name " + plan.id()
                    + ") or choose another --name");
        }
        progress.accept("replacing the stale manifest entry for '" + plan.id() + "' (its processes are gone)");
    }

    /**
     * The watchdog process a detached start spawns beside the cluster's forming, on a thread of its own so that the
     * forming does not wait for the spawn.
     */
    private static final class WatchdogSpawn {
        private final java.util.concurrent.CompletableFuture<Long> pid;

        private WatchdogSpawn(java.util.concurrent.CompletableFuture<Long> pid) {
            this.pid = pid;
        }

        static WatchdogSpawn begin(java.util.function.Supplier<Long> spawn) {
            return new WatchdogSpawn(java.util.concurrent.CompletableFuture.supplyAsync(spawn, r -> {
                Thread t = new Thread(r, "smartsim-launch-watchdog-spawn");
                t.setDaemon(true);
                t.start();
            }));
        }

        /** Its pid once spawned and recorded; the spawn's failure as thrown by {@link Watchdog#spawn}. */
        long pid() {
            try {
                return pid.join();
            } catch (java.util.concurrent.CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        }

        /** The start failed: the watchdog process, if it was spawned, is ended and waited for. */
        void end(Path dir, java.util.function.Consumer<RuntimeException> problem) {
            long p;
            try {
                p = pid.get(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException notSpawned) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problem.accept(new StateException("interrupted while the watchdog process was being spawned"));
                return;
            } catch (java.util.concurrent.TimeoutException e) {
                problem.accept(new StateException("the watchdog process was still being spawned after 30 s"));
                return;
            }
            Watchdog.end(p, dir, problem);
        }
    }
}
