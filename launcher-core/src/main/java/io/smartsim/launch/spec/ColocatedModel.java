package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A model a colocated database stores before the application starts on its node (SmartSim's {@code
 * colocated_model.add_ml_model}): what {@code AI.MODELSTORE} gets, with the model file's bytes as its blob
 * (docs/colocated.md, "Models and scripts"). The application runs it by {@code name} through its node's database.
 *
 * @param name            the key it is stored under
 * @param backend         TF, TORCH, ONNX or TFLITE
 * @param device          CPU, or GPU / GPU:n (the device the model server gives it)
 * @param file            the model file (relative: to the spec's base directory)
 * @param batchSize       BATCHSIZE: 0 for no batching across calls
 * @param minBatchSize    MINBATCHSIZE (with a batch size only): 0 for none
 * @param minBatchTimeout MINBATCHTIMEOUT in ms (with a minimum batch size only): 0 for none
 * @param inputs          INPUTS (TF only: the graph's input node names)
 * @param outputs         OUTPUTS (TF only)
 */
public record ColocatedModel(String name, String backend, String device, Path file, int batchSize, int minBatchSize,
                             int minBatchTimeout, List<String> inputs, List<String> outputs) {
    /** The backends the smartsim-ai module serves, by RedisAI name. */
    public static final List<String> BACKENDS = List.of("TF", "TORCH", "ONNX", "TFLITE");
    private static final Pattern DEVICE = Pattern.compile("CPU|GPU(:[0-9]+)?");

    public ColocatedModel {
        String where = "colocatedDb.models" + (name == null ? "" : " (" + name + ")");
        checkName(name, "colocatedDb.models");
        if (backend == null || !BACKENDS.contains(backend.toUpperCase(Locale.ROOT))) {
            throw new InvalidSpecException(where + ".backend", "'" + backend + "' is not a backend; use one of "
                    + String.join(", ", BACKENDS));
        }
        backend = backend.toUpperCase(Locale.ROOT);
        device = device(device, where);
        if (file == null) {
            throw new InvalidSpecException(where + ".file", "no model file; give the path of the model's file "
                    + "(for example model.onnx)");
        }
        if (batchSize < 0 || minBatchSize < 0 || minBatchTimeout < 0) {
            throw new InvalidSpecException(where + ".batchSize", "batchSize, minBatchSize and minBatchTimeout are "
                    + "counts and milliseconds: 0 or more");
        }
        if (minBatchSize > 0 && batchSize == 0) {
            throw new InvalidSpecException(where + ".minBatchSize", "minBatchSize needs a batchSize; give batchSize "
                    + "too, or remove minBatchSize");
        }
        if (minBatchTimeout > 0 && minBatchSize == 0) {
            throw new InvalidSpecException(where + ".minBatchTimeout", "minBatchTimeout needs a minBatchSize; give "
                    + "minBatchSize too, or remove minBatchTimeout");
        }
        inputs = List.copyOf(inputs == null ? List.of() : inputs);
        outputs = List.copyOf(outputs == null ? List.of() : outputs);
        if ((!inputs.isEmpty() || !outputs.isEmpty()) && !backend.equals("TF")) {
            throw new InvalidSpecException(where + ".inputs", "inputs and outputs name a TF graph's nodes; a "
                    + backend + " model takes none: remove them");
        }
        for (String n : inputs) {
            checkName(n, where + ".inputs");
        }
        for (String n : outputs) {
            checkName(n, where + ".outputs");
        }
    }

    /** A model with no batching, inputs or outputs. */
    public static ColocatedModel of(String name, String backend, String device, String file) {
        return new ColocatedModel(name, backend, device, file == null ? null : Path.of(file), 0, 0, 0, List.of(),
                List.of());
    }

    /** The same with BATCHSIZE, MINBATCHSIZE and MINBATCHTIMEOUT. */
    public ColocatedModel batching(int size, int minSize, int minTimeoutMs) {
        return new ColocatedModel(name, backend, device, file, size, minSize, minTimeoutMs, inputs, outputs);
    }

    /** The same with a TF graph's input and output node names. */
    public ColocatedModel nodes(List<String> in, List<String> out) {
        return new ColocatedModel(name, backend, device, file, batchSize, minBatchSize, minBatchTimeout, in, out);
    }

    /** The same with its file resolved against {@code base}. */
    public ColocatedModel resolvedAgainst(Path base) {
        return new ColocatedModel(name, backend, device, base.resolve(file).normalize(), batchSize, minBatchSize,
                minBatchTimeout, inputs, outputs);
    }

    /** {@code AI.MODELSTORE} up to {@code BLOB}: the blob, the file's bytes, is sent after it. */
    public List<String> command() {
        List<String> c = new java.util.ArrayList<>(List.of("AI.MODELSTORE", name, backend, device));
        if (batchSize > 0) {
            c.addAll(List.of("BATCHSIZE", Integer.toString(batchSize)));
            if (minBatchSize > 0) {
                c.addAll(List.of("MINBATCHSIZE", Integer.toString(minBatchSize)));
                if (minBatchTimeout > 0) {
                    c.addAll(List.of("MINBATCHTIMEOUT", Integer.toString(minBatchTimeout)));
                }
            }
        }
        if (!inputs.isEmpty()) {
            c.add("INPUTS");
            c.add(Integer.toString(inputs.size()));
            c.addAll(inputs);
        }
        if (!outputs.isEmpty()) {
            c.add("OUTPUTS");
            c.add(Integer.toString(outputs.size()));
            c.addAll(outputs);
        }
        c.add("BLOB");
        return c;
    }

    static void checkName(String name, String field) {
        if (name == null || name.isBlank() || !name.equals(name.strip()) || name.chars().anyMatch(Character::isISOControl)) {
            throw new InvalidSpecException(field, "'" + name + "' is not a key name; give a name without spaces at "
                    + "its ends or control characters, for example mlp");
        }
    }

    static String device(String device, String where) {
        String d = device == null ? "" : device.toUpperCase(Locale.ROOT);
        if (!DEVICE.matcher(d).matches()) {
            throw new InvalidSpecException(where + ".device", "'" + device + "' is not a device; use CPU, GPU or "
                    + "GPU:n");
        }
        return d;
    }
}
