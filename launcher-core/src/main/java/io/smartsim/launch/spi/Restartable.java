package io.smartsim.launch.spi;

import io.smartsim.launch.plan.LaunchPlan;

import java.util.List;

/**
 * A launcher that can start one shard again after its process died: what {@code --restart on-failure} needs. Core
 * checks for this type when it plans ({@link io.smartsim.launch.supervise.Supervision#refuseUnsupported}) and refuses
 * the option by name for a launcher that is not one; the watchdog only restarts through it.
 */
public interface Restartable extends Launcher {
    /**
     * Starts shard {@code dead.index()} of {@code plan} again: on the same node and port, with its config and cluster
     * state file as they are (nothing is rewritten, so a clustered shard rejoins with its node id), and its lease
     * guard under {@code --lease}. Reports the new process to {@link LaunchContext#spawned} as soon as it exists and
     * returns once it answers {@code PING}; on failure stops what it started and throws, naming the shard and its
     * log's tail.
     */
    LaunchedShard restart(LaunchPlan plan, LaunchedShard dead, LaunchContext context);

    /**
     * Under {@code --ai}: starts again each model server of the plan that is gone (the
     * shards' modules reconnect to its socket by themselves and push their models again), and returns the shards whose
     * records changed (their handles naming the new process), to be recorded. The watchdog calls it at every check
     * under {@code --restart on-failure}; throws naming the model server and its log's tail when one cannot start. The
     * default revives none.
     */
    default List<LaunchedShard> reviveModelServers(LaunchPlan plan, List<LaunchedShard> shards, LaunchContext context) {
        return List.of();
    }
}
