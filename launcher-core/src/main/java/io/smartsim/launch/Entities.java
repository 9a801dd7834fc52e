package io.smartsim.launch;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.StateException;
import io.smartsim.launch.entity.DbEnv;
import io.smartsim.launch.spec.EnsembleSpec;
import io.smartsim.launch.entity.EntityStatus;
import io.smartsim.launch.entity.EntitySummary;
import io.smartsim.launch.entity.ModelPlan;
import io.smartsim.launch.entity.ModelPlanner;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.manifest.Manifest;
import io.smartsim.launch.manifest.ModelRecord;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.security.Tls;
import io.smartsim.launch.spi.LaunchedModel;
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

/**
 * The entities of one experiment by name, in creation (or manifest) order: orchestrators, models (ensemble members
 * included) and ensembles, whose names are unique across all three; one model launcher per name; when each
 * orchestrator started and ended here. What models see of the orchestrators ({@link #dbEnv}) and the summary come
 * from here.
 */
final class Entities {
    private final String experiment;
    private final Map<String, Orchestrator> orchestrators = new LinkedHashMap<>();
    private final Map<String, Model> models = new LinkedHashMap<>();
    private final Map<String, Ensemble> ensembles = new LinkedHashMap<>();
    /** One model launcher per name: it tracks every model of this experiment it started, polled and stopped at once. */
    private final Map<String, ModelLauncher> modelLaunchers = new ConcurrentHashMap<>();
    private final Map<String, Instant> started = new ConcurrentHashMap<>();
    private final Map<String, Instant> ended = new ConcurrentHashMap<>();

    Entities(String experiment) {
        this.experiment = experiment;
    }

    /** The orchestrators and models {@code m} records, as another process left them. */
    void restore(Manifest m) {
        m.orchestrators().forEach(r -> orchestrators.put(r.id(), fromRecord(r)));
        for (ModelRecord r : m.models()) {
            // Seen, polled and stopped from here; never stopped by this instance's close: another process runs it.
            Model model = new Model(r.plan(), modelLaunchers.computeIfAbsent(r.plan().launcher(), ModelLaunchers::find));
            model.restore(r);
            models.put(model.name(), model);
        }
    }

    static Orchestrator fromRecord(OrchestratorRecord r) {
        Orchestrator.State s = switch (r.status()) {
            case RUNNING, STARTING -> Orchestrator.State.RUNNING;
            case STOPPED -> Orchestrator.State.STOPPED;
            case FAILED -> Orchestrator.State.FAILED;
        };
        return new Orchestrator(r.plan(), OrchestratorControl.launcherFor(r), s, r.shards());
    }

    /** Refuses a new orchestrator {@code id} while one of that id runs, or a model or ensemble has the name. */
    void refuseOrchestrator(String id) {
        Orchestrator existing = orchestrators.get(id);
        if (existing != null && existing.state() == Orchestrator.State.RUNNING) {
            throw new InvalidSpecException("id", "experiment '" + experiment + "' already has an orchestrator '" + id
                    + "' running; give each orchestrator a distinct id");
        }
        if (models.containsKey(id) || ensembles.containsKey(id)) {
            throw new InvalidSpecException("id", "experiment '" + experiment + "' already has a model or ensemble "
                    + "named '" + id + "'; give each entity a distinct name");
        }
    }

    void put(Orchestrator o) {
        orchestrators.put(o.id(), o);
    }

    Optional<Orchestrator> orchestrator(String id) {
        return Optional.ofNullable(orchestrators.get(id));
    }

    List<Orchestrator> orchestrators() {
        return List.copyOf(orchestrators.values());
    }

    /** Plans a model in {@code dir} (validating it against its launcher). */
    Model createModel(Path dir, ModelSpec spec) {
        claim(spec.name());
        ModelPlan plan = ModelPlanner.plan(dir, spec);
        ModelLauncher launcher = modelLaunchers.computeIfAbsent(spec.launcher(), ModelLaunchers::find);
        refuseColocated(launcher, plan);
        launcher.validate(plan);
        Model m = new Model(plan, launcher);
        models.put(m.name(), m);
        return m;
    }

