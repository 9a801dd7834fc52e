package io.smartsim.launch;

import io.smartsim.launch.cluster.ClusterFormer;
import io.smartsim.launch.cluster.HealthChecker;
import io.smartsim.launch.cluster.HealthReport;
import io.smartsim.launch.entity.DbEnv;
import io.smartsim.launch.entity.EnsembleSpec;
import io.smartsim.launch.entity.EntityStatus;
import io.smartsim.launch.entity.EntitySummary;
import io.smartsim.launch.entity.ModelPlan;
import io.smartsim.launch.entity.ModelPlanner;
import io.smartsim.launch.entity.ModelSpec;
import io.smartsim.launch.entity.ModelState;
import io.smartsim.launch.exec.Transports;
import io.smartsim.launch.manifest.Manifest;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.manifest.Status;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.security.Access;
import io.smartsim.launch.security.TlsGenerator;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.spi.Launchers;
import io.smartsim.launch.spi.LaunchedModel;
import io.smartsim.launch.spi.ModelLauncher;
import io.smartsim.launch.spi.ModelLaunchers;
import io.smartsim.launch.spi.RenderedLaunch;
import io.smartsim.launch.supervise.Event;
import io.smartsim.launch.supervise.EventLog;
import io.smartsim.launch.supervise.Supervision;
import io.smartsim.launch.supervise.LeaseKeeper;
import io.smartsim.launch.supervise.Supervisor;
import io.smartsim.launch.util.Backoff;
import io.smartsim.launch.util.Deadline;
import redis.clients.jedis.exceptions.JedisException;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * An experiment: a directory, a manifest, the orchestrators launched in it, and the models and ensembles that use
 * them. {@link #start(boolean, Entity...)} starts orchestrators first and models once every orchestrator is healthy,
 * with {@code SSDB} and {@code SR_DB_TYPE} in their environment. Closing it stops every model this instance started
 * and every orchestrator it started and did not {@link #detach}; so does the end of the JVM (Ctrl-C, SIGTERM),
 * through a shutdown hook that lives while such entities run.
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
    /** How long stopped models get to exit after SIGTERM before they are killed. */
    public static final Duration MODEL_STOP_GRACE = Duration.ofSeconds(5);
    private static final Duration BLOCK_FOREVER = Duration.ofDays(3650);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final String name;
    private final Path dir;
    private final ManifestStore store;
    private final Consumer<String> progress;
    private final Map<String, Orchestrator> orchestrators = new LinkedHashMap<>();
    private final Set<Orchestrator> startedHere = Collections.synchronizedSet(new LinkedHashSet<>());
    private final Map<String, Model> models = new LinkedHashMap<>();
    private final Map<String, Ensemble> ensembles = new LinkedHashMap<>();
    private final Set<Model> modelsStartedHere = Collections.synchronizedSet(new LinkedHashSet<>());
    /** One model launcher per name: it tracks every model of this experiment it started, polled and stopped at once. */
    private final Map<String, ModelLauncher> modelLaunchers = new ConcurrentHashMap<>();
    private final Map<String, Instant> orchestratorStarted = new ConcurrentHashMap<>();
    private final Map<String, Instant> orchestratorEnded = new ConcurrentHashMap<>();
    /** The watchdog of each orchestrator started here with --restart or --lease, while this experiment is open. */
    private final Map<String, Supervisor> supervisors = new ConcurrentHashMap<>();
    private Thread stopOnExit;
    /** Set by stop-on-exit (under this experiment's lock): no model starts after it. */
    private boolean exiting;

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
        for (io.smartsim.launch.manifest.ModelRecord r : m.models()) {
            // Seen, polled and stopped from here; never stopped by this instance's close: another process runs it.
            Model model = new Model(r.plan(), exp.modelLaunchers.computeIfAbsent(r.plan().launcher(),
                    ModelLaunchers::find));
            model.restore(r);
            exp.models.put(model.name(), model);
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
    public Orchestrator createOrchestrator(OrchestratorSpec requested) {
        Launcher launcher = Launchers.find(requested.launcher());
        OrchestratorSpec spec = choosePorts(launcher, requested);
        Orchestrator existing = orchestrators.get(spec.id());
        if (existing != null && existing.state() == Orchestrator.State.RUNNING) {
            throw new InvalidSpecException("id", "experiment '" + name + "' already has an orchestrator '" + spec.id()
                    + "' running; give each orchestrator a distinct id");
        }
        if (models.containsKey(spec.id()) || ensembles.containsKey(spec.id())) {
            throw new InvalidSpecException("id", "experiment '" + name + "' already has a model or ensemble named '"
                    + spec.id() + "'; give each entity a distinct name");
        }
        Supervision.refuseUnsupported(launcher, spec);
        Placement placement = launcher.place(spec);
        LaunchPlan plan = Planner.plan(name, dir, spec, placement);
        Orchestrator o = new Orchestrator(plan, launcher, Orchestrator.State.NEW, List.of());
        orchestrators.put(spec.id(), o);
        return o;
    }

    /**
     * {@code --port auto}: the launcher's free ports, above those planned for the other orchestrators created here
     * on the same launcher (not started yet, so their ports still look free).
     */
    private OrchestratorSpec choosePorts(Launcher launcher, OrchestratorSpec requested) {
        return PortReservation.choose(requested, PortReservation.taken(orchestrators.values().stream()
                .filter(o -> o.spec().launcher().equals(requested.launcher()) && !o.id().equals(requested.id()))
                .map(Orchestrator::plan).toList()), s -> launcher.choosePorts(s, dir));
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

    /**
     * Starts each orchestrator on the data its previous run in this experiment kept ({@code --checkpoint}), after a
     * {@code db stop} or a lost allocation: the same id, checkpoint kind, backend and shard layout, any launcher,
     * nodes or ports. Each slot range goes to the shard holding its data. Fails, having started nothing, when
     * nothing is recorded for the id, it kept no data, or the layout differs (see {@link Resume}).
     */
    public void resume(Orchestrator... dbs) {
        for (Orchestrator db : dbs) {
            startOne(db, true);
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

    private void startOne(Orchestrator db) {
        startOne(db, false);
    }

    private void startOne(Orchestrator db, boolean resume) {
        if (db.state() == Orchestrator.State.RUNNING) {
            throw new StateException("orchestrator '" + db.id() + "' is already running at " + db.ssdb());
        }
        LaunchPlan plan = db.plan();
        Launcher launcher = db.launcher();
        refuseIfRunningElsewhere(plan, launcher);
        launcher.preflight(plan);
        List<io.smartsim.launch.manifest.ShardData> data = Resume.prepare(store.read().flatMap(m -> m.find(plan.id())),
                plan, resume, progress, DataFiles.of(launcher.transport(plan.spec())));
        Instant t0 = Instant.now();
        LaunchPlan recordedPlan = recordable(plan);
        OrchestratorRecord starting = new OrchestratorRecord(plan.id(), launcher.name(), Status.STARTING,
                recordedPlan.spec(), recordedPlan, List.of(), t0, Optional.empty(), data,
                Optional.of(Supervision.record(plan)));
        store.update(name, m -> m.with(starting));
        List<LaunchedShard> spawned = new CopyOnWriteArrayList<>();
        AbortOnExit abort = new AbortOnExit(launcher, spawned, plan.access());
        Thread cleanupOnExit = new Thread(abort::run, "smartsim-launch-abort-" + plan.id());
        Runtime.getRuntime().addShutdownHook(cleanupOnExit);
        Deadline deadline = Deadline.after(plan.spec().startupTimeout());
        LeaseKeeper keeper = null;
        try {
            progress.accept("starting " + plan.shards().size() + " shard(s)" + (plan.spec().replicas() == 0 ? ""
                    : " (" + plan.masters().size() + " masters, " + plan.spec().replicas() + " replica(s) each)")
                    + " of '" + plan.id() + "' with the "
                    + launcher.name() + " launcher");
            if (plan.auth().isEmpty()) {
                progress.accept(noAuthWarning(plan));
            } else if (plan.spec().ai().isPresent()) {
                progress.accept(io.smartsim.launch.plan.AiPlanner.smartRedisAuthNote(plan));
            }
            plan.warnings().forEach(w -> progress.accept("warning: " + w));
            if (launcher.name().equals("local")) { // other launchers' nodes may use another range
                io.smartsim.launch.util.EphemeralPorts.warning(plan, io.smartsim.launch.util.EphemeralPorts.local())
                        .ifPresent(w -> progress.accept("warning: '" + plan.id() + "': " + w));
            }
            EventLog.in(plan.dir()).append(Event.of(plan.id(), Event.STARTED, plan.shards().size() + " shard(s) with the "
                    + launcher.name() + " launcher"));
            Supervision.prepare(plan);
            if (plan.spec().lease().isPresent()) {
                // Renewed from now on, not from the end of the start: a start that outlasts the lease (a busy machine,
                // slow hosts) must not see its shards stop themselves. The hosts started so far get each renewal.
                keeper = new LeaseKeeper(plan, launcher, () -> List.copyOf(spawned), () -> true,
                        java.time.Clock.systemUTC()).start();
            }
            plan.tls().ifPresent(t -> {
                progress.accept("making a CA and certificate for '" + plan.id() + "' (--tls) in " + t.dir());
                TlsGenerator.generate(t, name + "/" + plan.id(), tlsNames(plan), new LocalCommandRunner());
            });
            List<LaunchedShard> shards = launcher.start(plan, new LaunchContext(deadline, progress, s -> {
                abort.spawned(s);
                store.update(name, m -> m.with(m.find(plan.id()).orElse(starting).withShard(s)));
            }));
            if (plan.clustered()) {
                progress.accept("forming a Redis Cluster over " + shards.size() + " shards");
                ClusterFormer.form(Orchestrator.members(plan, shards), deadline, progress, plan.access());
            }
            HealthReport health = HealthChecker.check(Orchestrator.targets(plan, shards), plan.clustered(),
                    Duration.ofMillis(deadline.capMillis(CONTROL_TIMEOUT)), plan.access());
            if (!health.healthy()) {
                throw new LaunchException("orchestrator '" + plan.id() + "' started but is not healthy: "
                        + String.join("; ", health.problems()));
            }
            db.started(shards);
            startedHere.add(db);
            orchestratorStarted.put(db.id(), t0);
            orchestratorEnded.remove(db.id());
            armStopOnExit();
            store.update(name, m -> m.with(starting.withShards(shards).withStatus(Status.RUNNING, Optional.empty())));
            String healthyIn = String.format("'%s' healthy in %.2f s", plan.id(),
                    Duration.between(t0, Instant.now()).toMillis() / 1000.0);
            EventLog.in(plan.dir()).append(Event.of(plan.id(), Event.HEALTHY, healthyIn));
            supervise(db, keeper);
            progress.accept(healthyIn);
        } catch (RuntimeException e) {
            if (keeper != null) {
                keeper.close();
            }
            LaunchException failure = e instanceof LaunchException le ? le : e instanceof JedisException
                    ? new ClusterFormingException("orchestrator '" + plan.id() + "': " + e.getMessage(), e)
                    : new LaunchException("orchestrator '" + plan.id() + "' failed to start: " + e, e);
            teardown(launcher, spawned, plan.access());
            db.ended(Orchestrator.State.FAILED);
            store.update(name, m -> m.with(m.find(plan.id()).orElse(starting)
                    .withStatus(Status.FAILED, Optional.of(failure.getMessage()))));
            throw failure;
        } finally {
            abort.launchEnded();
            try {
                Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to: it does the cleanup
            }
        }
    }

    /**
     * The abort hook of one launch: at the JVM's exit (SIGINT, SIGTERM) it stops the shards the launcher has reported
     * so far. The launch itself goes on meanwhile on its own thread (a signal interrupts none), so once the hook has
     * begun a shard reported later ends the launch (the launcher stops what it started), and the hook waits, bounded,
     * for the launch to end before it stops whatever was reported after its first pass.
     */
    private static final class AbortOnExit {
        private final Launcher launcher;
        private final List<LaunchedShard> spawned;
        private final Access access;
        private final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
        private boolean aborting;

        AbortOnExit(Launcher launcher, List<LaunchedShard> spawned, Access access) {
            this.launcher = launcher;
            this.spawned = spawned;
            this.access = access;
        }

        /** A shard the launcher reports; a shard reported again (it landed) replaces its earlier entry. */
        void spawned(LaunchedShard s) {
            synchronized (spawned) {
                spawned.removeIf(x -> x.index() == s.index());
                spawned.add(s);
                if (aborting) {
                    throw new LaunchException("shard " + s.index() + " of this launch started while the JVM was "
                            + "exiting; the launch is abandoned and what it started is being stopped");
                }
            }
        }

        void launchEnded() {
            ended.countDown();
        }

        void run() {
            List<LaunchedShard> first;
            synchronized (spawned) {
                aborting = true;
                first = List.copyOf(spawned);
            }
            teardown(launcher, first, access);
            try {
                ended.await(STOP_GRACE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            teardown(launcher, spawned.stream().filter(s -> !first.contains(s)).toList(), access);
        }
    }

    /**
     * The hosts and addresses a {@code --tls} certificate must name: every shard's host and bind addresses, and what
     * this machine resolves the hosts to ({@link io.smartsim.launch.security.TlsNames}).
     */
    static List<String> tlsNames(LaunchPlan plan) {
        List<String> names = new ArrayList<>();
        plan.shards().forEach(s -> {
            names.add(s.host());
            names.addAll(s.bindAddresses());
        });
        return io.smartsim.launch.security.TlsNames.of(names);
    }

    /** What {@code --no-auth} gives up, said at every start without a password. */
    static String noAuthWarning(LaunchPlan plan) {
        boolean loopbackOnly = plan.shards().stream().allMatch(s -> !s.bindAddresses().isEmpty()
                && s.bindAddresses().stream().allMatch(a -> a.startsWith("127.") || a.equals("::1")));
        return "warning: '" + plan.id() + "' has no password (--no-auth): anyone who can reach its ports ("
                + (loopbackOnly ? "any user or process on this machine" : "any user of the nodes, and anyone on their "
                + "network") + ") can read, change or delete its data";
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

    private static void teardown(Launcher launcher, List<LaunchedShard> spawned, Access access) {
        if (spawned.isEmpty()) {
            return;
        }
        List<LaunchedShard> copy = List.copyOf(spawned);
        reach(launcher, copy);
        Shards.shutdownNoSave(copy, CONTROL_TIMEOUT, access);
        launcher.stop(copy, STOP_GRACE);
    }

    /**
     * The plan as the manifest records it: without one-time transport permissions such as
     * {@code accept-new-host-key} ({@link Transports#recordable}), which a later process must not inherit.
     */
    static LaunchPlan recordable(LaunchPlan plan) {
        Map<String, String> options = Transports.recordable(plan.spec().launcherOptions());
        if (options.equals(plan.spec().launcherOptions())) {
            return plan;
        }
        OrchestratorSpec spec = plan.spec().toBuilder().launcherOptions(options).build();
        return new LaunchPlan(plan.experiment(), plan.expDir(), plan.dir(), spec, plan.shards(), plan.auth());
    }

    /**
     * Lets the launcher make recorded shards reachable from this process ({@link Launcher#reach}) before control
     * connections to them. A failure here (transport down) is not the caller's failure: shards it cannot reach
     * fail their {@code SHUTDOWN} or health check, and stop falls back to the scheduler.
     */
    private static void reach(Launcher launcher, List<LaunchedShard> shards) {
        try {
            launcher.reach(shards);
        } catch (LaunchException e) {
            // reported by what follows: the unreachable shards' health, or the launcher's own stop
        }
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
            if (r != null) {
                // The watchdog first, so it never restarts what this stop kills; then the shards as it left them.
                endSupervision(db.id(), r);
                r = store.read().flatMap(m -> m.find(db.id())).orElse(r);
            }
            List<LaunchedShard> shards = r != null && !r.shards().isEmpty() ? r.shards() : db.shards();
            LaunchPlan plan = r != null ? r.plan() : db.plan();
            progress.accept("stopping " + shards.size() + " shard(s) of '" + db.id() + "'");
            reach(db.launcher(), shards); // a new process has no route to remote shards until the launcher makes one
            List<ShardShutdown.Outcome> saves = ShardShutdown.shutdown(plan, shards, CONTROL_TIMEOUT, plan.access(),
                    progress);
            db.launcher().stop(shards, STOP_GRACE);
            db.ended(Orchestrator.State.STOPPED);
            startedHere.remove(db);
            Instant stoppedAt = Instant.now();
            orchestratorEnded.put(db.id(), stoppedAt);
            var facts = ShardShutdown.dataFacts(plan, db.launcher(), progress);
            store.update(name, m -> m.find(db.id()).map(x -> m.with(ShardShutdown.recorded(
                    x.withStatus(Status.STOPPED, Optional.empty()), plan, saves, stoppedAt, facts))).orElse(m));
            EventLog.in(db.plan().dir()).append(Event.of(db.id(), Event.STOPPED, shards.size() + " shard(s) stopped"));
            plan.spec().checkpoint().ifPresent(c -> progress.accept("data of '" + db.id() + "' kept under "
                    + plan.dir() + "; bring it back with: " + resumeHint(plan.spec())));
        }
    }

    /**
     * The command that resumes an orchestrator of this spec after {@code db stop}: the experiment directory and the
     * id; the rest comes from the manifest ({@link #specToResume}). An allocation is never repeated by itself: when
     * the run was given one ({@code --alloc}), the hint names it, as the user's to give again.
     */
    String resumeHint(OrchestratorSpec spec) {
        List<String> argv = new ArrayList<>(List.of("smartsim-launch", "db", "start", "--resume", "--exp-dir",
                dir.toString(), "--name", spec.id()));
        Resume.ONE_RUN_OPTIONS.stream().sorted().filter(spec.launcherOptions()::containsKey).forEach(k -> {
            argv.add("--" + k);
            argv.add(spec.launcherOptions().get(k));
        });
        return io.smartsim.launch.script.Shell.join(argv);
    }

    /** Starts the watchdog of {@code db} when its spec asks for one; it runs while this experiment is open. */
    private void supervise(Orchestrator db, LeaseKeeper keeper) {
        if (!Supervisor.needed(db.plan())) {
            return;
        }
        Supervisor.Owner owner = new Supervisor.Owner(db::shards, s -> {
            db.restarted(s);
            store.update(name, m -> m.find(db.id()).map(x -> m.with(x.withShard(s))).orElse(m));
        }, () -> true, () -> db.state() == Orchestrator.State.RUNNING);
        Supervisor sup = new Supervisor(db.plan(), db.launcher(), owner, Supervisor.Settings.defaults(),
                java.time.Clock.systemUTC());
        if (keeper != null) {
            sup.adopt(keeper); // renewing since the lease was written; the watchdog owns it from here
        }
        Supervisor old = supervisors.put(db.id(), sup.start());
        if (old != null) {
            old.close();
        }
    }

    /** Ends whatever supervises {@code id}: this experiment's watchdog thread, and a recorded watchdog process. */
    private void endSupervision(String id, OrchestratorRecord r) {
        Supervisor s = supervisors.remove(id);
        if (s != null) {
            s.close();
        }
        Supervision.stopWatchdog(r, progress);
    }

    /** Renews the lease of orchestrator {@code id} ({@code --lease}) for its duration from now; returns the new expiry. */
    public Instant renewLease(String id) {
        return Supervision.renew(store.read().flatMap(m -> m.find(id)).orElseThrow(() -> new StateException(
                "no orchestrator '" + id + "' in " + dir + "; known here: " + knownIds())));
    }

    /** The events log, lease and watchdog of orchestrator {@code id}, as recorded and checked now. */
    public Supervision.Status supervision(String id) {
        OrchestratorRecord r = store.read().flatMap(m -> m.find(id)).orElseThrow(() -> new StateException(
                "no orchestrator '" + id + "' in " + dir + "; known here: " + knownIds()));
        return Supervision.status(r);
    }

    /**
     * Removes what is left of orchestrators whose launch did not finish: every one recorded STARTING (its launching
     * process was killed mid-start, or is still starting it: do not run this beside a {@code db start} of the same
     * experiment), and every one recorded RUNNING with some or all of its processes gone. Their shards that still
     * exist get {@code SHUTDOWN NOSAVE} where reachable, then the launcher's stop; the entry is then recorded FAILED
     * ({@value OrchestratorCleanup#INTERRUPTED_START}) or STOPPED. Orchestrators running whole, stopped or failed
     * are left alone, so a second cleanup finds nothing.
     *
     * @param id one orchestrator's id, or empty for all of them
     */
    public List<OrchestratorCleanup> cleanup(Optional<String> id) {
        List<OrchestratorRecord> records = store.read().map(Manifest::orchestrators).orElse(List.of());
        if (id.isPresent() && records.stream().noneMatch(r -> r.id().equals(id.get()))) {
            throw new StateException("no orchestrator '" + id.get() + "' in " + dir + "; known here: " + knownIds());
        }
        List<OrchestratorCleanup> out = new ArrayList<>();
        for (OrchestratorRecord r : records) {
            if (id.isEmpty() || r.id().equals(id.get())) {
                cleanupOne(r).ifPresent(out::add);
            }
        }
        return out;
    }

    private Optional<OrchestratorCleanup> cleanupOne(OrchestratorRecord r) {
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
        endSupervision(r.id(), r);
        List<LaunchedShard> shards = store.read().flatMap(m -> m.find(r.id())).map(OrchestratorRecord::shards)
                .orElse(r.shards());
        Map<Integer, Liveness> current = launcher.probe(shards);
        List<LaunchedShard> present = shards.stream().filter(s -> current.get(s.index()) != Liveness.GONE).toList();
        progress.accept("cleaning up '" + r.id() + "' (" + found + "): " + present.size() + " of " + shards.size()
                + " recorded shard process(es) still exist");
        List<ShardShutdown.Outcome> saves = List.of();
        if (!present.isEmpty()) {
            reach(launcher, present);
            if (r.status() == Status.RUNNING) {
                // a degraded orchestrator's survivors keep their newest data (with --checkpoint) for a resume
                saves = ShardShutdown.shutdown(r.plan(), present, CONTROL_TIMEOUT, r.plan().access(), progress);
            } else {
                Shards.shutdownNoSave(present, CONTROL_TIMEOUT, r.plan().access());
            }
            launcher.stop(present, STOP_GRACE);
        }
        List<ShardShutdown.Outcome> saved = saves;
        Map<Integer, Liveness> after = launcher.probe(shards);
        List<LaunchedShard> left = shards.stream().filter(s -> after.get(s.index()) == Liveness.ALIVE).toList();
        List<LaunchedShard> stopped = present.stream().filter(s -> !left.contains(s)).toList();
        Status now = r.status();
        if (left.isEmpty()) {
            now = r.status() == Status.STARTING ? Status.FAILED : Status.STOPPED;
            Optional<String> error = now == Status.FAILED ? Optional.of(OrchestratorCleanup.INTERRUPTED_START)
                    : Optional.empty();
            Status recordAs = now;
            Instant stoppedAt = Instant.now();
            var facts = ShardShutdown.dataFacts(r.plan(), launcher, progress);
            store.update(name, m -> m.find(r.id()).map(x -> m.with(ShardShutdown.recorded(x.withStatus(recordAs,
                    error), r.plan(), saved, stoppedAt, facts))).orElse(m));
            Orchestrator known = orchestrators.get(r.id());
            if (known != null) {
                known.ended(recordAs == Status.FAILED ? Orchestrator.State.FAILED : Orchestrator.State.STOPPED);
                startedHere.remove(known);
            }
        }
        return Optional.of(new OrchestratorCleanup(r.id(), r.status(), found, shards, stopped, left, now));
    }

    /** The manifest's record of an orchestrator checked against the running processes and the database itself. */
    public OrchestratorStatus status(String id) {
        OrchestratorRecord r = store.read().flatMap(m -> m.find(id)).orElseThrow(() -> new StateException(
                "no orchestrator '" + id + "' in " + dir + "; known here: " + knownIds()));
        return statusOf(r);
    }

    /**
     * Where each shard of orchestrator {@code id} keeps its data ({@code --checkpoint}) and what is known of its last
     * save, as the manifest records it; empty without a checkpoint or a record.
     */
    public List<io.smartsim.launch.manifest.ShardData> checkpointData(String id) {
        return store.read().flatMap(m -> m.find(id)).map(OrchestratorRecord::data).orElse(List.of());
    }

    /**
     * The checkpoint data of a running orchestrator now ({@code --checkpoint}), per planned shard: the size and time of
     * what is at its data path (read where the shards write it: through the login node under {@code --remote}), and
     * the save fields of {@code INFO persistence} that {@code status}'s health check read. Empty for an orchestrator
     * without a checkpoint or not running: {@link #checkpointData} then says what was recorded at its stop.
     */
    public List<ShardDataNow> checkpointDataNow(OrchestratorStatus status) {
        Optional<OrchestratorRecord> r = store.read().flatMap(m -> m.find(status.id()));
        if (r.isEmpty() || r.get().spec().checkpoint().isEmpty() || status.health().isEmpty()) {
            return List.of();
        }
        LaunchPlan plan = r.get().plan();
        Checkpoint cp = plan.spec().checkpoint().get();
        Map<Path, ShardShutdown.FileFacts> facts = ShardShutdown.dataFacts(plan, launcherFor(r.get()), progress);
        Map<Integer, Map<String, String>> info = new java.util.HashMap<>();
        status.health().get().shards().forEach(h -> info.put(h.index(), h.persistence()));
        return plan.shards().stream().map(s -> {
            Path path = io.smartsim.launch.plan.Persistence.dataPath(s.workDir(), cp, plan.spec().backend());
            Optional<ShardShutdown.FileFacts> f = Optional.ofNullable(facts.get(path));
            return ShardDataNow.of(s.index(), s.name(), cp.kind(), path, f.map(ShardShutdown.FileFacts::bytes),
                    f.map(ShardShutdown.FileFacts::modified), info.getOrDefault(s.index(), Map.of()));
        }).toList();
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
        Launcher launcher = launcherFor(r);
        reach(launcher, r.shards());
        Map<Integer, Liveness> live = launcher.probe(r.shards());
        long gone = live.values().stream().filter(l -> l == Liveness.GONE).count();
        if (!r.shards().isEmpty() && gone == r.shards().size()) {
            return new OrchestratorStatus(r.id(), r.launcher(), r.status(), "STALE", r.shards(), live,
                    Optional.empty(), Optional.of("recorded as " + r.status() + " but none of its " + r.shards().size()
                    + " processes exists" + leaseNote(r) + launcher.endedJobs(r.shards()).map(j -> "; " + j).orElse("")
                    + "; stop it to clear the entry"));
        }
        HealthReport h = HealthChecker.check(Orchestrator.targets(r.plan(), r.shards()), r.plan().clustered(),
                CONTROL_TIMEOUT, r.plan().access());
        String state = gone > 0 ? "DEGRADED" : r.status() == Status.STARTING ? "STARTING"
                : h.healthy() ? "RUNNING" : "UNHEALTHY";
        Map<Integer, String> planned = new java.util.HashMap<>();
        r.plan().shards().forEach(p -> planned.put(p.index(), p.roleText()));
        return new OrchestratorStatus(r.id(), r.launcher(), r.status(), state, r.shards(), live, Optional.of(h),
                h.firstProblem(), planned);
    }

    /** Why the shards may have gone: a lease that ran out. */
    private static String leaseNote(OrchestratorRecord r) {
        if (r.spec().lease().isEmpty()) {
            return "";
        }
        Supervision.Status s = Supervision.status(r);
        return s.leaseExpired() ? " (the lease ran out at " + s.leaseExpiry().map(Instant::toString)
                .orElse("? (lease file removed)") + " without being renewed: the shards stopped themselves)" : "";
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

    // ---- models and ensembles ---------------------------------------------------------------------------------

    /** Plans a model (validating it against its launcher) without starting it. */
    public Model createModel(ModelSpec spec) {
        claim(spec.name());
        ModelPlan plan = ModelPlanner.plan(dir, spec);
        ModelLauncher launcher = modelLaunchers.computeIfAbsent(spec.launcher(), ModelLaunchers::find);
        launcher.validate(plan);
        Model m = new Model(plan, launcher);
        models.put(m.name(), m);
        return m;
    }

    /** Plans an ensemble's members (validating each) without starting them. */
    public Ensemble createEnsemble(EnsembleSpec spec) {
        claim(spec.name());
        List<ModelPlan> plans = ModelPlanner.plan(dir, spec);
        ModelLauncher launcher = modelLaunchers.computeIfAbsent(spec.member().launcher(), ModelLaunchers::find);
        List<Model> members = new ArrayList<>();
        for (ModelPlan p : plans) {
            claim(p.name());
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
            throw new InvalidSpecException("name", "experiment '" + name + "' already has an entity named '" + entity
                    + "'; give each orchestrator, model, ensemble (and ensemble member, <ensemble>_<i>) its own name");
        }
    }

    /** Every model created here, ensemble members included, in creation order. */
    public List<Model> models() {
        return List.copyOf(models.values());
    }

    public List<Ensemble> ensembles() {
        return List.copyOf(ensembles.values());
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
        for (Model m : ms) {
            if (models.get(m.name()) != m) {
                throw new StateException("model '" + m.name() + "' was not created by experiment '" + name
                        + "'; create it with this experiment's createModel or createEnsemble");
            }
            if (m.status() != EntityStatus.NEW) {
                throw new StateException("model '" + m.name() + "' was already started (" + m.status()
                        + "); models run once: create another to run it again");
            }
        }
        List<Orchestrator> dbsNow = new ArrayList<>();
        List<Model> modelsNow = new ArrayList<>();
        try {
            for (Orchestrator db : dbs) {
                startOne(db);
                dbsNow.add(db);
            }
            Map<String, String> env = dbEnv();
            for (Model m : ms) {
                startModel(m, env);
                modelsNow.add(m);
            }
        } catch (RuntimeException e) {
            try {
                stopModels(modelsNow);
                for (Orchestrator db : dbsNow) {
                    stop(db);
                }
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        if (block) {
            await(ms, Deadline.after(BLOCK_FOREVER));
        }
    }

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

    /**
     * Under this experiment's lock, which stop-on-exit takes too: a model whose start is under way when the JVM is
     * told to exit is started whole and then stopped, and none starts after that.
     */
    private synchronized void startModel(Model m, Map<String, String> env) {
        if (exiting) {
            throw new LaunchException("model '" + m.name() + "' was not started: the JVM is exiting and experiment '"
                    + name + "' is stopping what it started");
        }
        ModelPlan plan = m.plan();
        ModelPlanner.writeFiles(plan);
        LaunchedModel launched;
        try {
            launched = m.launcher().start(plan, env);
        } catch (RuntimeException e) {
            m.failedToStart(e.getMessage());
            throw e;
        }
        m.started(launched);
        record(m);
        modelsStartedHere.add(m);
        armStopOnExit();
        progress.accept("started " + m.type().toLowerCase(java.util.Locale.ROOT) + " '" + m.name() + "' ("
                + m.launcher().name() + " " + launched.id() + "); output in " + plan.stdout());
    }

    /**
     * Waits until every model among {@code entities} (ensembles: their members) has finished, at most
     * {@code timeout}; true when they all have. Orchestrators among them are not waited for: they run until stopped.
     */
    public boolean waitFor(Duration timeout, Entity... entities) {
        List<Model> ms = new ArrayList<>();
        split(entities, new ArrayList<>(), ms);
        return await(ms, Deadline.after(timeout));
    }

    private boolean await(List<Model> ms, Deadline deadline) {
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

    /** Asks the launchers about every started, unfinished model (one query per launcher). */
    private void refresh(List<Model> ms) {
        Map<ModelLauncher, List<Model>> byLauncher = new IdentityHashMap<>();
        for (Model m : ms) {
            if (m.launched().isPresent() && !m.status().terminal()) {
                byLauncher.computeIfAbsent(m.launcher(), l -> new ArrayList<>()).add(m);
            }
        }
        byLauncher.forEach((launcher, group) -> {
            Map<String, ModelState> states = launcher.poll(group.stream().map(m -> m.launched().orElseThrow())
                    .toList());
            for (Model m : group) {
                ModelState s = states.get(m.name());
                if (s == null) {
                    continue;
                }
                m.update(s);
                if (m.status().terminal()) {
                    record(m);
                    modelsStartedHere.remove(m);
                    progress.accept(m.type().toLowerCase(java.util.Locale.ROOT) + " '" + m.name() + "' "
                            + m.status() + m.exitCode().map(c -> " (exit code " + c + ")").orElse("")
                            + m.detail().map(d -> ": " + d).orElse(""));
                }
            }
        });
    }

    /** Writes {@code m}'s manifest entry, so that another process sees, polls and can stop it. */
    private void record(Model m) {
        if (m.launched().isPresent()) {
            store.update(name, mf -> mf.withModel(m.record()));
        }
    }

    /** Refreshes every started model's status; returns the summary. */
    public List<EntitySummary> poll() {
        refresh(models());
        return summary();
    }

    /**
     * Whether {@code entity} has finished: a model COMPLETED, FAILED or CANCELLED (asked now); an ensemble when
     * every member has; an orchestrator once STOPPED or FAILED.
     */
    public boolean finished(Entity entity) {
        if (entity instanceof Orchestrator o) {
            return o.state() == Orchestrator.State.STOPPED || o.state() == Orchestrator.State.FAILED;
        }
        List<Model> ms = new ArrayList<>();
        split(new Entity[] {entity}, new ArrayList<>(), ms);
        refresh(ms);
        return ms.stream().allMatch(m -> m.status().terminal());
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
        for (Model m : ms) {
            if (m.status() == EntityStatus.NEW) {
                throw new StateException("model '" + m.name() + "' was never started; nothing to stop");
            }
        }
        stopModels(ms);
        if (!dbs.isEmpty()) {
            stop(dbs.toArray(Orchestrator[]::new));
        }
    }

    private void stopModels(List<Model> ms) {
        refresh(ms);
        Map<ModelLauncher, List<Model>> byLauncher = new IdentityHashMap<>();
        for (Model m : ms) {
            if (m.launched().isPresent() && !m.status().terminal()) {
                byLauncher.computeIfAbsent(m.launcher(), l -> new ArrayList<>()).add(m);
            }
        }
        byLauncher.forEach((launcher, group) -> {
            progress.accept("stopping " + group.size() + " model(s): " + String.join(", ",
                    group.stream().map(Model::name).toList()));
            launcher.stop(group.stream().map(m -> m.launched().orElseThrow()).toList(), MODEL_STOP_GRACE);
        });
        refresh(ms);
        for (Model m : ms) {
            if (m.launched().isPresent() && !m.status().terminal()) {
                // the launcher could not tell how it ended; it was stopped on request
                m.update(new ModelState(EntityStatus.CANCELLED, Optional.empty(), Optional.of("stopped")));
                record(m);
            }
            modelsStartedHere.remove(m);
        }
    }

    /**
     * The environment models get: {@code SSDB}/{@code SR_DB_TYPE} for the first running orchestrator (in creation
     * or manifest order), {@code SSDB_<id>}/{@code SR_DB_TYPE_<id>} for each other one. Empty when none runs.
     */
    public Map<String, String> dbEnv() {
        return DbEnv.variables(orchestrators.values().stream().filter(o -> o.state() == Orchestrator.State.RUNNING)
                .map(Experiment::database).toList());
    }

    /** As {@link #dbEnv()}, with {@code primaryId} as the one in {@code SSDB}. */
    public Map<String, String> dbEnv(String primaryId) {
        Orchestrator primary = orchestrator(primaryId);
        if (primary.state() != Orchestrator.State.RUNNING) {
            throw new StateException("orchestrator '" + primaryId + "' is not running (" + primary.state()
                    + "); start it first");
        }
        List<DbEnv.Database> dbs = new ArrayList<>();
        dbs.add(database(primary));
        orchestrators.values().stream().filter(o -> o != primary && o.state() == Orchestrator.State.RUNNING)
                .forEach(o -> dbs.add(database(o)));
        return DbEnv.variables(dbs);
    }

    /**
     * What starting {@code m} would run, for a dry run: its launcher's command and scripts, with the database
     * variables of every orchestrator created here at its planned addresses. Starts and writes nothing.
     */
    public RenderedLaunch preview(Model m) {
        return m.launcher().render(m.plan(), DbEnv.variables(orchestrators.values().stream()
                .map(o -> database(o).redacted()).toList()));
    }

    /** An orchestrator as a model sees it: addresses, type, and the user to log in as (with the password). */
    private static DbEnv.Database database(Orchestrator o) {
        return new DbEnv.Database(o.id(), o.ssdb(), o.dbType(), o.plan().auth(),
                o.plan().tls().map(io.smartsim.launch.security.Tls::caCert));
    }

    /** One row per orchestrator, then per model (ensemble members included), in creation order. */
    public List<EntitySummary> summary() {
        List<EntitySummary> rows = new ArrayList<>();
        for (Orchestrator o : orchestrators.values()) {
            List<String> jobs = o.shards().stream().map(s -> s.handle().get("jobId")).filter(j -> j != null)
                    .distinct().toList();
            List<String> pids = o.shards().stream().flatMap(s -> s.pid().stream()).map(String::valueOf).toList();
            Optional<String> id = !jobs.isEmpty() ? Optional.of(String.join(",", jobs))
                    : pids.isEmpty() ? Optional.empty() : Optional.of(String.join(",", pids));
            Instant t0 = orchestratorStarted.get(o.id());
            Optional<Duration> elapsed = t0 == null ? Optional.empty()
                    : Optional.of(Duration.between(t0, orchestratorEnded.getOrDefault(o.id(), Instant.now())));
            rows.add(new EntitySummary(o.id(), o.type(), id, o.state().name(), Optional.empty(), elapsed));
        }
        for (Model m : models.values()) {
            rows.add(new EntitySummary(m.name(), m.type(), m.launched().map(LaunchedModel::id), m.status().name(),
                    m.exitCode(), m.elapsed()));
        }
        return rows;
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
        startedHere.remove(db);
        // Let go of it whole: this experiment no longer restarts its shards or renews its lease either.
        Supervisor s = supervisors.remove(db.id());
        if (s != null) {
            s.close("detached from the experiment that started it: this process no longer supervises it");
        }
    }

    private synchronized void armStopOnExit() {
        if (stopOnExit == null) {
            stopOnExit = new Thread(() -> {
                synchronized (this) {
                    exiting = true; // waits for a model start under way, and refuses the ones after it
                }
                stopStartedHere();
            }, "smartsim-launch-stop-on-exit-" + name);
            Runtime.getRuntime().addShutdownHook(stopOnExit);
        }
    }

    /** Stops every model this instance started, then every orchestrator it started and did not detach. Safe to call twice. */
    @Override
    public synchronized void close() {
        // The controller is leaving: its watchdogs stop (detached orchestrators keep running, their leases unrenewed).
        supervisors.values().forEach(Supervisor::close);
        supervisors.clear();
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
        List<Model> runningModels;
        synchronized (modelsStartedHere) {
            runningModels = new ArrayList<>(modelsStartedHere);
        }
        List<Orchestrator> running;
        synchronized (startedHere) {
            running = new ArrayList<>(startedHere);
        }
        LaunchException first = null;
        try {
            stopModels(runningModels); // models first: they use the databases
        } catch (LaunchException e) {
            first = e;
        }
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
