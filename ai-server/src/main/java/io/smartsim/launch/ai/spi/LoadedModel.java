package io.smartsim.launch.ai.spi;

import io.smartsim.launch.ai.AiException;
import io.smartsim.launch.ai.Tensor;

import java.time.Duration;
import java.util.List;

/** A model ready to run. {@link #run} may be called from many threads at once. */
public interface LoadedModel extends AutoCloseable {

    /**
     * How many inputs a run takes; AI.MODELEXECUTE must name exactly this many. -1 when the runtime tells only by
     * running (TorchScript): a wrong count is then refused by the run.
     */
    int inputCount();

    /** How many outputs a run makes; -1 when known only after a run, which must then make as many as were named. */
    int outputCount();

    /**
     * Runs the model once. Inputs are in the model's input order. Throws {@link ModelTimeoutException} when the run
     * was stopped at {@code timeout}, and {@link AiException} (with the reply text) when the runtime refuses the
     * inputs (wrong type or shape) or fails.
     */
    List<Tensor> run(List<Tensor> inputs, Duration timeout) throws AiException, ModelTimeoutException;

    /** Frees the runtime's resources; runs still in progress may finish first. */
    @Override
    void close();
}
