package io.smartsim.launch.exec;

import java.util.Map;

/**
 * Where a launcher gets the runner for a spec's launcher options or a shard's recorded handle: this machine, or the
 * login node that {@code remote} names. A launcher is handed one in its {@link io.smartsim.launch.spi.LauncherContext}
 * and never learns which transport it was; runners it returns are shared, callers do not close them.
 */
@FunctionalInterface
public interface TransportSource {
    /** The runner for these options (launcher options, or a recorded handle). */
    CommandRunner open(Map<String, String> options);

    /** A source that returns {@code runner} whatever the options say (tests; a launcher told where to run). */
    static TransportSource fixed(CommandRunner runner) {
        java.util.Objects.requireNonNull(runner, "runner");
        return options -> runner;
    }
}
