package io.smartsim.launch.ai.tf;

import com.google.protobuf.InvalidProtocolBufferException;
import io.smartsim.launch.ai.AiException;
import io.smartsim.launch.ai.DType;
import io.smartsim.launch.ai.Tensor;
import io.smartsim.launch.ai.spi.AiBackend;
import io.smartsim.launch.ai.spi.LoadedModel;
import io.smartsim.launch.ai.spi.ModelOptions;
import io.smartsim.launch.ai.spi.ModelTimeoutException;
import io.smartsim.launch.ai.spi.UninterruptibleRuns;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.TensorFlow;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.ByteDataBuffer;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TUint16;
import org.tensorflow.types.TUint8;
import org.tensorflow.types.family.TType;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * TensorFlow 2.18 (TensorFlow Java 1.1.0, the CPU build from Maven Central, native code inside its jar) as the "TF"
 * backend: a frozen GraphDef, as RedisAI takes it, with the input and output names given at AI.MODELSTORE. A run past
 * its TIMEOUT is answered TIMEDOUT at its deadline (see {@link UninterruptibleRuns}).
 */
public final class TfBackend implements AiBackend {

    @Override
    public String name() {
        return "TF";
    }

    @Override
    public String version() {
        return TensorFlow.version();
    }

    @Override
    public LoadedModel load(byte[] blob, ModelOptions options) {
        if (options.inputs().isEmpty() || options.outputs().isEmpty()) {
            throw new AiException("ERR INPUTS and OUTPUTS must be given for a TF model");
        }
        GraphDef def;
        try {
            def = GraphDef.parseFrom(blob);
        } catch (InvalidProtocolBufferException e) {
            throw new AiException("ERR Invalid GraphDef: " + oneLine(e));
        }
        int gpu = options.gpuOrdinal();
        if (gpu >= 0) {
            checkGpu(gpu);
            def = onDevice(def, "/device:GPU:" + gpu);
        }
        Graph graph = new Graph();
        try {
            graph.importGraphDef(def);
            for (String n : options.inputs()) {
                requireOutput(graph, n, "Input");
            }
            for (String n : options.outputs()) {
                requireOutput(graph, n, "Output");
            }
            ConfigProto.Builder config = ConfigProto.newBuilder().setAllowSoftPlacement(gpu < 0);
            if (options.intraOpThreads() > 0) {
                config.setIntraOpParallelismThreads(options.intraOpThreads());
            }
            Session session = new Session(graph, config.build());
            return new TfModel(graph, session, options.inputs(), options.outputs());
        } catch (AiException e) {
            graph.close();
            throw e;
        } catch (RuntimeException e) {
            graph.close();
            throw new AiException("ERR " + oneLine(e), e);
        }
    }

    /** RedisAI names a graph output "op" or "op:index"; both must exist in the graph. */
    private static void requireOutput(Graph graph, String name, String what) {
        String op = opName(name);
        if (graph.operation(op) == null) {
            throw new AiException("ERR " + what + " node named \"" + op + "\" not found in TF graph");
        }
    }

    static String opName(String name) {
        int colon = name.lastIndexOf(':');
        return colon > 0 && name.substring(colon + 1).chars().allMatch(Character::isDigit) && colon < name.length() - 1
                ? name.substring(0, colon) : name;
    }

    static int outputIndex(String name) {
        String op = opName(name);
        return op.length() == name.length() ? 0 : Integer.parseInt(name.substring(op.length() + 1));
    }

    /** Places every node of the graph on {@code device}, as RedisAI does for a model stored on a GPU. */
    private static GraphDef onDevice(GraphDef def, String device) {
        GraphDef.Builder b = def.toBuilder();
        for (int i = 0; i < b.getNodeCount(); i++) {
            NodeDef.Builder n = b.getNodeBuilder(i);
            n.setDevice(device);
        }
        return b.build();
    }

    /** Fails with a clear error unless TensorFlow can place an operation on GPU n, before the model is stored. */
    private static void checkGpu(int n) {
        try (Graph g = new Graph()) {
            org.tensorflow.op.Ops tf = org.tensorflow.op.Ops.create(g);
            var c = tf.withDevice(org.tensorflow.DeviceSpec.newBuilder()
                    .deviceType(org.tensorflow.DeviceSpec.DeviceType.GPU).deviceIndex(n).build()).constant(1f);
            try (Session s = new Session(g, ConfigProto.newBuilder().setAllowSoftPlacement(false).build());
                 Result r = s.runner().fetch(c).run()) {
                // placed and ran: GPU n is usable
            }
        } catch (RuntimeException e) {
            throw new AiException("ERR GPU requested but TensorFlow " + TensorFlow.version()
                    + " cannot use it here (the tensorflow-core-native linux-x86_64 build has no CUDA; use the "
                    + "linux-x86_64-gpu classifier on GPU nodes): " + oneLine(e));
        }
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replace('\r', ' ').replace('\n', ' ').replaceAll(" {2,}", " ").strip();
    }

