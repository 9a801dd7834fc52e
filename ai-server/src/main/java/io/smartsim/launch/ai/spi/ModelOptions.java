package io.smartsim.launch.ai.spi;

import java.util.List;

/**
 * What AI.MODELSTORE said about a model besides its bytes.
 *
 * @param device         "CPU", "GPU", "CPU:n" or "GPU:n" as the client sent it
 * @param inputs         input names (TF only; empty otherwise)
 * @param outputs        output names (TF only; empty otherwise)
 * @param intraOpThreads threads one operator may use; 0 lets the runtime choose
 */
public record ModelOptions(String device, List<String> inputs, List<String> outputs, int intraOpThreads) {
    public ModelOptions {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intraOpThreads " + intraOpThreads + " is negative; use 0 for the default");
        }
    }

    /** The device's GPU ordinal: 0 for "GPU", n for "GPU:n"; -1 for CPU devices. */
    public int gpuOrdinal() {
        String d = device.toUpperCase(java.util.Locale.ROOT);
        if (!d.startsWith("GPU")) {
            return -1;
        }
        return d.length() > 4 ? Integer.parseInt(d.substring(4)) : 0;
    }
}
