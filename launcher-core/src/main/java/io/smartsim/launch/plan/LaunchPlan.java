package io.smartsim.launch.plan;

import io.smartsim.launch.OrchestratorSpec;

import java.nio.file.Path;
import java.util.List;

/**
 * The immutable description of what will run for one orchestrator; computed by {@link Planner} from a spec
 * and the launcher's placement, printable without starting anything.
 *
 * @param experiment experiment name
 * @param expDir     absolute experiment directory
 * @param dir        this orchestrator's directory, {@code <expDir>/<id>}
 * @param spec       the validated spec it was made from
 * @param shards     one entry per shard, by index
 */
public record LaunchPlan(String experiment, Path expDir, Path dir, OrchestratorSpec spec, List<ShardPlan> shards) {
    public LaunchPlan {
        shards = List.copyOf(shards);
    }

    public String id() {
        return spec.id();
    }

    public boolean clustered() {
        return spec.clustered();
    }
}
