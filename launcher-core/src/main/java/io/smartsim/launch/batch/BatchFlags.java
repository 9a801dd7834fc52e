package io.smartsim.launch.batch;

import io.smartsim.launch.spi.LauncherFlags;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The flags every batch-scheduler launcher takes, with the same launcher-option keys: an existing allocation, or a
 * batch job of its own with its walltime and account. Slurm and PBS both list this class as their
 * {@link LauncherFlags}; the CLI adds it once. (picocli is an optional dependency of core: only the CLI loads this.)
 */
public final class BatchFlags implements LauncherFlags {
    private static final Map<String, String> FLAGS = Map.of("alloc", "--alloc", "batch", "--batch", "time", "--time",
            "account", "--account");

    @Option(names = "--alloc", paramLabel = "JOBID", order = 40,
            description = "Start inside this existing allocation (default: the one in SLURM_JOB_ID / PBS_JOBID, if any).")
    String alloc;

    @Option(names = "--batch", order = 41, description = "Submit the orchestrator as its own batch job.")
    boolean batch;

    @Option(names = "--time", paramLabel = "HH:MM:SS", order = 42, description = "Batch job walltime.")
    String time;

    @Option(names = "--account", paramLabel = "NAME", order = 43, description = "Batch job account / project.")
    String account;

    @Override
    public Map<String, String> launcherOptions() {
        Map<String, String> out = new LinkedHashMap<>();
        if (alloc != null) {
            out.put("alloc", alloc);
        }
        if (batch) {
            out.put("batch", "true");
        }
        if (time != null) {
            out.put("time", time);
        }
        if (account != null) {
            out.put("account", account);
        }
        return out;
    }

    @Override
    public Map<String, String> flags() {
        return FLAGS;
    }

    @Override
    public Set<String> batchKeys() {
        return Set.of("batch", "time", "account");
    }
}
