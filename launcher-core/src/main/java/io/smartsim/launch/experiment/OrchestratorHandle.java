package io.smartsim.launch.experiment;

import io.smartsim.launch.cluster.ClusterFormer;
import io.smartsim.launch.cluster.HealthChecker;
import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.entity.DbEnv;
import io.smartsim.launch.error.StateException;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.planned.Tls;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.status.OrchestratorState;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One orchestrator as the experiment holding it knows it: its plan, its launcher, its state and, once started, where
 * its shards run. {@code io.smartsim.launch.Orchestrator} is this class with the public face: the public methods here
 * are the API's, while the start, stop and cleanup in this package change it through package-private ones. So the
 * parts behind {@code Experiment} work on what they start without knowing the facade above them (no package cycle;
 * docs/architecture.md, "The API boundary").
 */
public class OrchestratorHandle {
    private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(2);

    private final LaunchPlan plan;
    private final Launcher launcher;
    private volatile OrchestratorState state;
    private volatile List<LaunchedShard> shards;
    private volatile HealthReport healthAtStart;

    protected OrchestratorHandle(LaunchPlan plan, Launcher launcher, OrchestratorState state,
                                 List<LaunchedShard> shards) {
        this.plan = plan;
        this.launcher = launcher;
        this.state = state;
        this.shards = List.copyOf(shards);
    }

    public String id() {
        return plan.id();
    }

    /** The id: an orchestrator's name in its experiment. */
    public String name() {
        return plan.id();
    }

    public String type() {
        return "Orchestrator";
    }

    public OrchestratorSpec spec() {
        return plan.spec();
    }

    public LaunchPlan plan() {
        return plan;
    }

    public OrchestratorState state() {
        return state;
    }

    public boolean clustered() {
        return plan.clustered();
    }

    /** Where the shards run, once started. */
    public List<LaunchedShard> shards() {
        return shards;
    }

    /**
     * {@code host:port} of every shard: where they landed once started, the planned addresses before.
     */
    public List<String> addresses() {
        if (!shards.isEmpty()) {
            return shards.stream().map(LaunchedShard::address).toList();
        }
        return plan.shards().stream().map(s -> s.advertisedAddress() + ":" + s.port()).toList();
    }

    /** The value of {@code SSDB}: comma-separated {@code host:port}. */
    public String ssdb() {
        return String.join(",", addresses());
    }

    /** {@code Clustered} or {@code Standalone}, the value of {@code SR_DB_TYPE}, as SmartSim's clients read it. */
    public String dbType() {
        return clustered() ? "Clustered" : "Standalone";
    }

    /**
     * What a model needs to use this database alone: {@code SSDB}, {@code SR_DB_TYPE} and, with a password,
     * {@code SSDB_USER} and {@code SSDB_PASSWORD}, with {@code --tls} {@code SSDB_TLS_CA}. (Experiment#dbEnv gives
     * every running orchestrator's.)
     */
    public Map<String, String> dbEnv() {
        return DbEnv.variables(List.of(new DbEnv.Database(id(), ssdb(), dbType(), plan.auth(),
                plan.tls().map(Tls::caCert))));
    }

    /**
     * The health check that ended this process's start of the orchestrator (every shard answered, formed as planned);
     * empty for one this process did not start. {@link #health()} asks again.
     */
    public Optional<HealthReport> healthAtStart() {
        return Optional.ofNullable(healthAtStart);
    }

    /** Asks every shard about itself now. */
    public HealthReport health() {
        if (shards.isEmpty()) {
            throw new StateException("orchestrator '" + id() + "' has not been started; start it with Experiment.start");
        }
        return HealthChecker.check(targets(plan, shards), clustered(), HEALTH_TIMEOUT, plan.access());
    }

    /** What a health check asks: each launched shard, labelled with its planned role ("master", "replica of 0"). */
    static List<HealthChecker.Target> targets(LaunchPlan plan, List<LaunchedShard> shards) {
        return shards.stream().map(s -> new HealthChecker.Target(s.index(), s.host(), s.port(),
                s.index() < plan.shards().size() ? Optional.of(plan.shards().get(s.index()).roleText())
                        : Optional.empty())).toList();
    }

    /** The cluster's members as planned (masters with their slots, replicas with their master), by shard index. */
    static List<ClusterFormer.Member> members(LaunchPlan plan, List<LaunchedShard> shards) {
        List<LaunchedShard> byIndex = shards.stream()
                .sorted(Comparator.comparingInt(LaunchedShard::index)).toList();
        return byIndex.stream().map(s -> {
            ShardPlan p = plan.shards().get(s.index());
            return new ClusterFormer.Member(s.host(), s.port(), p.slots(), p.replicaOf());
        }).toList();
    }

    /** Per-shard log files, for users who want to look. */
    public List<Path> logs() {
        return plan.shards().stream().map(ShardPlan::logPath).toList();
    }

    Launcher launcher() {
        return launcher;
    }

    void started(List<LaunchedShard> launched, HealthReport health) {
        this.shards = List.copyOf(launched);
        this.healthAtStart = health;
        this.state = OrchestratorState.RUNNING;
    }

    /** A shard the watchdog started again: it replaces the dead one of the same index. */
    void restarted(LaunchedShard s) {
        List<LaunchedShard> next = new ArrayList<>(shards);
        next.replaceAll(x -> x.index() == s.index() ? s : x);
        this.shards = List.copyOf(next);
    }

    void ended(OrchestratorState s) {
        this.state = s;
    }
}
