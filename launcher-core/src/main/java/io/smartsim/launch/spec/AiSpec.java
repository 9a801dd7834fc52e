package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Model serving on every shard ({@code --ai}): each shard's redis-server loads the smartsim-ai module, which answers
 * the RedisAI {@code AI.*} commands on the planned port, and each host runs a model server with the named backends.
 *
 * @param backends backend names as RedisAI spells them in AI.MODELSTORE, upper case (ONNX, TORCH, TF, TFLITE)
 * @param device   CPU or GPU
 * @param threads  intra-op threads per model; 0 lets the runtime choose
 */
public record AiSpec(List<String> backends, String device, int threads) {
    private static final Pattern NAME = Pattern.compile("[A-Z][A-Z0-9_]{0,31}");

    public AiSpec {
        List<String> names = new ArrayList<>();
        for (String b : backends == null ? List.<String>of() : backends) {
            String n = b == null ? "" : b.strip().toUpperCase(Locale.ROOT);
            if (!NAME.matcher(n).matches()) {
                throw new InvalidSpecException("ai.backends", "'" + b + "' is not a backend name; use for example "
                        + "onnx, torch, tf or tflite");
            }
            if (!names.contains(n)) names.add(n);
        }
        if (names.isEmpty()) {
            throw new InvalidSpecException("ai.backends", "no backend named; use for example --ai onnx or --ai onnx,torch");
        }
        backends = List.copyOf(names);
        device = device == null ? "CPU" : device.strip().toUpperCase(Locale.ROOT);
        if (!device.equals("CPU") && !device.equals("GPU")) {
            throw new InvalidSpecException("ai.device", "'" + device + "' is not a device; use cpu or gpu");
        }
        if (threads < 0 || threads > 1024) {
            throw new InvalidSpecException("ai.threads", threads + " is out of range; use 0 (the runtime chooses) to 1024");
        }
    }

    /** {@code --ai onnx,torch}: the given backends on the CPU, threads chosen by the runtime. */
    public static AiSpec of(List<String> backends) {
        return new AiSpec(backends, "CPU", 0);
    }
}
