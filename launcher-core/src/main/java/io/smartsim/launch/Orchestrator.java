package io.smartsim.launch;

import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.error.StateException;
import io.smartsim.launch.cluster.HealthChecker;
import io.smartsim.launch.cluster.HealthReport;
import io.smartsim.launch.entity.DbEnv;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.plan.ShardPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;

import java.time.Duration;
import java.util.List;

/**
 * One database of an experiment: its spec, its plan and, once started, where its shards run. Created by
 * {@link Experiment#createOrchestrator}, started and stopped through the experiment.
 */
public final class Orchestrator implements Entity {
    /** Lifecycle as this process knows it. */
    public enum State { NEW, RUNNING, STOPPED, FAILED }

    private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(2);

    private final LaunchPlan plan;
    private final Launcher launcher;
    private volatile State state;
    private volatile List<LaunchedShard> shards;
    private volatile HealthReport healthAtStart;

    Orchestrator(LaunchPlan plan, Launcher launcher, State state, List<LaunchedShard> shards) {
        this.plan = plan;
        this.launcher = launcher;
        this.state = state;
        this.shards = List.copyOf(shards);
    }

    public String id() {
        return plan.id();
    }

    /** The id: an orchestrator's name in its experiment. */
    @Override
    public String name() {
        return plan.id();
    }

    @Override
    public String type() {
        return "Orchestrator";
    }

    public OrchestratorSpec spec() {
        return plan.spec();
    }

    public LaunchPlan plan() {
        return plan;
    }

    public State state() {
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
    public java.util.Map<String, String> dbEnv() {
        return DbEnv.variables(List.of(new DbEnv.Database(id(), ssdb(), dbType(), plan.auth(),
                plan.tls().map(io.smartsim.launch.security.Tls::caCert))));
    }

    /**
     * The health check that ended this process's start of the orchestrator (every shard answered, formed as planned);
     * empty for one this process did not start. {@link #health()} asks again.
     */
    public java.util.Optional<HealthReport> healthAtStart() {
        return java.util.Optional.ofNullable(healthAtStart);
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
                s.index() < plan.shards().size() ? java.util.Optional.of(plan.shards().get(s.index()).roleText())
                        : java.util.Optional.empty())).toList();
    }

    /** The cluster's members as planned (masters with their slots, replicas with their master), by shard index. */
    static List<io.smartsim.launch.cluster.ClusterFormer.Member> members(LaunchPlan plan, List<LaunchedShard> shards) {
        List<LaunchedShard> byIndex = shards.stream()
                .sorted(java.util.Comparator.comparingInt(LaunchedShard::index)).toList();
        return byIndex.stream().map(s -> {
            ShardPlan p = plan.shards().get(s.index());
            return new io.smartsim.launch.cluster.ClusterFormer.Member(s.host(), s.port(), p.slots(), p.replicaOf());
        }).toList();
    }

    /** Per-shard log files, for users who want to look. */
    public List<java.nio.file.Path> logs() {
        return plan.shards().stream().map(ShardPlan::logPath).toList();
    }

    Launcher launcher() {
        return launcher;
    }

    void started(List<LaunchedShard> launched, HealthReport health) {
        this.shards = List.copyOf(launched);
        this.healthAtStart = health;
        this.state = State.RUNNING;
    }

    /** A shard the watchdog started again: it replaces the dead one of the same index. */
    void restarted(LaunchedShard s) {
        List<LaunchedShard> next = new java.util.ArrayList<>(shards);
        next.replaceAll(x -> x.index() == s.index() ? s : x);
        this.shards = List.copyOf(next);
    }

    void ended(State s) {
        this.state = s;
    }

    @Override
    public String toString() {
        return "Orchestrator[" + id() + ", " + state + ", " + ssdb() + "]";
    }
}
