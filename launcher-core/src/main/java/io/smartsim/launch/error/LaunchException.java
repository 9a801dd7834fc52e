package io.smartsim.launch.error;

/**
 * Root of every failure the launcher reports. Subtypes say what the caller can do about it:
 * {@link InvalidSpecException} (fix the input), {@link ShardStartException} (a shard did not come up),
 * {@link ReadinessTimeoutException}, {@link ClusterFormingException}, {@link ManifestException},
 * {@link StateException} (the orchestrator is not in the state the request needs).
 */
public class LaunchException extends RuntimeException {
    public LaunchException(String message) {
        super(message);
    }

    public LaunchException(String message, Throwable cause) {
        super(message, cause);
    }
}
