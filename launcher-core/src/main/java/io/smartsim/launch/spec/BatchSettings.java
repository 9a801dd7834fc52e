package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Submit a model as its own batch job rather than as a step of the current allocation. Each launcher renders
 * these into its directives ({@code #SBATCH}, {@code #PBS}); a launcher without a batch system refuses them.
 *
 * @param time      walltime
 * @param account   account / project to charge
 * @param partition partition (Slurm) or queue (PBS)
 * @param qos       quality of service
 * @param options   extra directives, verbatim, for example {@code --mem=4G}
 */
public record BatchSettings(Optional<Duration> time, Optional<String> account, Optional<String> partition,
                           Optional<String> qos, List<String> options) {
    public BatchSettings {
        time = time == null ? Optional.empty() : time;
        account = account == null ? Optional.empty() : account;
        partition = partition == null ? Optional.empty() : partition;
        qos = qos == null ? Optional.empty() : qos;
        options = List.copyOf(options == null ? List.of() : options);
        time.ifPresent(t -> {
            if (t.isNegative() || t.isZero()) {
                throw new InvalidSpecException("run.batch.time", t + " is not a walltime; use a positive duration, "
                        + "for example 01:00:00");
            }
        });
        for (String o : options) {
            if (o == null || o.isBlank() || o.contains("\n")) {
                throw new InvalidSpecException("run.batch.options", "'" + o + "' is not one batch option; give each "
                        + "as its own single line, for example --mem=4G");
            }
        }
    }

    /** No walltime, account, partition or options: the scheduler's defaults. */
    public static BatchSettings defaults() {
        return new BatchSettings(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), List.of());
    }

    /** "HH:MM:SS" (hours may exceed 24), as Slurm and PBS both read it. */
    public static String clock(Duration d) {
        long s = d.toSeconds();
        return String.format(java.util.Locale.ROOT, "%02d:%02d:%02d", s / 3600, (s % 3600) / 60, s % 60);
    }

    /** Parses "HH:MM:SS", "MM:SS" or a number of seconds; the error names the field and the accepted forms. */
    public static Duration parseClock(String field, String text) {
        String t = text == null ? "" : text.trim();
        try {
            String[] p = t.split(":", -1);
            long s = switch (p.length) {
                case 1 -> Long.parseLong(p[0]);
                case 2 -> Long.parseLong(p[0]) * 60 + Long.parseLong(p[1]);
                case 3 -> Long.parseLong(p[0]) * 3600 + Long.parseLong(p[1]) * 60 + Long.parseLong(p[2]);
                default -> -1;
            };
            if (s > 0) {
                return Duration.ofSeconds(s);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new InvalidSpecException(field, "'" + text + "' is not a walltime; use HH:MM:SS (for example 01:30:00), "
                + "MM:SS or seconds");
    }
}
