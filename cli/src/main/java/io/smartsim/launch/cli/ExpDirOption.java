package io.smartsim.launch.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --exp-dir}: where the manifest and the shards' files live. */
public final class ExpDirOption {
    @Option(names = "--exp-dir", paramLabel = "DIR", defaultValue = "./exp", order = 0,
            description = "Experiment directory, holding manifest.json and one directory per orchestrator "
                    + "(default: ${DEFAULT-VALUE}).")
    Path expDir;

    Path dir() {
        return expDir.toAbsolutePath().normalize();
    }
}
