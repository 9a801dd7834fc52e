package io.smartsim.launch.ai.spi;

import io.smartsim.launch.ai.AiException;

/**
 * A model runtime the model server can host: ONNX Runtime, TorchScript, TensorFlow, ... Implementations live in their
 * own modules, register in {@code META-INF/services/io.smartsim.launch.ai.spi.AiBackend}, have a public no-argument
 * constructor that loads nothing native (native libraries load on the first {@link #load}), and are found by
 * {@link #name()} through {@link io.smartsim.launch.ai.Backends}.
 */
public interface AiBackend {

    /** RedisAI's backend name, as clients send it: "ONNX", "TORCH", "TF" or "TFLITE". */
    String name();

    /** The runtime's version, for {@code AI.INFO}; may load the runtime. */
    String version();

    /**
     * Loads the runtime and does once what the first model or script load would otherwise do the first time (the model
     * server calls it before it reports ready, so that no client's first AI.MODELSTORE or AI.SCRIPTSET pays for it:
     * SmartRedis gives up on a reply after 250 ms). The default loads the runtime through {@link #version()}.
     */
    default void warmUp() {
        version();
    }

    /**
     * Builds a runnable model from the stored bytes. Throws {@link AiException} with the error reply text when the
     * bytes are not a model, or the device cannot be used; the text is sent to the client as is.
     */
    LoadedModel load(byte[] blob, ModelOptions options) throws AiException;

    /**
     * Compiles a script (AI.SCRIPTSET / AI.SCRIPTSTORE; only TORCH has scripts in RedisAI). Throws {@link AiException}
     * with the reply text when the source does not compile or the device cannot be used. {@code options} carries the
     * device and thread count; its inputs and outputs are empty.
     */
    default LoadedScript loadScript(String source, ModelOptions options) throws AiException {
        throw new AiException("ERR the " + name() + " backend runs no scripts");
    }
}
