package io.smartsim.launch.spi;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.exec.Transports;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Checks every batch-scheduler launcher makes of its launcher options, with one wording: known keys (the
 * transport's keys belong to {@link Transports} and are checked there), the {@code batch} flag and the keys that
 * only a batch job takes, directive values and extra directive lines. Messages name the option and the fix.
 */
public final class BatchOptions {
    /** One word a directive line can carry as is: no spaces, quotes, backslash or '#'. */
    private static final Pattern DIRECTIVE_VALUE = Pattern.compile("[^\\s'\"\\\\#]+");

    private BatchOptions() {
    }

    /** Fails naming the keys {@code launcher} does not know, and lets the transport check its own. */
    public static void knownKeys(Map<String, String> options, Set<String> keys, String launcher) {
        TreeSet<String> unknown = new TreeSet<>(options.keySet());
        unknown.removeAll(keys);
        Set<String> transport = Transports.optionKeys();
        unknown.removeAll(transport);
        if (!unknown.isEmpty()) {
            TreeSet<String> known = new TreeSet<>(keys);
            known.addAll(transport);
            throw new InvalidSpecException("launcherOptions", "the " + launcher + " launcher does not know " + unknown
                    + "; it takes " + known);
        }
        Transports.check(options, launcher);
    }

    /**
     * The {@code batch} flag ("true" or "false", default false); without it, any of {@code batchOnly} fails, saying
     * that {@code inside} (for example "a job") has its own settings.
     */
    public static boolean batchFlag(Map<String, String> options, Set<String> batchOnly, String inside) {
        String b = options.getOrDefault("batch", "false");
        if (!b.equals("true") && !b.equals("false")) {
            throw new InvalidSpecException("launcherOptions.batch", "'" + b + "' is not true or false");
        }
        boolean batch = Boolean.parseBoolean(b);
        if (!batch) {
            TreeSet<String> stray = new TreeSet<>(options.keySet());
            stray.retainAll(batchOnly);
            if (!stray.isEmpty()) {
                throw new InvalidSpecException("launcherOptions", stray + " only apply to a batch job; add batch=true"
                        + " or remove them (inside " + inside + " its own settings apply)");
            }
        }
        return batch;
    }

    /** {@code value}, if it can stand in a directive as one word; {@code directive} reads like "a #PBS value". */
    public static Optional<String> directiveValue(String key, Optional<String> value, String directive) {
        Optional<String> v = value == null ? Optional.empty() : value;
        v.ifPresent(s -> {
            if (!DIRECTIVE_VALUE.matcher(s).matches()) {
                throw new InvalidSpecException("launcherOptions." + key, "'" + s + "' cannot be " + directive + ": "
                        + "it must be one word without spaces, quotes, '\\' or '#'");
            }
        });
        return v;
    }

    /**
     * Extra directive lines, each one option starting with '-' (for example {@code example}), without the
     * {@code prefix} ("#SBATCH") the script adds; {@code tool} ("sbatch") names what takes them.
     */
    public static List<String> directiveLines(String key, List<String> lines, String tool, String prefix,
                                              String example) {
        List<String> out = List.copyOf(lines == null ? List.of() : lines);
        for (String line : out) {
            if (!line.startsWith("-") || line.contains("\n") || line.contains("\r")) {
                throw new InvalidSpecException("launcherOptions." + key, "'" + line + "' is not one " + tool
                        + " option; give each as its own line without '" + prefix + "', for example " + example);
            }
        }
        return out;
    }

    /** The non-blank lines of a newline-joined option value (repeated CLI flags arrive that way). */
    public static List<String> lines(Optional<String> joined) {
        List<String> out = new ArrayList<>();
        joined.ifPresent(j -> {
            for (String l : j.split("\n")) {
                if (!l.isBlank()) {
                    out.add(l.strip());
                }
            }
        });
        return out;
    }
}
