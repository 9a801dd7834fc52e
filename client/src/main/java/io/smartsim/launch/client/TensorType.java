package io.smartsim.launch.client;

/** Tensor element types, named as on the wire (SmartRedis's {@code include/tensorbase.h}). */
public enum TensorType {
    FLOAT(4), DOUBLE(8), INT8(1), INT16(2), INT32(4), INT64(8), UINT8(1), UINT16(2);

    private final int size;

    TensorType(int size) {
        this.size = size;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }
}
