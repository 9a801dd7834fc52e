package io.smartsim.launch.ai.dist;

import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.plan.Crc16;
import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exact command sequences SmartRedis 0.6.1 sends (shared/notes/redisai.md, section 1), over raw RESP, against an
 * orchestrator started with {@code --ai onnx}: standalone, and a 3-shard cluster with per-shard prefixes and the
 * input-copy dance. Checks the reply shapes SmartRedis reads by position: bulk vs simple strings, integers for shape
 * and chunk size.
 */
class SmartRedisWireIT {
    /** {@code --ai onnx,torch}: the session's models on ONNX, its script on TORCH. */
    static final AiSpec ONNX_TORCH = AiSpec.of(List.of("onnx", "torch"));
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;
    final AiTestbed bed = new AiTestbed(leftovers);

    /** A database as SmartRedis sees it: where a key goes, every shard, and a shard's key prefix. */
    interface Db extends AutoCloseable {
        RespClient on(byte[] key);

        List<RespClient> shards();

        /** {@code {P}.name} for shard {@code i} in a cluster; the bare name standalone. */
        byte[] key(int shard, String name);

        boolean clustered();

        @Override
        void close() throws IOException;
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] floats(float... v) {
        ByteBuffer bb = ByteBuffer.allocate(v.length * 4).order(ByteOrder.nativeOrder());
        for (float f : v) {
            bb.putFloat(f);
        }
        return bb.array();
    }

    static float[] floatsOf(byte[] blob) {
        ByteBuffer bb = ByteBuffer.wrap(blob).order(ByteOrder.nativeOrder());
        float[] out = new float[blob.length / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = bb.getFloat();
        }
        return out;
    }

    /** The bytes whose CRC16 is {@code slot}: the 2-byte string SmartRedis's _get_crc16_prefix finds. */
    static byte[] prefix(int slot) {
        for (int v = 0; v < 65536; v++) {
            byte[] p = {(byte) (v >>> 8), (byte) v};
            if (Crc16.crc16(p) == slot) {
                return p;
            }
        }
        throw new AssertionError();
    }

