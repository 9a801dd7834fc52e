package io.smartsim.launch;

import io.smartsim.launch.status.ColocatedNode;
import io.smartsim.launch.status.EntitySummary;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.ManifestException;
import io.smartsim.launch.error.StateException;
import io.smartsim.launch.experiment.Entities;
import io.smartsim.launch.experiment.EntityLifecycle;
import io.smartsim.launch.experiment.ModelRunner;
import io.smartsim.launch.experiment.ModelServerCheck;
import io.smartsim.launch.experiment.OrchestratorControl;
import io.smartsim.launch.experiment.OrchestratorHandle;
import io.smartsim.launch.experiment.OrchestratorStart;
import io.smartsim.launch.experiment.PortReservation;
import io.smartsim.launch.experiment.Recorder;
import io.smartsim.launch.experiment.Resume;
import io.smartsim.launch.experiment.StartedHere;
import io.smartsim.launch.experiment.StartedOrchestrator;
import io.smartsim.launch.experiment.Supervise;
import io.smartsim.launch.manifest.Manifest;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spec.EnsembleSpec;
import io.smartsim.launch.spec.LeaseController;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.WatchdogCommand;
import io.smartsim.launch.spi.RenderedLaunch;
import io.smartsim.launch.status.OrchestratorCleanup;
import io.smartsim.launch.status.OrchestratorState;
import io.smartsim.launch.status.ModelServerStatus;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.status.ShardDataNow;
import io.smartsim.launch.status.SupervisionStatus;
import io.smartsim.launch.status.TelemetryStatus;
import io.smartsim.launch.supervise.Supervision;
import io.smartsim.launch.supervise.Watchdog;
import io.smartsim.launch.telemetry.TelemetryFiles;
import io.smartsim.launch.util.Deadline;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * An experiment: a directory, a manifest, the orchestrators launched in it, and the models and ensembles that use
 * them. {@link #start(boolean, Entity...)} starts orchestrators first and models once every orchestrator is healthy,
 * with {@code SSDB} and {@code SR_DB_TYPE} in their environment. Closing it stops every model this instance started
 * and every orchestrator it started and did not {@link #detach} (or start detached: {@link #startDetached}); so does
 * the end of the JVM (Ctrl-C, SIGTERM), through a shutdown hook that lives while such entities run.
 *
 * <p>A facade over parts tested on their own, in the internal package {@code io.smartsim.launch.experiment}
 * ({@link OrchestratorStart}, {@link PortReservation}, {@link Recorder}, {@link ModelRunner}, ...):
 * docs/architecture.md, "Inside Experiment", lists them, and "The API boundary" says what is API.
 *
 * <pre>{@code
 * try (Experiment exp = Experiment.create("demo", Path.of("exp"))) {
 *     Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).build());
 *     exp.start(db);          // healthy, or throws having stopped everything it started
 *     db.addresses();         // [127.0.0.1:6780, 127.0.0.1:6781, 127.0.0.1:6782]
 *     exp.stop(db);
 * }
 * }</pre>
 */
public final class Experiment implements AutoCloseable {
    /** How long stopped shards get to exit after SHUTDOWN before they are terminated. */
    public static final Duration STOP_GRACE = StartedOrchestrator.STOP_GRACE;
    /** How long stopped models get to exit after SIGTERM before they are killed. */
    public static final Duration MODEL_STOP_GRACE = ModelRunner.STOP_GRACE;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final String name;
    private final Path dir;
    private final ManifestStore store;
    private final Recorder recorder;
    private final Consumer<String> progress;
    private final Entities<Orchestrator, Model, Ensemble> entities;
    private final StartedHere here;
    private final OrchestratorStart starts;
    private final OrchestratorControl control;
    private final ModelRunner runner;
    private final EntityLifecycle<Orchestrator, Model> lifecycle;

    private Experiment(String name, Path dir, Consumer<String> progress) {
        this.name = name;
        this.dir = dir.toAbsolutePath().normalize();
        this.store = new ManifestStore(this.dir);
        this.recorder = new Recorder(store, name);
        this.entities = new Entities<>(name, Orchestrator::new, Model::new, Ensemble::new);
        this.progress = progress;
        this.starts = new OrchestratorStart(name, this.dir, recorder, progress);
        this.runner = new ModelRunner(name, recorder, progress);
        this.here = new StartedHere(name, runner, this::stopOne);
        this.control = new OrchestratorControl(recorder, progress, id -> here.release(id, "stopped"));
        this.lifecycle = new EntityLifecycle<>(entities, runner, here, db -> startOne(db, false, Supervise.IN_PROCESS),
                this::stopOne, this::dbEnv);
    }

