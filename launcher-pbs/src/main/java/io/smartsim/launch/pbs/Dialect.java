package io.smartsim.launch.pbs;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The two PBS families the launcher speaks: PBS Professional / OpenPBS ({@code -l select=...}, {@code qstat -F json})
 * and Torque ({@code -l nodes=N:ppn=K}, {@code qstat -f} text only).
 */
public enum Dialect {
    PRO("pro"), TORQUE("torque");

    /** {@code pbs_version = 23.06.06}, {@code pbs_version = PBSPro_11.1.0.111761}. */
    private static final Pattern PRO_VERSION = Pattern.compile("(?m)^\\s*pbs_version\\s*=\\s*\\S+");
    /** {@code Version: 6.1.3} (Torque 4 and later), {@code version: 2.4.16} (Torque 2). */
    private static final Pattern TORQUE_VERSION = Pattern.compile("(?mi)^\\s*version:\\s*\\d");

    private final String option;

    Dialect(String option) {
        this.option = option;
    }

    /** The value users give as {@code dialect} / {@code --pbs-dialect}. */
    public String option() {
        return option;
    }

    public static Optional<Dialect> fromOption(String value) {
        for (Dialect d : values()) {
            if (d.option.equals(value)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /**
     * The dialect {@code qstat --version} reveals (both streams, as printed); empty when it names neither, as
     * Slurm's Torque-style wrapper does ("Unknown option: version").
     */
    public static Optional<Dialect> fromVersion(String output) {
        if (PRO_VERSION.matcher(output).find()) {
            return Optional.of(PRO);
        }
        if (TORQUE_VERSION.matcher(output).find()) {
            return Optional.of(TORQUE);
        }
        return Optional.empty();
    }
}
