package io.smartsim.launch;

import io.smartsim.launch.cluster.HealthReport;
import io.smartsim.launch.manifest.Status;
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
 * @param state    the judgement: RUNNING (healthy), UNHEALTHY (processes up, database not healthy),
 *                 DEGRADED (some processes gone), STALE (recorded as running, every process gone),
 *                 STOPPED, FAILED or STARTING as recorded
 * @param shards   recorded shards
 * @param liveness per shard index, whether its process exists
 * @param health   the live health check, when any process is up
 * @param error    the recorded failure, for FAILED
 */
public record OrchestratorStatus(String id, String launcher, Status recorded, String state, List<LaunchedShard> shards,
                                 Map<Integer, Liveness> liveness, Optional<HealthReport> health,
                                 Optional<String> error) {
    public OrchestratorStatus {
        shards = List.copyOf(shards);
        liveness = Map.copyOf(liveness);
    }

    public boolean healthy() {
        return "RUNNING".equals(state);
    }
}
