package io.smartsim.launch.ai.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.smartsim.launch.ai.AiException;
import io.smartsim.launch.ai.DType;
import io.smartsim.launch.ai.Tensor;
import io.smartsim.launch.ai.spi.AiBackend;
import io.smartsim.launch.ai.spi.LoadedModel;
import io.smartsim.launch.ai.spi.ModelOptions;
import io.smartsim.launch.ai.spi.ModelTimeoutException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * ONNX Runtime (the CPU build from Maven Central, native libraries inside the jar) as the "ONNX" backend: ONNX
 * models, including scikit-learn exports whose outputs are tensors. A run past its TIMEOUT is stopped with ONNX
 * Runtime's terminate flag, which the runtime checks between operators.
 */
public final class OnnxBackend implements AiBackend {
    /** One timer thread for every model's TIMEOUT, started on first use. */
    private static final class Timer {
        static final ScheduledExecutorService INSTANCE = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ai-onnx-timeout");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String name() {
        return "ONNX";
    }

    @Override
    public String version() {
        return OrtEnvironment.getEnvironment().getVersion();
    }

    @Override
    public LoadedModel load(byte[] blob, ModelOptions options) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            if (options.intraOpThreads() > 0) {
                so.setIntraOpNumThreads(options.intraOpThreads());
            }
            int gpu = options.gpuOrdinal();
            if (gpu >= 0) {
                try {
                    so.addCUDA(gpu);
                } catch (OrtException | RuntimeException e) {
                    throw new AiException("ERR GPU requested but ONNX Runtime cannot use it here: " + oneLine(e));
                }
            }
            OrtSession session = env.createSession(blob, so);
            return new OnnxModel(env, session);
        } catch (OrtException e) {
            throw new AiException("ERR " + oneLine(e));
        }
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replace('\r', ' ').replace('\n', ' ');
    }

    private static final class OnnxModel implements LoadedModel {
        private final OrtEnvironment env;
        private final OrtSession session;
        private final List<String> inputNames;
        private final List<String> outputNames;

        OnnxModel(OrtEnvironment env, OrtSession session) throws OrtException {
            this.env = env;
            this.session = session;
            // Both maps are in the model's declared order.
            this.inputNames = List.copyOf(session.getInputInfo().keySet());
            Map<String, NodeInfo> outs = session.getOutputInfo();
            for (Map.Entry<String, NodeInfo> o : outs.entrySet()) {
                if (!(o.getValue().getInfo() instanceof TensorInfo)) {
                    session.close();
                    throw new AiException("ERR ONNX output '" + o.getKey() + "' is not a tensor (for example a "
                            + "scikit-learn ZipMap); export the model with tensor outputs (zipmap=False)");
                }
            }
            this.outputNames = List.copyOf(outs.keySet());
        }

        @Override
        public int inputCount() {
            return inputNames.size();
        }

        @Override
        public int outputCount() {
            return outputNames.size();
        }

        @Override
        public List<Tensor> run(List<Tensor> inputs, Duration timeout) throws ModelTimeoutException {
            Map<String, OnnxTensor> feed = new LinkedHashMap<>();
            try (OrtSession.RunOptions ro = new OrtSession.RunOptions()) {
                for (int i = 0; i < inputs.size(); i++) {
                    feed.put(inputNames.get(i), toOnnx(inputs.get(i)));
                }
                AtomicBoolean fired = new AtomicBoolean();
                ScheduledFuture<?> stop = timeout == null ? null : Timer.INSTANCE.schedule(() -> {
                    fired.set(true);
                    try {
                        ro.setTerminate(true);
                    } catch (OrtException e) {
                        // nothing more to do: the run goes on to its end
                    }
                }, timeout.toNanos(), TimeUnit.NANOSECONDS);
                try (OrtSession.Result result = session.run(feed, ro)) {
                    List<Tensor> out = new ArrayList<>(outputNames.size());
                    for (Map.Entry<String, OnnxValue> e : result) {
                        out.add(fromOnnx(e.getKey(), e.getValue()));
                    }
                    return out;
                } catch (OrtException e) {
                    if (fired.get()) {
                        throw new ModelTimeoutException("run stopped at its TIMEOUT of " + timeout.toMillis() + " ms");
                    }
                    throw new AiException("ERR " + oneLine(e));
                } finally {
                    if (stop != null) {
                        stop.cancel(false);
                    }
                }
            } catch (OrtException e) {
                throw new AiException("ERR " + oneLine(e));
            } finally {
                feed.values().forEach(OnnxTensor::close);
            }
        }

        private OnnxTensor toOnnx(Tensor t) throws OrtException {
            OnnxJavaType type = switch (t.dtype()) {
                case FLOAT -> OnnxJavaType.FLOAT;
                case DOUBLE -> OnnxJavaType.DOUBLE;
                case INT8 -> OnnxJavaType.INT8;
                case INT16 -> OnnxJavaType.INT16;
                case INT32 -> OnnxJavaType.INT32;
                case INT64 -> OnnxJavaType.INT64;
                case UINT8 -> OnnxJavaType.UINT8;
                // ONNX Runtime's Java API has no unsigned 16-bit tensors.
                case UINT16 -> throw new AiException("ERR UINT16 tensors cannot be given to the ONNX backend");
            };
            ByteBuffer b = ByteBuffer.allocateDirect(t.data().length).order(ByteOrder.nativeOrder());
            b.put(t.data()).flip();
            return OnnxTensor.createTensor(env, b, t.shape(), type);
        }

        private static Tensor fromOnnx(String name, OnnxValue v) {
            if (!(v instanceof OnnxTensor ot)) {
                throw new AiException("ERR ONNX output '" + name + "' is not a tensor");
            }
            TensorInfo info = ot.getInfo();
            DType dtype = switch (info.type) {
                case FLOAT -> DType.FLOAT;
                case DOUBLE -> DType.DOUBLE;
                case INT8 -> DType.INT8;
                case INT16 -> DType.INT16;
                case INT32 -> DType.INT32;
                case INT64 -> DType.INT64;
                case UINT8 -> DType.UINT8;
                default -> throw new AiException("ERR ONNX output '" + name + "' has type " + info.type
                        + ", which RedisAI tensors cannot hold");
            };
            ByteBuffer b = ot.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            byte[] data = new byte[b.remaining()];
            b.get(data);
            long[] shape = info.getShape();
            return new Tensor(dtype, shape, data);
        }

        @Override
        public void close() {
            try {
                session.close();
            } catch (OrtException e) {
                // freeing anyway
            }
        }
    }
}
