package io.smartsim.launch.spi;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * Where a started model runs.
 *
 * @param name     model name
 * @param launcher launcher name
 * @param id       what the scheduler calls it: a pid, a job id, {@code jobid.stepid}
 * @param pid      process id on this machine, where there is one
 * @param started  when it was started
 * @param handle   launcher-specific ids, for poll and stop
 */
public record LaunchedModel(String name, String launcher, String id, Optional<Long> pid, Instant started,
                            Map<String, String> handle) {
    public LaunchedModel {
        pid = pid == null ? Optional.empty() : pid;
        handle = Map.copyOf(handle == null ? Map.of() : handle);
    }
}