    private static final class TfModel implements LoadedModel {
        private final Graph graph;
        private final Session session;
        private final List<String> inputs;
        private final List<String> outputs;
        private final UninterruptibleRuns runs;

        TfModel(Graph graph, Session session, List<String> inputs, List<String> outputs) {
            this.graph = graph;
            this.session = session;
            this.inputs = List.copyOf(inputs);
            this.outputs = List.copyOf(outputs);
            this.runs = new UninterruptibleRuns(() -> {
                session.close();
                graph.close();
            });
        }

        @Override
        public int inputCount() {
            return inputs.size();
        }

        @Override
        public int outputCount() {
            return outputs.size();
        }

        @Override
        public List<Tensor> run(List<Tensor> in, Duration timeout) throws ModelTimeoutException {
            return runs.call(() -> runNow(in, timeout), timeout);
        }

        private List<Tensor> runNow(List<Tensor> in, Duration timeout) throws ModelTimeoutException {
            List<org.tensorflow.Tensor> feeds = new ArrayList<>();
            try {
                Session.Runner runner = session.runner();
                for (int i = 0; i < in.size(); i++) {
                    org.tensorflow.Tensor t = toTf(in.get(i));
                    feeds.add(t);
                    String name = inputs.get(i);
                    runner.feed(opName(name), outputIndex(name), t);
                }
                for (String name : outputs) {
                    runner.fetch(opName(name), outputIndex(name));
                }
                if (timeout != null) {
                    // TensorFlow's own deadline ends the abandoned run early where it can; measured here, it is only
                    // looked at after the running operations end, so the caller's wait is bounded by the worker.
                    runner.setOptions(RunOptions.newBuilder().setTimeoutInMs(Math.max(1, timeout.toMillis())).build());
                }
                long start = System.nanoTime();
                try (Result r = runner.run()) {
                    List<Tensor> out = new ArrayList<>(outputs.size());
                    for (int i = 0; i < outputs.size(); i++) {
                        out.add(fromTf(r.get(i), outputs.get(i)));
                    }
                    return out;
                } catch (RuntimeException e) {
                    // TensorFlow Java has no class for DEADLINE_EXCEEDED ("Timed out waiting for notification"): it
                    // raises the base TensorFlowException. Only a run that reached its deadline is taken as stopped.
                    if (timeout != null && e.getClass() == TensorFlowException.class
                            && System.nanoTime() - start >= timeout.toNanos()) {
                        throw new ModelTimeoutException("run stopped at its TIMEOUT of " + timeout.toMillis() + " ms");
                    }
                    if (e instanceof AiException) {
                        throw e;
                    }
                    throw new AiException("ERR " + oneLine(e), e);
                }
            } finally {
                feeds.forEach(org.tensorflow.Tensor::close);
            }
        }

        private static Class<? extends TType> tfType(DType t) {
            return switch (t) {
                case FLOAT -> TFloat32.class;
                case DOUBLE -> TFloat64.class;
                case INT32 -> TInt32.class;
                case INT64 -> TInt64.class;
                case UINT8 -> TUint8.class;
                case UINT16 -> TUint16.class;
                // TensorFlow Java 1.1 has no int8 or int16 tensor classes.
                case INT8, INT16 -> throw new AiException("ERR " + t + " tensors cannot be given to the TF backend");
            };
        }

        private static org.tensorflow.Tensor toTf(Tensor t) {
            ByteDataBuffer data = DataBuffers.of(t.data(), true, false);
            return org.tensorflow.Tensor.of(tfType(t.dtype()), Shape.of(t.shape()), data);
        }

        private static Tensor fromTf(org.tensorflow.Tensor t, String name) {
            DType dtype = switch (t.dataType()) {
                case DT_FLOAT -> DType.FLOAT;
                case DT_DOUBLE -> DType.DOUBLE;
                case DT_INT8 -> DType.INT8;
                case DT_INT16 -> DType.INT16;
                case DT_INT32 -> DType.INT32;
                case DT_INT64 -> DType.INT64;
                case DT_UINT8 -> DType.UINT8;
                case DT_UINT16 -> DType.UINT16;
                default -> throw new AiException("ERR TF output '" + name + "' has type " + t.dataType()
                        + ", which RedisAI tensors cannot hold");
            };
            ByteDataBuffer raw = t.asRawTensor().data();
            byte[] bytes = new byte[(int) raw.size()];
            raw.read(bytes);
            return new Tensor(dtype, t.shape().asArray(), bytes);
        }

        @Override
        public void close() {
            runs.close();
        }
    }
}
