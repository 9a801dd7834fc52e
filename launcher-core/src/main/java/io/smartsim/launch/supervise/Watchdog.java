package io.smartsim.launch.supervise;

import io.smartsim.launch.error.StateException;
import io.smartsim.launch.spec.LeaseController;
import io.smartsim.launch.spec.TelemetrySpec;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.telemetry.Telemetry;
import io.smartsim.launch.telemetry.TelemetryOptions;
import io.smartsim.launch.exec.DaemonProcess;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.manifest.SupervisionRecord;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.spi.Launchers;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The watchdog as a process of its own, for orchestrators started by a command that returns ({@code db start}): it
 * supervises from the manifest ({@link Supervisor}), records each restarted shard there, renews the lease while its
 * controller process lives, and ends by itself once the orchestrator is no longer recorded as running with it as
 * its watchdog. {@link Supervision#stopWatchdog} ends it from {@code db stop} and {@code db cleanup}.
 */
public final class Watchdog {
    public static final String LOG = "watchdog.log";

    private Watchdog() {
    }

    /**
     * Whether a detached start leaves a watchdog process: to restart shards or renew the lease
     * ({@link Supervisor#needed}), or to record telemetry ({@code --telemetry on}, the default).
     */
    public static boolean needed(LaunchPlan plan) {
        return Supervisor.needed(plan) || plan.spec().telemetry().on();
    }

    /**
     * Starts {@code command} (a JVM running {@code db watch} for orchestrator {@code id}) detached, its output in
     * {@code <dir>/<id>/watchdog.log}, and records it in the manifest. Returns its pid.
     */
    public static long spawn(Path expDir, String experiment, String id, List<String> command) {
        ManifestStore store = new ManifestStore(expDir);
        OrchestratorRecord r = store.read().flatMap(m -> m.find(id)).orElseThrow(() -> new StateException(
                "no orchestrator '" + id + "' in " + expDir + " to supervise"));
        Path log = r.plan().dir().resolve(LOG);
        // Not a child of this JVM: with a child running, a Java 17 JVM takes 0.3 s longer to exit (see DaemonProcess),
        // and db start, which leaves its watchdog running, would pay that on every start.
        DaemonProcess p = DaemonProcess.spawn(command, r.plan().dir(), log);
        long pid = p.pid().orElseThrow(() -> new StateException("the watchdog of '" + id + "' did not start: "
                + p.exit().orElse("?") + "; see " + log));
        Optional<Instant> start = ProcessHandle.of(pid).flatMap(h -> h.info().startInstant());
        store.update(experiment, m -> m.find(id).map(x -> m.with(x.withSupervision(x.supervision()
                .orElse(Supervision.record(x.plan())).withWatchdog(pid, start, log, Supervision.hostname()))))
                .orElse(m));
        return pid;
    }

    /**
     * Supervises orchestrator {@code id} of {@code expDir} until it is stopped, removed, replaced, or its lease has run
     * out with every shard gone, or this process is told to exit (SIGTERM: a restart under way is finished or
     * abandoned first). The lease is renewed while {@code controller} lives (always, when empty).
     */
    public static void run(Path expDir, String id, Optional<LeaseController> controller, Consumer<String> log) {
        ManifestStore store = new ManifestStore(expDir);
        OrchestratorRecord recorded = store.read().flatMap(m -> m.find(id)).orElseThrow(() -> new StateException(
                "no orchestrator '" + id + "' in " + expDir + "; nothing to watch"));
        Optional<OrchestratorRecord> running = awaitRunning(store, recorded, log);
        if (running.isEmpty()) {
            forgetPidFile(recorded.plan().dir().resolve(LOG + ".pid"), ProcessHandle.current().pid());
            return;
        }
        OrchestratorRecord first = running.get();
        String experiment = store.read().orElseThrow().experiment();
        long me = ProcessHandle.current().pid();
        Instant started = ProcessHandle.current().info().startInstant().orElse(Instant.now());
        Launcher launcher = Launchers.find(first.launcher());
        Cached manifest = new Cached(store, id);
        // Here only to record telemetry (no restarts, no lease): nothing else would notice that every shard has gone
        // (killed, a node lost) while the manifest still says RUNNING, so look now and then and end then.
        AllGone gone = Supervisor.needed(first.plan()) ? null : new AllGone(launcher, Clock.systemUTC());
        Supervisor.Owner owner = new Supervisor.Owner(
                () -> manifest.get().map(OrchestratorRecord::shards).orElse(List.of()),
                s -> store.update(experiment, m -> m.find(id).map(x -> m.with(x.withShard(s))).orElse(m)),
                () -> controller.map(LeaseController::alive).orElse(true),
                () -> !StopRequest.since(first.plan().dir(), started) && manifest.get()
                        .filter(x -> x.status() == Status.RUNNING)
                        .filter(x -> x.supervision().flatMap(SupervisionRecord::watchdogPid).map(p -> p == me)
                                .orElse(true)).isPresent() && !(gone != null && gone.allGone(manifest.get())));
        Supervisor sup = new Supervisor(first.plan(), launcher, owner, Supervisor.Settings.defaults(),
                Clock.systemUTC());
        log.accept(Instant.now() + " watching '" + id + "' of " + expDir + " (pid " + me + ")"
                + controller.map(c -> "; renewing its lease while pid " + c.pid() + " lives").orElse(""));
        TelemetrySpec tel = first.plan().spec().telemetry();
        Telemetry collector = tel.on() ? Telemetry.start(expDir, first, TelemetryOptions.defaults()
                .withInterval(tel.interval())) : null;
        if (collector != null) {
            log.accept(Instant.now() + " recording telemetry of '" + id + "' every "
                    + io.smartsim.launch.spec.Durations.format(tel.interval()) + " under " + expDir.resolve("telemetry"));
        }
        Path pidFile = first.plan().dir().resolve(LOG + ".pid");
        Thread hook = new Thread(() -> {
            try {
                sup.close();
                if (collector != null) {
                    collector.close();
                }
            } finally {
                forgetPidFile(pidFile, me);
            }
        }, "smartsim-launch-watchdog-exit");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            sup.start().join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            // The pid file first, while the hook is still there: db stop's SIGTERM comes right after its stop request,
            // which ended the join above, and a JVM that exits on SIGTERM runs its hooks, not this block to its end.
            // With the hook already removed and the collector still closing, the pid file stayed and its waiting
            // subshell wrote an exit file (143): TelemetryCliIT saw both after db stop, once in 3 full runs.
            forgetPidFile(pidFile, me);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException exiting) {
                // the hook is closing the supervisor
            }
            if (collector != null) {
                collector.close();
            }
        }
        log.accept(Instant.now() + " no longer watching '" + id + "'");
    }

    /**
     * The record once its start has ended healthy: a start spawns its watchdog process as soon as its shards exist
     * (OrchestratorStart), so the record may still say STARTING. Empty, said in the log, when the start failed, the
     * record went away, or it stayed STARTING past the start's own timeout and a minute (the starting process was
     * killed: what it left is for db cleanup, not for a watchdog).
     */
    private static Optional<OrchestratorRecord> awaitRunning(ManifestStore store, OrchestratorRecord recorded,
                                                             Consumer<String> log) {
        String id = recorded.id();
        Instant until = Instant.now().plus(recorded.spec().startupTimeout()).plusSeconds(60);
        Optional<OrchestratorRecord> r = Optional.of(recorded);
        while (r.filter(x -> x.status() == Status.STARTING).isPresent() && Instant.now().isBefore(until)) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
            r = store.read().flatMap(m -> m.find(id));
        }
        if (r.filter(x -> x.status() == Status.RUNNING).isPresent()) {
            return r;
        }
        log.accept(Instant.now() + " not watching '" + id + "': its start " + r.map(x -> x.status() == Status.STARTING
                ? "did not end by " + until : "ended " + x.status() + x.error().map(e -> " (" + e + ")").orElse(""))
                .orElse("was removed from the manifest"));
        return Optional.empty();
    }

    /**
     * Ends the watchdog process {@code pid} that a start spawned before it failed (it would end by itself once it
     * reads FAILED; this does not wait for that): its pid file in {@code dir} removed first (so that its waiting
     * subshell writes no exit file, as when it ends by itself), SIGTERM, then SIGKILL after 10 s; waits until it is
     * gone. What goes wrong is handed to {@code problem}.
     */
    public static void end(long pid, Path dir, Consumer<RuntimeException> problem) {
        forgetPidFile(dir.resolve(LOG + ".pid"), pid);
        ProcessHandle.of(pid).ifPresent(h -> {
            try {
                h.destroy();
                try {
                    h.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException slow) {
                    h.destroyForcibly();
                    h.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problem.accept(new StateException("interrupted while ending watchdog process " + pid));
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                problem.accept(new StateException("watchdog process " + pid + " did not end: " + e));
            }
        });
    }

    /**
     * Removes the pid file {@link #spawn} had written for this process ({@code watchdog.log.pid}, see DaemonProcess),
     * if it still names this process: a watchdog that ends leaves no pid file behind (and, the file gone, its
     * waiting subshell writes no exit file either). One killed with SIGKILL leaves both: how it ended.
     */
    private static void forgetPidFile(Path pidFile, long me) {
        try {
            if (java.nio.file.Files.readString(pidFile).trim().equals(Long.toString(me))) {
                java.nio.file.Files.deleteIfExists(pidFile);
            }
        } catch (java.io.IOException | RuntimeException goneOrNotMine) {
            // not there, or another watchdog's
        }
    }

    /** Whether every shard has gone, asked of the launcher at most every {@link #EVERY} (on Slurm a probe is squeue). */
    private static final class AllGone {
        static final java.time.Duration EVERY = java.time.Duration.ofSeconds(10);
        private final Launcher launcher;
        private final Clock clock;
        private Instant last = Instant.EPOCH;

        AllGone(Launcher launcher, Clock clock) {
            this.launcher = launcher;
            this.clock = clock;
        }

        synchronized boolean allGone(Optional<OrchestratorRecord> r) {
            Instant now = clock.instant();
            if (r.isEmpty() || now.isBefore(last.plus(EVERY))) {
                return false;
            }
            last = now;
            java.util.Map<Integer, Launcher.Liveness> live = launcher.probe(r.get().shards());
            return !live.isEmpty() && live.values().stream().allMatch(l -> l == Launcher.Liveness.GONE);
        }
    }

    /** The orchestrator's record, read again only when the manifest file has changed (it is read every second). */
    private static final class Cached {
        private final ManifestStore store;
        private final String id;
        private Object stamp;
        private Optional<OrchestratorRecord> value = Optional.empty();

        Cached(ManifestStore store, String id) {
            this.store = store;
            this.id = id;
        }

        synchronized Optional<OrchestratorRecord> get() {
            Object now;
            try {
                java.nio.file.attribute.BasicFileAttributes a = java.nio.file.Files.readAttributes(store.file(),
                        java.nio.file.attribute.BasicFileAttributes.class);
                now = List.of(a.lastModifiedTime(), a.size(), String.valueOf(a.fileKey()));
            } catch (java.io.IOException e) {
                now = null;
            }
            if (now == null || !now.equals(stamp)) {
                value = store.read().flatMap(m -> m.find(id));
                stamp = now;
            }
            return value;
        }
    }
}
