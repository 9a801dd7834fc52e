package io.smartsim.launch.status;

import io.smartsim.launch.spi.LaunchedShard;

import java.util.List;
import java.util.Optional;

/**
 * What {@code Experiment#cleanup} did to one orchestrator left behind by a launch that did not finish (the launching
 * process was killed mid-start) or whose processes have partly or wholly gone.
 *
 * @param id       orchestrator id
 * @param recorded the status the manifest held before the cleanup
 * @param found    why it was cleaned up: STARTING (an interrupted start), STALE or DEGRADED (recorded RUNNING,
 *                 some or every process gone)
 * @param shards   the shards the manifest recorded
 * @param stopped  those whose process existed and was stopped
 * @param left     those whose process still exists after the cleanup; empty on success
 * @param now      the status recorded now: FAILED after an interrupted start, STOPPED otherwise, or unchanged when
 *                 a process is left (a later cleanup tries again)
 */
public record OrchestratorCleanup(String id, Status recorded, String found, List<LaunchedShard> shards,
                                  List<LaunchedShard> stopped, List<LaunchedShard> left, Status now) {
    /** The error a cleaned-up interrupted start is recorded with. */
    public static final String INTERRUPTED_START = "cleaned up after an interrupted start";

    public OrchestratorCleanup {
        shards = List.copyOf(shards);
        stopped = List.copyOf(stopped);
        left = List.copyOf(left);
    }

    public boolean clean() {
        return left.isEmpty();
    }

    /** The recorded error after the cleanup, for an interrupted start. */
    public Optional<String> error() {
        return now == Status.FAILED ? Optional.of(INTERRUPTED_START) : Optional.empty();
    }
}
