package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The module against the Java front it replaced, byte for byte: the same commands go to a redis-server with the module
 * loaded, and every reply must be the bytes the front answered (ai-server's front, no backend, before a plain
 * redis-server; recorded from it before its removal in issue 16: {@link Golden}). The commands are SmartRedis 0.6.1's
 * tensor and dataset sequences (shared/notes/redisai.md, section 1), the other forms the front answered (VALUES, META
 * alone, zeros), and bad input for every error text of AI.TENSORSET and AI.TENSORGET. The stored values are compared
 * too (GET): the module keeps the documented layout.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TensorWireIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    static final String[] DTYPES = {"FLOAT", "DOUBLE", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16"};
    static final int[] SIZES = {4, 8, 1, 2, 4, 8, 1, 2};

    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[][] cmd(Object... args) {
        byte[][] a = new byte[args.length][];
        for (int i = 0; i < args.length; i++) {
            a[i] = args[i] instanceof byte[] bytes ? bytes : b(String.valueOf(args[i]));
        }
        return a;
    }

    static byte[] random(Random r, int n) {
        byte[] x = new byte[n];
        r.nextBytes(x);
        return x;
    }

    static byte[] floats(float... v) {
        ByteBuffer bb = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            bb.putFloat(f);
        }
        return bb.array();
    }

    /** A reply as readable text: printable ASCII as it is, every other byte as \xNN. */
    static String show(byte[] reply) {
        StringBuilder s = new StringBuilder();
        for (byte x : reply) {
            int c = x & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '\\') {
                s.append((char) c);
            } else {
                s.append("\\x").append(HexFormat.of().toHexDigits((byte) c));
            }
        }
        return s.toString();
    }

    /**
     * Sends each pipeline of {@code calls}, in order, and returns every reply as an entry "command -> reply" (the
     * command's first words, the reply byte for byte as {@link #show} writes it), for {@link Golden#check}.
     */
    static List<String> replies(RawReplies to, List<List<byte[][]>> calls) throws Exception {
        List<String> out = new ArrayList<>();
        for (List<byte[][]> call : calls) {
            List<byte[]> r = to.pipeline(call);
            for (int j = 0; j < call.size(); j++) {
                out.add(label(call.get(j)) + " -> " + show(r.get(j)));
            }
        }
        return out;
    }

    /** The entry of one command sent on its own, as {@link #replies} writes it. */
    static String reply(RawReplies to, byte[]... command) throws Exception {
        return replies(to, List.<List<byte[][]>>of(List.<byte[][]>of(command))).get(0);
    }

    /** The first words of a command, for the failure message. */
    static String label(byte[][] command) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(3, command.length); i++) {
            s.append(i > 0 ? " " : "").append(show(command[i]));
        }
        return s.length() > 60 ? s.substring(0, 60) : s.toString();
    }

    /** SmartRedis's sequences, one pipeline per API call, as the notes give them. */
    static List<List<byte[][]>> smartRedisSequences() {
        Random r = new Random(16);
        List<List<byte[][]>> calls = new ArrayList<>();
        for (int t = 0; t < DTYPES.length; t++) {
            String k = "tensor." + DTYPES[t];
            byte[] data = random(r, 2 * 3 * SIZES[t]);
            calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", k, DTYPES[t], 2, 3, "BLOB", data)));   // put_tensor
            calls.add(List.<byte[][]>of(cmd("EXISTS", k)));                                        // tensor_exists / poll
            calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", k, "META", "BLOB")));                  // get_tensor
            // copy_tensor: get, then put the same dtype, dims and bytes under the new key
            calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", k + ".copy", DTYPES[t], 2, 3, "BLOB", data)));
            calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", k + ".copy", "META", "BLOB")));
            calls.add(List.<byte[][]>of(cmd("RENAME", k + ".copy", k + ".renamed")));               // rename_tensor, same slot
            calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", k + ".renamed", "META", "BLOB")));
            calls.add(List.<byte[][]>of(cmd("UNLINK", k + ".renamed")));                            // delete_tensor (cluster)
            calls.add(List.<byte[][]>of(cmd("EXISTS", k + ".renamed")));
        }
        // One large tensor (1 MiB of floats), as a simulation's field would be.
        byte[] big = random(r, 1 << 20);
        calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", "field", "FLOAT", 512, 512, "BLOB", big)));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", "field", "META", "BLOB")));
        calls.add(List.<byte[][]>of(cmd("DEL", "field")));
        // put_dataset: one pipeline, then dataset_exists, get_dataset, delete_dataset
        calls.add(List.<byte[][]>of(cmd("DEL", "{ds}.meta"),
                cmd("HMSET", "{ds}.meta", "label", b("\u0007\u0005\0\0\0\0\0\0\0hello"), ".tensor_names", "u,v"),
                cmd("AI.TENSORSET", "{ds}.u", "FLOAT", 3, "BLOB", floats(1, 2, 3)),
                cmd("AI.TENSORSET", "{ds}.v", "INT64", 1, 1, "BLOB", random(r, 8)),
                cmd("HSET", "{ds}.meta", ".COMPLETE", "1")));
        calls.add(List.<byte[][]>of(cmd("HEXISTS", "{ds}.meta", ".COMPLETE")));
        calls.add(List.<byte[][]>of(cmd("HGETALL", "{ds}.meta")));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", "{ds}.u", "META", "BLOB"), cmd("AI.TENSORGET", "{ds}.v", "META", "BLOB")));
        calls.add(List.<byte[][]>of(cmd("HGETALL", "{ds}.meta")));
        calls.add(List.<byte[][]>of(cmd("DEL", "{ds}.meta", "{ds}.u", "{ds}.v")));
        // A dataset pipeline whose tensor put fails: the later HSET still runs (the notes, section 2).
        calls.add(List.<byte[][]>of(cmd("DEL", "{bad}.meta"), cmd("HMSET", "{bad}.meta", "f", "v"),
                cmd("AI.TENSORSET", "{bad}.u", "FLOAT", 3, "BLOB", floats(1, 2)),
                cmd("HSET", "{bad}.meta", ".COMPLETE", "1")));
        calls.add(List.<byte[][]>of(cmd("HGETALL", "{bad}.meta"), cmd("EXISTS", "{bad}.u")));
        return calls;
    }

    /** The other forms the front answers, and bad input for each of its error texts. */
    static List<List<byte[][]>> otherForms() {
        List<List<byte[][]>> calls = new ArrayList<>();
        for (String t : DTYPES) {
            String k = "values." + t;
            calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", k, t.toLowerCase(), 2, 2, "VALUES", 1, -2, 127, 0)));
            calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", k, "VALUES")));
            calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", k, "META", "VALUES")));
            calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", k, "META")));
            calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", k, "BLOB")));
            calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", k)));
            calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", "zeros." + t, t, 3, 1)));                // no data: zeros
            calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", "zeros." + t, "meta", "values")));
            calls.add(List.<byte[][]>of(cmd("GET", "zeros." + t)));
        }
        // Values that narrow, round and overflow as the front's casts do; float formatting (%.17g).
        calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", "wrap", "INT8", 4, "VALUES", 300, -129, 255, "+7")));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", "wrap", "VALUES")));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", "u16", "UINT16", 2, "VALUES", 65535, -1)));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", "u16", "VALUES")));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", "f", "FLOAT", 8, "VALUES", "0.1", "1e-5", "-0", "3.4e39", "1e300", "NaN",
                "-Infinity", "2.5f")));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", "f", "VALUES")));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", "d", "DOUBLE", 6, "VALUES", "0.1", "1e22", "123456789012345678", "1e-320",
                " 7 ", "0x1.8p1")));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", "d", "META", "VALUES")));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", "i64", "INT64", 2, "VALUES", "9223372036854775807",
                "-9223372036854775808")));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", "i64", "VALUES")));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", "scalar", "FLOAT", "BLOB", floats(5))));    // no dimension at all
        calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", "scalar")));
        calls.add(List.<byte[][]>of(cmd("GET", "scalar")));
        // Overwrites whatever the key held, as SET does.
        calls.add(List.<byte[][]>of(cmd("HSET", "was.hash", "a", "b"), cmd("AI.TENSORSET", "was.hash", "INT8", 1),
                cmd("TYPE", "was.hash"), cmd("AI.TENSORGET", "was.hash", "VALUES")));
        // Overwriting a string of the same size (the module writes over it in place): no time to live after it, as
        // SET; an int-encoded string; a bad value leaves the old tensor whole.
        calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", "same", "INT16", 2, "VALUES", 1, 2),
                cmd("EXPIRE", "same", 100), cmd("AI.TENSORSET", "same", "UINT16", 2, "VALUES", 3, 4),
                cmd("TTL", "same"), cmd("AI.TENSORGET", "same", "META", "VALUES"),
                cmd("AI.TENSORSET", "same", "INT16", 2, "VALUES", 5, "x"), cmd("AI.TENSORGET", "same", "VALUES"),
                cmd("AI.TENSORSET", "same", "INT8", 4, "BLOB", "abcd"), cmd("AI.TENSORGET", "same"),
                cmd("SET", "num", "1234567890123456"), cmd("OBJECT", "ENCODING", "num"),
                cmd("AI.TENSORSET", "num", "INT64", "BLOB", "12345678"), cmd("AI.TENSORGET", "num", "META", "BLOB"),
                cmd("SET", "emb", "0123456789abcdef"), cmd("AI.TENSORSET", "emb", "UINT8", "BLOB", "z"),
                cmd("STRLEN", "emb"), cmd("AI.TENSORSET", "emb", "UINT8", 1, "BLOB", "y"),
                cmd("AI.TENSORGET", "emb", "VALUES")));
        // Errors of AI.TENSORSET
        calls.add(List.<byte[][]>of(cmd("AI.TENSORSET"), cmd("AI.TENSORSET", "k"), cmd("ai.tensorset", "k", "FLOAT"),
                cmd("AI.TENSORSET", "k", "FLOAT16", 1, "BLOB", "xx"),
                cmd("AI.TENSORSET", "k", "FLOAT", 0, "BLOB", ""),
                cmd("AI.TENSORSET", "k", "FLOAT", -1, "BLOB", ""),
                cmd("AI.TENSORSET", "k", "FLOAT", "two", "BLOB", "12345678"),
                cmd("AI.TENSORSET", "k", "FLOAT", "99999999999999999999", "BLOB", ""),
                cmd("AI.TENSORSET", "k", "FLOAT", "3037000500", "3037000500", "BLOB", ""),
                cmd("AI.TENSORSET", "k", "FLOAT", 2, "BLOB", "1234567"),
                cmd("AI.TENSORSET", "k", "FLOAT", 2, "BLOB", "12345678", "extra"),
                cmd("AI.TENSORSET", "k", "FLOAT", 2, "BLOB"),
                cmd("AI.TENSORSET", "k", "FLOAT", 2, "VALUES", 1),
                cmd("AI.TENSORSET", "k", "FLOAT", 2, "VALUES", 1, 2, 3),
                cmd("AI.TENSORSET", "k", "INT32", 2, "VALUES", 1, "1.5"),
                cmd("AI.TENSORSET", "k", "INT32", 1, "VALUES", "9223372036854775808"),
                cmd("AI.TENSORSET", "k", "FLOAT", 1, "VALUES", "abc"),
                cmd("AI.TENSORSET", "k", "FLOAT", 1, "VALUES", "inf"),
                cmd("AI.TENSORSET", "k", "DOUBLE", 1, "VALUES", ""),
                cmd("AI.TENSORSET", "k", "FLOAT", 536870897),
                cmd("AI.TENSORSET", "k", "UINT8", 2147483584),
                cmd("EXISTS", "k")));
        // 256 dimensions of 1: parsed, then refused when stored, after the data checks
        List<Object> many = new ArrayList<>(List.of("AI.TENSORSET", "k", "INT8"));
        many.addAll(Collections.nCopies(256, 1));
        List<Object> manyBadBlob = new ArrayList<>(many);
        manyBadBlob.addAll(List.of("BLOB", "xx"));
        List<Object> manyValues = new ArrayList<>(many);
        manyValues.addAll(List.of("VALUES", 1));
        List<Object> manyBadValues = new ArrayList<>(many);
        manyBadValues.addAll(List.of("VALUES", "x"));
        List<Object> max = new ArrayList<>(List.of("AI.TENSORSET", "k255", "INT8"));
        max.addAll(Collections.nCopies(255, 1));
        max.addAll(List.of("VALUES", 9));
        calls.add(List.<byte[][]>of(cmd(many.toArray()), cmd(manyBadBlob.toArray()), cmd(manyValues.toArray()),
                cmd(manyBadValues.toArray()), cmd(max.toArray()), cmd("AI.TENSORGET", "k255", "META", "VALUES")));
        // Errors of AI.TENSORGET: arity, missing key first, then the format words
        calls.add(List.<byte[][]>of(cmd("AI.TENSORGET"), cmd("AI.TENSORGET", "values.FLOAT", "META", "BLOB", "VALUES", "x"),
                cmd("AI.TENSORGET", "missing"), cmd("AI.TENSORGET", "missing", "BAD"),
                cmd("AI.TENSORGET", "values.FLOAT", "BAD"), cmd("AI.TENSORGET", "values.FLOAT", "BLOB", "VALUES"),
                cmd("AI.TENSORGET", "values.FLOAT", "blob", "blob", "meta"),
                cmd("SET", "plain", "hello"), cmd("AI.TENSORGET", "plain"),
                cmd("SET", "almost", b("SSAT\u0001\u0001\u0001\0\u0002\0\0\0\0\0\0\0")),
                cmd("AI.TENSORGET", "almost"),
                // layout 2 with dimensions (2) not matching the data's length (1 byte of UINT8)
                cmd("SET", "almost2", b("\u0007\u0002\0\0\0\0\0\0\0SSAT\u0002\u0007\u0001\0")),
                cmd("AI.TENSORGET", "almost2"),
                // layout 1, written before layout 2 (RDB, AOF, older replicas): still read
                cmd("SET", "layout1", b("SSAT\u0001\u0004\u0001\0\u0002\0\0\0\0\0\0\0\u0001\0\u0002\0")),
                cmd("AI.TENSORGET", "layout1", "META", "VALUES"), cmd("AI.TENSORGET", "layout1", "BLOB"),
                cmd("RPUSH", "list", "x"), cmd("AI.TENSORGET", "list", "META")));
        return calls;
    }

    /** The exact bytes for one known tensor, so that the comparison below cannot pass with both sides wrong. */
    @Test
    void knownTensorHasTheNotesReplyAndTheDocumentedLayout() throws Exception {
        try (ModuleRedis module = ModuleRedis.withModule(dir.resolve("module"), leftovers.freeBase(1));
             RawReplies c = new RawReplies(module.port())) {
            byte[] data = floats(1.5f, -2f);
            assertThat(show(c.call(cmd("AI.TENSORSET", "t", "FLOAT", 1, 2, "BLOB", data))))
                    .isEqualTo(show(b("+OK\r\n")));
            String blob = show(data);
            assertThat(show(c.call(cmd("AI.TENSORGET", "t", "META", "BLOB")))).isEqualTo(show(b(
                    "*6\r\n$5\r\ndtype\r\n$5\r\nFLOAT\r\n$5\r\nshape\r\n*2\r\n:1\r\n:2\r\n$4\r\nblob\r\n$8\r\n"))
                    + blob + "\\x0d\\x0a");
            // layout 2: the data; then 1 and 2 as int64 little-endian; then SSAT, version 2, dtype FLOAT (1),
            // 2 dimensions, 0
            assertThat(show(c.call(cmd("GET", "t")))).isEqualTo("$32\\x0d\\x0a" + blob
                    + "\\x01" + "\\x00".repeat(7) + "\\x02" + "\\x00".repeat(7) + "SSAT\\x02\\x01\\x02\\x00\\x0d\\x0a");
            // a large BLOB becomes the stored value with the same 24 bytes appended (its dimensions 8 and 8192)
            byte[] big = new byte[8 * 8192 * 4];
            new java.util.Random(16).nextBytes(big);
            assertThat(show(c.call(cmd("AI.TENSORSET", "big", "FLOAT", 8, 8192, "BLOB", big)))).isEqualTo("+OK\\x0d\\x0a");
            byte[] stored = c.call(cmd("GET", "big"));
            byte[] want = java.nio.ByteBuffer.allocate(big.length + 24).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                    .put(big).putLong(8).putLong(8192).put(b("SSAT\u0002\u0001\u0002\u0000")).array();
            assertThat(show(stored)).isEqualTo(show(b("$" + want.length + "\r\n")) + show(want) + "\\x0d\\x0a");
            assertThat(show(c.call(cmd("AI.MODELSTORE", "m", "ONNX", "CPU", "BLOB", "x"))))
                    .isEqualTo(show(b("-ERR Backend not loaded: ONNX\r\n"))); // loaded without BACKENDS
            // the same tensor in layout 1 (as stored before layout 2: RDB, AOF, older replicas) reads the same
            byte[] old = java.nio.ByteBuffer.allocate(32).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                    .put(b("SSAT\u0001\u0001\u0002\u0000")).putLong(1).putLong(2).put(data).array();
            assertThat(show(c.call(cmd("SET", "old", old)))).isEqualTo("+OK\\x0d\\x0a");
            assertThat(show(c.call(cmd("AI.TENSORGET", "old", "META", "BLOB"))))
                    .isEqualTo(show(c.call(cmd("AI.TENSORGET", "t", "META", "BLOB"))));
        }
    }

    /**
     * A large BLOB put from a script or inside MULTI stores the same value as from a client: a script's arguments
     * are copied (they may be strings the script engine still holds), a transaction's are the client's own.
     */
    @Test
    void largeTensorsFromScriptsAndTransactionsAreStoredAlike() throws Exception {
        try (ModuleRedis module = ModuleRedis.withModule(dir.resolve("module"), leftovers.freeBase(1));
             RawReplies c = new RawReplies(module.port())) {
            byte[] big = new byte[64 * 1024];
            new java.util.Random(64).nextBytes(big);
            assertThat(show(c.call(cmd("AI.TENSORSET", "direct", "UINT8", big.length, "BLOB", big))))
                    .isEqualTo("+OK\\x0d\\x0a");
            assertThat(show(c.call(cmd("EVAL", "return redis.call('AI.TENSORSET', KEYS[1], 'UINT8', ARGV[1], 'BLOB', "
                    + "ARGV[2])", 1, "script", big.length, big)))).isEqualTo("+OK\\x0d\\x0a");
            List<byte[]> tx = c.pipeline(List.of(cmd("MULTI"),
                    cmd("AI.TENSORSET", "multi", "UINT8", big.length, "BLOB", big), cmd("EXEC")));
            assertThat(show(tx.get(2))).isEqualTo("*1\\x0d\\x0a+OK\\x0d\\x0a");
            String direct = show(c.call(cmd("GET", "direct")));
            assertThat(direct).endsWith("SSAT\\x02\\x07\\x01\\x00\\x0d\\x0a");
            for (String k : List.of("script", "multi")) {
                assertThat(show(c.call(cmd("GET", k)))).as(k).isEqualTo(direct);
                assertThat(show(c.call(cmd("AI.TENSORGET", k, "BLOB"))))
                        .isEqualTo(show(b("$" + big.length + "\r\n")) + show(big) + "\\x0d\\x0a");
            }
        }
    }

    /** An AI.TENSORSET over a watched key aborts the watcher's transaction, as SET does (same size: in place). */
    @Test
    void anOverwriteAbortsTheTransactionsWatchingTheKey() throws Exception {
        try (ModuleRedis module = ModuleRedis.withModule(dir.resolve("module"), leftovers.freeBase(1));
             RespClient watcher = module.client(); RespClient writer = module.client()) {
            for (String form : List.of("same size", "other size")) {
                assertThat(writer.call("AI.TENSORSET", "w", "FLOAT", 2, "VALUES", 1, 2)).isEqualTo(new RespSimple("OK"));
                assertThat(watcher.call("WATCH", "w")).isEqualTo(new RespSimple("OK"));
                Object[] put = form.equals("same size") ? new Object[] {"AI.TENSORSET", "w", "INT32", 2, "VALUES", 3, 4}
                        : new Object[] {"AI.TENSORSET", "w", "INT8", 1};
                assertThat(writer.call(put)).isEqualTo(new RespSimple("OK"));
                assertThat(watcher.call("MULTI")).isEqualTo(new RespSimple("OK"));
                assertThat(watcher.call("GET", "w")).isEqualTo(new RespSimple("QUEUED"));
                assertThat(watcher.call("EXEC")).as(form).isNull();
            }
        }
    }

    /**
     * A stored tensor takes what SET of the same bytes takes (the front stores it so): the module builds the value at
     * its exact size, never with a growing string's spare room (which would double a 1 MiB tensor's memory).
     */
    @Test
    void aStoredTensorTakesTheMemoryOfTheSameBytesStoredWithSet() throws Exception {
        int base = leftovers.freeBase(1);
        try (ModuleRedis module = ModuleRedis.withModule(dir.resolve("module"), base);
             RespClient c = module.client()) {
            for (int size : new int[] {16, 4000, 5000, 1 << 20}) {
                byte[] data = random(new Random(size), size);
                assertThat(c.call("AI.TENSORSET", "t", "UINT8", size, "BLOB", data)).isEqualTo(new RespSimple("OK"));
                byte[] stored = (byte[]) c.call("GET", "t");
                assertThat(c.call("SET", "s", stored)).isEqualTo(new RespSimple("OK"));
                long tensor = (Long) c.call("MEMORY", "USAGE", "t");
                long set = (Long) c.call("MEMORY", "USAGE", "s");
                assertThat(tensor).as(size + " B tensor vs SET of its " + stored.length + " bytes: " + tensor + " vs "
                        + set + " bytes of memory").isLessThanOrEqualTo(set);
                assertThat(c.call("DEL", "t", "s")).isEqualTo(2L);
            }
        }
    }

    /** Redis applies ACL key rules to every key the module registered: the tensor key, and a run's inputs/outputs. */
    @Test
    void aclKeyRulesApplyToTheRegisteredKeys() throws Exception {
        try (ModuleRedis module = ModuleRedis.withModule(dir.resolve("module"), leftovers.freeBase(1));
             RespClient admin = module.client(); RespClient user = module.client()) {
            assertThat(admin.call("ACL", "SETUSER", "sim", "on", ">pw", "~mine.*", "+@all"))
                    .isEqualTo(new RespSimple("OK"));
            assertThat(user.call("AUTH", "sim", "pw")).isEqualTo(new RespSimple("OK"));
            assertThat(user.call("AI.TENSORSET", "mine.t", "INT8", 1)).isEqualTo(new RespSimple("OK"));
            List<Object[]> refused = List.of(
                    new Object[] {"AI.TENSORSET", "other.t", "INT8", 1},
                    new Object[] {"AI.TENSORGET", "other.t", "META"},
                    new Object[] {"AI.MODELSTORE", "other.m", "ONNX", "CPU", "BLOB", "x"},
                    new Object[] {"AI.MODELEXECUTE", "mine.m", "INPUTS", 1, "other.t", "OUTPUTS", 1, "mine.o"},
                    new Object[] {"AI.MODELEXECUTE", "mine.m", "INPUTS", 1, "mine.t", "OUTPUTS", 1, "other.o"},
                    new Object[] {"AI.SCRIPTRUN", "mine.s", "f", "INPUTS", "mine.t", "$", "other.t", "OUTPUTS", "mine.o"},
                    new Object[] {"AI.SCRIPTEXECUTE", "mine.s", "f", "KEYS", 1, "other.k", "INPUTS", 1, "mine.t"});
            for (Object[] command : refused) {
                assertThat(user.call(command)).as(List.of(command).toString())
                        .isInstanceOfSatisfying(RespError.class, e -> assertThat(e.text()).startsWith("NOPERM"));
            }
            assertThat(user.call("AI.MODELEXECUTE", "mine.m", "INPUTS", 1, "mine.t", "OUTPUTS", 1, "mine.o"))
                    .isEqualTo(new RespError("ERR model key is empty"));
            assertThat(user.call("AI.SCRIPTEXECUTE", "mine.s", "f", "INPUTS", 1, "mine.t", "ARGS", 1, "other.x"))
                    .as("ARGS are not keys").isEqualTo(new RespError("ERR script key is empty"));
        }
    }

    @Test
    void smartRedisSequencesAnswerAsTheFrontDoes() throws Exception {
        compare("tensor-smartredis-sequences", smartRedisSequences(), "tensor.FLOAT", "tensor.UINT16", "tensor.INT64");
    }

    @Test
    void otherFormsAndBadInputAnswerAsTheFrontDoes() throws Exception {
        compare("tensor-other-forms", otherForms(), "values.FLOAT", "values.INT8", "values.UINT16", "wrap", "f", "d",
                "scalar", "k255", "same", "num", "emb");
    }

    /**
     * Runs {@code calls}, then reads the stored values of {@code keys} (GET), and requires the front's replies as the
     * golden file {@code name} keeps them.
     */
    void compare(String name, List<List<byte[][]>> calls, String... keys) throws Exception {
        try (ModuleRedis module = ModuleRedis.withModule(dir.resolve("module"), leftovers.freeBase(1));
             RawReplies toModule = new RawReplies(module.port())) {
            List<String> fromModule = replies(toModule, calls);
            for (String k : keys) {
                byte[] stored = toModule.call(b("GET"), b(k));
                assertThat(show(stored)).as("value of " + k).matches("\\$[0-9]+\\\\x0d\\\\x0a.*SSAT\\\\x02.*\\\\x0d\\\\x0a");
                fromModule.add("stored value of " + k + " -> " + show(stored));
            }
            Golden.check(name, fromModule);
        }
    }
}
