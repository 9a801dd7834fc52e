package io.smartsim.launch.experiment;

import io.smartsim.launch.error.LaunchException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * What one {@code Experiment} instance keeps of what it started in process: the orchestrators it stops at its close
 * or at the JVM's exit (through a shutdown hook armed once the first one, or the first model, runs), and the
 * supervision it runs for them here (their {@link StartedOrchestrator} handles: watchdog threads, lease renewals).
 * Orchestrators started detached are never kept here.
 */
public final class StartedHere {
    private final String experiment;
    private final ModelRunner models;
    /** Stops one orchestrator as {@code Experiment#stop(OrchestratorHandle...)} does. */
    private final Consumer<OrchestratorHandle> stop;
    private final Set<OrchestratorHandle> orchestrators = Collections.synchronizedSet(new LinkedHashSet<>());
    private final Map<String, StartedOrchestrator> supervised = new ConcurrentHashMap<>();
    private Thread stopOnExit;

    public StartedHere(String experiment, ModelRunner models, Consumer<OrchestratorHandle> stop) {
        this.experiment = experiment;
        this.models = models;
        this.stop = stop;
    }

    /** {@code db} runs: it is stopped at close or at the JVM's exit from now on. */
    public void keep(OrchestratorHandle db) {
        orchestrators.add(db);
        armStopOnExit();
    }

    /** The supervision of {@code id} running here, ended at close, detach or stop. */
    public void supervising(String id, StartedOrchestrator started) {
        StartedOrchestrator old = supervised.put(id, started);
        if (old != null) {
            old.release("stopped");
        }
    }

    /** {@code db} was stopped (or cleaned up): nothing to stop at close. */
    public void forget(OrchestratorHandle db) {
        orchestrators.remove(db);
    }

    /** Ends the supervision here of orchestrator {@code id}, if any, leaving its shards running. */
    public void release(String id, String why) {
        StartedOrchestrator s = supervised.remove(id);
        if (s != null) {
            s.release(why);
        }
    }

    public synchronized void armStopOnExit() {
        if (stopOnExit == null) {
            stopOnExit = new Thread(() -> {
                models.refuseNew(); // waits for a model start under way, and refuses the ones after it
                stopAll();
            }, "smartsim-launch-stop-on-exit-" + experiment);
            Runtime.getRuntime().addShutdownHook(stopOnExit);
        }
    }

    /** Ends the supervision here, then stops every model started here and every orchestrator kept. Safe twice. */
    public synchronized void close() {
        // The controller is leaving: its watchdogs stop (detached orchestrators keep running, their leases unrenewed).
        supervised.values().forEach(s -> s.release("stopped"));
        supervised.clear();
        if (stopOnExit != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(stopOnExit);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting and the hook is doing the same work
            }
            stopOnExit = null;
        }
        stopAll();
    }

    private synchronized void stopAll() {
        List<ModelHandle> runningModels = models.startedHere();
        List<OrchestratorHandle> running;
        synchronized (orchestrators) {
            running = new ArrayList<>(orchestrators);
        }
        LaunchException first = null;
        try {
            models.stop(runningModels); // models first: they use the databases
        } catch (LaunchException e) {
            first = e;
        }
        for (OrchestratorHandle db : running) {
            try {
                stop.accept(db);
            } catch (LaunchException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
