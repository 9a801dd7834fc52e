package io.smartsim.launch.experiment;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.StateException;
import io.smartsim.launch.entity.DbEnv;
import io.smartsim.launch.spec.EnsembleSpec;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.status.EntitySummary;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.entity.ModelPlanner;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.manifest.Manifest;
import io.smartsim.launch.manifest.ModelRecord;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.planned.Tls;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spi.LaunchedModel;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.spi.Launchers;
import io.smartsim.launch.spi.PortChooser;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.supervise.Supervision;
import io.smartsim.launch.spi.RenderedLaunch;
import io.smartsim.launch.status.OrchestratorCleanup;
import io.smartsim.launch.status.OrchestratorState;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.spi.ModelLauncher;
import io.smartsim.launch.spi.ModelLaunchers;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * The entities of one experiment by name, in creation (or manifest) order: orchestrators, models (ensemble members
 * included) and ensembles, whose names are unique across all three; one model launcher per name; when each
 * orchestrator started and ended here. What models see of the orchestrators ({@link #dbEnv}) and the summary come
 * from here.
 *
 * <p>It holds the API's objects ({@code O}, {@code M}, {@code E}: {@code Orchestrator}, {@code Model},
 * {@code Ensemble}) without knowing them: the facade passes their constructors, and what this needs of them is in
 * their handles.
 */
public final class Entities<O extends OrchestratorHandle, M extends ModelHandle, E> {
    /** The constructor of the API's orchestrator. */
    public interface NewOrchestrator<O> {
        O make(LaunchPlan plan, Launcher launcher, OrchestratorState state, List<LaunchedShard> shards);
    }

    private final String experiment;
    private final NewOrchestrator<O> newOrchestrator;
    private final BiFunction<ModelPlan, ModelLauncher, M> newModel;
    private final BiFunction<EnsembleSpec, List<M>, E> newEnsemble;
    private final Map<String, O> orchestrators = new LinkedHashMap<>();
    private final Map<String, M> models = new LinkedHashMap<>();
    private final Map<String, E> ensembles = new LinkedHashMap<>();
    /** One model launcher per name: it tracks every model of this experiment it started, polled and stopped at once. */
    private final Map<String, ModelLauncher> modelLaunchers = new ConcurrentHashMap<>();
    private final Map<String, Instant> started = new ConcurrentHashMap<>();
    private final Map<String, Instant> ended = new ConcurrentHashMap<>();

    public Entities(String experiment, NewOrchestrator<O> newOrchestrator,
                    BiFunction<ModelPlan, ModelLauncher, M> newModel, BiFunction<EnsembleSpec, List<M>, E> newEnsemble) {
        this.experiment = experiment;
        this.newOrchestrator = newOrchestrator;
        this.newModel = newModel;
        this.newEnsemble = newEnsemble;
    }

    /** The orchestrators and models {@code m} records, as another process left them. */
    public void restore(Manifest m) {
        m.orchestrators().forEach(r -> orchestrators.put(r.id(), load(r)));
        for (ModelRecord r : m.models()) {
            // Seen, polled and stopped from here; never stopped by this instance's close: another process runs it.
            M model = newModel.apply(r.plan(), modelLaunchers.computeIfAbsent(r.plan().launcher(),
                    ModelLaunchers::find));
            ((ModelHandle) model).restore(r); // through the handle: package-private there
            models.put(model.name(), model);
        }
    }

    /** The orchestrator {@code r} records, as another process left it (not kept here: {@link #put} keeps it). */
    public O load(OrchestratorRecord r) {
        OrchestratorState s = switch (r.status()) {
            case RUNNING, STARTING -> OrchestratorState.RUNNING;
            case STOPPED -> OrchestratorState.STOPPED;
            case FAILED -> OrchestratorState.FAILED;
        };
        return newOrchestrator.make(r.plan(), OrchestratorControl.launcherFor(r), s, r.shards());
    }

    /** Refuses a new orchestrator {@code id} while one of that id runs, or a model or ensemble has the name. */
    public void refuseOrchestrator(String id) {
        O existing = orchestrators.get(id);
        if (existing != null && existing.state() == OrchestratorState.RUNNING) {
            throw new InvalidSpecException("id", "experiment '" + experiment + "' already has an orchestrator '" + id
                    + "' running; give each orchestrator a distinct id");
        }
        if (models.containsKey(id) || ensembles.containsKey(id)) {
            throw new InvalidSpecException("id", "experiment '" + experiment + "' already has a model or ensemble "
                    + "named '" + id + "'; give each entity a distinct name");
        }
    }

    /**
     * Plans an orchestrator in {@code dir} (validating everything) without starting it. {@code --port auto}: the
     * launcher's free ports, above those planned for the other orchestrators created here on the same launcher (not
     * started yet, so their ports still look free).
     */
    public O createOrchestrator(Path dir, OrchestratorSpec requested) {
        Launcher launcher = Launchers.find(requested.launcher());
        OrchestratorSpec spec = PortReservation.choose(requested, PortReservation.taken(orchestrators.values().stream()
                .filter(o -> o.spec().launcher().equals(requested.launcher()) && !o.id().equals(requested.id()))
                .map(OrchestratorHandle::plan).toList()), s -> PortChooser.choose(launcher, s, dir));
        refuseOrchestrator(spec.id());
        Supervision.refuseUnsupported(launcher, spec);
        O o = newOrchestrator.make(Planner.plan(experiment, dir, spec, launcher.place(spec)), launcher,
                OrchestratorState.NEW, List.of());
        put(o);
        return o;
    }

    public void put(O o) {
        orchestrators.put(o.id(), o);
    }

    public Optional<O> orchestrator(String id) {
        return Optional.ofNullable(orchestrators.get(id));
    }

    public List<O> orchestrators() {
        return List.copyOf(orchestrators.values());
    }

    /** Lets go of what the model launchers hold open ({@link ModelLauncher#close}); models keep running. */
    public void closeLaunchers() {
        modelLaunchers.values().forEach(ModelLauncher::close);
    }

    /** Plans a model in {@code dir} (validating it against its launcher). */
    public M createModel(Path dir, ModelSpec spec) {
        claim(spec.name());
        ModelPlan plan = ModelPlanner.plan(dir, spec);
        ModelLauncher launcher = modelLaunchers.computeIfAbsent(spec.launcher(), ModelLaunchers::find);
        refuseColocated(launcher, plan);
        refuseOptions(launcher, plan);
        launcher.validate(plan);
        M m = newModel.apply(plan, launcher);
        models.put(m.name(), m);
        return m;
    }

    /** Launcher options the model's launcher does not take ({@link ModelLauncher#optionKeys}), named with those it does. */
    static void refuseOptions(ModelLauncher launcher, ModelPlan plan) {
        java.util.Set<String> unknown = new java.util.TreeSet<>(plan.launcherOptions().keySet());
        unknown.removeAll(launcher.optionKeys());
        if (!unknown.isEmpty()) {
            throw new InvalidSpecException("launcherOptions", "model '" + plan.name() + "': the " + launcher.name()
                    + " launcher's models do not take " + unknown + (launcher.optionKeys().isEmpty()
                    ? "; they take no launcher options: remove them"
                    : "; they take " + new java.util.TreeSet<>(launcher.optionKeys())));
        }
    }

    /** A colocated database with a launcher that cannot run one yet (docs/colocated.md#not-yet). */
    private static void refuseColocated(ModelLauncher launcher, ModelPlan plan) {
        if (plan.colocated().isPresent() && !launcher.runsColocatedDatabases()) {
            throw new InvalidSpecException("colocatedDb", colocatedRefusal(plan.name(), launcher.name(),
                    io.smartsim.launch.spi.ModelLaunchers.available().stream()
                            .filter(ModelLauncher::runsColocatedDatabases).map(ModelLauncher::name).toList()));
        }
    }

    /**
     * Why model {@code model} cannot have a colocated database with launcher {@code launcher} (a plug-in's that runs
     * none): the launchers that do, {@code thatRun}, named as what to use instead.
     */
    static String colocatedRefusal(String model, String launcher, java.util.List<String> thatRun) {
        String use = thatRun.stream().sorted().reduce((a, b) -> a + " or " + b).map(n -> "the " + n + " launcher")
                .orElse("another launcher");
        return "model '" + model + "' asks for a colocated database, which the " + launcher + " launcher does not "
                + "run yet; use " + use + ", or a separate orchestrator (orchestrators:) for now";
    }

    /** Plans an ensemble's members in {@code dir} (validating each). */
    public E createEnsemble(Path dir, EnsembleSpec spec) {
        claim(spec.name());
        List<ModelPlan> plans = ModelPlanner.plan(dir, spec);
        ModelLauncher launcher = modelLaunchers.computeIfAbsent(spec.member().launcher(), ModelLaunchers::find);
        List<M> members = new ArrayList<>();
        for (ModelPlan p : plans) {
            claim(p.name());
            refuseColocated(launcher, p);
            launcher.validate(p);
            members.add(newModel.apply(p, launcher));
        }
        members.forEach(m -> models.put(m.name(), m));
        E e = newEnsemble.apply(spec, members);
        ensembles.put(spec.name(), e);
        return e;
    }

    private void claim(String entity) {
        if (orchestrators.containsKey(entity) || models.containsKey(entity) || ensembles.containsKey(entity)) {
            throw new InvalidSpecException("name", "experiment '" + experiment + "' already has an entity named '"
                    + entity + "'; give each orchestrator, model, ensemble (and ensemble member, <ensemble>_<i>) its "
                    + "own name");
        }
    }

    /** Whether {@code m} is the model of its name created here (not another experiment's). */
    boolean owns(ModelHandle m) {
        return models.get(m.name()) == m;
    }

    public List<M> models() {
        return List.copyOf(models.values());
    }

    public List<E> ensembles() {
        return List.copyOf(ensembles.values());
    }

    public void started(String id, Instant at) {
        started.put(id, at);
        ended.remove(id);
    }

    public void ended(String id, Instant at) {
        ended.put(id, at);
    }

    /** The ids known here and in {@code recorded}, for an error about one that is not: "db, other" or "none". */
    public String knownIds(Optional<Manifest> recorded) {
        List<String> ids = new ArrayList<>(orchestrators.keySet());
        recorded.ifPresent(m -> m.orchestrators().forEach(o -> {
            if (!ids.contains(o.id())) {
                ids.add(o.id());
            }
        }));
        return ids.isEmpty() ? "none" : String.join(", ", ids);
    }

    /** The database variables of the running orchestrators, {@code primary} (when given) in {@code SSDB}. */
    public Map<String, String> dbEnv(Optional<O> primary) {
        List<DbEnv.Database> dbs = new ArrayList<>();
        primary.ifPresent(p -> dbs.add(database(p)));
        orchestrators.values().stream().filter(o -> primary.map(p -> p != o).orElse(true)
                && o.state() == OrchestratorState.RUNNING).forEach(o -> dbs.add(database(o)));
        return DbEnv.variables(dbs);
    }

    /** The database variables of every orchestrator created here, at its planned addresses, passwords hidden. */
    public Map<String, String> plannedDbEnv() {
        return DbEnv.variables(orchestrators.values().stream().map(o -> database(o).redacted()).toList());
    }

    /** An orchestrator as a model sees it: addresses, type, and the user to log in as (with the password). */
    private static DbEnv.Database database(OrchestratorHandle o) {
        return new DbEnv.Database(o.id(), o.ssdb(), o.dbType(), o.plan().auth(), o.plan().tls().map(Tls::caCert));
    }

    /** One row per orchestrator, then per model (ensemble members included), in creation order. */
    public List<EntitySummary> summary() {
        List<EntitySummary> rows = new ArrayList<>();
        for (O o : orchestrators.values()) {
            List<String> jobs = o.shards().stream().map(s -> s.handle().get("jobId")).filter(j -> j != null)
                    .distinct().toList();
            List<String> pids = o.shards().stream().flatMap(s -> s.pid().stream()).map(String::valueOf).toList();
            Optional<String> id = !jobs.isEmpty() ? Optional.of(String.join(",", jobs))
                    : pids.isEmpty() ? Optional.empty() : Optional.of(String.join(",", pids));
            Instant t0 = started.get(o.id());
            Optional<Duration> elapsed = t0 == null ? Optional.empty()
                    : Optional.of(Duration.between(t0, ended.getOrDefault(o.id(), Instant.now())));
            rows.add(new EntitySummary(o.id(), o.type(), id, o.state().name(), Optional.empty(), elapsed));
        }
        for (M m : models.values()) {
            rows.add(new EntitySummary(m.name(), m.type(), m.launched().map(LaunchedModel::id), m.status().name(),
                    m.exitCode(), m.elapsed()));
        }
        return rows;
    }

    /** Refuses to start models of {@code ms} not created here, or started before: models run once. */
    public void refuseToStart(List<? extends ModelHandle> ms) {
        for (ModelHandle m : ms) {
            if (!owns(m)) {
                throw new StateException("model '" + m.name() + "' was not created by experiment '" + experiment
                        + "'; create it with this experiment's createModel or createEnsemble");
            }
            if (m.status() != EntityStatus.NEW) {
                throw new StateException("model '" + m.name() + "' was already started (" + m.status()
                        + "); models run once: create another to run it again");
            }
        }
    }

    /**
     * What starting {@code m} would run, for a dry run: its launcher's command and scripts, with the database
     * variables of every orchestrator created here at its planned addresses. Starts and writes nothing.
     */
    public RenderedLaunch preview(ModelHandle m) {
        return m.launcher().render(m.plan(), plannedDbEnv());
    }

    /**
     * The orchestrator known here that {@code c} cleaned up whole, now ended as recorded (FAILED or STOPPED); empty
     * when none is known here or some of its processes are left.
     */
    public Optional<O> cleanedUp(OrchestratorCleanup c) {
        O known = orchestrators.get(c.id());
        if (known == null || !c.left().isEmpty()) {
            return Optional.empty();
        }
        ((OrchestratorHandle) known).ended(c.now() == Status.FAILED ? OrchestratorState.FAILED
                : OrchestratorState.STOPPED);
        return Optional.of(known);
    }

    /**
     * The colocated databases of the models (recorded ones too, after a reconnect), by model name, each by node with its
     * health; models without one, or with none running, are left out.
     */
    public Map<String, List<io.smartsim.launch.status.ColocatedNode>> colocatedDatabases() {
        Map<String, List<io.smartsim.launch.status.ColocatedNode>> out = new java.util.LinkedHashMap<>();
        for (M m : models()) {
            List<io.smartsim.launch.status.ColocatedNode> nodes = m.colocatedDatabases();
            if (!nodes.isEmpty()) {
                out.put(m.name(), nodes);
            }
        }
        return out;
    }

    /** {@link io.smartsim.launch.colocated.ColocatedStatus#cleanup} of every model's colocated database, by line. */
    public List<String> cleanupColocated() {
        List<String> out = new java.util.ArrayList<>();
        for (M m : models()) {
            m.plan().colocated().ifPresent(c -> io.smartsim.launch.colocated.ColocatedStatus.cleanup(c)
                    .forEach(line -> out.add("model '" + m.name() + "' " + line)));
        }
        return out;
    }
}
