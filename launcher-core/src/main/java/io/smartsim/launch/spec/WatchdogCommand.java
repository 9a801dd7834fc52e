package io.smartsim.launch.spec;

import java.nio.file.Path;
import java.util.List;

/**
 * The command line of a watchdog process for orchestrator {@code id} of {@code expDir}: a JVM that runs
 * {@code Experiment.watch} (the CLI's {@code db watch}), given to {@code Experiment.startDetached}. The caller knows
 * its own class path and main class; core does not.
 */
@FunctionalInterface
public interface WatchdogCommand {
    /** What the watchdog's JVM runs with: small heap, one compiler thread, serial GC (it idles 99.9% of the time). */
    List<String> JVM_OPTIONS = List.of("-Xmx48m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-XX:CICompilerCount=1", "-Xshare:auto");

    List<String> argv(Path expDir, String id);
}
