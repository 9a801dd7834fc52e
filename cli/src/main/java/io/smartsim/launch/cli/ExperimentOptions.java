package io.smartsim.launch.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --experiment}: the name a new manifest records; by default the experiment directory's name. */
public final class ExperimentOptions {
    static final String FALLBACK = "experiment";

    @Option(names = "--experiment", paramLabel = "NAME", order = 2,
            description = "Experiment name (default: the experiment directory's name, as letters, digits, '.', "
                    + "'_' and '-').")
    String experiment;

    String name(Path expDir) {
        return experiment != null ? experiment : fromDir(expDir);
    }

    /** "my exp" -> "my-exp", ".hidden" -> "hidden", "/" -> "experiment". */
    static String fromDir(Path dir) {
        Path file = dir.toAbsolutePath().normalize().getFileName();
        String raw = file == null ? "" : file.toString();
        String s = raw.replaceAll("[^A-Za-z0-9._-]+", "-").replaceFirst("^[^A-Za-z0-9]+", "");
        if (s.length() > 128) {
            s = s.substring(0, 128);
        }
        return s.isEmpty() ? FALLBACK : s;
    }
}
