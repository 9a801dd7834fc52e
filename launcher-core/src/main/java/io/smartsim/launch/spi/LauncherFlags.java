package io.smartsim.launch.spi;

import java.util.Map;
import java.util.Set;

/**
 * Command-line flags a launcher module contributes: a picocli mixin it owns (a class with {@code @Option} fields and a
 * public no-argument constructor), registered in {@code META-INF/services/io.smartsim.launch.spi.LauncherFlags}. The
 * CLI loads every one, adds each class once (two launchers may list the same class: Slurm and PBS both list
 * {@link io.smartsim.launch.batch.BatchFlags}) to the commands that take launcher options, and after parsing merges
 * what each {@link #launcherOptions()} returns into the spec's launcher options. Adding a launcher needs no edit in the
 * CLI. The flags only carry values: the launcher checks them, in its typed options record, when it plans.
 */
public interface LauncherFlags {
    /** The launcher options set by the flags given on the command line (only those given), by key. */
    Map<String, String> launcherOptions();

    /** The flag that sets each launcher-option key, so an error on {@code launcherOptions.KEY} can name the flag. */
    Map<String, String> flags();

    /**
     * The keys among {@link #flags()} that describe a batch job of its own: {@code db start --resume} given an
     * allocation ({@code --alloc}) drops them from the recorded options. None by default.
     */
    default Set<String> batchKeys() {
        return Set.of();
    }
}
