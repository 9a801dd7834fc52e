package io.smartsim.launch;

import io.smartsim.launch.cluster.ClusterFormer;
import io.smartsim.launch.cluster.HealthChecker;
import io.smartsim.launch.cluster.HealthReport;
import io.smartsim.launch.manifest.Manifest;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.manifest.Status;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.spi.Launchers;
import io.smartsim.launch.util.Deadline;
import redis.clients.jedis.exceptions.JedisException;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * An experiment: a directory, a manifest, and the orchestrators launched in it. Closing it stops every
 * orchestrator this instance started and did not {@link #detach}; so does the end of the JVM (Ctrl-C, SIGTERM),
 * through a shutdown hook that lives while such orchestrators run.
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
    public static final Duration STOP_GRACE = Duration.ofSeconds(10);
    private static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(2);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final String name;
    private final Path dir;
    private final ManifestStore store;
    private final Consumer<String> progress;
    private final Map<String, Orchestrator> orchestrators = new LinkedHashMap<>();
    private final Set<Orchestrator> startedHere = Collections.synchronizedSet(new LinkedHashSet<>());
    private Thread stopOnExit;

    private Experiment(String name, Path dir, Consumer<String> progress) {
        this.name = name;
        this.dir = dir.toAbsolutePath().normalize();
        this.store = new ManifestStore(this.dir);
        this.progress = progress;
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
        for (OrchestratorRecord r : m.orchestrators()) {
            exp.orchestrators.put(r.id(), fromRecord(r));
        }
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
    public Orchestrator createOrchestrator(OrchestratorSpec spec) {
        Orchestrator existing = orchestrators.get(spec.id());
        if (existing != null && existing.state() == Orchestrator.State.RUNNING) {
            throw new InvalidSpecException("id", "experiment '" + name + "' already has an orchestrator '" + spec.id()
                    + "' running; give each orchestrator a distinct id");
        }
        Launcher launcher = Launchers.find(spec.launcher());
        Placement placement = launcher.place(spec);
        LaunchPlan plan = Planner.plan(name, dir, spec, placement);
        Orchestrator o = new Orchestrator(plan, launcher, Orchestrator.State.NEW, List.of());
        orchestrators.put(spec.id(), o);
        return o;
    }

    /** The orchestrator with this id, as created here or recorded in the manifest. */
    public Orchestrator orchestrator(String id) {
        Orchestrator o = orchestrators.get(id);
        if (o != null) {
            return o;
        }
        Optional<OrchestratorRecord> r = store.read().flatMap(m -> m.find(id));
        if (r.isEmpty()) {
            throw new StateException("no orchestrator '" + id + "' in " + dir + "; known here: " + knownIds());
        }
        Orchestrator loaded = fromRecord(r.get());
        orchestrators.put(id, loaded);
        return loaded;
    }

    public List<Orchestrator> orchestrators() {
        return List.copyOf(orchestrators.values());
    }

    /** Starts each orchestrator in turn; returns when all are healthy. A failure stops what that launch started. */
    public void start(Orchestrator... dbs) {
        for (Orchestrator db : dbs) {
            startOne(db);
        }
    }

    private void startOne(Orchestrator db) {
        if (db.state() == Orchestrator.State.RUNNING) {
            throw new StateException("orchestrator '" + db.id() + "' is already running at " + db.ssdb());
        }
        LaunchPlan plan = db.plan();
        Launcher launcher = db.launcher();
        refuseIfRunningElsewhere(plan, launcher);
        launcher.preflight(plan);
        Instant t0 = Instant.now();
        OrchestratorRecord starting = new OrchestratorRecord(plan.id(), launcher.name(), Status.STARTING, plan.spec(),
                plan, List.of(), t0, Optional.empty());
        store.update(name, m -> m.with(starting));
        List<LaunchedShard> spawned = new CopyOnWriteArrayList<>();
        Thread cleanupOnExit = new Thread(() -> teardown(launcher, spawned), "smartsim-launch-abort-" + plan.id());
        Runtime.getRuntime().addShutdownHook(cleanupOnExit);
        Deadline deadline = Deadline.after(plan.spec().startupTimeout());
        try {
            progress.accept("starting " + plan.shards().size() + " shard(s) of '" + plan.id() + "' with the "
                    + launcher.name() + " launcher");
            List<LaunchedShard> shards = launcher.start(plan, new LaunchContext(deadline, progress, s -> {
                spawned.add(s);
                store.update(name, m -> m.with(m.find(plan.id()).orElse(starting).withShard(s)));
            }));
            if (plan.clustered()) {
                progress.accept("forming a Redis Cluster over " + shards.size() + " shards");
                ClusterFormer.form(shards.stream().map(s -> new ClusterFormer.Member(s.host(), s.port(),
                        plan.shards().get(s.index()).slots())).toList(), deadline, progress);
            }
            HealthReport health = HealthChecker.check(shards.stream()
                    .map(s -> new HealthChecker.Target(s.index(), s.host(), s.port())).toList(), plan.clustered(),
                    Duration.ofMillis(deadline.capMillis(CONTROL_TIMEOUT)));
            if (!health.healthy()) {
                throw new LaunchException("orchestrator '" + plan.id() + "' started but is not healthy: "
                        + String.join("; ", health.problems()));
            }
            db.started(shards);
            startedHere.add(db);
            armStopOnExit();
            store.update(name, m -> m.with(starting.withShards(shards).withStatus(Status.RUNNING, Optional.empty())));
            progress.accept(String.format("'%s' healthy in %.2f s", plan.id(),
                    Duration.between(t0, Instant.now()).toMillis() / 1000.0));
        } catch (RuntimeException e) {
            LaunchException failure = e instanceof LaunchException le ? le : e instanceof JedisException
                    ? new ClusterFormingException("orchestrator '" + plan.id() + "': " + e.getMessage(), e)
                    : new LaunchException("orchestrator '" + plan.id() + "' failed to start: " + e, e);
            teardown(launcher, spawned);
            db.ended(Orchestrator.State.FAILED);
            store.update(name, m -> m.with(m.find(plan.id()).orElse(starting)
                    .withStatus(Status.FAILED, Optional.of(failure.getMessage()))));
            throw failure;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to: it does the cleanup
            }
        }
    }

    private void refuseIfRunningElsewhere(LaunchPlan plan, Launcher launcher) {
        Optional<OrchestratorRecord> prior = store.read().flatMap(m -> m.find(plan.id()));
        if (prior.isEmpty() || !(prior.get().status() == Status.RUNNING || prior.get().status() == Status.STARTING)) {
            return;
        }
        OrchestratorRecord r = prior.get();
        boolean anyAlive = launcherFor(r).probe(r.shards()).values().stream().anyMatch(l -> l != Liveness.GONE);
        if (anyAlive) {
            throw new StateException("orchestrator '" + plan.id() + "' is already running in " + dir + " at "
                    + String.join(",", r.shards().stream().map(LaunchedShard::address).toList())
                    + "; stop it first (smartsim-launch db stop --exp-dir " + dir + " --name " + plan.id()
                    + ") or choose another --name");
        }
        progress.accept("replacing the stale manifest entry for '" + plan.id() + "' (its processes are gone)");
    }

    private static void teardown(Launcher launcher, List<LaunchedShard> spawned) {
        if (spawned.isEmpty()) {
            return;
        }
        List<LaunchedShard> copy = List.copyOf(spawned);
        Shards.shutdownNoSave(copy, CONTROL_TIMEOUT);
        launcher.stop(copy, STOP_GRACE);
    }

    /**
     * Stops each orchestrator: {@code SHUTDOWN NOSAVE} to every shard, then the launcher terminates whatever has
     * not exited within {@link #STOP_GRACE}. Fails with {@link StateException} when one is not running.
     */
    public void stop(Orchestrator... dbs) {
        for (Orchestrator db : dbs) {
            OrchestratorRecord r = store.read().flatMap(m -> m.find(db.id())).orElse(null);
            boolean recordedUp = r != null && (r.status() == Status.RUNNING || r.status() == Status.STARTING);
            if (db.state() != Orchestrator.State.RUNNING && !recordedUp) {
                throw new StateException("orchestrator '" + db.id() + "' is not running (recorded: "
                        + (r == null ? "never started" : r.status()) + "); nothing to stop");
            }
            List<LaunchedShard> shards = !db.shards().isEmpty() ? db.shards() : r.shards();
            progress.accept("stopping " + shards.size() + " shard(s) of '" + db.id() + "'");
            Shards.shutdownNoSave(shards, CONTROL_TIMEOUT);
            db.launcher().stop(shards, STOP_GRACE);
            db.ended(Orchestrator.State.STOPPED);
            startedHere.remove(db);
            store.update(name, m -> m.find(db.id()).map(x -> m.with(x.withStatus(Status.STOPPED, Optional.empty())))
                    .orElse(m));
        }
    }

    /** The manifest's record of an orchestrator checked against the running processes and the database itself. */
    public OrchestratorStatus status(String id) {
        OrchestratorRecord r = store.read().flatMap(m -> m.find(id)).orElseThrow(() -> new StateException(
                "no orchestrator '" + id + "' in " + dir + "; known here: " + knownIds()));
        return statusOf(r);
    }

    /** Status of every orchestrator in the manifest. */
    public List<OrchestratorStatus> statuses() {
        return store.read().map(m -> m.orchestrators().stream().map(this::statusOf).toList()).orElse(List.of());
    }

    private OrchestratorStatus statusOf(OrchestratorRecord r) {
        if (r.status() != Status.RUNNING && r.status() != Status.STARTING) {
            return new OrchestratorStatus(r.id(), r.launcher(), r.status(), r.status().name(), r.shards(), Map.of(),
                    Optional.empty(), r.error());
        }
        Map<Integer, Liveness> live = launcherFor(r).probe(r.shards());
        long gone = live.values().stream().filter(l -> l == Liveness.GONE).count();
        if (!r.shards().isEmpty() && gone == r.shards().size()) {
            return new OrchestratorStatus(r.id(), r.launcher(), r.status(), "STALE", r.shards(), live,
                    Optional.empty(), Optional.of("recorded as " + r.status() + " but none of its " + r.shards().size()
                    + " processes exists; stop it to clear the entry"));
        }
        HealthReport h = HealthChecker.check(r.shards().stream()
                .map(s -> new HealthChecker.Target(s.index(), s.host(), s.port())).toList(), r.plan().clustered(),
                CONTROL_TIMEOUT);
        String state = gone > 0 ? "DEGRADED" : r.status() == Status.STARTING ? "STARTING"
                : h.healthy() ? "RUNNING" : "UNHEALTHY";
        return new OrchestratorStatus(r.id(), r.launcher(), r.status(), state, r.shards(), live, Optional.of(h),
                h.firstProblem());
    }

    private String knownIds() {
        List<String> ids = new ArrayList<>(orchestrators.keySet());
        store.read().ifPresent(m -> m.orchestrators().forEach(o -> {
            if (!ids.contains(o.id())) {
                ids.add(o.id());
            }
        }));
        return ids.isEmpty() ? "none" : String.join(", ", ids);
    }

    private static Launcher launcherFor(OrchestratorRecord r) {
        return Launchers.find(r.launcher());
    }

    private static Orchestrator fromRecord(OrchestratorRecord r) {
        Orchestrator.State s = switch (r.status()) {
            case RUNNING, STARTING -> Orchestrator.State.RUNNING;
            case STOPPED -> Orchestrator.State.STOPPED;
            case FAILED -> Orchestrator.State.FAILED;
        };
        return new Orchestrator(r.plan(), launcherFor(r), s, r.shards());
    }

    /** Leaves {@code db} running when this experiment is closed or the JVM exits. */
    public void detach(Orchestrator db) {
        startedHere.remove(db);
    }

    private synchronized void armStopOnExit() {
        if (stopOnExit == null) {
            stopOnExit = new Thread(this::stopStartedHere, "smartsim-launch-stop-on-exit-" + name);
            Runtime.getRuntime().addShutdownHook(stopOnExit);
        }
    }

    /** Stops every orchestrator this instance started and did not detach. Safe to call twice. */
    @Override
    public synchronized void close() {
        if (stopOnExit != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(stopOnExit);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting and the hook is doing the same work
            }
            stopOnExit = null;
        }
        stopStartedHere();
    }

    private synchronized void stopStartedHere() {
        List<Orchestrator> running;
        synchronized (startedHere) {
            running = new ArrayList<>(startedHere);
        }
        LaunchException first = null;
        for (Orchestrator db : running) {
            try {
                stop(db);
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
