package io.smartsim.launch.status;

import io.smartsim.launch.spi.Launcher.Liveness;

import java.util.List;
import java.util.Optional;

/**
 * Under {@code --ai} with the Redis module: one host's model server as its shards record it, and whether it runs, as
 * {@code Experiment.modelServers} finds it for {@code db status}.
 *
 * @param socket  its Unix socket, which its shards share
 * @param pid     its process id, as the shard that names it alive (else the first of its shards) records it
 * @param process {@code ALIVE} or {@code GONE} as the orchestrator's launcher answers; {@code UNKNOWN} when the
 *                launcher cannot be found or asked, or answered for none of its shards
 * @param shards  the indexes of the shards that record this socket
 */
public record ModelServerStatus(String socket, Optional<Long> pid, Liveness process, List<Integer> shards) {
    public ModelServerStatus {
        pid = pid == null ? Optional.empty() : pid;
        shards = List.copyOf(shards);
    }
}
