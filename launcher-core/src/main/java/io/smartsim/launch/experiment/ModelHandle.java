package io.smartsim.launch.experiment;

import io.smartsim.launch.colocated.ColocatedStatus;
import io.smartsim.launch.status.ColocatedNode;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.spi.ModelState;
import io.smartsim.launch.manifest.ModelRecord;
import io.smartsim.launch.spi.LaunchedModel;
import io.smartsim.launch.spi.ModelLauncher;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One model as the experiment holding it knows it: its plan and, once started, where it runs and how it ended.
 * {@code io.smartsim.launch.Model} is this class with the public face (the public methods here are the API's); the
 * model runner and the records in this package change it through package-private ones, as for
 * {@link OrchestratorHandle}.
 */
public class ModelHandle {
    private final ModelPlan plan;
    private final ModelLauncher launcher;
    private volatile EntityStatus status = EntityStatus.NEW;
    private volatile LaunchedModel launched;
    private volatile Integer exitCode;
    private volatile String detail;
    private volatile Instant endedAt;

    protected ModelHandle(ModelPlan plan, ModelLauncher launcher) {
        this.plan = plan;
        this.launcher = launcher;
    }

    public String name() {
        return plan.name();
    }

    public String type() {
        return plan.type();
    }

    public ModelPlan plan() {
        return plan;
    }

    /** As of the last {@code Experiment#poll}, {@code Experiment#finished} or wait. */
    public EntityStatus status() {
        return status;
    }

    /** Its exit code, once it has exited and the launcher knows it. */
    public Optional<Integer> exitCode() {
        return Optional.ofNullable(exitCode);
    }

    /** Why it failed or was cancelled, when the launcher says. */
    public Optional<String> detail() {
        return Optional.ofNullable(detail);
    }

    /** Where it runs, once started. */
    public Optional<LaunchedModel> launched() {
        return Optional.ofNullable(launched);
    }

    public Path stdout() {
        return plan.stdout();
    }

    public Path stderr() {
        return plan.stderr();
    }

    /**
     * Its colocated databases by node, with their health (one PING each): those running now, or left by a killed
     * keeper. Empty when the model has none, or none runs.
     */
    public List<ColocatedNode> colocatedDatabases() {
        return plan.colocated().map(ColocatedStatus::nodes).orElse(List.of());
    }

    /** From start to end (or to now while it runs); empty before it starts. */
    public Optional<Duration> elapsed() {
        LaunchedModel l = launched;
        if (l == null) {
            return Optional.empty();
        }
        Instant end = endedAt != null ? endedAt : Instant.now();
        return Optional.of(Duration.between(l.started(), end));
    }

    ModelLauncher launcher() {
        return launcher;
    }

    void started(LaunchedModel l) {
        this.launched = l;
        this.status = EntityStatus.RUNNING;
    }

    /**
     * Takes what the launcher says now. A node it names ({@link ModelState#node}: a batch job's, known once it runs)
     * goes into the handle under {@link LaunchedModel#NODE}, even as the model ends (a short job may start and end
     * between two polls). Returns what changed, so the caller records it: the node, and whether the model ended with
     * this update (once only: two threads that poll the same model at once, as a run's main thread and the JVM's
     * exit hook do, do not both see it end).
     */
    synchronized Change update(ModelState s) {
        boolean placed = placed(s);
        if (status.terminal()) {
            return new Change(placed, false);
        }
        this.exitCode = s.exitCode().orElse(null);
        this.detail = s.detail().orElse(null);
        if (s.status().terminal()) {
            this.endedAt = Instant.now();
        }
        this.status = s.status();
        return new Change(placed, status.terminal());
    }

    /** What one {@link #update} changed: the node became known (or another one), the model ended. */
    record Change(boolean placed, boolean ended) {
    }

    /** Sets the handle's node from {@code s} when it names one the handle does not have yet; whether it did. */
    private boolean placed(ModelState s) {
        LaunchedModel l = launched;
        if (l == null || s.node().isEmpty() || s.node().get().equals(l.handle().get(LaunchedModel.NODE))) {
            return false;
        }
        this.launched = l.withNode(s.node().get());
        return true;
    }

    /** Where a model recorded in the manifest stands, for an experiment reconnected from another process. */
    void restore(ModelRecord r) {
        this.launched = r.launched();
        this.exitCode = r.exitCode().orElse(null);
        this.detail = r.detail().orElse(null);
        if (r.status().terminal()) {
            this.endedAt = r.updated();
        }
        this.status = r.status();
    }

    /** Its manifest entry as of now. */
    ModelRecord record() {
        return new ModelRecord(plan, launched, status, exitCode(), detail(),
                Instant.now());
    }

    void failedToStart(String why) {
        this.detail = why;
        this.endedAt = Instant.now();
        this.status = EntityStatus.FAILED;
    }
}
