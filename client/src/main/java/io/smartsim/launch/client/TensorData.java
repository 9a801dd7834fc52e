package io.smartsim.launch.client;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A tensor as stored: type, shape and C-order little-endian element bytes, with typed views.
 *
 * @param type  element type
 * @param shape dimensions
 * @param data  product(shape) x type.size() bytes
 */
public record TensorData(TensorType type, long[] shape, byte[] data) {
    public TensorData {
        shape = shape.clone();
        long n = 1;
        for (long d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a dimension below 1");
            }
            n = Math.multiplyExact(n, d);
        }
        if (n * type.size() != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + type + " needs "
                    + n * type.size() + " bytes, got " + data.length);
        }
    }

    public static TensorData of(float[] values, long... shape) {
        ByteBuffer b = buffer(values.length * 4);
        b.asFloatBuffer().put(values);
        return new TensorData(TensorType.FLOAT, shape, b.array());
    }

    public static TensorData of(double[] values, long... shape) {
        ByteBuffer b = buffer(values.length * 8);
        b.asDoubleBuffer().put(values);
        return new TensorData(TensorType.DOUBLE, shape, b.array());
    }

    public static TensorData of(int[] values, long... shape) {
        ByteBuffer b = buffer(values.length * 4);
        b.asIntBuffer().put(values);
        return new TensorData(TensorType.INT32, shape, b.array());
    }

    public static TensorData of(long[] values, long... shape) {
        ByteBuffer b = buffer(values.length * 8);
        b.asLongBuffer().put(values);
        return new TensorData(TensorType.INT64, shape, b.array());
    }

    /** Signed bytes (INT8). */
    public static TensorData of(byte[] values, long... shape) {
        return new TensorData(TensorType.INT8, shape, values.clone());
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public float[] asFloats() {
        require(TensorType.FLOAT);
        float[] f = new float[data.length / 4];
        wrap().asFloatBuffer().get(f);
        return f;
    }

    public double[] asDoubles() {
        require(TensorType.DOUBLE);
        double[] d = new double[data.length / 8];
        wrap().asDoubleBuffer().get(d);
        return d;
    }

    public int[] asInts() {
        require(TensorType.INT32);
        int[] v = new int[data.length / 4];
        wrap().asIntBuffer().get(v);
        return v;
    }

    public long[] asLongs() {
        require(TensorType.INT64);
        long[] v = new long[data.length / 8];
        wrap().asLongBuffer().get(v);
        return v;
    }

    private void require(TensorType t) {
        if (type != t) {
            throw new IllegalStateException("tensor holds " + type + ", not " + t);
        }
    }

    private ByteBuffer wrap() {
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer buffer(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t && t.type == type && Arrays.equals(t.shape, shape) && Arrays.equals(t.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * type.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }
}
