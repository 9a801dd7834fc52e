package io.smartsim.launch.ai.torch;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.smartsim.launch.ai.AiException;
import io.smartsim.launch.ai.DType;
import io.smartsim.launch.ai.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * libtorch through DJL's PyTorch engine, loaded once per process on first use, and the conversions between the
 * model server's tensors and libtorch's. DJL is told to stay offline ({@code ai.djl.offline=true}): it then takes libtorch
 * from the {@code pytorch-native-cpu} jar on the class path and {@code libdjl_torch.so} from the {@code pytorch-jni}
 * jar, unpacked once into its cache directory ({@code ~/.djl.ai}, or {@code $DJL_CACHE_DIR}), and never downloads.
 */
final class TorchRuntime {
    private static final Object LOCK = new Object();
    private static volatile Engine engine;
    private static volatile int threadsSet;

    private TorchRuntime() {
    }

    /** The PyTorch engine, loading libtorch on the first call. */
    static Engine engine() {
        Engine e = engine;
        if (e != null) {
            return e;
        }
        synchronized (LOCK) {
            if (engine == null) {
                if (System.getProperty("ai.djl.offline") == null) {
                    System.setProperty("ai.djl.offline", "true");
                }
                try {
                    engine = Engine.getEngine("PyTorch");
                } catch (RuntimeException | UnsatisfiedLinkError err) {
                    throw new AiException("ERR could not load libtorch: " + oneLine(err), err);
                }
            }
            return engine;
        }
    }

    /** libtorch's intra-op thread count is one setting for the whole process: the first non-zero request wins. */
    static void intraOpThreads(int n) {
        if (n > 0 && threadsSet == 0) {
            synchronized (LOCK) {
                if (threadsSet == 0) {
                    JniUtils.setNumThreads(n);
                    threadsSet = n;
                }
            }
        }
    }

    /** A base manager on the device RedisAI named; a clear error when it is a GPU this build cannot use. */
    static PtNDManager manager(int gpuOrdinal) {
        Engine e = engine();
        if (gpuOrdinal < 0) {
            return (PtNDManager) e.newBaseManager(Device.cpu());
        }
        int gpus = e.getGpuCount();
        if (gpus <= gpuOrdinal) {
            throw new AiException("ERR GPU requested but libtorch cannot use it here: GPU:" + gpuOrdinal
                    + " asked, " + gpus + " CUDA device(s) visible to libtorch " + e.getVersion()
                    + " (the pytorch-native-cpu build has no CUDA; use pytorch-native-cu128 on GPU nodes)");
        }
        return (PtNDManager) e.newBaseManager(Device.gpu(gpuOrdinal));
    }

    static DataType toTorch(DType t) {
        return switch (t) {
            case FLOAT -> DataType.FLOAT32;
            case DOUBLE -> DataType.FLOAT64;
            case INT8 -> DataType.INT8;
            case INT32 -> DataType.INT32;
            case INT64 -> DataType.INT64;
            case UINT8 -> DataType.UINT8;
            // DJL 0.36's JNI maps no 16-bit integer type to libtorch's: handing it one aborts the whole process
            // (std::terminate, seen here), so they are refused before they reach it.
            case INT16, UINT16 -> throw new AiException("ERR " + t + " tensors cannot be given to the TORCH backend "
                    + "(DJL's libtorch binding has no 16-bit integer tensors)");
        };
    }

    static PtNDArray toTorch(PtNDManager m, Tensor t) {
        DataType type = toTorch(t.dtype());
        ByteBuffer b = ByteBuffer.allocateDirect(t.data().length).order(ByteOrder.nativeOrder());
        b.put(t.data()).flip();
        try {
            return (PtNDArray) m.create(b, new Shape(t.shape()), type);
        } catch (RuntimeException e) {
            throw new AiException("ERR " + t.dtype() + " tensors cannot be given to libtorch: " + oneLine(e), e);
        }
    }

    static Tensor fromTorch(PtNDArray a, String what) {
        DType dtype = switch (a.getDataType()) {
            case FLOAT32 -> DType.FLOAT;
            case FLOAT64 -> DType.DOUBLE;
            case INT8 -> DType.INT8;
            case INT16 -> DType.INT16;
            case INT32 -> DType.INT32;
            case INT64 -> DType.INT64;
            case UINT8 -> DType.UINT8;
            case UINT16 -> DType.UINT16;
            default -> throw new AiException("ERR " + what + " has type " + a.getDataType()
                    + ", which RedisAI tensors cannot hold");
        };
        // toByteBuffer makes the tensor contiguous on the CPU first.
        ByteBuffer b = a.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        byte[] data = new byte[b.remaining()];
        b.get(data);
        return new Tensor(dtype, a.getShape().getShape(), data);
    }

    /**
     * libtorch's message on one line, without the C++ stack trace it appends ("Exception raised from ... frame #0"),
     * which would make a reply of several kilobytes, and for errors inside the TorchScript interpreter only the error
     * line after its tracebacks ("RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x4 and 3x2)").
     */
    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int trace = m.indexOf("Exception raised from");
        if (trace > 0) {
            m = m.substring(0, trace);
        }
        if (m.contains("Traceback of TorchScript")) {
            // An error inside the TorchScript interpreter: two tracebacks, then the error itself on the last line.
            String[] lines = m.strip().split("\n");
            m = lines[lines.length - 1];
        }
        return m.replace('\r', ' ').replace('\n', ' ').replaceAll(" {2,}", " ").strip();
    }
}
