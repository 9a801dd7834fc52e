package io.smartsim.launch.ai.tflite;

import io.smartsim.launch.ai.AiException;
import io.smartsim.launch.ai.DType;
import io.smartsim.launch.ai.Tensor;
import io.smartsim.launch.ai.spi.AiBackend;
import io.smartsim.launch.ai.spi.LoadedModel;
import io.smartsim.launch.ai.spi.ModelOptions;
import io.smartsim.launch.ai.spi.ModelTimeoutException;
import io.smartsim.launch.ai.spi.UninterruptibleRuns;
import org.tensorflow.lite.DataType;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.TensorFlowLite;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * TensorFlow Lite 2.6.2 (CPU) as the "TFLITE" backend: {@code .tflite} flatbuffers. TFLite's Java API comes from DJL's
 * tflite-engine jar (DJL's engine itself is not used) and its JNI library from the tflite-native-cpu jar, unpacked
 * once into a cache directory and loaded from there: nothing is downloaded. An interpreter serves one run at a time,
 * so each model keeps a pool of interpreters, one per run in progress. A run past its TIMEOUT is stopped with TFLite's
 * cancellation flag, checked between operators.
 */
public final class TfliteBackend implements AiBackend {
    private static final Object LOCK = new Object();
    private static volatile boolean loaded;

    /** One timer thread for every model's TIMEOUT, started on first use. */
    private static final class Timer {
        static final ScheduledExecutorService INSTANCE = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ai-tflite-timeout");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String name() {
        return "TFLITE";
    }

    @Override
    public String version() {
        loadNative();
        return TensorFlowLite.runtimeVersion();
    }

    /**
     * Loads libtensorflowlite_jni.so from the tflite-native-cpu jar: copied once into
     * {@code $SMARTSIM_AI_CACHE} (default {@code ~/.cache/smartsim-ai}) under its version, then {@code System.load}ed.
     */
    static void loadNative() {
        if (loaded) {
            return;
        }
        synchronized (LOCK) {
            if (loaded) {
                return;
            }
            String resource = "native/lib/libtensorflowlite_jni.so";
            String version = "unknown";
            try (InputStream p = TfliteBackend.class.getClassLoader().getResourceAsStream("native/lib/tflite.properties")) {
                if (p != null) {
                    java.util.Properties props = new java.util.Properties();
                    props.load(p);
                    version = props.getProperty("version", version);
                }
            } catch (IOException e) {
                throw new AiException("ERR could not read tflite.properties: " + e.getMessage(), e);
            }
            String base = System.getenv("SMARTSIM_AI_CACHE");
            Path dir = (base != null && !base.isBlank() ? Path.of(base)
                    : Path.of(System.getProperty("user.home"), ".cache", "smartsim-ai")).resolve("tflite-" + version);
            Path lib = dir.resolve("libtensorflowlite_jni.so");
            try (InputStream in = TfliteBackend.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new AiException("ERR " + resource + " is not on the class path: add "
                            + "ai.djl.tflite:tflite-native-cpu:2.6.2:linux-x86_64");
                }
                if (!Files.exists(lib)) {
                    Files.createDirectories(dir);
                    Path tmp = Files.createTempFile(dir, "lib", ".tmp");
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                }
                System.load(lib.toAbsolutePath().toString());
                TensorFlowLite.init();
                loaded = true;
            } catch (IOException | UnsatisfiedLinkError e) {
                throw new AiException("ERR could not load TensorFlow Lite from " + lib + ": " + e.getMessage(), e);
            }
        }
    }

    @Override
    public LoadedModel load(byte[] blob, ModelOptions options) {
        if (options.gpuOrdinal() >= 0) {
            throw new AiException("ERR GPU requested but TensorFlow Lite cannot use it here: the tflite-native-cpu "
                    + "build has no GPU delegate; store TFLITE models on CPU");
        }
        loadNative();
        return new TfliteModel(blob, options.intraOpThreads());
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replace('\r', ' ').replace('\n', ' ').replaceAll(" {2,}", " ").strip();
    }

    private static final class TfliteModel implements LoadedModel {
        private final ByteBuffer model;
        private final int threads;
        private final ConcurrentLinkedQueue<Interpreter> idle = new ConcurrentLinkedQueue<>();
        private final UninterruptibleRuns runs;
        private final int inputs;
        private final int outputs;

        TfliteModel(byte[] blob, int threads) {
            // The interpreter reads the model from this buffer for its whole life: it must stay, unmoved.
            this.model = ByteBuffer.allocateDirect(blob.length).order(ByteOrder.nativeOrder());
            this.model.put(blob).flip();
            this.threads = threads;
            Interpreter first = newInterpreter(); // checks the model now, at AI.MODELSTORE
            this.inputs = first.getInputTensorCount();
            this.outputs = first.getOutputTensorCount();
            idle.add(first);
            this.runs = new UninterruptibleRuns(() -> {
                Interpreter i;
                while ((i = idle.poll()) != null) {
                    i.close();
                }
            });
        }

        private Interpreter take() {
            Interpreter i = idle.poll();
            return i != null ? i : newInterpreter();
        }

        private Interpreter newInterpreter() {
            Interpreter.Options o = new Interpreter.Options();
            o.setCancellable(true);
            if (threads > 0) {
                o.setNumThreads(threads);
            }
            try {
                return new Interpreter(model.duplicate(), o);
            } catch (RuntimeException e) {
                throw new AiException("ERR " + oneLine(e), e);
            }
        }

        @Override
        public int inputCount() {
            return inputs;
        }

        @Override
        public int outputCount() {
            return outputs;
        }

        @Override
        public List<Tensor> run(List<Tensor> in, Duration timeout) throws ModelTimeoutException {
            // Through UninterruptibleRuns only for its use count (no TIMEOUT passed: the run stays on this thread and
            // TFLite's own cancellation stops it), so interpreters are closed only when no run uses them.
            return runs.call(() -> runNow(in, timeout), null);
        }

        private List<Tensor> runNow(List<Tensor> in, Duration timeout) throws ModelTimeoutException {
            Interpreter it = take();
            boolean reusable = false;
            AtomicBoolean fired = new AtomicBoolean();
            AtomicBoolean ended = new AtomicBoolean();
            ScheduledFuture<?> stop = null;
            try {
                Object[] feeds = new Object[in.size()];
                boolean resized = false;
                for (int k = 0; k < in.size(); k++) {
                    Tensor t = in.get(k);
                    org.tensorflow.lite.Tensor want = it.getInputTensor(k);
                    DataType dt = tfliteType(t.dtype());
                    if (dt != want.dataType()) {
                        throw new AiException("ERR input " + k + " is " + t.dtype() + " but the TFLite model takes "
                                + want.dataType());
                    }
                    int[] shape = new int[t.shape().length];
                    for (int d = 0; d < shape.length; d++) {
                        shape[d] = Math.toIntExact(t.shape()[d]);
                    }
                    if (!Arrays.equals(shape, want.shape())) {
                        try {
                            it.resizeInput(k, shape);
                        } catch (IllegalArgumentException e) {
                            throw new AiException("ERR input " + k + " of shape " + Arrays.toString(shape)
                                    + " does not fit the TFLite model's " + Arrays.toString(want.shape()) + ": "
                                    + oneLine(e));
                        }
                        resized = true;
                    }
                    ByteBuffer b = ByteBuffer.allocateDirect(t.data().length).order(ByteOrder.nativeOrder());
                    b.put(t.data()).flip();
                    feeds[k] = b;
                }
                if (resized) {
                    try {
                        it.allocateTensors();
                    } catch (IllegalStateException | IllegalArgumentException e) {
                        throw new AiException("ERR " + oneLine(e), e);
                    }
                }
                Map<Integer, Object> outs = new HashMap<>();
                for (int k = 0; k < outputs; k++) {
                    outs.put(k, ByteBuffer.allocateDirect(it.getOutputTensor(k).numBytes()).order(ByteOrder.nativeOrder()));
                }
                if (timeout != null) {
                    stop = Timer.INSTANCE.schedule(() -> {
                        synchronized (fired) {
                            if (!ended.get()) {
                                fired.set(true);
                                it.setCancelled(true);
                            }
                        }
                    }, timeout.toNanos(), TimeUnit.NANOSECONDS);
                }
                try {
                    it.runForMultipleInputsOutputs(feeds, outs);
                } catch (RuntimeException e) {
                    if (fired.get()) {
                        throw new ModelTimeoutException("run stopped at its TIMEOUT of " + timeout.toMillis() + " ms");
                    }
                    throw new AiException("ERR " + oneLine(e), e);
                }
                List<Tensor> result = new ArrayList<>(outputs);
                for (int k = 0; k < outputs; k++) {
                    org.tensorflow.lite.Tensor ot = it.getOutputTensor(k);
                    DType dtype = fromTflite(ot.dataType(), k);
                    ByteBuffer b = (ByteBuffer) outs.get(k);
                    b.rewind();
                    byte[] data = new byte[b.remaining()];
                    b.get(data);
                    long[] shape = Arrays.stream(ot.shape()).asLongStream().toArray();
                    result.add(new Tensor(dtype, shape, data));
                }
                reusable = true;
                return result;
            } finally {
                if (stop != null) {
                    stop.cancel(false);
                }
                synchronized (fired) {
                    ended.set(true); // the timer, if it runs now, leaves this interpreter alone
                }
                if (fired.get()) {
                    reusable = false;
                }
                if (reusable) {
                    idle.add(it);
                } else {
                    it.close(); // after refused input or a cancelled run: a fresh interpreter is cheap and certain
                }
            }
        }

        private static DataType tfliteType(DType t) {
            return switch (t) {
                case FLOAT -> DataType.FLOAT32;
                case INT8 -> DataType.INT8;
                case INT16 -> DataType.INT16;
                case INT32 -> DataType.INT32;
                case INT64 -> DataType.INT64;
                case UINT8 -> DataType.UINT8;
                case DOUBLE, UINT16 -> throw new AiException("ERR " + t + " tensors cannot be given to the TFLITE "
                        + "backend");
            };
        }

        private static DType fromTflite(DataType t, int k) {
            return switch (t) {
                case FLOAT32 -> DType.FLOAT;
                case INT8 -> DType.INT8;
                case INT16 -> DType.INT16;
                case INT32 -> DType.INT32;
                case INT64 -> DType.INT64;
                case UINT8 -> DType.UINT8;
                default -> throw new AiException("ERR TFLite output " + k + " has type " + t
                        + ", which RedisAI tensors cannot hold");
            };
        }

        @Override
        public void close() {
            runs.close();
        }
    }
}
