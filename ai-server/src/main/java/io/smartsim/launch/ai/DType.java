package io.smartsim.launch.ai;

import java.util.Locale;
import java.util.Optional;

/**
 * The tensor element types SmartRedis sends ({@code include/tensorbase.h}): the names on the wire, their sizes, and
 * a stable one-byte code for the stored layout (see {@link TensorCodec}). BOOL and STRING tensors, which RedisAI also
 * has, are never sent by SmartRedis and are not supported here.
 */
public enum DType {
    FLOAT(1, 4, true),
    DOUBLE(2, 8, true),
    INT8(3, 1, false),
    INT16(4, 2, false),
    INT32(5, 4, false),
    INT64(6, 8, false),
    UINT8(7, 1, false),
    UINT16(8, 2, false);

    private final int code;
    private final int size;
    private final boolean floating;

    DType(int code, int size, boolean floating) {
        this.code = code;
        this.size = size;
        this.floating = floating;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    public boolean floating() {
        return floating;
    }

    int code() {
        return code;
    }

    /** The wire name, case-insensitive as RedisAI's {@code strcasecmp}. */
    public static Optional<DType> parse(String name) {
        try {
            return Optional.of(valueOf(name.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    static Optional<DType> ofCode(int code) {
        for (DType t : values()) {
            if (t.code == code) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
