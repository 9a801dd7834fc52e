package io.smartsim.launch.ai;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A stored model: one Redis hash per model key, so it survives a restart of the front and can be read by
 * AI.MODELGET without loading it.
 *
 * <pre>
 * field            value
 * type             "smartsim.ai/model/1" (marks the hash as a model; any other hash is WRONGTYPE)
 * id               a random id made at each AI.MODELSTORE; the front's loaded copy is valid while it matches
 * backend, device  as given to AI.MODELSTORE (backend upper-cased)
 * tag              the TAG, or empty
 * batchsize, minbatchsize, minbatchtimeout   decimal
 * inputs, outputs  names, each a 4-byte little-endian length and the bytes
 * blob             the model bytes, the chunks joined
 * </pre>
 */
public record ModelRecord(String id, String backend, String device, byte[] tag, long batchSize, long minBatchSize,
                          long minBatchTimeout, List<String> inputs, List<String> outputs) {
    public static final String TYPE_MARK = "smartsim.ai/model/1";
    /** Fields read for metadata, in this order (blob is separate: it can be large). */
    public static final List<String> META_FIELDS = List.of("type", "id", "backend", "device", "tag", "batchsize",
            "minbatchsize", "minbatchtimeout", "inputs", "outputs");

    public ModelRecord {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        tag = tag.clone();
    }

    @Override
    public byte[] tag() {
        return tag.clone();
    }

    /** HSET arguments after the key: field, value, ... including the blob. */
    public List<byte[]> hsetArgs(byte[] blob) {
        List<byte[]> a = new ArrayList<>();
        add(a, "type", bytes(TYPE_MARK));
        add(a, "id", bytes(id));
        add(a, "backend", bytes(backend));
        add(a, "device", bytes(device));
        add(a, "tag", tag);
        add(a, "batchsize", bytes(Long.toString(batchSize)));
        add(a, "minbatchsize", bytes(Long.toString(minBatchSize)));
        add(a, "minbatchtimeout", bytes(Long.toString(minBatchTimeout)));
        add(a, "inputs", encodeNames(inputs));
        add(a, "outputs", encodeNames(outputs));
        add(a, "blob", blob);
        return a;
    }

    /**
     * Reads the values of {@link #META_FIELDS} (an HMGET reply). Empty values mean "not a model": the caller tells
     * a missing key from a key of another kind.
     */
    public static java.util.Optional<ModelRecord> fromMeta(List<Object> values) {
        if (values.size() != META_FIELDS.size() || !(values.get(0) instanceof byte[] mark)
                || !TYPE_MARK.equals(new String(mark, StandardCharsets.UTF_8))) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(new ModelRecord(str(values.get(1)), str(values.get(2)), str(values.get(3)),
                    values.get(4) instanceof byte[] t ? t : new byte[0], Long.parseLong(str(values.get(5))),
                    Long.parseLong(str(values.get(6))), Long.parseLong(str(values.get(7))),
                    decodeNames((byte[]) values.get(8)), decodeNames((byte[]) values.get(9))));
        } catch (RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    private static String str(Object o) {
        return new String((byte[]) o, StandardCharsets.UTF_8);
    }

    private static void add(List<byte[]> a, String field, byte[] value) {
        a.add(bytes(field));
        a.add(value);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] encodeNames(List<String> names) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String n : names) {
            byte[] b = bytes(n);
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    static List<String> decodeNames(byte[] b) {
        List<String> names = new ArrayList<>();
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        while (buf.remaining() >= 4) {
            int len = buf.getInt();
            byte[] n = new byte[len];
            buf.get(n);
            names.add(new String(n, StandardCharsets.UTF_8));
        }
        return names;
    }
}
