package io.smartsim.launch.manifest;

import io.smartsim.launch.OrchestratorSpec;
import io.smartsim.launch.plan.LaunchPlan;
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
 * @param supervision the events log, lease file and watchdog process, for orchestrators with {@code --restart}
 *                    or {@code --lease} (and the events log of every other one)
 */
public record OrchestratorRecord(String id, String launcher, Status status, OrchestratorSpec spec, LaunchPlan plan,
                                 List<LaunchedShard> shards, Instant updated, Optional<String> error,
                                 Optional<SupervisionRecord> supervision) {
    public OrchestratorRecord {
        shards = List.copyOf(shards == null ? List.of() : shards);
        error = error == null ? Optional.empty() : error;
        supervision = supervision == null ? Optional.empty() : supervision;
    }

    /** A record without supervision. */
    public OrchestratorRecord(String id, String launcher, Status status, OrchestratorSpec spec, LaunchPlan plan,
                              List<LaunchedShard> shards, Instant updated, Optional<String> error) {
        this(id, launcher, status, spec, plan, shards, updated, error, Optional.empty());
    }

    public OrchestratorRecord withSupervision(SupervisionRecord s) {
        return new OrchestratorRecord(id, launcher, status, spec, plan, shards, Instant.now(), error, Optional.of(s));
    }

    public OrchestratorRecord withStatus(Status s, Optional<String> err) {
        return new OrchestratorRecord(id, launcher, s, spec, plan, shards, Instant.now(), err, supervision);
    }

    public OrchestratorRecord withShard(LaunchedShard shard) {
        List<LaunchedShard> next = new ArrayList<>(shards);
        next.removeIf(x -> x.index() == shard.index());
        next.add(shard);
        next.sort(java.util.Comparator.comparingInt(LaunchedShard::index));
        return new OrchestratorRecord(id, launcher, status, spec, plan, next, Instant.now(), error, supervision);
    }

    public OrchestratorRecord withShards(List<LaunchedShard> all) {
        return new OrchestratorRecord(id, launcher, status, spec, plan, all, Instant.now(), error, supervision);
    }
}
