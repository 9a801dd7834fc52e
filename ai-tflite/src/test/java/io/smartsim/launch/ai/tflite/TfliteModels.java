package io.smartsim.launch.ai.tflite;

import com.google.flatbuffers.FlatBufferBuilder;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code .tflite} models written here with FlatBuffers' builder, table by table after TFLite's schema
 * ({@code tensorflow/lite/schema/schema.fbs}, version 3), with known weights: Debian packages no TensorFlow, so no
 * converter can make them. All tensors are float32.
 */
public final class TfliteModels {
    /** The linear layer's weight (out 2 x in 3, as FULLY_CONNECTED takes it) and bias. */
    public static final float[] W = {1, -1, 3, 2, 0.5f, -2};
    public static final float[] B = {0.25f, -1};

    static final int ADD = 0;
    static final int FULLY_CONNECTED = 9;
    static final int MUL = 18;

    private TfliteModels() {
    }

    /** Input "x" (1, 3) (resizable to (n, 3)), output "y" = x W^T + B. */
    public static byte[] linear() {
        Builder m = new Builder();
        int x = m.tensor("x", new int[] {1, 3}, null);
        int w = m.tensor("w", new int[] {2, 3}, W);
        int b = m.tensor("b", new int[] {2}, B);
        int y = m.tensor("y", new int[] {1, 2}, null);
        m.op(FULLY_CONNECTED, new int[] {x, w, b}, new int[] {y});
        return m.build(new int[] {x}, new int[] {y});
    }

    /** Inputs "a" and "b" (3), outputs "prod" = a * b and "sum" = a + b, in that order. */
    static byte[] productAndSum() {
        Builder m = new Builder();
        int a = m.tensor("a", new int[] {3}, null);
        int b = m.tensor("b", new int[] {3}, null);
        int sum = m.tensor("sum", new int[] {3}, null);
        int prod = m.tensor("prod", new int[] {3}, null);
        m.op(ADD, new int[] {a, b}, new int[] {sum});
        m.op(MUL, new int[] {a, b}, new int[] {prod});
        return m.build(new int[] {a, b}, new int[] {prod, sum});
    }

    /** Input "x" (1, 1), resizable; {@code rounds} of x = x * x: slow for a large x. */
    static byte[] slow(int rounds) {
        Builder m = new Builder();
        int h = m.tensor("x", new int[] {1, 1}, null);
        int in = h;
        for (int i = 0; i < rounds; i++) {
            int next = m.tensor("h" + i, new int[] {1, 1}, null);
            m.op(MUL, new int[] {h, h}, new int[] {next});
            h = next;
        }
        return m.build(new int[] {in}, new int[] {h});
    }

    /** Collects tensors, buffers and operators, then writes the Model table. */
    private static final class Builder {
        final FlatBufferBuilder b = new FlatBufferBuilder(4096);
        final List<Integer> buffers = new ArrayList<>(List.of(buffer(0))); // buffer 0: empty, by convention
        final List<Integer> tensors = new ArrayList<>();
        final List<Integer> ops = new ArrayList<>();
        final List<Integer> opcodes = new ArrayList<>();

        /** A float32 tensor; with {@code data}, a constant. Returns its index. */
        int tensor(String name, int[] shape, float[] data) {
            int buf = 0;
            if (data != null) {
                ByteBuffer bb = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : data) {
                    bb.putFloat(f);
                }
                byte[] bytes = bb.array();
                b.startVector(1, bytes.length, 16);
                for (int i = bytes.length - 1; i >= 0; i--) {
                    b.addByte(bytes[i]);
                }
                buffers.add(buffer(b.endVector()));
                buf = buffers.size() - 1;
            }
            int s = ints(shape);
            int n = b.createString(name);
            b.startTable(4);
            b.addOffset(0, s, 0);        // shape
            b.addByte(1, (byte) 0, -1);  // type: FLOAT32
            b.addInt(2, buf, -1);        // buffer
            b.addOffset(3, n, 0);        // name
            tensors.add(b.endTable());
            return tensors.size() - 1;
        }

        void op(int builtin, int[] in, int[] out) {
            int idx = opcodes.indexOf(builtin);
            if (idx < 0) {
                opcodes.add(builtin);
                idx = opcodes.size() - 1;
            }
            int i = ints(in);
            int o = ints(out);
            b.startTable(3);
            b.addInt(0, idx, -1); // opcode_index
            b.addOffset(1, i, 0);
            b.addOffset(2, o, 0);
            ops.add(b.endTable());
        }

        byte[] build(int[] inputs, int[] outputs) {
            int tv = offsets(tensors);
            int in = ints(inputs);
            int out = ints(outputs);
            int ov = offsets(ops);
            int name = b.createString("main");
            b.startTable(5);
            b.addOffset(0, tv, 0);
            b.addOffset(1, in, 0);
            b.addOffset(2, out, 0);
            b.addOffset(3, ov, 0);
            b.addOffset(4, name, 0);
            int subgraph = b.endTable();
            List<Integer> codes = new ArrayList<>();
            for (int code : opcodes) {
                b.startTable(4);
                b.addByte(0, (byte) code, -1); // deprecated_builtin_code, read by older runtimes
                b.addInt(2, 1, -1);            // version
                b.addInt(3, code, -1);         // builtin_code
                codes.add(b.endTable());
            }
            int cv = offsets(codes);
            int sv = offsets(List.of(subgraph));
            int bv = offsets(buffers);
            int desc = b.createString("smartsim-launch test model");
            b.startTable(5);
            b.addInt(0, 3, -1); // schema version
            b.addOffset(1, cv, 0);
            b.addOffset(2, sv, 0);
            b.addOffset(3, desc, 0);
            b.addOffset(4, bv, 0);
            b.finish(b.endTable(), "TFL3");
            return b.sizedByteArray();
        }

        int buffer(int data) {
            b.startTable(1);
            if (data != 0) {
                b.addOffset(0, data, 0);
            }
            return b.endTable();
        }

        int ints(int[] v) {
            b.startVector(4, v.length, 4);
            for (int i = v.length - 1; i >= 0; i--) {
                b.addInt(v[i]);
            }
            return b.endVector();
        }

        int offsets(List<Integer> v) {
            b.startVector(4, v.size(), 4);
            for (int i = v.size() - 1; i >= 0; i--) {
                b.addOffset(v.get(i));
            }
            return b.endVector();
        }
    }
}
