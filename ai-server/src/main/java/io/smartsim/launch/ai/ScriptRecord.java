package io.smartsim.launch.ai;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A stored script: one Redis hash per script key, like {@link ModelRecord}.
 *
 * <pre>
 * field        value
 * type         "smartsim.ai/script/1" (marks the hash as a script)
 * id           a random id made at each AI.SCRIPTSET / AI.SCRIPTSTORE
 * device       as given
 * tag          the TAG, or empty
 * entrypoints  the ENTRY_POINTS of AI.SCRIPTSTORE (none for AI.SCRIPTSET), each a 4-byte little-endian length and
 *              the bytes
 * source       the script's source text, as sent
 * </pre>
 */
public record ScriptRecord(String id, String device, byte[] tag, List<String> entryPoints) {
    public static final String TYPE_MARK = "smartsim.ai/script/1";
    /** Fields read for metadata, in this order (source is separate). */
    public static final List<String> META_FIELDS = List.of("type", "id", "device", "tag", "entrypoints");

    public ScriptRecord {
        tag = tag.clone();
        entryPoints = List.copyOf(entryPoints);
    }

    @Override
    public byte[] tag() {
        return tag.clone();
    }

    /** HSET arguments after the key: field, value, ... including the source. */
    public List<byte[]> hsetArgs(byte[] source) {
        List<byte[]> a = new ArrayList<>();
        a.add(ModelRecord.bytes("type"));
        a.add(ModelRecord.bytes(TYPE_MARK));
        a.add(ModelRecord.bytes("id"));
        a.add(ModelRecord.bytes(id));
        a.add(ModelRecord.bytes("device"));
        a.add(ModelRecord.bytes(device));
        a.add(ModelRecord.bytes("tag"));
        a.add(tag);
        a.add(ModelRecord.bytes("entrypoints"));
        a.add(ModelRecord.encodeNames(entryPoints));
        a.add(ModelRecord.bytes("source"));
        a.add(source);
        return a;
    }

    /** Reads the values of {@link #META_FIELDS} (an HMGET reply); empty when the hash is not a script. */
    public static Optional<ScriptRecord> fromMeta(List<Object> values) {
        if (values.size() != META_FIELDS.size() || !(values.get(0) instanceof byte[] mark)
                || !TYPE_MARK.equals(new String(mark, StandardCharsets.UTF_8))) {
            return Optional.empty();
        }
        try {
            return Optional.of(new ScriptRecord(str(values.get(1)), str(values.get(2)),
                    values.get(3) instanceof byte[] t ? t : new byte[0], ModelRecord.decodeNames((byte[]) values.get(4))));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String str(Object o) {
        return new String((byte[]) o, StandardCharsets.UTF_8);
    }
}
