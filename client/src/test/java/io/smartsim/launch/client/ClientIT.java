package io.smartsim.launch.client;

import io.smartsim.launch.ai.module.ModuleShard;
import io.smartsim.launch.ai.testing.OnnxModels;
import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Java client against one {@code --ai onnx} shard as every launcher runs it (issue 16): a real redis-server loading
 * the smartsim-ai module, with the real model server (ONNX) on its socket (ai-module's {@link ModuleShard}).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ClientIT {
    @RegisterExtension
    static final Leftovers leftovers = Leftovers.perClass(); // checked once the class's shared servers are gone
    @TempDir
    static Path dir;
    static ModuleShard shard;

    @BeforeAll
    static void start() throws Exception {
        shard = ModuleShard.start(dir.resolve("shard"), leftovers.freeBase(1), "ONNX");
    }

    @AfterAll
    static void stop() throws Exception {
        if (shard != null) {
            shard.close();
        }
    }

    Client client() {
        return Client.fromEnvironment(Map.of("SSDB", "127.0.0.1:" + shard.port(), "SR_DB_TYPE", "Standalone"));
    }

    @Test
    void tensorsOfEveryJavaTypeRoundTrip() {
        try (Client c = client()) {
            TensorData f = TensorData.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
            TensorData d = TensorData.of(new double[] {1.5, -2}, 2);
            TensorData i = TensorData.of(new int[] {7, 8, 9, 10}, 2, 1, 2);
            TensorData b = TensorData.of(new byte[] {-1, 2}, 2);
            c.putTensor("f", f);
            c.putTensor("d", d);
            c.putTensor("i", i);
            c.putTensor("b", b);
            assertThat(c.getTensor("f")).isEqualTo(f);
            assertThat(c.getTensor("f").asFloats()).containsExactly(1, 2, 3, 4, 5, 6);
            assertThat(c.getTensor("d").asDoubles()).containsExactly(1.5, -2);
            assertThat(c.getTensor("i").shape()).containsExactly(2, 1, 2);
            assertThat(c.getTensor("b")).isEqualTo(b);
            assertThat(c.tensorExists("f")).isTrue();
            c.deleteTensor("f");
            assertThat(c.pollKey("f", Duration.ofMillis(5), 3)).isFalse();
            assertThatThrownBy(() -> c.getTensor("f")).isInstanceOf(ClientException.class)
                    .hasMessageContaining("ERR tensor key is empty or in a different shard");
        }
    }

    @Test
    void setRunDeleteModel() {
        byte[] model = OnnxModels.linear(2, 1, new float[] {2, -1}, new float[] {0.5f});
        try (Client c = client()) {
            c.setModel("lin", model, "onnx", "cpu");
            assertThat(c.modelExists("lin")).isTrue();
            assertThat(c.getModel("lin")).isEqualTo(model);
            c.putTensor("x", TensorData.of(new float[] {3, 4}, 1, 2));
            c.runModel("lin", List.of("x"), List.of("y"));
            assertThat(c.getTensor("y").asFloats()).containsExactly(2 * 3 - 4 + 0.5f);
            c.deleteModel("lin");
            assertThat(c.modelExists("lin")).isFalse();
        }
    }

    /** {@code \x07}, then per string its 8-byte little-endian length and bytes: SmartRedis's string metadata. */
    static byte[] strings(String... values) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(7);
        for (String v : values) {
            byte[] b = v.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            out.writeBytes(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                    .putLong(b.length).array());
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    static byte[] le(int type, java.util.function.Consumer<java.nio.ByteBuffer> values, int size) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1 + size).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put((byte) type);
        values.accept(b);
        return b.array();
    }

    @Test
    void datasetRoundTripsWithTensorsAndEveryMetadataType() {
        try (Client c = client()) {
            Dataset ds = new Dataset("step-1")
                    .addTensor("u", TensorData.of(new float[] {1, 2, 3, 4}, 2, 2))
                    .addTensor("ids", TensorData.of(new long[] {7, -8}, 2))
                    .addMetaScalar("dt", 0.25).addMetaScalar("dt", 0.5)
                    .addMetaScalar("cfl", 0.9f).addMetaScalar("rank", 3).addMetaScalar("step", 42L)
                    .addMetaString("label", "hello").addMetaString("label", "wörld");
            assertThat(c.datasetExists("step-1")).isFalse();
            assertThat(c.pollDataset("step-1", Duration.ofMillis(5), 2)).isFalse();
            c.putDataset(ds);
            assertThat(c.datasetExists("step-1")).isTrue();
            assertThat(c.pollDataset("step-1", Duration.ofMillis(5), 1)).isTrue();
            Dataset back = c.getDataset("step-1");
            assertThat(back.tensorNames()).containsExactly("u", "ids");
            assertThat(back.getTensor("u")).isEqualTo(ds.getTensor("u"));
            assertThat(back.getTensor("ids").asLongs()).containsExactly(7, -8);
            assertThat(back.metaFieldNames()).containsExactlyInAnyOrder("dt", "cfl", "rank", "step", "label");
            assertThat(back.getMetaDoubles("dt")).containsExactly(0.25, 0.5);
            assertThat(back.getMetaFloats("cfl")).containsExactly(0.9f);
            assertThat(back.getMetaInts("rank")).containsExactly(3);
            assertThat(back.getMetaLongs("step")).containsExactly(42L);
            assertThat(back.getMetaStrings("label")).containsExactly("hello", "wörld");
            assertThat(back.metaType("label")).isEqualTo(Dataset.MetaType.STRING);
            assertThatThrownBy(() -> back.getMetaInts("dt")).hasMessageContaining("holds DOUBLE values, not INT32");
            // Storing again replaces the metadata (DEL first), as SmartRedis.
            c.putDataset(new Dataset("step-1").addMetaString("label", "again"));
            assertThat(c.getDataset("step-1").metaFieldNames()).containsExactly("label");
            c.putDataset(ds);
            c.deleteDataset("step-1");
            assertThat(c.datasetExists("step-1")).isFalse();
            assertThat(c.keyExists("{step-1}.u")).isFalse();
            assertThat(c.keyExists("{step-1}.ids")).isFalse();
            assertThatThrownBy(() -> c.getDataset("step-1")).isInstanceOf(ClientException.class)
                    .hasMessageContaining("dataset step-1 does not exist");
            assertThatThrownBy(() -> c.putDataset(new Dataset("empty"))).hasMessageContaining("holds no tensors");
        }
    }

    /** What a SmartRedis (C/Fortran) writer sends, byte for byte after the notes, read by the Java client. */
    @Test
    void aDatasetWrittenWithSmartRedissExactCommandsReadsInJava() throws Exception {
        byte[] blob = TensorData.of(new double[] {1.5, -2, 3, 4.25, 0, 1}, 3, 2).data();
        try (RespClient r = RespClient.connect(shard.port())) {
            List<Object> replies = r.pipeline(List.of(
                    new Object[] {"DEL", "{sim}.meta"},
                    new Object[] {"HMSET", "{sim}.meta", "label", strings("hello"),
                            "step", le(4, b -> b.putLong(42), 8), "rank", le(3, b -> b.putInt(7), 4),
                            "dt", le(1, b -> b.putDouble(0.5).putDouble(0.25), 16), ".tensor_names", strings("u")},
                    new Object[] {"AI.TENSORSET", "{sim}.u", "DOUBLE", "3", "2", "BLOB", blob},
                    new Object[] {"HSET", "{sim}.meta", ".COMPLETE", "1"}));
            assertThat(replies).noneMatch(o -> o instanceof RespError);
        }
        // The notes' observed bytes for these values.
        assertThat(strings("hello")).isEqualTo(new byte[] {7, 5, 0, 0, 0, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'});
        assertThat(le(3, b -> b.putInt(7), 4)).isEqualTo(new byte[] {3, 7, 0, 0, 0});
        try (Client c = client()) {
            assertThat(c.pollDataset("sim", Duration.ofMillis(5), 3)).isTrue();
            Dataset ds = c.getDataset("sim");
            assertThat(ds.getMetaStrings("label")).containsExactly("hello");
            assertThat(ds.getMetaLongs("step")).containsExactly(42L);
            assertThat(ds.getMetaInts("rank")).containsExactly(7);
            assertThat(ds.getMetaDoubles("dt")).containsExactly(0.5, 0.25);
            assertThat(ds.getTensor("u").shape()).containsExactly(3, 2);
            assertThat(ds.getTensor("u").asDoubles()).containsExactly(1.5, -2, 3, 4.25, 0, 1);
            c.deleteDataset("sim");
        }
        try (RespClient r = RespClient.connect(shard.port())) {
            assertThat(r.call("EXISTS", "{sim}.meta", "{sim}.u")).isEqualTo(0L);
        }
    }

    /** The other way: the layout the Java client leaves is what a SmartRedis reader expects. */
    @Test
    void aDatasetWrittenInJavaHasSmartRedissLayout() throws Exception {
        try (Client c = client()) {
            c.putDataset(new Dataset("out").addTensor("p", TensorData.of(new float[] {1, 2}, 2))
                    .addMetaString("label", "hello").addMetaScalar("step", 42L).addMetaScalar("rank", 7));
        }
        try (RespClient r = RespClient.connect(shard.port())) {
            List<?> all = (List<?>) r.call("HGETALL", "{out}.meta");
            Map<String, byte[]> h = new java.util.HashMap<>();
            for (int i = 0; i < all.size(); i += 2) {
                h.put(new String((byte[]) all.get(i), java.nio.charset.StandardCharsets.UTF_8), (byte[]) all.get(i + 1));
            }
            assertThat(h.keySet()).containsExactlyInAnyOrder("label", "step", "rank", ".tensor_names", ".COMPLETE");
            assertThat(h.get("label")).isEqualTo(new byte[] {7, 5, 0, 0, 0, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'});
            assertThat(h.get("step")).isEqualTo(new byte[] {4, 42, 0, 0, 0, 0, 0, 0, 0});
            assertThat(h.get("rank")).isEqualTo(new byte[] {3, 7, 0, 0, 0});
            assertThat(h.get(".tensor_names")).isEqualTo(strings("p"));
            assertThat(h.get(".COMPLETE")).isEqualTo("1".getBytes());
            assertThat(r.call("HEXISTS", "{out}.meta", ".COMPLETE")).isEqualTo(1L);
            List<?> t = (List<?>) r.call("AI.TENSORGET", "{out}.p", "META", "BLOB");
            assertThat(t.get(1)).isEqualTo("FLOAT".getBytes());
            assertThat(t.get(3)).isEqualTo(List.of(2L));
            assertThat(t.get(5)).isEqualTo(TensorData.of(new float[] {1, 2}, 2).data());
        }
    }

    @Test
    void pollTensorAndPollModelWaitForAWriter() throws Exception {
        try (Client c = client(); RespClient direct = RespClient.connect(shard.port())) {
            long before = existsCalls(direct);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try (Client w = client(); RespClient r = RespClient.connect(shard.port())) {
                    // Each write only once the poll has asked and found nothing (redis-server counts its EXISTS),
                    // so the poll is seen waiting for it, however slow this machine is.
                    awaitExistsCalls(r, before + 1);
                    w.putTensor("late", TensorData.of(new float[] {1}, 1));
                    // then: the poll's EXISTS that finds the tensor, and pollModel's first, finding nothing
                    awaitExistsCalls(r, existsCalls(r) + 2);
                    w.setModel("late-model", OnnxModels.linear(2, 1, new float[] {1, 1}, new float[] {0}), "ONNX",
                            "CPU");
                } catch (Throwable e) {
                    failed.set(e);
                }
            }, "late-writer");
            writer.start();
            assertThat(c.pollTensor("late", Duration.ofMillis(20), 3000)).isTrue();
            assertThat(c.pollModel("late-model", Duration.ofMillis(20), 3000)).isTrue();
            writer.join(60_000);
            assertThat(writer.isAlive()).as("the writer still running after 60 s").isFalse();
            assertThat(failed.get()).isNull();
            assertThat(c.pollTensor("never", Duration.ofMillis(1), 3)).isFalse();
            assertThat(c.pollModel("never", Duration.ofMillis(1), 3)).isFalse();
        }
    }

    /** How many EXISTS commands redis-server has run ({@code INFO commandstats}). */
    static long existsCalls(RespClient redisDirect) throws Exception {
        String stats = new String((byte[]) redisDirect.call("INFO", "commandstats"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("cmdstat_exists:calls=(\\d+)").matcher(stats);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /** Waits, up to 30 s, until redis-server has run {@code calls} EXISTS commands. */
    static void awaitExistsCalls(RespClient redisDirect, long calls) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (existsCalls(redisDirect) < calls) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("redis-server ran " + existsCalls(redisDirect) + " EXISTS within 30 s, "
                        + "not " + calls + ": the poll did not ask");
            }
            Thread.sleep(5);
        }
    }

    /** The auth trade-off of docs/ai.md: with a password, SmartRedis's AUTH-less commands are refused. */
    @Test
    void authenticatesWithSsdbUserAndPasswordWhereSmartRedisCannot() throws Exception {
        String pw = "0123456789abcdef0123";
        try (ModuleShard locked = ModuleShard.start(dir.resolve("locked"), leftovers.freeBase(1), "ONNX",
                "--requirepass", pw)) {
            String ssdb = "127.0.0.1:" + locked.port();
            try (RespClient smartRedisLike = RespClient.connect(locked.port())) {
                Object r = smartRedisLike.call("AI.TENSORSET", "t", "FLOAT", "1", "BLOB", new byte[4]);
                assertThat(((RespError) r).text()).startsWith("NOAUTH");
            }
            try (Client c = Client.fromEnvironment(Map.of("SSDB", ssdb, "SR_DB_TYPE", "Standalone",
                    "SSDB_USER", "default", "SSDB_PASSWORD", pw))) {
                c.putTensor("t", TensorData.of(new float[] {1}, 1));
                assertThat(c.getTensor("t").asFloats()).containsExactly(1);
            }
        }
    }

    @Test
    void environmentIsChecked() {
        assertThatThrownBy(() -> Client.fromEnvironment(Map.of())).hasMessageContaining("SSDB is not set");
        // Clustered is SmartRedis's default: the client then reads CLUSTER SLOTS from the address given.
        assertThatThrownBy(() -> Client.fromEnvironment(Map.of("SSDB", "127.0.0.1:1")))
                .hasMessageStartingWith("cannot reach the database at 127.0.0.1:1");
        assertThatThrownBy(() -> Client.fromEnvironment(Map.of("SSDB", "127.0.0.1:1", "SR_DB_TYPE", "clustered")))
                .hasMessageStartingWith("SR_DB_TYPE=clustered is neither Clustered nor Standalone");
    }
}
