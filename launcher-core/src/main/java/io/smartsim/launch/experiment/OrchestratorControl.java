package io.smartsim.launch.experiment;

import io.smartsim.launch.status.OrchestratorCleanup;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.status.OrchestratorState;
import io.smartsim.launch.status.ShardDataNow;
import io.smartsim.launch.status.SupervisionStatus;
import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.error.StateException;
import io.smartsim.launch.cluster.HealthChecker;
import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Persistence;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.spi.Launchers;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.supervise.EventLog;
import io.smartsim.launch.supervise.Supervision;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Stop, cleanup and status of orchestrators as the manifest records them, from the process that started them or any
 * later one: each ends supervision first ({@code endSupervision}: this process's watchdog thread; then a recorded
 * watchdog process), so nothing restarts what it stops.
 *
 * @param recorder    where each transition is recorded
 * @param progress    receives short lines while it waits
 * @param releaseHere ends this process's supervision of an orchestrator id, if any
 */
public record OrchestratorControl(Recorder recorder, Consumer<String> progress, Consumer<String> releaseHere) {
    private static final Duration CONTROL_TIMEOUT = StartedOrchestrator.CONTROL_TIMEOUT;

    /** Ends whatever supervises {@code r}'s orchestrator: this process's watchdog thread, and a recorded watchdog process. */
    void endSupervision(OrchestratorRecord r) {
        releaseHere.accept(r.id());
        Supervision.stopWatchdog(r, progress);
    }

    /**
     * Stops {@code db}: supervision first, then {@code SHUTDOWN} to every shard (saving under {@code --checkpoint}),
     * the launcher terminating what has not exited within {@link StartedOrchestrator#STOP_GRACE}; recorded STOPPED with what
     * was saved. Returns when it was stopped. Fails with {@link StateException} when it is not running.
     */
    public Instant stop(OrchestratorHandle db) {
        OrchestratorRecord r = recorder.find(db.id()).orElse(null);
        boolean recordedUp = r != null && (r.status() == Status.RUNNING || r.status() == Status.STARTING);
        if (db.state() != OrchestratorState.RUNNING && !recordedUp) {
            throw new StateException("orchestrator '" + db.id() + "' is not running (recorded: "
                    + (r == null ? "never started" : r.status()) + "); nothing to stop");
        }
        if (r != null) {
            // The watchdog first, so it never restarts what this stop kills; then the shards as it left them.
            endSupervision(r);
            r = recorder.find(db.id()).orElse(r);
        }
        List<LaunchedShard> shards = r != null && !r.shards().isEmpty() ? r.shards() : db.shards();
        LaunchPlan plan = r != null ? r.plan() : db.plan();
        progress.accept("stopping " + shards.size() + " shard(s) of '" + db.id() + "'");
        Shards.reach(db.launcher(), shards); // a new process has no route to remote shards until the launcher makes one
        List<ShardShutdown.Outcome> saves = ShardShutdown.shutdown(plan, shards, CONTROL_TIMEOUT, plan.access(),
                progress);
        db.launcher().stop(shards, StartedOrchestrator.STOP_GRACE);
        db.ended(OrchestratorState.STOPPED);
        Instant stoppedAt = Instant.now();
        var facts = ShardShutdown.dataFacts(plan, db.launcher(), progress);
        recorder.ended(db.id(), Status.STOPPED, Optional.empty(), plan, saves, stoppedAt, facts);
        EventLog.in(db.plan().dir()).append(Event.of(db.id(), Event.STOPPED, shards.size() + " shard(s) stopped"));
        return stoppedAt;
    }

    /**
     * Removes what is left of {@code r} when its launch did not finish (recorded STARTING) or some of its processes
     * are gone (recorded RUNNING); empty for one running whole, stopped or failed.
     */
    public Optional<OrchestratorCleanup> cleanup(OrchestratorRecord r) {
        if (r.status() != Status.STARTING && r.status() != Status.RUNNING) {
            return Optional.empty();
        }
        Launcher launcher = launcherFor(r);
        Map<Integer, Liveness> before = launcher.probe(r.shards());
        long gone = before.values().stream().filter(l -> l == Liveness.GONE).count();
        String found;
        if (r.status() == Status.STARTING) {
            found = "STARTING";
        } else if (gone == 0) {
            return Optional.empty(); // running whole: 'db stop' is how to end it
        } else {
            found = gone == r.shards().size() ? "STALE" : "DEGRADED";
        }
        // The watchdog first, so it restarts nothing this cleanup removes; then the shards as it left them.
        endSupervision(r);
        List<LaunchedShard> shards = recorder.find(r.id()).map(OrchestratorRecord::shards).orElse(r.shards());
        Map<Integer, Liveness> current = launcher.probe(shards);
        List<LaunchedShard> present = shards.stream().filter(s -> current.get(s.index()) != Liveness.GONE).toList();
        progress.accept("cleaning up '" + r.id() + "' (" + found + "): " + present.size() + " of " + shards.size()
                + " recorded shard process(es) still exist");
        List<ShardShutdown.Outcome> saves = List.of();
        if (!present.isEmpty()) {
            Shards.reach(launcher, present);
            if (r.status() == Status.RUNNING) {
                // a degraded orchestrator's survivors keep their newest data (with --checkpoint) for a resume
                saves = ShardShutdown.shutdown(r.plan(), present, CONTROL_TIMEOUT, r.plan().access(), progress);
            } else {
                Shards.shutdownNoSave(present, CONTROL_TIMEOUT, r.plan().access());
            }
        }
        // Where a shard has something beside its server that may outlive it unseen by the shards' probe (the --ai
        // model server of its node; a start in flight's srun or model server), its launcher is given every recorded
        // shard, gone or not, and ends the whole orchestrator; otherwise the shards found. A launcher's stop leaves
        // alone what is no longer the shard's (a pid reused, a step gone).
        List<LaunchedShard> toStop = r.status() == Status.STARTING || !r.plan().modelServers().isEmpty() ? shards
                : present;
        if (!toStop.isEmpty()) {
            launcher.stop(toStop, StartedOrchestrator.STOP_GRACE);
        }
        Map<Integer, Liveness> after = launcher.probe(shards);
        List<LaunchedShard> left = shards.stream().filter(s -> after.get(s.index()) == Liveness.ALIVE).toList();
        List<LaunchedShard> stopped = present.stream().filter(s -> !left.contains(s)).toList();
        Status now = r.status();
        if (left.isEmpty()) {
            now = r.status() == Status.STARTING ? Status.FAILED : Status.STOPPED;
            Optional<String> error = now == Status.FAILED ? Optional.of(OrchestratorCleanup.INTERRUPTED_START)
                    : Optional.empty();
            recorder.ended(r.id(), now, error, r.plan(), saves, Instant.now(),
                    ShardShutdown.dataFacts(r.plan(), launcher, progress));
        }
        return Optional.of(new OrchestratorCleanup(r.id(), r.status(), found, shards, stopped, left, now));
    }