    /** A colocated database with a launcher that cannot run one yet (docs/colocated.md#not-yet). */
    private static void refuseColocated(ModelLauncher launcher, ModelPlan plan) {
        if (plan.colocated().isPresent() && !launcher.runsColocatedDatabases()) {
            throw new InvalidSpecException("colocatedDb", "model '" + plan.name() + "' asks for a colocated "
                    + "database, which the " + launcher.name() + " launcher does not run yet; use the local launcher, "
                    + "or a separate orchestrator (orchestrators:) for now");
        }
    }

    /** Plans an ensemble's members in {@code dir} (validating each). */
    Ensemble createEnsemble(Path dir, EnsembleSpec spec) {
        claim(spec.name());
        List<ModelPlan> plans = ModelPlanner.plan(dir, spec);
        ModelLauncher launcher = modelLaunchers.computeIfAbsent(spec.member().launcher(), ModelLaunchers::find);
        List<Model> members = new ArrayList<>();
        for (ModelPlan p : plans) {
            claim(p.name());
            refuseColocated(launcher, p);
            launcher.validate(p);
            members.add(new Model(p, launcher));
        }
        members.forEach(m -> models.put(m.name(), m));
        Ensemble e = new Ensemble(spec, members);
        ensembles.put(e.name(), e);
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
    boolean owns(Model m) {
        return models.get(m.name()) == m;
    }

    List<Model> models() {
        return List.copyOf(models.values());
    }

    List<Ensemble> ensembles() {
        return List.copyOf(ensembles.values());
    }

    void started(String id, Instant at) {
        started.put(id, at);
        ended.remove(id);
    }

    void ended(String id, Instant at) {
        ended.put(id, at);
    }

    /** The ids known here and in {@code recorded}, for an error about one that is not: "db, other" or "none". */
    String knownIds(Optional<Manifest> recorded) {
        List<String> ids = new ArrayList<>(orchestrators.keySet());
        recorded.ifPresent(m -> m.orchestrators().forEach(o -> {
            if (!ids.contains(o.id())) {
                ids.add(o.id());
            }
        }));
        return ids.isEmpty() ? "none" : String.join(", ", ids);
    }

    /** The database variables of the running orchestrators, {@code primary} (when given) in {@code SSDB}. */
    Map<String, String> dbEnv(Optional<Orchestrator> primary) {
        List<DbEnv.Database> dbs = new ArrayList<>();
        primary.ifPresent(p -> dbs.add(database(p)));
        orchestrators.values().stream().filter(o -> primary.map(p -> p != o).orElse(true)
                && o.state() == Orchestrator.State.RUNNING).forEach(o -> dbs.add(database(o)));
        return DbEnv.variables(dbs);
    }

    /** The database variables of every orchestrator created here, at its planned addresses, passwords hidden. */
    Map<String, String> plannedDbEnv() {
        return DbEnv.variables(orchestrators.values().stream().map(o -> database(o).redacted()).toList());
    }

    /** An orchestrator as a model sees it: addresses, type, and the user to log in as (with the password). */
    private static DbEnv.Database database(Orchestrator o) {
        return new DbEnv.Database(o.id(), o.ssdb(), o.dbType(), o.plan().auth(), o.plan().tls().map(Tls::caCert));
    }

    /** One row per orchestrator, then per model (ensemble members included), in creation order. */
    List<EntitySummary> summary() {
        List<EntitySummary> rows = new ArrayList<>();
        for (Orchestrator o : orchestrators.values()) {
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
        for (Model m : models.values()) {
            rows.add(new EntitySummary(m.name(), m.type(), m.launched().map(LaunchedModel::id), m.status().name(),
                    m.exitCode(), m.elapsed()));
        }
        return rows;
    }

    /** Refuses to start models of {@code ms} not created here, or started before: models run once. */
    void refuseToStart(List<Model> ms) {
        for (Model m : ms) {
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

    /** Sorts {@code entities} into orchestrators and models (an ensemble: its members), refusing anything else. */
    static void split(Entity[] entities, List<Orchestrator> dbs, List<Model> ms) {
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
}
