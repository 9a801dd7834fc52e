package io.smartsim.launch.slurm;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spi.BatchOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The Slurm launcher's part of a spec, read from {@code launcherOptions}.
 *
 * @param alloc       the allocation to start steps in ({@code alloc}); empty means {@code SLURM_JOB_ID}
 * @param batch       submit the orchestrator as its own batch job ({@code batch=true})
 * @param time        {@code --time} of the batch job
 * @param account     {@code --account}
 * @param partition   {@code --partition}
 * @param qos         {@code --qos}
 * @param constraint  {@code --constraint}
 * @param sbatchLines extra directives for the batch script, one option each ({@code sbatch}, lines split on newlines)
 */
public record SlurmOptions(Optional<String> alloc, boolean batch, Optional<String> time, Optional<String> account,
                           Optional<String> partition, Optional<String> qos, Optional<String> constraint,
                           List<String> sbatchLines) {
    public static final Set<String> KEYS = Set.of("alloc", "batch", "time", "account", "partition", "qos",
            "constraint", "sbatch");
    private static final Set<String> BATCH_ONLY = Set.of("time", "account", "partition", "qos", "constraint", "sbatch");
    private static final Pattern JOB_ID = Pattern.compile("[0-9]+");

    public SlurmOptions {
        alloc = alloc == null ? Optional.empty() : alloc;
        alloc.ifPresent(a -> {
            if (!JOB_ID.matcher(a).matches()) {
                throw new InvalidSpecException("launcherOptions.alloc", "'" + a + "' is not a Slurm job id; give the "
                        + "number of a running allocation, for example 1234 (see squeue --me)");
            }
        });
        if (batch && alloc.isPresent()) {
            throw new InvalidSpecException("launcherOptions", "alloc=" + alloc.get() + " and batch=true together: "
                    + "either start in an existing allocation or submit a new batch job, not both");
        }
        time = BatchOptions.directiveValue("time", time, "an #SBATCH value");
        account = BatchOptions.directiveValue("account", account, "an #SBATCH value");
        partition = BatchOptions.directiveValue("partition", partition, "an #SBATCH value");
        qos = BatchOptions.directiveValue("qos", qos, "an #SBATCH value");
        constraint = BatchOptions.directiveValue("constraint", constraint, "an #SBATCH value");
        sbatchLines = BatchOptions.directiveLines("sbatch", sbatchLines, "sbatch", "#SBATCH", "--mem=4G");
    }

    /**
     * Reads and checks launcher options; unknown keys and batch settings without {@code batch=true} fail. The
     * transport's keys ({@code remote} and its SSH settings, see {@link Transports}) are checked there and belong to
     * no launcher: whichever transport they name, these options mean the same.
     */
    public static SlurmOptions parse(Map<String, String> options) {
        BatchOptions.knownKeys(options, KEYS, "slurm");
        boolean batch = BatchOptions.batchFlag(options, BATCH_ONLY, "an allocation");
        List<String> lines = BatchOptions.lines(Optional.ofNullable(options.get("sbatch")));
        return new SlurmOptions(Optional.ofNullable(options.get("alloc")), batch, opt(options, "time"),
                opt(options, "account"), opt(options, "partition"), opt(options, "qos"), opt(options, "constraint"),
                lines);
    }

    private static Optional<String> opt(Map<String, String> options, String key) {
        return Optional.ofNullable(options.get(key));
    }

    /** The {@code #SBATCH} lines these options add, in a fixed order. */
    public List<String> directives() {
        List<String> out = new ArrayList<>();
        time.ifPresent(v -> out.add("--time=" + v));
        account.ifPresent(v -> out.add("--account=" + v));
        partition.ifPresent(v -> out.add("--partition=" + v));
        qos.ifPresent(v -> out.add("--qos=" + v));
        constraint.ifPresent(v -> out.add("--constraint=" + v));
        out.addAll(sbatchLines);
        return out;
    }
}
