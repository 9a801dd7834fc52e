package io.smartsim.launch.error;

/** The request does not fit the orchestrator's state: already running, not running, unknown id. */
public class StateException extends LaunchException {
    public StateException(String message) {
        super(message);
    }
}
