package io.smartsim.launch.ai.dist;

import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.ai.tf.TfGraphs;
import io.smartsim.launch.ai.tflite.TfliteModels;
import io.smartsim.launch.ai.torch.TorchModels;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.Dataset;
import io.smartsim.launch.client.TensorData;
import io.smartsim.launch.testing.Leftovers;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Java client in cluster mode against a local 3-shard {@code --ai onnx,torch,tf,tflite} orchestrator started
 * through the Experiment API: one model per backend run by several clients at once, a TorchScript script, and
 * datasets on the shard of their hash tag, read and written in SmartRedis's layout. Every output is checked against a
 * computation made here; stop leaves nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientBackendsIT {
    @RegisterExtension
    static final Leftovers leftovers = Leftovers.perClass(); // checked once the class's shared servers are gone
    static final String SCRIPT = String.join("\n",
            "def scale_sum(a, b):",
            "    return (a + b) * 2.0",
            "",
            "def rows(x):",
            "    return x[0], x[1]",
            "");

    @TempDir
    static Path dir;
    final AiTestbed bed = new AiTestbed(leftovers, 12400);
    Experiment exp;
    Orchestrator db;
    Map<String, String> env;
    int base;

    @BeforeAll
    void start() throws Exception {
        base = bed.ports(3);
        exp = Experiment.create("ai-clients", dir);
        db = exp.createOrchestrator(AiTestbed.spec(base, 3).auth(false)
                .ai(AiSpec.of(List.of("onnx", "torch", "tf", "tflite"))).build());
        exp.start(db);
        env = db.dbEnv();
        assertThat(env).containsEntry("SR_DB_TYPE", "Clustered");
    }

    @AfterAll
    void stop() throws Exception {
        if (exp != null) {
            if (db != null) {
                exp.stop(db);
            }
            exp.close();
        }
        // Then the Leftovers check, once for the class: model servers and shards by working dir, ports on every
        // address.
    }

    /** One linear model per backend: the key, how to store it, its input width and the expected output. */
    record Model(String key, int in, int out, java.util.function.BiFunction<float[], Integer, float[]> expected) {
    }

    /** y[r][j] = b[j] + sum_k x[r][k] w(k, j), in double precision. */
    static float[] linear(float[] x, int batch, int in, int out, java.util.function.BiFunction<Integer, Integer, Float> w,
                          float[] b) {
        float[] y = new float[batch * out];
        for (int r = 0; r < batch; r++) {
            for (int j = 0; j < out; j++) {
                double s = b[j];
                for (int k = 0; k < in; k++) {
                    s += (double) x[r * in + k] * w.apply(k, j);
                }
                y[r * out + j] = (float) s;
            }
        }
        return y;
    }

    @Test
    void oneModelPerBackendServesEightClusterClientsAtOnceAndEveryAnswerIsRight() throws Exception {
        List<Model> models = List.of(
                new Model("m-onnx", 4, 3, AiOrchestratorIT::expected),
                new Model("m-torch", 3, 2, (x, n) -> linear(x, n, 3, 2, (k, j) -> TorchModels.W[j * 3 + k],
                        TorchModels.B)),
                new Model("m-tf", 3, 2, (x, n) -> linear(x, n, 3, 2, (k, j) -> TfGraphs.W[k][j], TfGraphs.B)),
                new Model("m-tflite", 3, 2, (x, n) -> linear(x, n, 3, 2, (k, j) -> TfliteModels.W[j * 3 + k],
                        TfliteModels.B)));
        try (Client c = Client.fromEnvironment(env)) {
            assertThat(c.clustered()).isTrue();
            c.setModel("m-onnx", AiOrchestratorIT.MODEL, "ONNX", "CPU");
            c.setModel("m-torch", TorchModels.linear(), "TORCH", "CPU");
            c.setModel("m-tf", TfGraphs.linear(), "TF", "CPU", List.of("x"), List.of("y"));
            c.setModel("m-tflite", TfliteModels.linear(), "TFLITE", "CPU");
            for (Model m : models) {
                assertThat(c.pollModel(m.key(), Duration.ofMillis(10), 1)).as(m.key()).isTrue();
            }
            assertThat(c.getModel("m-torch")).isEqualTo(TorchModels.linear());
        }
        int threads = 8;
        int rounds = 5;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<Integer>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Callable<Integer> work = () -> {
                Random rnd = new Random(id);
                int checked = 0;
                try (Client c = Client.fromEnvironment(env)) {
                    for (int i = 0; i < rounds; i++) {
                        for (Model m : models) {
                            int batch = 1 + rnd.nextInt(3);
                            float[] x = new float[batch * m.in()];
                            for (int k = 0; k < x.length; k++) {
                                x[k] = rnd.nextFloat() * 10 - 5;
                            }
                            String in = m.key() + ":in:" + id + ":" + i;
                            String out = m.key() + ":out:" + id + ":" + i;
                            c.putTensor(in, TensorData.of(x, batch, m.in()));
                            c.runModel(m.key(), List.of(in), List.of(out));
                            TensorData y = c.getTensor(out);
                            assertThat(y.shape()).as(m.key()).containsExactly(batch, m.out());
                            assertThat(y.asFloats()).as(m.key()).containsExactly(m.expected().apply(x, batch),
                                    Offset.offset(1e-4f));
                            c.deleteTensor(in);
                            c.deleteTensor(out);
                            checked++;
                        }
                    }
                }
                return checked;
            };
            done.add(pool.submit(work));
        }
        int total = 0;
        for (Future<Integer> f : done) {
            total += f.get(10, TimeUnit.MINUTES);
        }
        pool.shutdown();
        assertThat(total).isEqualTo(threads * rounds * models.size());
        assertThat(keysMatching("*TMP*")).as("run temporaries left").isEmpty();
        try (Client c = Client.fromEnvironment(env)) {
            for (Model m : models) {
                c.deleteModel(m.key());
                assertThat(c.modelExists(m.key())).isFalse();
            }
        }
        assertThat(keysMatching("*m-*")).as("model copies or tensors left").isEmpty();
    }

    @Test
    void aTorchScriptIsStoredOnEveryShardAndRunsOnInputsFromAnyShard() throws Exception {
        Path file = dir.resolve("script.py");
        Files.writeString(file, SCRIPT);
        try (Client c = Client.fromEnvironment(env)) {
            c.setScriptFromFile("sc", "CPU", file);
            assertThat(c.getScript("sc")).isEqualTo(SCRIPT);
            // One copy per shard, each under that shard's own prefix: {P}.sc
            for (int p = base; p < base + 3; p++) {
                try (RespClient r = RespClient.connect(p)) {
                    List<?> keys = (List<?>) r.call("KEYS", "*}.sc");
                    assertThat(keys).as("script copies on shard %d", p).hasSize(1);
                }
            }
            // Inputs on different shards (their names hash apart); the client copies them to the first one's shard.
            for (int i = 0; i < 6; i++) {
                float[] a = {i, 1, 2.5f};
                float[] b = {-1, i * 0.5f, 4};
                c.putTensor("sa" + i, TensorData.of(a, 3));
                c.putTensor("sb" + i, TensorData.of(b, 3));
                c.runScript("sc", "scale_sum", List.of("sa" + i, "sb" + i), List.of("so" + i));
                float[] want = new float[3];
                for (int k = 0; k < 3; k++) {
                    want[k] = (a[k] + b[k]) * 2;
                }
                assertThat(c.getTensor("so" + i).asFloats()).containsExactly(want, Offset.offset(1e-6f));
            }
            c.putTensor("m", TensorData.of(new float[] {1, 2, 3, 4}, 2, 2));
            c.runScript("sc", "rows", List.of("m"), List.of("r0", "r1"));
            assertThat(c.getTensor("r0").asFloats()).containsExactly(1, 2);
            assertThat(c.getTensor("r1").asFloats()).containsExactly(3, 4);
            assertThat(keysMatching("*TMP*")).as("run temporaries left").isEmpty();
            c.deleteScript("sc");
            assertThat(keysMatching("*}.sc")).isEmpty();
        }
    }

    /** {@code \x07}, then per string its 8-byte little-endian length and bytes: SmartRedis's string metadata. */
    static byte[] strings(String... values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(7);
        for (String v : values) {
            byte[] b = v.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(b.length).array());
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    @Test
    void datasetsLiveOnTheShardOfTheirHashTagInSmartRedissLayoutBothWays() throws Exception {
        // Java writes: every key of the dataset is on the one shard owning {cds}; the others answer MOVED.
        try (Client c = Client.fromEnvironment(env)) {
            c.putDataset(new Dataset("cds").addTensor("u", TensorData.of(new double[] {1, 2, 3}, 3))
                    .addTensor("v", TensorData.of(new int[] {4, 5}, 1, 2))
                    .addMetaString("label", "hello").addMetaScalar("step", 42L));
            assertThat(c.pollDataset("cds", Duration.ofMillis(10), 3)).isTrue();
        }
        int owner = ownerPort("{cds}");
        for (int p = base; p < base + 3; p++) {
            try (RespClient r = RespClient.connect(p)) {
                Object n = r.call("EXISTS", "{cds}.meta", "{cds}.u", "{cds}.v");
                if (p == owner) {
                    assertThat(n).isEqualTo(3L);
                    assertThat(r.call("HGET", "{cds}.meta", "label")).isEqualTo(
                            new byte[] {7, 5, 0, 0, 0, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'});
                    assertThat(r.call("HGET", "{cds}.meta", "step")).isEqualTo(new byte[] {4, 42, 0, 0, 0, 0, 0, 0, 0});
                    assertThat(r.call("HGET", "{cds}.meta", ".tensor_names")).isEqualTo(strings("u", "v"));
                    assertThat(r.call("HGET", "{cds}.meta", ".COMPLETE")).isEqualTo("1".getBytes());
                } else {
                    assertThat(((RespError) n).text()).startsWith("MOVED");
                }
            }
        }
        // A SmartRedis writer's exact pipeline, sent to the shard of {sim}; the Java client reads it.
        byte[] blob = TensorData.of(new float[] {0.5f, -1, 2, 8}, 2, 2).data();
        try (RespClient r = RespClient.connect(ownerPort("{sim}"))) {
            List<Object> replies = r.pipeline(List.of(
                    new Object[] {"DEL", "{sim}.meta"},
                    new Object[] {"HMSET", "{sim}.meta", "label", strings("from C"), "rank",
                            new byte[] {3, 7, 0, 0, 0}, ".tensor_names", strings("field")},
                    new Object[] {"AI.TENSORSET", "{sim}.field", "FLOAT", "2", "2", "BLOB", blob},
                    new Object[] {"HSET", "{sim}.meta", ".COMPLETE", "1"}));
            assertThat(replies).noneMatch(o -> o instanceof RespError);
        }
        try (Client c = Client.fromEnvironment(env)) {
            Dataset ds = c.getDataset("sim");
            assertThat(ds.getMetaStrings("label")).containsExactly("from C");
            assertThat(ds.getMetaInts("rank")).containsExactly(7);
            assertThat(ds.getTensor("field").asFloats()).containsExactly(0.5f, -1, 2, 8);
            Dataset back = c.getDataset("cds");
            assertThat(back.getTensor("u").asDoubles()).containsExactly(1, 2, 3);
            assertThat(back.getTensor("v").asInts()).containsExactly(4, 5);
            c.deleteDataset("sim");
            c.deleteDataset("cds");
            assertThat(c.datasetExists("cds")).isFalse();
        }
        assertThat(keysMatching("{cds}*")).isEmpty();
        assertThat(keysMatching("{sim}*")).isEmpty();
    }

    /** The port of the shard owning {@code key}, from CLUSTER KEYSLOT and CLUSTER SLOTS. */
    private int ownerPort(String key) throws Exception {
        try (RespClient r = RespClient.connect(base)) {
            long slot = (Long) r.call("CLUSTER", "KEYSLOT", key);
            for (Object o : (List<?>) r.call("CLUSTER", "SLOTS")) {
                List<?> e = (List<?>) o;
                if (slot >= (Long) e.get(0) && slot <= (Long) e.get(1)) {
                    return ((Long) ((List<?>) e.get(2)).get(1)).intValue();
                }
            }
        }
        throw new AssertionError("no shard owns " + key);
    }

    /** Keys matching {@code pattern} on any shard. */
    private List<String> keysMatching(String pattern) throws Exception {
        List<String> all = new ArrayList<>();
        for (int p = base; p < base + 3; p++) {
            try (RespClient r = RespClient.connect(p)) {
                for (Object k : (List<?>) r.call("KEYS", pattern)) {
                    all.add(p + ":" + new String((byte[]) k, StandardCharsets.ISO_8859_1));
                }
            }
        }
        return all;
    }
}
