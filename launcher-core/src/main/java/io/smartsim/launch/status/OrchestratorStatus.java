package io.smartsim.launch.status;

import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code db status} reports for one orchestrator: the manifest's record checked against reality.
 *
 * @param id       orchestrator id
 * @param launcher launcher name
 * @param recorded the status the manifest holds
 * @param state    the judgement: RUNNING (healthy: every planned process up and answering, every slot served,
 *                 cluster ok), UNHEALTHY (processes up, database not healthy: a hung shard, cluster not ok),
 *                 DEGRADED (some processes gone: see {@link #serving()} for whether a replica took over their
 *                 slots), STALE (recorded as running, every process gone), STOPPED, FAILED or STARTING as recorded
 * @param shards   recorded shards
 * @param liveness per shard index, whether its process exists
 * @param health   the live health check, when any process is up
 * @param error    the recorded failure, for FAILED
 * @param plannedRoles per shard index, its role in the plan: "master" or "replica of K"
 */
public record OrchestratorStatus(String id, String launcher, Status recorded, String state, List<LaunchedShard> shards,
                                 Map<Integer, Liveness> liveness, Optional<HealthReport> health,
                                 Optional<String> error, Map<Integer, String> plannedRoles) {
    public OrchestratorStatus {
        shards = List.copyOf(shards);
        liveness = Map.copyOf(liveness);
        plannedRoles = Map.copyOf(plannedRoles == null ? Map.of() : plannedRoles);
    }

    public OrchestratorStatus(String id, String launcher, Status recorded, String state, List<LaunchedShard> shards,
                              Map<Integer, Liveness> liveness, Optional<HealthReport> health, Optional<String> error) {
        this(id, launcher, recorded, state, shards, liveness, health, error, Map.of());
    }

    /**
     * Clients reach every slot now ({@link HealthReport#serving()}): true for RUNNING, and for a DEGRADED cluster
     * whose lost masters' replicas have taken over.
     */
    public boolean serving() {
        return health.map(HealthReport::serving).orElse(false);
    }

    public boolean healthy() {
        return "RUNNING".equals(state);
    }
}
