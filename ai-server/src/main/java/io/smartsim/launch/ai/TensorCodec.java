package io.smartsim.launch.ai;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * How a tensor is kept in the backing Redis: one plain string value per tensor key, so the key survives a restart of
 * the front, and EXISTS, DEL, UNLINK, RENAME, EXPIRE, DUMP/RESTORE and replication treat it like any other key.
 *
 * <pre>
 * offset 0  4 bytes  magic "SSAT" (SmartSim AI tensor)
 *        4  1 byte   layout version, 1
 *        5  1 byte   dtype code (see {@link DType})
 *        6  1 byte   number of dimensions n (0-255)
 *        7  1 byte   0 (reserved)
 *        8  n x 8    dimensions, int64 little-endian
 *   8+8n    rest     element bytes, C order, little-endian (as sent with BLOB)
 * </pre>
 *
 * A string that does not start with this header is not a tensor: AI.TENSORGET answers WRONGTYPE, as RedisAI does for
 * a key of another type.
 */
public final class TensorCodec {
    static final byte[] MAGIC = "SSAT".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER = 8;

    private TensorCodec() {
    }

    public static byte[] encode(Tensor t) {
        long[] shape = t.shape();
        if (shape.length > 255) {
            throw new AiException("ERR tensors of more than 255 dimensions are not supported");
        }
        byte[] data = t.data();
        ByteBuffer b = ByteBuffer.allocate(HEADER + 8 * shape.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) VERSION).put((byte) t.dtype().code()).put((byte) shape.length).put((byte) 0);
        for (long d : shape) {
            b.putLong(d);
        }
        b.put(data);
        return b.array();
    }

    /** The tensor in {@code value}, or empty if the value is not in this layout. */
    public static Optional<Tensor> decode(byte[] value) {
        if (value.length < HEADER || value[0] != MAGIC[0] || value[1] != MAGIC[1] || value[2] != MAGIC[2]
                || value[3] != MAGIC[3] || value[4] != VERSION) {
            return Optional.empty();
        }
        Optional<DType> dtype = DType.ofCode(value[5]);
        int n = value[6] & 0xff;
        if (dtype.isEmpty() || value.length < HEADER + 8 * n) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        long[] shape = new long[n];
        for (int i = 0; i < n; i++) {
            shape[i] = b.getLong(HEADER + 8 * i);
        }
        int off = HEADER + 8 * n;
        byte[] data = new byte[value.length - off];
        System.arraycopy(value, off, data, 0, data.length);
        try {
            return Optional.of(new Tensor(dtype.get(), shape, data));
        } catch (AiException e) {
            return Optional.empty();
        }
    }
}
