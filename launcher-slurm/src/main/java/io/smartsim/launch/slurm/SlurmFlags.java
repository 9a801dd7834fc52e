package io.smartsim.launch.slurm;

import io.smartsim.launch.spi.LauncherFlags;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Slurm launcher's own flags: its batch job's directives. They set the keys {@link SlurmOptions} reads and checks
 * when the spec is planned; the flags it shares with PBS are {@link io.smartsim.launch.batch.BatchFlags}.
 */
public final class SlurmFlags implements LauncherFlags {
    private static final Map<String, String> FLAGS = Map.of("partition", "--partition", "qos", "--qos", "constraint",
            "--constraint", "sbatch", "--sbatch");

    @Option(names = "--partition", paramLabel = "NAME", order = 44, description = "Slurm partition of the batch job.")
    String partition;

    @Option(names = "--qos", paramLabel = "NAME", order = 45, description = "Slurm QOS of the batch job.")
    String qos;

    @Option(names = "--constraint", paramLabel = "FEATURES", order = 46, description = "Slurm node constraint.")
    String constraint;

    @Option(names = "--sbatch", paramLabel = "OPTION", order = 47,
            description = "An extra #SBATCH option, repeatable, for example --sbatch=--mem=4G.")
    List<String> sbatch = new ArrayList<>();

    @Override
    public Map<String, String> launcherOptions() {
        Map<String, String> out = new LinkedHashMap<>();
        if (partition != null) {
            out.put("partition", partition);
        }
        if (qos != null) {
            out.put("qos", qos);
        }
        if (constraint != null) {
            out.put("constraint", constraint);
        }
        if (!sbatch.isEmpty()) {
            out.put("sbatch", String.join("\n", sbatch)); // one option per line, as SlurmOptions splits them
        }
        return out;
    }

    @Override
    public Map<String, String> flags() {
        return FLAGS;
    }

    @Override
    public Set<String> batchKeys() {
        return FLAGS.keySet();
    }
}
