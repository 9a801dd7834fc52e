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
    static final int LESS = 58;
    static final int WHILE = 119;
    /** BuiltinOptions union: WhileOptions. */
    static final byte WHILE_OPTIONS = 93;
    /** TensorType BOOL (FLOAT32, the other tensors' type, is 0). */
    static final byte BOOL = 6;

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

    /**
     * Input "x" (1), output "y": {@code while x < 1: x = x * x}, a WHILE over two more subgraphs (cond, body). x = -2
     * gives 4 after one round; for 0 <= x < 1 the loop never ends (x * x stays below 1), so the run goes on until the
     * runtime stops it, whatever the machine's speed.
     */
    static byte[] squareWhileBelowOne() {
        Builder m = new Builder();
        int cx = m.tensor("x", new int[] {1}, null);
        int one = m.tensor("one", new int[] {1}, new float[] {1});
        int below = m.tensor("below", new int[] {1}, BOOL, null);
        m.op(LESS, new int[] {cx, one}, new int[] {below});
        int cond = m.subgraph("cond", new int[] {cx}, new int[] {below});
        int bx = m.tensor("x", new int[] {1}, null);
        int by = m.tensor("y", new int[] {1}, null);
        m.op(MUL, new int[] {bx, bx}, new int[] {by});
        int body = m.subgraph("body", new int[] {bx}, new int[] {by});
        int x = m.tensor("x", new int[] {1}, null);
        int y = m.tensor("y", new int[] {1}, null);
        m.b.startTable(2); // WhileOptions: the subgraphs' indices in the model (main is 0)
        m.b.addInt(0, 1, 0);
        m.b.addInt(1, 2, 0);
        m.op(WHILE, new int[] {x}, new int[] {y}, WHILE_OPTIONS, m.b.endTable());
        int main = m.subgraph("main", new int[] {x}, new int[] {y});
        return m.finish(List.of(main, cond, body));
    }

    /** Collects tensors, buffers and operators, then writes the Model table. */
    private static final class Builder {
        final FlatBufferBuilder b = new FlatBufferBuilder(4096);
        final List<Integer> buffers = new ArrayList<>(List.of(buffer(0))); // buffer 0: empty, by convention
        final List<Integer> tensors = new ArrayList<>();
        final List<Integer> ops = new ArrayList<>();
        final List<Integer> opcodes = new ArrayList<>();

        /** A float32 tensor; with {@code data}, a constant. Returns its index in the subgraph being built. */
        int tensor(String name, int[] shape, float[] data) {
            byte[] bytes = null;
            if (data != null) {
                ByteBuffer bb = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : data) {
                    bb.putFloat(f);
                }
                bytes = bb.array();
            }
            return tensor(name, shape, (byte) 0, bytes);
        }

        /** A tensor of TensorType {@code type}; with {@code bytes}, a constant. */
        int tensor(String name, int[] shape, byte type, byte[] bytes) {
            int buf = 0;
            if (bytes != null) {
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
            b.addByte(1, type, -1);      // type
            b.addInt(2, buf, -1);        // buffer
            b.addOffset(3, n, 0);        // name
            tensors.add(b.endTable());
            return tensors.size() - 1;
        }

        void op(int builtin, int[] in, int[] out) {
            op(builtin, in, out, (byte) 0, 0);
        }

        /** An operator with builtin options ({@code optionsType} of the BuiltinOptions union, 0 for none). */
        void op(int builtin, int[] in, int[] out, byte optionsType, int options) {
            int idx = opcodes.indexOf(builtin);
            if (idx < 0) {
                opcodes.add(builtin);
                idx = opcodes.size() - 1;
            }
            int i = ints(in);
            int o = ints(out);
            b.startTable(5);
            b.addInt(0, idx, -1); // opcode_index
            b.addOffset(1, i, 0);
            b.addOffset(2, o, 0);
            if (optionsType != 0) {
                b.addByte(3, optionsType, 0); // builtin_options_type
                b.addOffset(4, options, 0);   // builtin_options
            }
            ops.add(b.endTable());
        }

        /** The one subgraph of a model. */
        byte[] build(int[] inputs, int[] outputs) {
            return finish(List.of(subgraph("main", inputs, outputs)));
        }

        /** Ends the subgraph of the tensors and operators added since the last one; the next starts empty. */
        int subgraph(String subgraphName, int[] inputs, int[] outputs) {
            int tv = offsets(tensors);
            int in = ints(inputs);
            int out = ints(outputs);
            int ov = offsets(ops);
            int name = b.createString(subgraphName);
            b.startTable(5);
            b.addOffset(0, tv, 0);
            b.addOffset(1, in, 0);
            b.addOffset(2, out, 0);
            b.addOffset(3, ov, 0);
            b.addOffset(4, name, 0);
            int subgraph = b.endTable();
            tensors.clear();
            ops.clear();
            return subgraph;
        }

        /** The Model table: {@code subgraphs} in order, the first being the main one. */
        byte[] finish(List<Integer> subgraphs) {
            List<Integer> codes = new ArrayList<>();
            for (int code : opcodes) {
                b.startTable(4);
                b.addByte(0, (byte) code, -1); // deprecated_builtin_code, read by older runtimes
                b.addInt(2, 1, -1);            // version
                b.addInt(3, code, -1);         // builtin_code
                codes.add(b.endTable());
            }
            int cv = offsets(codes);
            int sv = offsets(subgraphs);
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