    /** {@code r} checked against the running processes and the database itself. */
    public OrchestratorStatus status(OrchestratorRecord r) {
        if (r.status() != Status.RUNNING && r.status() != Status.STARTING) {
            return new OrchestratorStatus(r.id(), r.launcher(), r.status(), r.status().name(), r.shards(), Map.of(),
                    Optional.empty(), r.error());
        }
        Launcher launcher = launcherFor(r);
        Shards.reach(launcher, r.shards());
        Map<Integer, Liveness> live = launcher.probe(r.shards());
        long gone = live.values().stream().filter(l -> l == Liveness.GONE).count();
        if (!r.shards().isEmpty() && gone == r.shards().size()) {
            return new OrchestratorStatus(r.id(), r.launcher(), r.status(), "STALE", r.shards(), live,
                    Optional.empty(), Optional.of("recorded as " + r.status() + " but none of its " + r.shards().size()
                    + " processes exists" + leaseNote(r) + launcher.endedJobs(r.shards()).map(j -> "; " + j).orElse("")
                    + "; stop it to clear the entry"));
        }
        HealthReport h = HealthChecker.check(OrchestratorHandle.targets(r.plan(), r.shards()), r.plan().clustered(),
                CONTROL_TIMEOUT, r.plan().access());
        String state = gone > 0 ? "DEGRADED" : r.status() == Status.STARTING ? "STARTING"
                : h.healthy() ? "RUNNING" : "UNHEALTHY";
        Map<Integer, String> planned = new HashMap<>();
        r.plan().shards().forEach(p -> planned.put(p.index(), p.roleText()));
        return new OrchestratorStatus(r.id(), r.launcher(), r.status(), state, r.shards(), live, Optional.of(h),
                h.firstProblem(), planned);
    }

    /** The checkpoint data of {@code r}'s running orchestrator now, per planned shard (see Experiment#checkpointDataNow). */
    public List<ShardDataNow> checkpointDataNow(OrchestratorRecord r, OrchestratorStatus status) {
        if (r.spec().checkpoint().isEmpty() || status.health().isEmpty()) {
            return List.of();
        }
        LaunchPlan plan = r.plan();
        Checkpoint cp = plan.spec().checkpoint().get();
        Map<Path, ShardShutdown.FileFacts> facts = ShardShutdown.dataFacts(plan, launcherFor(r), progress);
        Map<Integer, Map<String, String>> info = new HashMap<>();
        status.health().get().shards().forEach(h -> info.put(h.index(), h.persistence()));
        return plan.shards().stream().map(s -> {
            Path path = Persistence.dataPath(s.workDir(), cp, plan.spec().backend());
            Optional<ShardShutdown.FileFacts> f = Optional.ofNullable(facts.get(path));
            return ShardDataNow.of(s.index(), s.name(), cp.kind(), path, f.map(ShardShutdown.FileFacts::bytes),
                    f.map(ShardShutdown.FileFacts::modified), info.getOrDefault(s.index(), Map.of()));
        }).toList();
    }

    /** Why the shards may have gone: a lease that ran out. */
    private static String leaseNote(OrchestratorRecord r) {
        if (r.spec().lease().isEmpty()) {
            return "";
        }
        SupervisionStatus s = Supervision.status(r);
        return s.leaseExpired() ? " (the lease ran out at " + s.leaseExpiry().map(Instant::toString)
                .orElse("? (lease file removed)") + " without being renewed: the shards stopped themselves)" : "";
    }

    static Launcher launcherFor(OrchestratorRecord r) {
        return Launchers.find(r.launcher());
    }
}
