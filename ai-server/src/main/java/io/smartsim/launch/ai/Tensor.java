package io.smartsim.launch.ai;

import java.util.Arrays;

/**
 * A dense tensor as on the wire: element type, shape, and C-order element bytes in the host's byte order
 * (little-endian here). The data array is shared, not copied: whoever builds a tensor hands the bytes over.
 *
 * @param dtype element type
 * @param shape dimensions, each at least 1; at least one dimension
 * @param data  exactly product(shape) x dtype.size() bytes
 */
public record Tensor(DType dtype, long[] shape, byte[] data) {

    public Tensor {
        if (dtype == null || shape == null || data == null) {
            throw new IllegalArgumentException("dtype, shape and data are required");
        }
        shape = shape.clone();
        long n = elementCount(shape);
        if (n < 0 || n * dtype.size() != data.length) {
            throw new AiException("ERR data length does not match tensor shape and type");
        }
    }

    /** Number of elements, or -1 if a dimension is below 1 or the product overflows. */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 1) {
                return -1;
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long elements() {
        return data.length / dtype.size();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && t.dtype == dtype && Arrays.equals(t.shape, shape) && Arrays.equals(t.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + Arrays.toString(shape) + ", " + data.length + " bytes]";
    }
}
