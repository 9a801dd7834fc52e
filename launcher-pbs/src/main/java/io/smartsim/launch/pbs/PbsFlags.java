package io.smartsim.launch.pbs;

import io.smartsim.launch.spi.LauncherFlags;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The PBS launcher's own flags: its batch job's queue and directives, the PBS flavour and the run command. They set
 * the keys {@link PbsOptions} reads and checks when the spec is planned (a bad value fails there, naming the flag);
 * the flags it shares with Slurm are {@link io.smartsim.launch.batch.BatchFlags}.
 */
public final class PbsFlags implements LauncherFlags {
    private static final Map<String, String> FLAGS = Map.of("queue", "--queue", "dialect", "--pbs-dialect",
            "runCommand", "--run-command", "pbs", "--pbs");

    @Option(names = "--queue", paramLabel = "NAME", order = 48, description = "PBS queue of the batch job (qsub -q).")
    String queue;

    @Option(names = "--pbs-dialect", paramLabel = "pro|torque", order = 48,
            description = "PBS flavour: pro (PBS Professional, OpenPBS) or torque (default: detected from qstat --version).")
    String dialect;

    @Option(names = "--run-command", paramLabel = "auto|mpiexec|pbsdsh|ssh", order = 48,
            description = "What starts each shard on its PBS node (default auto: pbsdsh, then mpiexec, then ssh).")
    String runCommand;

    @Option(names = "--pbs", paramLabel = "OPTION", order = 48,
            description = "An extra #PBS option, repeatable, for example --pbs='-l mem=4gb'.")
    List<String> pbs = new ArrayList<>();

    @Override
    public Map<String, String> launcherOptions() {
        Map<String, String> out = new LinkedHashMap<>();
        if (queue != null) {
            out.put("queue", queue);
        }
        if (dialect != null) {
            out.put("dialect", dialect);
        }
        if (runCommand != null) {
            out.put("runCommand", runCommand);
        }
        if (!pbs.isEmpty()) {
            out.put("pbs", String.join("\n", pbs)); // one option per line, as PbsOptions splits them
        }
        return out;
    }

    @Override
    public Map<String, String> flags() {
        return FLAGS;
    }

    @Override
    public Set<String> batchKeys() {
        return Set.of("queue", "pbs");
    }
}
