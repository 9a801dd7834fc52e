package io.smartsim.launch.client;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A named group of tensors and metadata, stored as SmartRedis stores a DataSet (shared/notes/redisai.md section 5), so
 * a Java reader sees what a C, C++, Fortran or Python writer stored and the other way round: the tensors under
 * {@code {name}.<tensor>}, the metadata in the hash {@code {name}.meta}, one field per metadata name holding a type byte
 * (SmartRedis's {@code SRMetadataType}) and then the values, the tensor names in the string field
 * {@code .tensor_names}. Metadata fields hold lists: each {@code addMeta...} call appends one value to the field, whose
 * type its first value fixes. Not thread-safe.
 */
public final class Dataset {
    /** SmartRedis's metadata types, with their type byte ({@code SRMetadataType} in {@code include/sr_enums.h}). */
    public enum MetaType {
        DOUBLE(1, 8), FLOAT(2, 4), INT32(3, 4), INT64(4, 8), UINT32(5, 4), UINT64(6, 8), STRING(7, 0);

        final int code;
        final int size;

        MetaType(int code, int size) {
            this.code = code;
            this.size = size;
        }

        static MetaType of(int code) {
            for (MetaType t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            throw new ClientException("metadata type byte " + code + " is none of SmartRedis's (1 double .. 7 string)");
        }
    }

    /** The hash field listing the tensors (a string list), as SmartRedis names it. */
    static final String TENSOR_NAMES = ".tensor_names";

    private final String name;
    private final Map<String, TensorData> tensors = new LinkedHashMap<>();
    /** Field name to its encoded value (type byte, then values), as stored in the hash. */
    private final Map<String, byte[]> meta = new LinkedHashMap<>();

    public Dataset(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a dataset needs a name");
        }
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** Adds (or replaces) a tensor; its name is recorded in {@code .tensor_names}. */
    public Dataset addTensor(String tensorName, TensorData t) {
        if (tensorName.isEmpty() || tensorName.startsWith(".")) {
            throw new IllegalArgumentException("tensor name '" + tensorName + "' is empty or starts with '.'");
        }
        if (tensors.put(tensorName, t) == null) {
            appendString(TENSOR_NAMES, tensorName);
        }
        return this;
    }

    public TensorData getTensor(String tensorName) {
        TensorData t = tensors.get(tensorName);
        if (t == null) {
            throw new ClientException("dataset " + name + " holds no tensor '" + tensorName + "' (it holds "
                    + tensors.keySet() + ")");
        }
        return t;
    }

    /** The tensor names, in the order they were added. */
    public List<String> tensorNames() {
        return List.copyOf(tensors.keySet());
    }

    public Dataset addMetaScalar(String field, double v) {
        return appendScalar(field, MetaType.DOUBLE, buf(8).putDouble(v));
    }

    public Dataset addMetaScalar(String field, float v) {
        return appendScalar(field, MetaType.FLOAT, buf(4).putFloat(v));
    }

    public Dataset addMetaScalar(String field, int v) {
        return appendScalar(field, MetaType.INT32, buf(4).putInt(v));
    }

    public Dataset addMetaScalar(String field, long v) {
        return appendScalar(field, MetaType.INT64, buf(8).putLong(v));
    }

    public Dataset addMetaString(String field, String v) {
        checkField(field);
        return appendString(field, v);
    }

    /** The user's metadata field names (not SmartRedis's internal ones, which start with '.'). */
    public List<String> metaFieldNames() {
        return meta.keySet().stream().filter(f -> !f.startsWith(".")).toList();
    }

    public MetaType metaType(String field) {
        return MetaType.of(field(field)[0]);
    }

    public double[] getMetaDoubles(String field) {
        ByteBuffer b = values(field, MetaType.DOUBLE);
        double[] v = new double[b.remaining() / 8];
        b.asDoubleBuffer().get(v);
        return v;
    }

    public float[] getMetaFloats(String field) {
        ByteBuffer b = values(field, MetaType.FLOAT);
        float[] v = new float[b.remaining() / 4];
        b.asFloatBuffer().get(v);
        return v;
    }

    /** INT32 values, or UINT32 ones as their bits. */
    public int[] getMetaInts(String field) {
        ByteBuffer b = values(field, MetaType.INT32, MetaType.UINT32);
        int[] v = new int[b.remaining() / 4];
        b.asIntBuffer().get(v);
        return v;
    }

    /** INT64 values, or UINT64 ones as their bits. */
    public long[] getMetaLongs(String field) {
        ByteBuffer b = values(field, MetaType.INT64, MetaType.UINT64);
        long[] v = new long[b.remaining() / 8];
        b.asLongBuffer().get(v);
        return v;
    }

    public List<String> getMetaStrings(String field) {
        ByteBuffer b = values(field, MetaType.STRING);
        List<String> out = new ArrayList<>();
        while (b.hasRemaining()) {
            if (b.remaining() < 8) {
                throw corrupt(field, "a string length is cut short");
            }
            long n = b.getLong();
            if (n < 0 || n > b.remaining()) {
                throw corrupt(field, "a string of " + n + " bytes runs past the field's end");
            }
            byte[] s = new byte[(int) n];
            b.get(s);
            out.add(new String(s, StandardCharsets.UTF_8));
        }
        return out;
    }

    // ------------------------------------------------------------ storage form (for Client)

    /** The names in {@code .tensor_names}. */
    List<String> getMetaStringsInternal() {
        return getMetaStrings(TENSOR_NAMES);
    }

    /** The hash fields as stored, internal ones included. */
    Map<String, byte[]> encodedMeta() {
        return Collections.unmodifiableMap(meta);
    }

    Map<String, TensorData> tensorMap() {
        return Collections.unmodifiableMap(tensors);
    }

    /** Takes a field as read from the hash (checking its type byte). */
    void putEncoded(String field, byte[] value) {
        if (value.length == 0) {
            throw corrupt(field, "the value is empty, without even a type byte");
        }
        MetaType t = MetaType.of(value[0]);
        if (t != MetaType.STRING && (value.length - 1) % t.size != 0) {
            throw corrupt(field, (value.length - 1) + " value bytes are not a whole number of " + t);
        }
        meta.put(field, value.clone());
    }

    void putTensorRead(String tensorName, TensorData t) {
        tensors.put(tensorName, t);
    }

    // ------------------------------------------------------------ encoding

    private Dataset appendScalar(String field, MetaType t, ByteBuffer value) {
        checkField(field);
        return append(field, t, value.array());
    }

    private Dataset appendString(String field, String v) {
        byte[] s = v.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = buf(8 + s.length).putLong(s.length).put(s);
        return append(field, MetaType.STRING, b.array());
    }

    private Dataset append(String field, MetaType t, byte[] value) {
        byte[] old = meta.get(field);
        if (old != null && old[0] != t.code) {
            throw new IllegalArgumentException("metadata field '" + field + "' holds " + MetaType.of(old[0])
                    + " values; it cannot take a " + t);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (old == null) {
            out.write(t.code);
        } else {
            out.writeBytes(old);
        }
        out.writeBytes(value);
        meta.put(field, out.toByteArray());
        return this;
    }

    private static void checkField(String field) {
        if (field.isEmpty() || field.startsWith(".")) {
            throw new IllegalArgumentException("metadata field '" + field + "' is empty or starts with '.', which "
                    + "SmartRedis keeps for its own fields");
        }
    }

    private byte[] field(String field) {
        byte[] v = meta.get(field);
        if (v == null) {
            throw new ClientException("dataset " + name + " has no metadata field '" + field + "' (it has "
                    + metaFieldNames() + ")");
        }
        return v;
    }

    private ByteBuffer values(String field, MetaType... accepted) {
        byte[] v = field(field);
        MetaType t = MetaType.of(v[0]);
        for (MetaType a : accepted) {
            if (a == t) {
                return ByteBuffer.wrap(v, 1, v.length - 1).slice().order(ByteOrder.LITTLE_ENDIAN);
            }
        }
        throw new ClientException("metadata field '" + field + "' of dataset " + name + " holds " + t + " values, not "
                + accepted[0]);
    }

    private ClientException corrupt(String field, String why) {
        return new ClientException("metadata field '" + field + "' of dataset " + name + " is not in SmartRedis's "
                + "encoding: " + why);
    }

    private static ByteBuffer buf(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
