package io.smartsim.launch.manifest;

import io.smartsim.launch.status.ShardData;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spi.LaunchedShard;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One orchestrator as the manifest records it.
 *
 * @param id       orchestrator id
 * @param launcher launcher name
 * @param status   last recorded status
 * @param spec     the spec it was started from
 * @param plan     the plan that ran
 * @param shards   where each shard landed (as far as it got)
 * @param updated  when this entry was written
 * @param error    the failure, for FAILED entries
 * @param data     where each shard keeps its data and what is known of its last save; empty without
 *                 {@code --checkpoint} (and in manifests written before checkpoints existed)
 * @param supervision the events log, lease file and watchdog process, for orchestrators with {@code --restart}
 *                    or {@code --lease} (and the events log of every other one)
 */
public record OrchestratorRecord(String id, String launcher, Status status, OrchestratorSpec spec, LaunchPlan plan,
                                 List<LaunchedShard> shards, Instant updated, Optional<String> error,
                                 List<ShardData> data, Optional<SupervisionRecord> supervision) {
    public OrchestratorRecord {
        shards = List.copyOf(shards == null ? List.of() : shards);
        error = error == null ? Optional.empty() : error;
        data = List.copyOf(data == null ? List.of() : data);
        supervision = supervision == null ? Optional.empty() : supervision;
    }

    /** An entry without checkpoint data or supervision. */
    public OrchestratorRecord(String id, String launcher, Status status, OrchestratorSpec spec, LaunchPlan plan,
                              List<LaunchedShard> shards, Instant updated, Optional<String> error) {
        this(id, launcher, status, spec, plan, shards, updated, error, List.of(), Optional.empty());
    }

    /** An entry with checkpoint data, without supervision. */
    public OrchestratorRecord(String id, String launcher, Status status, OrchestratorSpec spec, LaunchPlan plan,
                              List<LaunchedShard> shards, Instant updated, Optional<String> error,
                              List<ShardData> data) {
        this(id, launcher, status, spec, plan, shards, updated, error, data, Optional.empty());
    }

    /** An entry with supervision, without checkpoint data. */
    public OrchestratorRecord(String id, String launcher, Status status, OrchestratorSpec spec, LaunchPlan plan,
                              List<LaunchedShard> shards, Instant updated, Optional<String> error,
                              Optional<SupervisionRecord> supervision) {
        this(id, launcher, status, spec, plan, shards, updated, error, List.of(), supervision);
    }

    /** This entry with {@code next} as its shards' data records. */
    public OrchestratorRecord withData(List<ShardData> next) {
        return new OrchestratorRecord(id, launcher, status, spec, plan, shards, Instant.now(), error, next, supervision);
    }

    public OrchestratorRecord withSupervision(SupervisionRecord s) {
        return new OrchestratorRecord(id, launcher, status, spec, plan, shards, Instant.now(), error, data,
                Optional.of(s));
    }

    public OrchestratorRecord withStatus(Status s, Optional<String> err) {
        return new OrchestratorRecord(id, launcher, s, spec, plan, shards, Instant.now(), err, data, supervision);
    }

    public OrchestratorRecord withShard(LaunchedShard shard) {
        List<LaunchedShard> next = new ArrayList<>(shards);
        next.removeIf(x -> x.index() == shard.index());
        next.add(shard);
        next.sort(java.util.Comparator.comparingInt(LaunchedShard::index));
        return new OrchestratorRecord(id, launcher, status, spec, plan, next, Instant.now(), error, data, supervision);
    }

    public OrchestratorRecord withShards(List<LaunchedShard> all) {
        return new OrchestratorRecord(id, launcher, status, spec, plan, all, Instant.now(), error, data, supervision);
    }
}