    /** An experiment in {@code dir} (created when started); progress lines are dropped. */
    public static Experiment create(String name, Path dir) {
        return create(name, dir, line -> { });
    }

    /** An experiment in {@code dir}; {@code progress} receives short lines while launches wait. */
    public static Experiment create(String name, Path dir, Consumer<String> progress) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new InvalidSpecException("experiment name", "'" + name + "' is not a valid name; use letters, "
                    + "digits, '.', '_' or '-' (for example 'demo')");
        }
        if (dir == null) {
            throw new InvalidSpecException("experiment directory", "missing; give a directory such as ./exp");
        }
        Experiment exp = new Experiment(name, dir, progress);
        exp.store.read(); // a corrupt manifest is reported now, not halfway through a launch
        return exp;
    }

    /** The experiment recorded in {@code dir}'s manifest, with its orchestrators as recorded. */
    public static Experiment reconnect(Path dir) {
        return reconnect(dir, line -> { });
    }

    public static Experiment reconnect(Path dir, Consumer<String> progress) {
        ManifestStore store = new ManifestStore(dir);
        Manifest m = store.read().orElseThrow(() -> new ManifestException("no manifest at " + store.file()
                + ": nothing has been started in this experiment directory; check --exp-dir"));
        Experiment exp = new Experiment(m.experiment(), dir, progress);
        exp.entities.restore(m);
        return exp;
    }

    public String name() {
        return name;
    }

    public Path dir() {
        return dir;
    }

    public Path manifestFile() {
        return store.file();
    }

    /** Plans an orchestrator (validating everything) without starting it. */
    public Orchestrator createOrchestrator(OrchestratorSpec requested) {
        return entities.createOrchestrator(dir, requested);
    }

    /** The orchestrator with this id, as created here or recorded in the manifest. */
    public Orchestrator orchestrator(String id) {
        return entities.orchestrator(id).orElseGet(() -> {
            Orchestrator loaded = entities.load(recorded(id));
            entities.put(loaded);
            return loaded;
        });
    }

    public List<Orchestrator> orchestrators() {
        return entities.orchestrators();
    }

    /** Starts each orchestrator in turn; returns when all are healthy. A failure stops what that launch started. */
    public void start(Orchestrator... dbs) {
        for (Orchestrator db : dbs) {
            startOne(db, false, Supervise.IN_PROCESS);
        }
    }

    /**
     * Starts each orchestrator on the data its previous run in this experiment kept ({@code --checkpoint}), after a
     * {@code db stop} or a lost allocation: the same id, checkpoint kind, backend and shard layout, any launcher,
     * nodes or ports. Each slot range goes to the shard holding its data. Fails, having started nothing, when
     * nothing is recorded for the id, it kept no data, or the layout differs (see {@link Resume}).
     */
    public void resume(Orchestrator... dbs) {
        for (Orchestrator db : dbs) {
            startOne(db, true, Supervise.IN_PROCESS);
        }
    }

    /**
     * Resumes orchestrator {@code id} as its previous run in this experiment was recorded ({@link #specToResume}):
     * the same backend, server binary, layout, checkpoint, auth, TLS, AI and launcher settings, in a new allocation
     * where the launcher needs one. Returns it healthy, or fails as {@link #resume(Orchestrator...)} does.
     */
    public Orchestrator resume(String id) {
        Orchestrator db = createOrchestrator(specToResume(id));
        resume(db);
        return db;
    }

    /**
     * The spec a resume of orchestrator {@code id} repeats: the one its previous run recorded in the manifest, without
     * what belonged to that run only (the allocation or job it ran in: {@code alloc}). Change any of it with
     * {@link OrchestratorSpec#toBuilder()} and pass the result to {@link #createOrchestrator} and
     * {@link #resume(Orchestrator...)}; what cannot resume the data (another backend, checkpoint kind or shard layout)
     * is refused there. Fails when nothing is recorded for {@code id}, or it ran without a checkpoint.
     */
    public OrchestratorSpec specToResume(String id) {
        return Resume.specToRepeat(store.read().flatMap(m -> m.find(id)), id, dir);
    }

    /**
     * Starts {@code db} to outlive this experiment, supervised ({@code --restart on-failure}, {@code --lease}) by a
     * watchdog process of its own rather than by this process: {@code watchdog} is its command ({@code db watch}),
     * started only when the spec asks for supervision. Neither {@link #close} nor the JVM's exit stops it; stop it with
     * {@link #stop(Orchestrator...)} here or from a later process. Returns the watchdog process's pid, if one started.
     * Fails as {@link #start(Orchestrator...)} does, having stopped what it started.
     */
    public Optional<Long> startDetached(Orchestrator db, WatchdogCommand watchdog) {
        return startOne(db, false, Supervise.detached(watchdog)).watchdogPid();
    }

    /** As {@link #startDetached}, on the data the previous run kept, as {@link #resume(Orchestrator...)} does. */
    public Optional<Long> resumeDetached(Orchestrator db, WatchdogCommand watchdog) {
        return startOne(db, true, Supervise.detached(watchdog)).watchdogPid();
    }

    /**
     * Supervises orchestrator {@code id} of the experiment in {@code expDir} as its watchdog process, the one a
     * {@link WatchdogCommand} starts (the CLI's {@code db watch}): restarts dead shards ({@code --restart on-failure}),
     * renews the lease while {@code controller} lives (always, when empty), records telemetry; returns once the
     * orchestrator is stopped, removed or replaced, or its lease ran out with every shard gone. {@code log} gets a line
     * for each thing done.
     */
    public static void watch(Path expDir, String id, Optional<LeaseController> controller, Consumer<String> log) {
        Watchdog.run(expDir, id, controller, log);
    }

    /** The start pipeline ({@link OrchestratorStart}), with the orchestrator kept here or not as {@code how} says. */
    private StartedOrchestrator startOne(Orchestrator db, boolean resume, Supervise how) {
        StartedOrchestrator started = starts.start(db, resume, how, (running, t0) -> {
            entities.started(running.id(), t0);
            if (!how.detached()) {
                here.keep(running);
            }
        });
        if (!how.detached()) {
            here.supervising(db.id(), started);
        }
        return started;
    }

    /**
     * Stops each orchestrator: {@code SHUTDOWN NOSAVE} to every shard, then the launcher terminates whatever has
     * not exited within {@link #STOP_GRACE}. Fails with {@link StateException} when one is not running.
     */
    public void stop(Orchestrator... dbs) {
        for (Orchestrator db : dbs) {
            stopOne(db);
        }
    }

    private void stopOne(OrchestratorHandle db) {
        Instant stoppedAt = control.stop(db);
        here.forget(db);
        entities.ended(db.id(), stoppedAt);
        LaunchPlan plan = db.plan();
        plan.spec().checkpoint().ifPresent(c -> progress.accept("data of '" + db.id() + "' kept under "
                + plan.dir() + "; bring it back with: " + resumeHint(plan.spec())));
    }

    /** The command that resumes an orchestrator of this spec after {@code db stop} ({@link Resume#hint}). */
    String resumeHint(OrchestratorSpec spec) {
        return Resume.hint(dir, spec);
    }

    /** Renews the lease of orchestrator {@code id} ({@code --lease}) for its duration from now; returns the new expiry. */
    public Instant renewLease(String id) {
        return Supervision.renew(recorded(id));
    }

    /** The events log, lease and watchdog of orchestrator {@code id}, as recorded and checked now. */
    public SupervisionStatus supervision(String id) {
        return Supervision.status(recorded(id));
    }

    private OrchestratorRecord recorded(String id) {
        return recorder.find(id).orElseThrow(() -> new StateException("no orchestrator '" + id + "' in " + dir
                + "; known here: " + entities.knownIds(store.read())));
    }

    /**
     * The collector of orchestrator {@code id} ({@code --telemetry}, docs/telemetry.md): whether it records and how
     * often, as recorded, its current file, and each shard's last recorded sample.
     */
    public TelemetryStatus telemetry(String id) {
        return TelemetryFiles.status(dir, id, orchestrator(id).spec().telemetry());
    }

    /**
     * The colocated databases of this experiment's models (recorded ones too, after {@link #reconnect}), by model
     * name, each by node with its health; models without one, or with none running, are left out.
     */
    public Map<String, List<ColocatedNode>> colocatedDatabases() {
        return entities.colocatedDatabases();
    }

    /**
     * Stops the colocated databases whose keeper is gone (killed with its model's whole process tree) on this
     * machine, and removes their socket, pid and lock files; one whose application still runs is left to its keeper.
     * One line per node cleaned or left alone (saying which).
     */
    public List<String> cleanupColocated() {
        return entities.cleanupColocated();
    }

    /**
     * Removes what is left of orchestrators whose launch did not finish: every one recorded STARTING (its launching
     * process was killed mid-start, or is still starting it: do not run this beside a {@code db start} of the same
     * experiment), and every one recorded RUNNING with some or all of its processes gone. Their shards that still
     * exist get {@code SHUTDOWN NOSAVE} where reachable, then the launcher's stop (given every recorded shard, gone or
     * not, when the start did not finish or the orchestrator has {@code --ai} model servers: what runs beside the
     * shards, which no shard's probe sees, ends too); the entry is then recorded FAILED
     * ({@value OrchestratorCleanup#INTERRUPTED_START}) or STOPPED. Orchestrators running whole, stopped or failed
     * are left alone, so a second cleanup finds nothing.
     *
     * @param id one orchestrator's id, or empty for all of them
     */
    public List<OrchestratorCleanup> cleanup(Optional<String> id) {
        return lifecycle.cleanup(control, store.read().map(Manifest::orchestrators).orElse(List.of()), id,
                () -> entities.knownIds(store.read()), dir.toString());
    }

    /** The manifest's record of an orchestrator checked against the running processes and the database itself. */
    public OrchestratorStatus status(String id) {
        return control.status(recorded(id));
    }

    /**
     * Where each shard of orchestrator {@code id} keeps its data ({@code --checkpoint}) and what is known of its last
     * save, as the manifest records it; empty without a checkpoint or a record.
     */
    public List<io.smartsim.launch.status.ShardData> checkpointData(String id) {
        return store.read().flatMap(m -> m.find(id)).map(OrchestratorRecord::data).orElse(List.of());
    }

    /**
     * The checkpoint data of a running orchestrator now ({@code --checkpoint}), per planned shard: the size and time of
     * what is at its data path (read where the shards write it: through the login node under {@code --remote}), and
     * the save fields of {@code INFO persistence} that {@code status}'s health check read. Empty for an orchestrator
     * without a checkpoint or not running: {@link #checkpointData} then says what was recorded at its stop.
     */
    public List<ShardDataNow> checkpointDataNow(OrchestratorStatus status) {
        return recorder.find(status.id()).map(r -> control.checkpointDataNow(r, status)).orElse(List.of());
    }

    /**
     * Under {@code --ai} with the Redis module: the model servers the shards of orchestrator {@code status} record, one
     * per socket, each alive or gone as its launcher answers (unknown when the launcher cannot be found or asked); none
     * without model serving, or when its processes were not checked ({@code status.liveness()} empty).
     */
    public List<ModelServerStatus> modelServers(OrchestratorStatus status) {
        return ModelServerCheck.of(status, orchestrator(status.id()).plan());
    }

    /** Status of every orchestrator in the manifest. */
    public List<OrchestratorStatus> statuses() {
        return store.read().map(m -> m.orchestrators().stream().map(control::status).toList()).orElse(List.of());
    }

    // ---- models and ensembles ---------------------------------------------------------------------------------

    /** Plans a model (validating it against its launcher) without starting it. */
    public Model createModel(ModelSpec spec) {
        return entities.createModel(dir, spec);
    }

    /** Plans an ensemble's members (validating each) without starting them. */
    public Ensemble createEnsemble(EnsembleSpec spec) {
        return entities.createEnsemble(dir, spec);
    }

    /** Every model created here, ensemble members included, in creation order. */
    public List<Model> models() {
        return entities.models();
    }

    public List<Ensemble> ensembles() {
        return entities.ensembles();
    }

    /** As {@link #start(boolean, Entity...)} without waiting for the models. */
    public void start(Entity... entities) {
        start(false, entities);
    }

    /**
     * Starts the orchestrators among {@code entities}, each healthy before the next, then the models and ensemble
     * members with the database variables ({@link #dbEnv()}) in their environment. With {@code block}, returns
     * once every model has finished (orchestrators keep running). If a start fails, what this call started is
     * stopped before the exception is thrown.
     */
    public void start(boolean block, Entity... entities) {
        List<Orchestrator> dbs = new ArrayList<>();
        List<Model> ms = new ArrayList<>();
        split(entities, dbs, ms);
        lifecycle.start(dbs, ms, block);
    }

    /**
     * Waits until every model among {@code entities} (ensembles: their members) has finished, at most
     * {@code timeout}; true when they all have. Orchestrators among them are not waited for: they run until stopped.
     */
    public boolean waitFor(Duration timeout, Entity... entities) {
        List<Model> ms = new ArrayList<>();
        split(entities, new ArrayList<>(), ms);
        return runner.await(ms, Deadline.after(timeout));
    }

    /** Refreshes every started model's status; returns the summary. */
    public List<EntitySummary> poll() {
        runner.refresh(models());
        return summary();
    }

    /**
     * Whether {@code entity} has finished: a model COMPLETED, FAILED or CANCELLED (asked now); an ensemble when
     * every member has; an orchestrator once STOPPED or FAILED.
     */
    public boolean finished(Entity entity) {
        if (entity instanceof Orchestrator o) {
            return o.state() == OrchestratorState.STOPPED || o.state() == OrchestratorState.FAILED;
        }
        List<Model> ms = new ArrayList<>();
        split(new Entity[] {entity}, new ArrayList<>(), ms);
        return lifecycle.finished(ms);
    }

    /**
     * Stops models and ensemble members (SIGTERM or the scheduler's cancel, then a kill after
     * {@link #MODEL_STOP_GRACE}; they end CANCELLED), then orchestrators as {@link #stop(Orchestrator...)} does.
     * Finished models are left as they are; a model never started is a {@link StateException}.
     */
    public void stop(Entity... entities) {
        List<Orchestrator> dbs = new ArrayList<>();
        List<Model> ms = new ArrayList<>();
        split(entities, dbs, ms);
        lifecycle.stop(dbs, ms);
    }

    /**
     * The environment models get: {@code SSDB}/{@code SR_DB_TYPE} for the first running orchestrator (in creation
     * or manifest order), {@code SSDB_<id>}/{@code SR_DB_TYPE_<id>} for each other one. Empty when none runs.
     */
    public Map<String, String> dbEnv() {
        return entities.dbEnv(Optional.empty());
    }

    /** As {@link #dbEnv()}, with {@code primaryId} as the one in {@code SSDB}. */
    public Map<String, String> dbEnv(String primaryId) {
        Orchestrator primary = orchestrator(primaryId);
        if (primary.state() != OrchestratorState.RUNNING) {
            throw new StateException("orchestrator '" + primaryId + "' is not running (" + primary.state()
                    + "); start it first");
        }
        return entities.dbEnv(Optional.of(primary));
    }

    /**
     * What starting {@code m} would run, for a dry run: its launcher's command and scripts, with the database
     * variables of every orchestrator created here at its planned addresses. Starts and writes nothing.
     */
    public RenderedLaunch preview(Model m) {
        return entities.preview(m);
    }

    /** One row per orchestrator, then per model (ensemble members included), in creation order. */
    public List<EntitySummary> summary() {
        return entities.summary();
    }

    /** {@link #summary()} as a table: NAME, TYPE, ID, STATUS, EXIT, ELAPSED. */
    public String summaryTable() {
        return EntitySummary.table(summary());
    }

    /**
     * Leaves {@code db} running when this experiment is closed or the JVM exits, and no longer supervised by it: its
     * watchdog (restarts, lease renewals) stops now. With {@code --lease}, renew the lease from elsewhere
     * ({@code db renew}) or let it run out.
     */
    public void detach(Orchestrator db) {
        here.forget(db);
        // Let go of it whole: this experiment no longer restarts its shards or renews its lease either.
        here.release(db.id(), "detached from the experiment that started it: this process no longer supervises it");
    }

    /** Sorts {@code entities} into orchestrators and models (an ensemble: its members), refusing anything else. */
    private static void split(Entity[] entities, List<Orchestrator> dbs, List<Model> ms) {
        for (Entity e : entities) {
            if (e instanceof Orchestrator o) {
                dbs.add(o);
            } else if (e instanceof Model m) {
                ms.add(m);
            } else if (e instanceof Ensemble en) {
                ms.addAll(en.members());
            } else {
                throw new InvalidSpecException("entities", "cannot start or stop a " + (e == null ? "null"
                        : e.getClass().getName()) + "; give orchestrators, models and ensembles of this experiment");
            }
        }
    }

    /** Stops every model this instance started, then every orchestrator it started and did not detach. Safe to call twice. */
    @Override
    public void close() {
        try {
            here.close();
        } finally {
            entities.closeLaunchers();
        }
    }
}
