package io.smartsim.launch.exec;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A transport: where scheduler commands run. {@link LocalCommandRunner} runs them on this machine; an SSH
 * runner runs them on a login node. Launchers are handed one and never know which.
 */
public interface CommandRunner {
    /**
     * Runs {@code argv} (never a shell string) with extra environment, waiting at most {@code timeout}.
     * A non-zero exit is a result, not an exception; an exception means the command could not be run at all
     * (binary missing, transport down).
     */
    CommandResult run(List<String> argv, Map<String, String> env, Duration timeout);

    default CommandResult run(List<String> argv, Duration timeout) {
        return run(argv, Map.of(), timeout);
    }

    /** Where commands run, for messages: "localhost" or "user@login-node". */
    String where();
}
