package io.smartsim.launch.experiment;

import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.entity.ModelPlanner;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spi.ModelState;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.ModelRecord;
import io.smartsim.launch.spi.LaunchedModel;
import io.smartsim.launch.spi.ModelLauncher;
import io.smartsim.launch.spi.RenderedLaunch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How {@link ModelRunner} starts, follows and stops models and what it records. A scripted model launcher stands in
 * for a real one: core cannot depend on a launcher module, and none of this needs a process. Real processes:
 * launcher-local's ExperimentModelsIT.
 */
class ModelRunnerTest {
    @TempDir
    Path dir;

    /** Answers polls with {@link #states}; records starts and stops. */
    private static final class Scripted implements ModelLauncher {
        final Map<String, ModelState> states = new java.util.concurrent.ConcurrentHashMap<>();
        /** When set, every poll waits here first: callers that poll at once all get their answer together. */
        volatile java.util.concurrent.CyclicBarrier together;
        final List<String> started = new ArrayList<>();
        final List<String> stopped = new ArrayList<>();
        RuntimeException failStart;

        @Override
        public String name() {
            return "scripted";
        }

        @Override
        public void validate(ModelPlan plan) {
        }

        @Override
        public RenderedLaunch render(ModelPlan plan, Map<String, String> dbEnv) {
            throw new UnsupportedOperationException("not rendered here");
        }

        @Override
        public LaunchedModel start(ModelPlan plan, Map<String, String> dbEnv) {
            if (failStart != null) {
                throw failStart;
            }
            started.add(plan.name() + " " + dbEnv);
            return new LaunchedModel(plan.name(), name(), "job-" + plan.name(), Optional.empty(), Instant.now(),
                    Map.of());
        }

