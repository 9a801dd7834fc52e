package io.smartsim.launch.ai;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * How a tensor is kept in Redis: one plain string value per tensor key (the smartsim-ai module writes and reads it;
 * the model server decodes its inputs and encodes its outputs with this), so EXISTS, DEL, UNLINK, RENAME, EXPIRE,
 * DUMP/RESTORE and replication treat it like any other key.
 *
 * <p>Layout 2, written since issue 16's module: the description after the data, so that the module can store a large
 * BLOB argument itself with 8 + 8n bytes appended (as SET keeps its argument) instead of copying it behind a header.
 * <pre>
 * offset 0       d bytes  element bytes, C order, little-endian (as sent with BLOB)
 *        d       n x 8    dimensions, int64 little-endian
 *        d+8n    4 bytes  magic "SSAT" (SmartSim AI tensor)
 *        d+8n+4  1 byte   layout version, 2
 *        d+8n+5  1 byte   dtype code (see {@link DType})
 *        d+8n+6  1 byte   number of dimensions n (0-255)
 *        d+8n+7  1 byte   0 (reserved)
 * </pre>
 * Layout 1, written before, is still read (RDB and AOF files, replicas, {@code --resume} of older data): the same
 * 8 bytes with version 1 at offset 0, then the dimensions, then the data.
 *
 * <p>A value is read as layout 2 when it ends in a layout-2 trailer whose dimensions match the data's length, and
 * otherwise as layout 1 when it starts with a matching layout-1 header. A layout-1 value whose last 8 + 8n bytes
 * happen to form a matching layout-2 trailer (user data ending in "SSAT", 2 and dimensions agreeing with the length)
 * would be misread; nothing writes layout 1 any more. A string in neither layout is not a tensor: AI.TENSORGET
 * answers WRONGTYPE, as RedisAI does for a key of another type.
 */
public final class TensorCodec {
    static final byte[] MAGIC = "SSAT".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 2;
    static final int OLD_VERSION = 1;
    static final int HEADER = 8;

    private TensorCodec() {
    }

    public static byte[] encode(Tensor t) {
        long[] shape = t.shape();
        if (shape.length > 255) {
            throw new AiException("ERR tensors of more than 255 dimensions are not supported");
        }
        byte[] data = t.data();
        ByteBuffer b = ByteBuffer.allocate(data.length + 8 * shape.length + HEADER).order(ByteOrder.LITTLE_ENDIAN);
        b.put(data);
        for (long d : shape) {
            b.putLong(d);
        }
        b.put(MAGIC).put((byte) VERSION).put((byte) t.dtype().code()).put((byte) shape.length).put((byte) 0);
        return b.array();
    }

    /** Layout 1, as written before layout 2: for tests of old data. */
    static byte[] encodeLayout1(Tensor t) {
        long[] shape = t.shape();
        byte[] data = t.data();
        ByteBuffer b = ByteBuffer.allocate(HEADER + 8 * shape.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) OLD_VERSION).put((byte) t.dtype().code()).put((byte) shape.length).put((byte) 0);
        for (long d : shape) {
            b.putLong(d);
        }
        b.put(data);
        return b.array();
    }

    /** The tensor in {@code value}, or empty if the value is in neither layout. */
    public static Optional<Tensor> decode(byte[] value) {
        Optional<Tensor> t = at(value, value.length - HEADER, VERSION);
        return t.isPresent() ? t : at(value, 0, OLD_VERSION);
    }

    /** The tensor whose 8 descriptive bytes are at {@code off}, in the layout of that version. */
    private static Optional<Tensor> at(byte[] value, int off, int version) {
        if (off < 0 || value.length < HEADER || value[off] != MAGIC[0] || value[off + 1] != MAGIC[1]
                || value[off + 2] != MAGIC[2] || value[off + 3] != MAGIC[3] || value[off + 4] != version) {
            return Optional.empty();
        }
        Optional<DType> dtype = DType.ofCode(value[off + 5]);
        int n = value[off + 6] & 0xff;
        if (dtype.isEmpty() || value.length < HEADER + 8 * n) {
            return Optional.empty();
        }
        int dims = version == VERSION ? off - 8 * n : HEADER;
        int data = version == VERSION ? 0 : HEADER + 8 * n;
        ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        long[] shape = new long[n];
        for (int i = 0; i < n; i++) {
            shape[i] = b.getLong(dims + 8 * i);
        }
        byte[] bytes = new byte[value.length - HEADER - 8 * n];
        System.arraycopy(value, data, bytes, 0, bytes.length);
        try {
            return Optional.of(new Tensor(dtype.get(), shape, bytes));
        } catch (AiException e) {
            return Optional.empty();
        }
    }
}
