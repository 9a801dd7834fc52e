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

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One loaded TorchScript module (a model, or a script compiled into a module) whose methods can be called from many
 * threads at once. libtorch cannot stop a method once it runs, so a call with a TIMEOUT runs on a worker thread and the
 * caller stops waiting at the deadline; the abandoned run finishes in the background, its result dropped. The native
 * module is freed when it is closed and no call uses it any more.
 */
final class TorchModule implements AutoCloseable {
    /** Worker threads for calls with a TIMEOUT; they only exist while such calls run. */
    private static final class Workers {
        static final ExecutorService INSTANCE = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "ai-torch-run");
            t.setDaemon(true);
            return t;
        });
    }

    private final PtNDManager manager;
    private final PtSymbolBlock block;
    private final Set<String> methods;
    private int users = 1; // the owner, until close; plus one per call in progress
    private boolean closed;

    private TorchModule(PtNDManager manager, PtSymbolBlock block) {
        this.manager = manager;
        this.block = block;
        this.methods = Set.of(JniUtils.getMethodNames(block));
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

    boolean hasMethod(String name) {
        return methods.contains(name);
    }

    /**
     * Calls {@code method} with the tensors as positional arguments (or, when {@code asList}, as one List[Tensor]
     * argument), and returns what it returned: one tensor, or the tensors of a tuple or list, in order.
     */
    List<Tensor> call(String method, List<Tensor> inputs, List<IValueArg> extra, Duration timeout)
            throws ModelTimeoutException {
        acquire();
        if (timeout == null) {
            try {
                return callNow(method, inputs, extra);
            } finally {
                release();
            }
        }
        Future<List<Tensor>> f;
        try {
            f = Workers.INSTANCE.submit(() -> {
                try {
                    return callNow(method, inputs, extra);
                } finally {
                    release();
                }
            });
        } catch (RuntimeException e) {
            release();
            throw e;
        }
        try {
            return f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new ModelTimeoutException("run still going at its TIMEOUT of " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AiException ae) {
                throw ae;
            }
            throw new AiException("ERR " + TorchRuntime.oneLine(e.getCause()), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AiException("ERR interrupted while waiting for the run");
        }
    }

    /** A non-tensor argument for a script function (RedisAI's KEYS and ARGS string lists). */
    record IValueArg(List<String> strings) {
        IValueArg {
            strings = List.copyOf(strings);
        }
    }

    private List<Tensor> callNow(String method, List<Tensor> inputs, List<IValueArg> extra) {
        try (PtNDManager run = (PtNDManager) manager.newSubManager()) {
            List<IValue> args = new ArrayList<>();
            IValue out = null;
            try {
                if (extra.isEmpty()) {
                    for (Tensor t : inputs) {
                        args.add(IValue.from(TorchRuntime.toTorch(run, t)));
                    }
                } else {
                    // SCRIPTEXECUTE: fn(tensors: List[Tensor], keys: List[str], args: List[str])
                    PtNDArray[] ts = new PtNDArray[inputs.size()];
                    for (int i = 0; i < ts.length; i++) {
                        ts[i] = TorchRuntime.toTorch(run, inputs.get(i));
                    }
                    args.add(IValue.listFrom(ts));
                    for (IValueArg a : extra) {
                        IValue[] ss = new IValue[a.strings().size()];
                        for (int i = 0; i < ss.length; i++) {
                            ss[i] = IValue.from(a.strings().get(i));
                        }
                        args.add(IValue.listFrom(ss));
                        for (IValue s : ss) {
                            s.close();
                        }
                    }
                }
                try {
                    out = IValueUtils.runMethod(block, method, args.toArray(new IValue[0]));
                } catch (RuntimeException e) {
                    throw new AiException("ERR " + TorchRuntime.oneLine(e), e);
                }
                List<Tensor> result = new ArrayList<>();
                flatten(out, run, result);
                return result;
            } finally {
                args.forEach(IValue::close);
                if (out != null) {
                    out.close();
                }
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

    private synchronized void acquire() {
        if (closed) {
            throw new AiException("ERR model was replaced or deleted while the run started");
        }
        users++;
    }

    private void release() {
        boolean free;
        synchronized (this) {
            free = --users == 0;
        }
        if (free) {
            block.close();
            manager.close();
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        release();
    }
}
