package io.smartsim.launch.ai.torch;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import io.smartsim.launch.ai.AiException;
import io.smartsim.launch.ai.Tensor;
import io.smartsim.launch.ai.spi.ModelTimeoutException;
import io.smartsim.launch.ai.spi.ScriptArg;
import io.smartsim.launch.ai.spi.UninterruptibleRuns;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One loaded TorchScript module (a model, or a script compiled into a module) whose methods can be called from many
 * threads at once. libtorch cannot stop a method once it runs: see {@link UninterruptibleRuns} for TIMEOUT and for
 * when the native module is freed.
 */
final class TorchModule implements AutoCloseable {
    private final PtNDManager manager;
    private final PtSymbolBlock block;
    private final Set<String> methods;
    private final UninterruptibleRuns runs;

    private TorchModule(PtNDManager manager, PtSymbolBlock block) {
        this.manager = manager;
        this.block = block;
        this.methods = Set.of(JniUtils.getMethodNames(block));
        this.runs = new UninterruptibleRuns(() -> {
            block.close();
            manager.close();
        });
    }

    /** Loads a TorchScript archive (what {@code torch.jit.save} writes) onto the device RedisAI named. */
    static TorchModule load(byte[] archive, int gpuOrdinal) {
        PtNDManager manager = TorchRuntime.manager(gpuOrdinal);
        try {
            PtSymbolBlock block = JniUtils.loadModule(manager, new ByteArrayInputStream(archive), true, false);
            return new TorchModule(manager, block);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw new AiException("ERR " + TorchRuntime.oneLine(e), e);
        }
    }

    Set<String> methods() {
        return methods;
    }

    /**
     * Calls {@code method} with {@code args} in order, and returns what it returned: one tensor, or the tensors of a
     * tuple or list, in order.
     */
    List<Tensor> call(String method, List<ScriptArg> args, Duration timeout) throws ModelTimeoutException {
        return runs.call(() -> callNow(method, args), timeout);
    }

    private List<Tensor> callNow(String method, List<ScriptArg> args) {
        try (PtNDManager run = (PtNDManager) manager.newSubManager()) {
            List<IValue> values = new ArrayList<>();
            IValue out = null;
            try {
                for (ScriptArg a : args) {
                    values.add(toIValue(run, a));
                }
                try {
                    out = IValueUtils.runMethod(block, method, values.toArray(new IValue[0]));
                } catch (RuntimeException e) {
                    throw new AiException("ERR " + TorchRuntime.oneLine(e), e);
                }
                List<Tensor> result = new ArrayList<>();
                flatten(out, run, result);
                return result;
            } finally {
                values.forEach(IValue::close);
                if (out != null) {
                    out.close();
                }
            }
        }
    }

    private static IValue toIValue(PtNDManager m, ScriptArg a) {
        if (a instanceof ScriptArg.One one) {
            return IValue.from(TorchRuntime.toTorch(m, one.tensor()));
        }
        if (a instanceof ScriptArg.Tensors ts) {
            PtNDArray[] arrays = new PtNDArray[ts.tensors().size()];
            for (int i = 0; i < arrays.length; i++) {
                arrays[i] = TorchRuntime.toTorch(m, ts.tensors().get(i));
            }
            return IValue.listFrom(arrays);
        }
        List<String> strings = ((ScriptArg.Strings) a).strings();
        IValue[] items = new IValue[strings.size()];
        for (int i = 0; i < items.length; i++) {
            items[i] = IValue.from(strings.get(i));
        }
        try {
            return IValue.listFrom(items);
        } finally {
            for (IValue v : items) {
                v.close();
            }
        }
    }

    private static void flatten(IValue v, PtNDManager m, List<Tensor> into) {
        if (v.isTensor()) {
            into.add(TorchRuntime.fromTorch(v.toTensor(m), "TorchScript output " + into.size()));
        } else if (v.isTuple()) {
            for (IValue e : v.toIValueTuple()) {
                try (e) {
                    flatten(e, m, into);
                }
            }
        } else if (v.isTensorList()) {
            for (PtNDArray a : v.toTensorArray(m)) {
                into.add(TorchRuntime.fromTorch(a, "TorchScript output " + into.size()));
            }
        } else if (v.isList()) {
            for (IValue e : v.toIValueArray()) {
                try (e) {
                    flatten(e, m, into);
                }
            }
        } else {
            throw new AiException("ERR TorchScript output " + into.size() + " is a " + v.getType()
                    + ", not a tensor or a tuple or list of tensors");
        }
    }

    /** Frees the module now, or when the last call in progress ends. */
    @Override
    public void close() {
        runs.close();
    }
}
