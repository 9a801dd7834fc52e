package io.smartsim.launch.status;

import java.util.List;

/**
 * This machine's model-serving runtime ({@code --ai}), as a launch finds it ({@code ThisMachine.aiRuntime()}): what
 * {@code doctor} shows and checks.
 *
 * @param java      the java executable the model servers run with
 * @param classPath the model servers' class path: {@code DIR/*} for a directory of jars, else the path list as given
 * @param from      where it was found and why (which setting or location)
 * @param backends  the backends on that class path, by RedisAI name (ONNX, TORCH, ...), in discovery order
 */
public record AiRuntime(String java, String classPath, String from, List<String> backends) {
    public AiRuntime {
        backends = List.copyOf(backends);
    }
}