        @Override
        public Map<String, ModelState> poll(List<LaunchedModel> models) {
            if (together != null) {
                try {
                    together.await(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
            Map<String, ModelState> out = new HashMap<>();
            models.forEach(m -> Optional.ofNullable(states.get(m.name())).ifPresent(s -> out.put(m.name(), s)));
            return out;
        }

        @Override
        public void stop(List<LaunchedModel> models, Duration grace) {
            models.forEach(m -> stopped.add(m.name()));
        }
    }

    private final Scripted launcher = new Scripted();
    private final List<String> progress = new java.util.concurrent.CopyOnWriteArrayList<>();

    private ModelHandle model(String name) {
        return new ModelHandle(ModelPlanner.plan(dir, ModelSpec.builder(name, "/bin/true").build()), launcher);
    }

    private ModelRunner runner(ManifestStore store) {
        return new ModelRunner("demo", new Recorder(store, "demo"), progress::add);
    }

    private static Optional<ModelRecord> recorded(ManifestStore store, String name) {
        return store.read().flatMap(m -> m.models().stream().filter(r -> r.plan().name().equals(name)).findFirst());
    }

    @Test
    void aStartedModelIsRecordedAndKeptUntilItIsSeenToEnd() {
        ManifestStore store = new ManifestStore(dir);
        ModelRunner runner = runner(store);
        ModelHandle sim = model("sim");
        List<String> told = new ArrayList<>();
        // armed before the launch: a signal while the start is recorded (the model already running) stops it too
        runner.start(sim, Map.of("SSDB", "127.0.0.1:6780"), () -> told.add("armed, launched: " + launcher.started));
        assertThat(launcher.started).containsExactly("sim {SSDB=127.0.0.1:6780}");
        assertThat(told).containsExactly("armed, launched: []");
        assertThat(recorded(store, "sim")).hasValueSatisfying(r -> assertThat(r.status())
                .isEqualTo(EntityStatus.RUNNING));
        assertThat(runner.startedHere()).containsExactly(sim);

        launcher.states.put("sim", new ModelState(EntityStatus.COMPLETED, Optional.of(0), Optional.empty()));
        runner.refresh(List.of(sim));
        assertThat(sim.status()).isEqualTo(EntityStatus.COMPLETED);
        assertThat(recorded(store, "sim")).hasValueSatisfying(r -> assertThat(r.exitCode()).hasValue(0));
        assertThat(runner.startedHere()).isEmpty();
        assertThat(progress).contains("model 'sim' COMPLETED (exit code 0)");
    }

    @Test
    void theNodeALauncherNamesOnceTheJobRunsIsRecordedInTheHandleWhileItRuns() {
        ManifestStore store = new ManifestStore(dir);
        ModelRunner runner = runner(store);
        ModelHandle sim = model("sim");
        runner.start(sim, Map.of(), () -> { });
        assertThat(recorded(store, "sim")).hasValueSatisfying(r -> assertThat(r.launched().handle())
                .doesNotContainKey(LaunchedModel.NODE));

        // queued: no node yet, nothing new to record
        launcher.states.put("sim", new ModelState(EntityStatus.QUEUED, Optional.empty(), Optional.of("pending")));
        runner.refresh(List.of(sim));
        assertThat(sim.launched().orElseThrow().handle()).doesNotContainKey(LaunchedModel.NODE);

        // the job runs: its nodes reach the handle and the manifest at once, not only when it ends
        launcher.states.put("sim", ModelState.of(EntityStatus.RUNNING).withNode(Optional.of("n[1-2]")));
        runner.refresh(List.of(sim));
        assertThat(sim.launched().orElseThrow().handle()).containsEntry(LaunchedModel.NODE, "n[1-2]");
        assertThat(recorded(store, "sim")).hasValueSatisfying(r -> {
            assertThat(r.status()).isEqualTo(EntityStatus.RUNNING);
            assertThat(r.launched().handle()).containsEntry(LaunchedModel.NODE, "n[1-2]");
            assertThat(r.launched().id()).isEqualTo("job-sim");
        });

        // a state that names no node keeps the one recorded; the end is recorded with it
        launcher.states.put("sim", new ModelState(EntityStatus.COMPLETED, Optional.of(0), Optional.empty()));
        runner.refresh(List.of(sim));
        assertThat(recorded(store, "sim")).hasValueSatisfying(r -> {
            assertThat(r.status()).isEqualTo(EntityStatus.COMPLETED);
            assertThat(r.launched().handle()).containsEntry(LaunchedModel.NODE, "n[1-2]");
        });
    }

    @Test
    void aBlankNodeIsNoNode() {
        assertThat(ModelState.of(EntityStatus.RUNNING).withNode(Optional.of("  ")).node()).isEmpty();
        assertThat(new ModelState(EntityStatus.RUNNING, null, null, null).node()).isEmpty();
        assertThat(ModelState.of(EntityStatus.RUNNING).withNode(Optional.of(" n1 ")).node()).hasValue("n1");
    }

    @Test
    void noModelStartsOnceTheJvmIsExiting() {
        ModelRunner runner = runner(new ManifestStore(dir));
        runner.refuseNew();
        assertThatThrownBy(() -> runner.start(model("late"), Map.of(), () -> { }))
                .isInstanceOf(LaunchException.class)
                .hasMessageContaining("model 'late' was not started: the JVM is exiting");
        assertThat(launcher.started).isEmpty();
    }

    @Test
    void aModelTheLauncherCannotTellTheEndOfIsRecordedCancelledWhenStopped() {
        ManifestStore store = new ManifestStore(dir);
        ModelRunner runner = runner(store);
        ModelHandle sim = model("sim");
        runner.start(sim, Map.of(), () -> { });
        runner.stop(List.of(sim));
        assertThat(launcher.stopped).containsExactly("sim");
        assertThat(sim.status()).isEqualTo(EntityStatus.CANCELLED);
        assertThat(recorded(store, "sim")).hasValueSatisfying(r -> assertThat(r.status())
                .isEqualTo(EntityStatus.CANCELLED));
        assertThat(runner.startedHere()).isEmpty();
    }

    @Test
    void aStartTheLauncherRefusesLeavesTheModelFailedAndNothingKept() {
        ManifestStore store = new ManifestStore(dir);
        ModelRunner runner = runner(store);
        launcher.failStart = new LaunchException("no such executable: /bin/true-not");
        ModelHandle sim = model("sim");
        List<String> told = new ArrayList<>();
        assertThatThrownBy(() -> runner.start(sim, Map.of(), () -> told.add("started")))
                .hasMessageContaining("no such executable");
        assertThat(sim.status()).isEqualTo(EntityStatus.FAILED);
        assertThat(sim.detail()).hasValue("no such executable: /bin/true-not");
        assertThat(told).as("armed before the launch; with nothing kept, the stop at exit has nothing to do")
                .containsExactly("started");
        assertThat(runner.startedHere()).isEmpty();
        assertThat(recorded(store, "sim")).as("never launched: nothing for another process to poll").isEmpty();
    }

    /**
     * A run's main thread and the JVM's exit hook poll the same model at once (the hook while it stops it): both are
     * told it ended, but it ends once: one progress line, one record. Before, both printed "model 'sim' CANCELLED".
     */
    @Test
    void twoThreadsThatSeeAModelEndAtOnceReportItOnce() throws Exception {
        ModelRunner runner = runner(new ManifestStore(dir));
        ModelHandle sim = model("sim");
        runner.start(sim, Map.of(), () -> { });
        launcher.states.put("sim", new ModelState(EntityStatus.CANCELLED, Optional.empty(),
                Optional.of("stopped on request")));
        launcher.together = new java.util.concurrent.CyclicBarrier(2);
        Thread other = new Thread(() -> runner.refresh(List.of(sim)));
        other.start();
        runner.refresh(List.of(sim));
        other.join(30_000);
        assertThat(other.isAlive()).isFalse();
        assertThat(sim.status()).isEqualTo(EntityStatus.CANCELLED);
        assertThat(progress).filteredOn(l -> l.startsWith("model 'sim'"))
                .containsExactly("model 'sim' CANCELLED: stopped on request");
    }
}
