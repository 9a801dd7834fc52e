package io.smartsim.launch.ai.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Small ONNX models written byte by byte (the protobuf wire format of onnx.proto: ModelProto, GraphProto, NodeProto,
 * TensorProto, ValueInfoProto), so tests need neither Python nor a download. Field numbers are onnx.proto's.
 */
public final class OnnxModels {
    public static final int FLOAT = 1;
    public static final int INT64 = 7;
    public static final int BOOL = 9;
    public static final int DOUBLE = 11;

    private OnnxModels() {
    }

    /**
     * {@code Y = X @ W + B}: input "X" FLOAT [batch, in], output "Y" FLOAT [batch, out]; W is in x out, row-major.
     */
    public static byte[] linear(int in, int out, float[] w, float[] b) {
        Proto graph = new Proto()
                .msg(1, node("MatMul", "mm", new String[] {"X", "W"}, "XW"))
                .msg(1, node("Add", "add", new String[] {"XW", "B"}, "Y"))
                .str(2, "linear")
                .msg(5, floatTensor("W", new long[] {in, out}, w))
                .msg(5, floatTensor("B", new long[] {out}, b))
                .msg(11, valueInfo("X", FLOAT, "batch", in))
                .msg(12, valueInfo("Y", FLOAT, "batch", out));
        return model(graph);
    }

    /**
     * A two-layer MLP, {@code Y = relu(X W1 + B1) W2 + B2}: input "X" FLOAT [batch, in], output "Y" FLOAT [batch, out];
     * W1 is in x hidden, W2 hidden x out, row-major.
     */
    public static byte[] mlp(int in, int hidden, int out, float[] w1, float[] b1, float[] w2, float[] b2) {
        Proto graph = new Proto()
                .msg(1, node("MatMul", "mm1", new String[] {"X", "W1"}, "XW1"))
                .msg(1, node("Add", "add1", new String[] {"XW1", "B1"}, "H0"))
                .msg(1, node("Relu", "relu", new String[] {"H0"}, "H"))
                .msg(1, node("MatMul", "mm2", new String[] {"H", "W2"}, "HW2"))
                .msg(1, node("Add", "add2", new String[] {"HW2", "B2"}, "Y"))
                .str(2, "mlp")
                .msg(5, floatTensor("W1", new long[] {in, hidden}, w1))
                .msg(5, floatTensor("B1", new long[] {hidden}, b1))
                .msg(5, floatTensor("W2", new long[] {hidden, out}, w2))
                .msg(5, floatTensor("B2", new long[] {out}, b2))
                .msg(11, valueInfo("X", FLOAT, "batch", in))
                .msg(12, valueInfo("Y", FLOAT, "batch", out));
        return model(graph);
    }

    /**
     * A model whose run lasts as long as asked, for TIMEOUT tests: a Loop of {@code M} rounds of {@code x = -x}, with
     * input "M" INT64 [1] (the round count) and "X" FLOAT [1], output "Y" FLOAT [1] ({@code X} for an even M, {@code
     * -X} for an odd one). With M = Long.MAX_VALUE the run goes on until the runtime stops it: whatever the machine's
     * speed, it outlasts any deadline.
     */
    public static byte[] loop() {
        Proto body = new Proto()
                .msg(1, node("Identity", "keep_going", new String[] {"c_in"}, "c_out"))
                .msg(1, node("Neg", "neg", new String[] {"x_in"}, "x_out"))
                .str(2, "round")
                .msg(11, valueInfo("i", INT64, null))
                .msg(11, valueInfo("c_in", BOOL, null))
                .msg(11, valueInfo("x_in", FLOAT, null, 1))
                .msg(12, valueInfo("c_out", BOOL, null))
                .msg(12, valueInfo("x_out", FLOAT, null, 1));
        Proto bodyAttribute = new Proto().str(1, "body").varint(20, 5).msg(6, body); // type 5: GRAPH
        Proto graph = new Proto()
                .msg(1, node("Loop", "loop", new String[] {"M", "true", "X"}, "Y").msg(5, bodyAttribute))
                .str(2, "loop")
                .msg(5, new Proto().varint(2, BOOL).str(8, "true").raw(9, new byte[] {1})) // a BOOL scalar, true
                .msg(11, valueInfo("M", INT64, null, 1))
                .msg(11, valueInfo("X", FLOAT, null, 1))
                .msg(12, valueInfo("Y", FLOAT, null, 1));
        return model(graph);
    }

    private static byte[] model(Proto graph) {
        return new Proto()
                .varint(1, 7) // ir_version
                .str(2, "smartsim-launch tests")
                .msg(7, graph)
                .msg(8, new Proto().str(1, "").varint(2, 13)) // opset_import: default domain, opset 13
                .bytes();
    }

    private static Proto node(String op, String name, String[] inputs, String output) {
        Proto p = new Proto();
        for (String i : inputs) {
            p.str(1, i);
        }
        return p.str(2, output).str(3, name).str(4, op);
    }

    private static Proto floatTensor(String name, long[] dims, float[] values) {
        Proto p = new Proto();
        for (long d : dims) {
            p.varint(1, d);
        }
        ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            raw.putFloat(v);
        }
        return p.varint(2, FLOAT).str(8, name).raw(9, raw.array());
    }

    /** A tensor value info: a symbolic first dimension named {@code batchParam} (if not null), then {@code dims}. */
    private static Proto valueInfo(String name, int elemType, String batchParam, long... dims) {
        Proto shape = new Proto();
        if (batchParam != null) {
            shape.msg(1, new Proto().str(2, batchParam));
        }
        for (long d : dims) {
            shape.msg(1, new Proto().varint(1, d));
        }
        Proto tensorType = new Proto().varint(1, elemType).msg(2, shape);
        return new Proto().str(1, name).msg(2, new Proto().msg(1, tensorType));
    }

    /** A protobuf message being written. */
    private static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long v) {
            tag(field, 0);
            writeVarint(v);
            return this;
        }

        Proto str(int field, String s) {
            return raw(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto msg(int field, Proto m) {
            return raw(field, m.bytes());
        }

        Proto raw(int field, byte[] b) {
            tag(field, 2);
            writeVarint(b.length);
            out.writeBytes(b);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private void tag(int field, int wire) {
            writeVarint(((long) field << 3) | wire);
        }

        private void writeVarint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
