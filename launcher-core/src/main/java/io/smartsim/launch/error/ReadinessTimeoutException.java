package io.smartsim.launch.error;

/** The deadline passed before the orchestrator was ready; every shard of the launch has been stopped. */
public class ReadinessTimeoutException extends LaunchException {
    public ReadinessTimeoutException(String message) {
        super(message);
    }
}
