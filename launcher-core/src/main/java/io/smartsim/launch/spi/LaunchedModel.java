package io.smartsim.launch.spi;

import java.time.Instant;
import java.util.LinkedHashMap;
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
 * @param handle   launcher-specific ids, for poll and stop; {@link #NODE} where it runs, once known
 */
public record LaunchedModel(String name, String launcher, String id, Optional<Long> pid, Instant started,
                            Map<String, String> handle) {
    /**
     * The handle's key of the node (or nodes) the model runs on, as the shards' handles name theirs: the local
     * launcher's short host name, an in-job model's node(s) at start, a batch job's or step's once the scheduler
     * reports them ({@link ModelState#node}). Several nodes as the scheduler writes them: Slurm's compressed form
     * ({@code n[1-3]}), PBS comma-separated ({@code n1,n2}). Absent while not known (a job still queued).
     */
    public static final String NODE = "node";

    public LaunchedModel {
        pid = pid == null ? Optional.empty() : pid;
        handle = Map.copyOf(handle == null ? Map.of() : handle);
    }

    /** The same model with {@link #NODE} set to {@code node} in its handle. */
    public LaunchedModel withNode(String node) {
        Map<String, String> h = new LinkedHashMap<>(handle);
        h.put(NODE, node);
        return new LaunchedModel(name, launcher, id, pid, started, h);
    }
}
