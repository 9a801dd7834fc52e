package io.smartsim.launch;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.experiment.WarmUp;
import io.smartsim.launch.plan.AiInstall;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.AiRuntime;
import io.smartsim.launch.util.Executables;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What this machine offers a launch, asked without an experiment: its model-serving runtime, where an executable is,
 * and a warm-up of what a first start loads (for short-lived processes such as the CLI and its doctor).
 */
public final class ThisMachine {
    private ThisMachine() {
    }

    /**
     * Loads and links ahead what a first start in this JVM uses, for a short-lived process such as the CLI (on a second
     * thread while it reads its command line; in the training run of its class-data archive): {@code spec} planned as
     * its launcher places it, under a directory that is never written, and what a start records of it made into JSON.
     * With {@code scratch} (an empty directory of the caller's) it also writes a manifest there and reads it back.
     * Starts no process and writes nothing else; fails as planning {@code spec} fails.
     */
    public static void warmUp(OrchestratorSpec spec, Optional<Path> scratch) {
        WarmUp.run(spec, scratch);
    }

    /**
     * As {@link #warmUp}, the planning only: no JSON. What the CLI's {@code db start} loads ahead, now that the local
     * launcher's start records the orchestrator once its first shard runs: JSON warmed beside the command line's parsing
     * only took CPU from it on a machine of two cores.
     */
    public static void warmUpPlanning(OrchestratorSpec spec) {
        WarmUp.plan(spec);
    }

    /**
     * This machine's model-serving runtime, as {@code --ai} finds it ({@code -Dsmartsim.ai.path}, then
     * {@code SMARTSIM_AI_PATH}, then the AI directory beside the launcher's jar): the java and class path its model
     * servers run with, where it was found, and its backends. Fails with {@link InvalidSpecException} saying why there is
     * none and how to get it.
     */
    public static AiRuntime aiRuntime() {
        AiInstall install = AiInstall.locate();
        return new AiRuntime(install.java(), install.classPath(), install.from(), install.backends());
    }

    /**
     * Where the executable {@code name} is on {@code pathVar} (a PATH value; a name with a '/' is checked as given), as
     * found, symlinks not resolved, as a launch finds a server binary; empty when it is not there.
     */
    public static Optional<Path> executableOnPath(String name, String pathVar) {
        return Executables.onPath(name, pathVar);
    }
}
