package io.smartsim.launch.slurm;

import io.smartsim.launch.InvalidSpecException;
import io.smartsim.launch.exec.Transports;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
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
    /** One word for an {@code #SBATCH} line: sbatch splits directives on white space and reads quotes itself. */
    private static final Pattern DIRECTIVE_VALUE = Pattern.compile("[^\\s'\"\\\\#]+");

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
        time = check("time", time);
        account = check("account", account);
        partition = check("partition", partition);
        qos = check("qos", qos);
        constraint = check("constraint", constraint);
        sbatchLines = List.copyOf(sbatchLines == null ? List.of() : sbatchLines);
        for (String line : sbatchLines) {
            if (!line.startsWith("-") || line.contains("\n") || line.contains("\r")) {
                throw new InvalidSpecException("launcherOptions.sbatch", "'" + line + "' is not one sbatch option; "
                        + "give each as its own line without '#SBATCH', for example --mem=4G");
            }
        }
    }

    private static Optional<String> check(String key, Optional<String> value) {
        Optional<String> v = value == null ? Optional.empty() : value;
        v.ifPresent(s -> {
            if (!DIRECTIVE_VALUE.matcher(s).matches()) {
                throw new InvalidSpecException("launcherOptions." + key, "'" + s + "' cannot be an #SBATCH value: "
                        + "it must be one word without spaces, quotes, '\\' or '#'");
            }
        });
        return v;
    }

    /**
     * Reads and checks launcher options; unknown keys and batch settings without {@code batch=true} fail. The
     * transport's keys ({@code remote} and its SSH settings, see {@link Transports}) are checked there and belong to
     * no launcher: whichever transport they name, these options mean the same.
     */
    public static SlurmOptions parse(Map<String, String> options) {
        TreeSet<String> unknown = new TreeSet<>(options.keySet());
        unknown.removeAll(KEYS);
        Set<String> transport = Transports.optionKeys();
        unknown.removeAll(transport);
        if (!unknown.isEmpty()) {
            TreeSet<String> known = new TreeSet<>(KEYS);
            known.addAll(transport);
            throw new InvalidSpecException("launcherOptions", "the slurm launcher does not know " + unknown
                    + "; it takes " + known);
        }
        Transports.check(options, "slurm");
        String b = options.getOrDefault("batch", "false");
        if (!b.equals("true") && !b.equals("false")) {
            throw new InvalidSpecException("launcherOptions.batch", "'" + b + "' is not true or false");
        }
        boolean batch = Boolean.parseBoolean(b);
        if (!batch) {
            TreeSet<String> stray = new TreeSet<>(options.keySet());
            stray.retainAll(BATCH_ONLY);
            if (!stray.isEmpty()) {
                throw new InvalidSpecException("launcherOptions", stray + " only apply to a batch job; add batch=true"
                        + " or remove them (inside an allocation its own settings apply)");
            }
        }
        List<String> lines = new ArrayList<>();
        String extra = options.get("sbatch");
        if (extra != null) {
            for (String l : extra.split("\n")) {
                if (!l.isBlank()) {
                    lines.add(l.strip());
                }
            }
        }
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
