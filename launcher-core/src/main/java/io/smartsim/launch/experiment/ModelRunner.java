package io.smartsim.launch.experiment;

import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.entity.ModelPlanner;
import io.smartsim.launch.spi.ModelState;
import io.smartsim.launch.spi.LaunchedModel;
import io.smartsim.launch.spi.ModelLauncher;
import io.smartsim.launch.util.Backoff;
import io.smartsim.launch.util.Deadline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Runs an experiment's models: starts each with the database variables, asks their launchers how they are (one query
 * per launcher), waits for them, and stops them (the launcher's SIGTERM or cancel, a kill after
 * {@link #STOP_GRACE}). Every change of a started model is recorded. It keeps the models it started
 * and has not seen end, for its experiment's close; once {@link #refuseNew} was called (the JVM is exiting) none
 * starts.
 */
public final class ModelRunner {
    /** How long stopped models get to exit after SIGTERM before a kill ({@code Experiment.MODEL_STOP_GRACE}). */
    public static final Duration STOP_GRACE = Duration.ofSeconds(5);

    private final String experiment;
    private final Recorder recorder;
    private final Consumer<String> progress;
    private final Set<ModelHandle> startedHere = Collections.synchronizedSet(new LinkedHashSet<>());
    /** Set by {@link #refuseNew} (under this runner's lock): no model starts after it. */
    private boolean exiting;

    public ModelRunner(String experiment, Recorder recorder, Consumer<String> progress) {
        this.experiment = experiment;
        this.recorder = recorder;
        this.progress = progress;
    }

    /**
     * Tells {@code started} (which arms the stop at the JVM's exit), then starts {@code m} with {@code env}. Under this
     * runner's lock, which {@link #refuseNew} takes too: a start under way when the JVM is told to exit is finished
     * whole (and then stopped), and none starts after that. Armed before the process exists: a signal that arrives
     * while the start is being recorded (its ranks already running) must still stop it.
     */
    public synchronized void start(ModelHandle m, Map<String, String> env, Runnable started) {
        if (exiting) {
            throw new LaunchException("model '" + m.name() + "' was not started: the JVM is exiting and experiment '"
                    + experiment + "' is stopping what it started");
        }
        ModelPlan plan = m.plan();
        ModelPlanner.writeFiles(plan);
        started.run();
        LaunchedModel launched;
        try {
            launched = m.launcher().start(plan, env);
        } catch (RuntimeException e) {
            m.failedToStart(e.getMessage());
            throw e;
        }
        m.started(launched);
        recorder.model(m);
        startedHere.add(m);
        progress.accept("started " + m.type().toLowerCase(Locale.ROOT) + " '" + m.name() + "' ("
                + m.launcher().name() + " " + launched.id() + "); output in " + plan.stdout());
    }

    /** Waits for the JVM's exit: a model start under way ends first, and none starts after. */
    synchronized void refuseNew() {
        exiting = true;
    }

    /** The models started here that have not ended, as far as this runner has seen. */
    List<ModelHandle> startedHere() {
        synchronized (startedHere) {
            return new ArrayList<>(startedHere);
        }
    }

    /** Waits until every model of {@code ms} has finished (or was never started); false when {@code deadline} passed. */
    public boolean await(List<? extends ModelHandle> ms, Deadline deadline) {
        Backoff backoff = new Backoff(deadline, Duration.ofMillis(10), Duration.ofMillis(250));
        while (true) {
            refresh(ms);
            if (ms.stream().allMatch(m -> m.status().terminal() || m.status() == EntityStatus.NEW)) {
                return true;
            }
            try {
                if (!backoff.pause()) {
                    return false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LaunchException("interrupted while waiting for models; they run until stopped or until "
                        + "the experiment is closed", e);
            }
        }
    }

    /**
     * Asks the launchers about every started, unfinished model (one query per launcher). Records a model when it
     * ends, and when its launcher names the node it runs on for the first time (or another one: requeued).
     */
    public void refresh(List<? extends ModelHandle> ms) {
        byLauncher(ms).forEach((launcher, group) -> {
            Map<String, ModelState> states = launcher.poll(group.stream().map(m -> m.launched().orElseThrow())
                    .toList());
            for (ModelHandle m : group) {
                ModelState s = states.get(m.name());
                if (s == null) {
                    continue;
                }
                ModelHandle.Change change = m.update(s);
                if (change.placed() && !change.ended()) {
                    recorder.model(m); // where it runs, once the scheduler says (a batch job that began to run)
                }
                if (change.ended()) {
                    recorder.model(m);
                    startedHere.remove(m);
                    progress.accept(m.type().toLowerCase(Locale.ROOT) + " '" + m.name() + "' "
                            + m.status() + m.exitCode().map(c -> " (exit code " + c + ")").orElse("")
                            + m.detail().map(d -> ": " + d).orElse(""));
                }
            }
        });
    }

    /** Stops the unfinished models of {@code ms}; one the launcher cannot tell the end of is recorded CANCELLED. */
    public void stop(List<? extends ModelHandle> ms) {
        refresh(ms);
        byLauncher(ms).forEach((launcher, group) -> {
            progress.accept("stopping " + group.size() + " model(s): " + String.join(", ",
                    group.stream().map(ModelHandle::name).toList()));
            launcher.stop(group.stream().map(m -> m.launched().orElseThrow()).toList(), STOP_GRACE);
        });
        refresh(ms);
        for (ModelHandle m : ms) {
            if (m.launched().isPresent() && !m.status().terminal()) {
                // the launcher could not tell how it ended; it was stopped on request
                m.update(new ModelState(EntityStatus.CANCELLED, Optional.empty(), Optional.of("stopped")));
                recorder.model(m);
            }
            startedHere.remove(m);
        }
    }

    /** The started, unfinished models of {@code ms} by launcher, in order. */
    private static Map<ModelLauncher, List<ModelHandle>> byLauncher(List<? extends ModelHandle> ms) {
        Map<ModelLauncher, List<ModelHandle>> out = new IdentityHashMap<>();
        for (ModelHandle m : ms) {
            if (m.launched().isPresent() && !m.status().terminal()) {
                out.computeIfAbsent(m.launcher(), l -> new ArrayList<>()).add(m);
            }
        }
        return out;
    }
}
