package io.smartsim.launch.ai.spi;

import io.smartsim.launch.ai.AiException;
import io.smartsim.launch.ai.Tensor;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/** A compiled script (TorchScript source): named functions ready to run, from many threads at once. */
public interface LoadedScript extends AutoCloseable {

    /** The names of the script's top-level functions. */
    Set<String> functions();

    /**
     * Calls {@code function} with {@code args} in order, and returns what it returned: one tensor, or the tensors of
     * a tuple or list, in order. Throws {@link ModelTimeoutException} when the call was given up at {@code timeout},
     * and {@link AiException} with the reply text when the runtime refuses the arguments or fails.
     */
    List<Tensor> run(String function, List<ScriptArg> args, Duration timeout)
            throws AiException, ModelTimeoutException;

    /** Frees the runtime's resources; calls still in progress may finish first. */
    @Override
    void close();
}