    static byte[] prefixed(byte[] prefix, String name) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write('{');
        o.writeBytes(prefix);
        o.write('}');
        o.write('.');
        o.writeBytes(b(name));
        return o.toByteArray();
    }

    static Db standalone(int port) throws IOException {
        RespClient c = RespClient.connect(port);
        assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
        return new Db() {
            public RespClient on(byte[] key) {
                return c;
            }

            public List<RespClient> shards() {
                return List.of(c);
            }

            public byte[] key(int shard, String name) {
                return b(name);
            }

            public boolean clustered() {
                return false;
            }

            public void close() throws IOException {
                c.close();
            }
        };
    }

    static Db cluster(int seedPort, int[] expectedPorts) throws IOException {
        List<int[]> ranges = new ArrayList<>();
        List<RespClient> conns = new ArrayList<>();
        try (RespClient seed = RespClient.connect(seedPort)) {
            // redis++ sends CLUSTER SLOTS, then SmartRedis sends its own: [min, max, [host, port, id]] per entry.
            seed.call("CLUSTER", "SLOTS");
            List<?> slots = (List<?>) seed.call("CLUSTER", "SLOTS");
            assertThat(slots).hasSize(expectedPorts.length);
            long previous = -1;
            for (int i = 0; i < slots.size(); i++) {
                List<?> e = (List<?>) slots.get(i);
                assertThat(e.get(0)).isInstanceOf(Long.class);
                assertThat(e.get(1)).isInstanceOf(Long.class);
                assertThat((Long) e.get(0)).as("CLUSTER SLOTS sorted by start slot").isGreaterThan(previous);
                previous = (Long) e.get(0);
                List<?> master = (List<?>) e.get(2);
                assertThat(master.get(0)).isInstanceOf(byte[].class);
                assertThat(master.get(1)).isEqualTo((long) expectedPorts[i]);
                assertThat(new String((byte[]) master.get(2), StandardCharsets.US_ASCII)).as("node id at [i][2][2]")
                        .matches("[0-9a-f]{40}");
                ranges.add(new int[] {((Long) e.get(0)).intValue(), ((Long) e.get(1)).intValue()});
                conns.add(RespClient.connect(((Long) master.get(1)).intValue()));
            }
        }
        List<byte[]> prefixes = ranges.stream().map(r -> prefix(r[0])).toList();
        return new Db() {
            public RespClient on(byte[] key) {
                int slot = Crc16.slot(key);
                for (int i = 0; i < ranges.size(); i++) {
                    if (slot >= ranges.get(i)[0] && slot <= ranges.get(i)[1]) {
                        return conns.get(i);
                    }
                }
                throw new AssertionError("no shard for slot " + slot);
            }

            public List<RespClient> shards() {
                return conns;
            }

            public byte[] key(int shard, String name) {
                return prefixed(prefixes.get(shard), name);
            }

            public boolean clustered() {
                return true;
            }

            public void close() throws IOException {
                for (RespClient c : conns) {
                    c.close();
                }
            }
        };
    }

    static final RespSimple OK = new RespSimple("OK");

    /** AI.TENSORGET K META BLOB as get_tensor reads it: [1] bulk dtype, [3] integers, [5] bulk blob. */
    static byte[] tensorGet(Db db, byte[] key, String dtype, long... shape) throws IOException {
        Object r = db.on(key).call("AI.TENSORGET", key, "META", "BLOB");
        assertThat(r).isInstanceOf(List.class);
        List<?> l = (List<?>) r;
        assertThat(l).hasSize(6);
        assertThat(l.get(1)).isInstanceOf(byte[].class);
        assertThat(new String((byte[]) l.get(1), StandardCharsets.US_ASCII)).isEqualTo(dtype);
        assertThat((List<?>) l.get(3)).allSatisfy(d -> assertThat(d).isInstanceOf(Long.class));
        assertThat(l.get(3)).isEqualTo(Arrays.stream(shape).boxed().toList());
        assertThat(l.get(5)).isInstanceOf(byte[].class);
        return (byte[]) l.get(5);
    }

    /** Every call the notes list, in SmartRedis's order, for one database. */
    static void smartRedisSession(Db db) throws IOException {
        // put_tensor / get_tensor / tensor_exists / delete_tensor
        for (String k : List.of("t.a", "t.b", "t.c", "t.d", "t.e")) {
            byte[] key = b(k);
            assertThat(db.on(key).call("AI.TENSORSET", key, "FLOAT", "2", "3", "BLOB", floats(1, 2, 3, 4, 5, 6)))
                    .isEqualTo(OK);
            assertThat(floatsOf(tensorGet(db, key, "FLOAT", 2, 3))).containsExactly(1, 2, 3, 4, 5, 6);
            assertThat(db.on(key).call("EXISTS", key)).isEqualTo(1L);
            assertThat(db.on(key).call(db.clustered() ? "UNLINK" : "DEL", key)).isEqualTo(1L);
            assertThat(db.on(key).call("EXISTS", key)).isEqualTo(0L);
        }

        // put_dataset: one pipeline on the shard of {ds}; then dataset_exists, get_dataset, delete_dataset.
        byte[] meta = b("{ds}.meta");
        byte[] label = new byte[] {7, 5, 0, 0, 0, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};
        RespClient dsShard = db.on(meta);
        List<Object> put = dsShard.pipeline(List.of(
                new Object[] {"DEL", meta},
                new Object[] {"HMSET", meta, "label", label, ".tensor_names", new byte[] {7, 1, 0, 0, 0, 0, 0, 0, 0, 'u'}},
                new Object[] {"AI.TENSORSET", b("{ds}.u"), "DOUBLE", "2", "BLOB", new byte[16]},
                new Object[] {"HSET", meta, ".COMPLETE", "1"}));
        assertThat(put).containsExactly(0L, OK, OK, 1L);
        assertThat(dsShard.call("HEXISTS", meta, ".COMPLETE")).isEqualTo(1L);
        List<?> all = (List<?>) dsShard.call("HGETALL", meta);
        assertThat(all).hasSize(6);
        assertThat(dsShard.pipeline(List.<Object[]>of(new Object[] {"AI.TENSORGET", b("{ds}.u"), "META", "BLOB"})))
                .singleElement().satisfies(r -> assertThat((List<?>) r).hasSize(6));
        assertThat(dsShard.call("DEL", meta, b("{ds}.u"))).isEqualTo(2L);
        assertThat(dsShard.call("HGETALL", meta)).isEqualTo(List.of());

        // set_model_chunk_size, then set_model: AI.CONFIG GET (an integer) and AI.MODELSTORE on every shard, chunked.
        for (RespClient s : db.shards()) {
            assertThat(s.call("AI.CONFIG", "MODEL_CHUNK_SIZE", "100")).isEqualTo(OK);
        }
        Object chunk = db.shards().get(db.shards().size() - 1).call("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE");
        assertThat(chunk).isEqualTo(100L);
        byte[] model = AiOrchestratorIT.MODEL;
        List<Object> store = new ArrayList<>();
        for (int off = 0; off < model.length; off += 100) {
            store.add(Arrays.copyOfRange(model, off, Math.min(model.length, off + 100)));
        }
        assertThat(store.size()).isGreaterThan(1);
        for (int i = 0; i < db.shards().size(); i++) {
            List<Object> cmd = new ArrayList<>(List.of("AI.MODELSTORE", db.key(i, "mlp"), "ONNX", "CPU", "BLOB"));
            cmd.addAll(store);
            assertThat(db.shards().get(i).call(cmd.toArray())).isEqualTo(OK);
        }
        // get_model and model_exists ask the shard with the lowest slots, under its prefix: one bulk string.
        assertThat(db.shards().get(0).call("AI.MODELGET", db.key(0, "mlp"), "BLOB")).isEqualTo(model);
        assertThat(db.shards().get(0).call("EXISTS", db.key(0, "mlp"))).isEqualTo(1L);

        // run_model, for inputs owned by each shard in turn.
        for (String in : List.of("x.1", "x.2", "x.3", "x.4", "x.5", "x.6")) {
            float[] x = {1, 2, 3, 4};
            byte[] inKey = b(in);
            byte[] outKey = b(in + ".y");
            assertThat(db.on(inKey).call("AI.TENSORSET", inKey, "FLOAT", "1", "4", "BLOB", floats(x))).isEqualTo(OK);
            if (!db.clustered()) {
                assertThat(db.on(inKey).call("AI.MODELEXECUTE", "mlp", "INPUTS", "1", inKey, "OUTPUTS", "1", outKey,
                        "TIMEOUT", "60000000")).isEqualTo(OK);
            } else {
                RespClient s = db.on(inKey);
                int si = db.shards().indexOf(s);
                byte[] inTmp = db.key(si, in + ".TMP");
                byte[] outTmp = db.key(si, in + ".y.TMP");
                byte[] blob = tensorGet(db, inKey, "FLOAT", 1, 4);
                assertThat(s.call("AI.TENSORSET", inTmp, "FLOAT", "1", "4", "BLOB", blob)).isEqualTo(OK);
                assertThat(s.call("AI.MODELEXECUTE", db.key(si, "mlp"), "INPUTS", "1", inTmp, "OUTPUTS", "1", outTmp,
                        "TIMEOUT", "60000000")).isEqualTo(OK);
                byte[] y = tensorGet(db, outTmp, "FLOAT", 1, 3);
                assertThat(db.on(outKey).call("AI.TENSORSET", outKey, "FLOAT", "1", "3", "BLOB", y)).isEqualTo(OK);
                assertThat(s.call("DEL", outTmp, inTmp)).isEqualTo(2L);
            }
            assertThat(floatsOf(tensorGet(db, outKey, "FLOAT", 1, 3))).containsExactly(AiOrchestratorIT.expected(x, 1),
                    org.assertj.core.data.Offset.offset(1e-5f));
        }

        // get_ai_info: a flat array with an even count; key, type, backend, device, tag, duration, samples, calls, errors.
        long calls = 0;
        for (int i = 0; i < db.shards().size(); i++) {
            List<?> info = (List<?>) db.shards().get(i).call("AI.INFO", db.key(i, "mlp"));
            assertThat(info.size() % 2).isZero();
            assertThat(new String((byte[]) info.get(0), StandardCharsets.US_ASCII)).isEqualTo("key");
            assertThat((byte[]) info.get(1)).isEqualTo(db.key(i, "mlp"));
            int at = 0;
            for (int k = 0; k < info.size(); k += 2) {
                if (new String((byte[]) info.get(k), StandardCharsets.US_ASCII).equals("calls")) {
                    at = k + 1;
                }
            }
            calls += (Long) info.get(at);
        }
        assertThat(calls).as("runs counted over the shards").isEqualTo(6);

        // Scripts run on the TORCH backend, named in --ai (issue 16: only the named backends are loaded, so this test
        // names it; the front loaded all four): set_script as SmartRedis sends it, then its delete. A backend not
        // named is refused at once.
        assertThat(db.shards().get(0).call("AI.MODELSTORE", db.key(0, "tf"), "TF", "CPU", "INPUTS", "1", "a",
                "OUTPUTS", "1", "b", "BLOB", "xx")).isEqualTo(new RespError("ERR Backend not loaded: TF"));
        assertThat(db.shards().get(0).call("AI.SCRIPTSET", db.key(0, "s"), "CPU", "SOURCE", "def f(a):\n    return a\n"))
                .isEqualTo(new RespSimple("OK"));
        assertThat(db.shards().get(0).call("AI.SCRIPTDEL", db.key(0, "s"))).isEqualTo(new RespSimple("OK"));

        // delete_model, on every shard under its prefix.
        for (int i = 0; i < db.shards().size(); i++) {
            assertThat(db.shards().get(i).call("AI.MODELDEL", db.key(i, "mlp"))).isEqualTo(OK);
        }
        assertThat(db.shards().get(0).call("EXISTS", db.key(0, "mlp"))).isEqualTo(0L);

        // The address-targeted calls: INFO EVERYTHING and CLUSTER INFO are bulk strings, CONFIG GET an array.
        RespClient any = db.shards().get(0);
        assertThat(any.call("INFO", "EVERYTHING")).isInstanceOf(byte[].class);
        assertThat((List<?>) any.call("CONFIG", "GET", "maxmemory")).hasSize(2)
                .allSatisfy(v -> assertThat(v).isInstanceOf(byte[].class));
        if (db.clustered()) {
            assertThat(new String((byte[]) any.call("CLUSTER", "INFO"), StandardCharsets.US_ASCII))
                    .contains("cluster_state:ok");
        }
        // lists: append_to_list, get_list_length
        byte[] list = b("runs");
        assertThat(db.on(list).call("RPUSH", list, "{ds}")).isEqualTo(1L);
        assertThat(db.on(list).call("LLEN", list)).isEqualTo(1L);
    }

    @Test
    void standaloneSessionAsSmartRedisSendsIt() throws Exception {
        int base = bed.ports(1);
        try (Experiment exp = Experiment.create("wire1", dir)) {
            Orchestrator orch = exp.createOrchestrator(AiTestbed.spec(base, 1).ai(ONNX_TORCH).auth(false).build());
            exp.start(orch);
            try (Db db = standalone(base)) {
                smartRedisSession(db);
            }
            exp.stop(orch);
        }
    }

    @Test
    void clusterSessionWithPerShardPrefixesAndTheInputCopyDance() throws Exception {
        int base = bed.ports(3);
        try (Experiment exp = Experiment.create("wire3", dir)) {
            Orchestrator orch = exp.createOrchestrator(AiTestbed.spec(base, 3).ai(ONNX_TORCH).auth(false).build());
            exp.start(orch);
            try (Db db = cluster(base + 1, new int[] {base, base + 1, base + 2})) {
                // The usual first and last prefixes of the notes.
                assertThat(db.key(0, "m")).isEqualTo(new byte[] {'{', 0, 0, '}', '.', 'm'});
                assertThat(db.key(2, "m")).isEqualTo(new byte[] {'{', (byte) 0xed, (byte) 0xeb, '}', '.', 'm'});
                smartRedisSession(db);
                // A key of another shard is answered with MOVED naming that shard's own port.
                byte[] elsewhere = db.key(2, "t");
                Object moved = db.shards().get(0).call("AI.TENSORSET", elsewhere, "FLOAT", "1", "BLOB", floats(1));
                assertThat(moved).isInstanceOf(RespError.class);
                assertThat(((RespError) moved).text()).startsWith("MOVED 10923 127.0.0.1:" + (base + 2));
            }
            exp.stop(orch);
        }
    }
}
