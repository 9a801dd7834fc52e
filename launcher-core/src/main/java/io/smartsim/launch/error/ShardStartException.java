package io.smartsim.launch.error;

/** A shard failed to start or died while starting; every shard of the launch has been stopped. */
public class ShardStartException extends LaunchException {
    public ShardStartException(String message) {
        super(message);
    }

    public ShardStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
