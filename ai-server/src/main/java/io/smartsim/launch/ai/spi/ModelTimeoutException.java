package io.smartsim.launch.ai.spi;

/** A model run was stopped because it ran past its TIMEOUT; the module replies {@code +TIMEDOUT} as RedisAI does. */
public final class ModelTimeoutException extends Exception {
    public ModelTimeoutException(String message) {
        super(message);
    }
}
