package io.smartsim.launch.experiment;

import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.Transports;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.ShardData;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.supervise.Supervision;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the manifest records of one experiment's orchestrators and models, one method per transition: STARTING before
 * the first shard, each shard as it is reported, RUNNING, FAILED, each restarted shard, STOPPED with what its shards
 * saved, and each model. Another process (a later {@code db stop}, a watchdog) reads these records.
 */
public final class Recorder {
    private final ManifestStore store;
    private final String experiment;

    public Recorder(ManifestStore store, String experiment) {
        this.store = store;
        this.experiment = experiment;
    }

    public Optional<OrchestratorRecord> find(String id) {
        return store.read().flatMap(m -> m.find(id));
    }

    /**
     * Records {@code plan} as STARTING (as {@link #recordable}: without one-time transport permissions) with the data
     * it starts on and its supervision files; returns the record, the fallback of the transitions after it.
     */
    OrchestratorRecord starting(LaunchPlan plan, String launcher, Instant at, List<ShardData> data) {
        LaunchPlan recorded = recordable(plan);
        OrchestratorRecord starting = new OrchestratorRecord(plan.id(), launcher, Status.STARTING, recorded.spec(),
                recorded, List.of(), at, Optional.empty(), data, Optional.of(Supervision.record(plan)));
        store.update(experiment, m -> m.with(starting));
        return starting;
    }

    /** A shard the launcher reported during the start: recorded at once, so a cleanup finds it if this process dies. */
    void spawned(OrchestratorRecord starting, LaunchedShard s) {
        store.update(experiment, m -> m.with(m.find(starting.id()).orElse(starting).withShard(s)));
    }

    /** Healthy: RUNNING with {@code shards}, keeping what was recorded meanwhile (the watchdog process's pid). */
    void running(OrchestratorRecord starting, List<LaunchedShard> shards) {
        store.update(experiment, m -> m.with(m.find(starting.id()).orElse(starting).withShards(shards)
                .withStatus(Status.RUNNING, Optional.empty())));
    }

    /** The start failed: FAILED with the error, keeping the shards it recorded (they are being stopped). */
    void failed(OrchestratorRecord starting, String error) {
        store.update(experiment, m -> m.with(m.find(starting.id()).orElse(starting)
                .withStatus(Status.FAILED, Optional.of(error))));
    }

    /** A shard a watchdog started again; nothing when the orchestrator is no longer recorded. */
    void restarted(String id, LaunchedShard s) {
        store.update(experiment, m -> m.find(id).map(x -> m.with(x.withShard(s))).orElse(m));
    }

    /** Stopped (or failed, after a cleanup) at {@code at}, with what each shard saved and the data files' facts. */
    void ended(String id, Status status, Optional<String> error, LaunchPlan plan, List<ShardShutdown.Outcome> saves,
               Instant at, Map<Path, ShardShutdown.FileFacts> facts) {
        store.update(experiment, m -> m.find(id).map(x -> m.with(ShardShutdown.recorded(x.withStatus(status, error),
                plan, saves, at, facts))).orElse(m));
    }

    /** {@code m}'s entry, once it has been launched, so that another process sees, polls and can stop it. */
    void model(ModelHandle m) {
        if (m.launched().isPresent()) {
            store.update(experiment, mf -> mf.withModel(m.record()));
        }
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
        return new LaunchPlan(plan.experiment(), plan.expDir(), plan.dir(), spec, plan.shards(), plan.auth(),
                plan.modelServers());
    }
}
