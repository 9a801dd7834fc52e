package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.OnnxModels;
import io.smartsim.launch.ai.testing.AiCalls;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.ai.testing.AiCalls.OK;
import static io.smartsim.launch.ai.testing.AiCalls.floats;
import static io.smartsim.launch.ai.testing.AiCalls.str;
import static io.smartsim.launch.ai.testing.AiCalls.toFloats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * set_model / run_model / get_model / delete_model exactly as SmartRedis 0.6.1 sends them in standalone mode
 * (shared/notes/redisai.md section 1), through the module path every launcher serves {@code --ai} with (issue 16): a
 * real redis-server loading the smartsim-ai module and the real model server with the ONNX backend on its socket
 * ({@link ModuleShard}). Outputs are checked against values computed here; the error texts are the ones the Java front
 * answered (OnnxFrontIT, which this replaces).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class OnnxModuleIT {
    @RegisterExtension
    static final Leftovers leftovers = Leftovers.perClass(); // checked once the class's shared servers are gone
    // Y = X @ W + B, W 3x2, B 2
    static final float[] W = {1, 2, -1, 0.5f, 3, -2};
    static final float[] B = {0.25f, -1};
    static final byte[] LINEAR = OnnxModels.linear(3, 2, W, B);

    @TempDir
    static Path dir;
    static ModuleShard shard;

    @BeforeAll
    static void start() throws Exception {
        shard = ModuleShard.start(dir, leftovers.freeBase(1), "ONNX");
    }

    @AfterAll
    static void stop() throws Exception {
        if (shard != null) {
            shard.close();
        }
    }

    /** X @ W + B, computed independently of any runtime. */
    static float[] linear(float[] x, int rows, int in, int out, float[] w, float[] b) {
        return AiCalls.dense(x, rows, in, out, (i, o) -> w[i * out + o], b);
    }

    /** set_model as SmartRedis sends it: the chunk size first, then MODELSTORE with the blob cut into chunks. */
    static void setModel(RespClient c, String key, byte[] model) throws Exception {
        assertThat(AiCalls.setModel(c, key, "ONNX", "CPU", List.of(), model, 100)).isEqualTo(OK);
    }

    @Test
    void setRunGetDeleteModelLikeSmartRedis() throws Exception {
        float[] x = {1, 2, 3, -1, 0, 0.5f};
        try (RespClient c = RespClient.connect(shard.port())) {
            setModel(c, "m.lin", LINEAR);
            assertThat(c.call("EXISTS", "m.lin")).isEqualTo(1L); // model_exists / poll_model
            assertThat(c.call("AI.TENSORSET", "in", "FLOAT", "2", "3", "BLOB", floats(x))).isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "m.lin", "INPUTS", "1", "in", "OUTPUTS", "1", "out",
                    "TIMEOUT", "60000000")).isEqualTo(OK);
            List<?> out = (List<?>) c.call("AI.TENSORGET", "out", "META", "BLOB");
            assertThat(str(out.get(1))).isEqualTo("FLOAT");
            assertThat(out.get(3)).isEqualTo(List.of(2L, 2L));
            assertThat(toFloats((byte[]) out.get(5))).containsExactly(linear(x, 2, 3, 2, W, B));

            Object blob = c.call("AI.MODELGET", "m.lin", "BLOB");
            assertThat(blob).isInstanceOf(byte[].class);
            assertThat((byte[]) blob).isEqualTo(LINEAR);
            List<?> meta = (List<?>) c.call("AI.MODELGET", "m.lin", "META");
            assertThat(meta).hasSize(16);
            assertThat(str(meta.get(1))).isEqualTo("ONNX");
            assertThat(str(meta.get(3))).isEqualTo("CPU");

            List<?> info = (List<?>) c.call("AI.INFO", "m.lin");
            assertThat(info).hasSize(18);
            assertThat(str(info.get(1))).isEqualTo("m.lin");
            assertThat(str(info.get(3))).isEqualTo("MODEL");
            assertThat(str(info.get(5))).isEqualTo("ONNX");
            assertThat(info.get(13)).isEqualTo(2L); // samples: the batch dimension
            assertThat(info.get(15)).isEqualTo(1L); // calls
            assertThat(info.get(17)).isEqualTo(0L); // errors
            assertThat(c.call("AI.INFO", "m.lin", "RESETSTAT")).isEqualTo(OK);

            assertThat(c.call("AI.MODELDEL", "m.lin")).isEqualTo(OK);
            assertThat(c.call("EXISTS", "m.lin")).isEqualTo(0L);
            assertThat(c.call("AI.MODELEXECUTE", "m.lin", "INPUTS", "1", "in", "OUTPUTS", "1", "out"))
                    .isEqualTo(new RespError("ERR model key is empty"));
        }
    }

    @Test
    void badInputIsAnErrorAndTheServerGoesOn() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            setModel(c, "m.bad", LINEAR);
            assertThat(c.call("AI.MODELSTORE", "m.corrupt", "ONNX", "CPU", "BLOB", "not a model at all"))
                    .isInstanceOf(RespError.class)
                    .satisfies(e -> assertThat(((RespError) e).text()).startsWith("ERR "));
            assertThat(c.call("EXISTS", "m.corrupt")).isEqualTo(0L);

            assertThat(c.call("AI.TENSORSET", "wrong.shape", "FLOAT", "2", "4", "BLOB", new byte[32])).isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "m.bad", "INPUTS", "1", "wrong.shape", "OUTPUTS", "1", "o"))
                    .isInstanceOf(RespError.class)
                    .satisfies(e -> assertThat(((RespError) e).text()).contains("dimensions"));

            assertThat(c.call("AI.TENSORSET", "wrong.type", "DOUBLE", "1", "3", "BLOB", new byte[24])).isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "m.bad", "INPUTS", "1", "wrong.type", "OUTPUTS", "1", "o"))
                    .isInstanceOf(RespError.class)
                    .satisfies(e -> assertThat(((RespError) e).text()).contains("type"));

            assertThat(c.call("AI.TENSORSET", "short", "FLOAT", "1", "3", "BLOB", new byte[8]))
                    .isEqualTo(new RespError("ERR data length does not match tensor shape and type"));
            assertThat(c.call("AI.MODELEXECUTE", "m.bad", "INPUTS", "1", "no.such.input", "OUTPUTS", "1", "o"))
                    .isEqualTo(new RespError("ERR tensor key is empty or in a different shard"));
            assertThat(c.call("AI.MODELEXECUTE", "no.such.model", "INPUTS", "1", "wrong.type", "OUTPUTS", "1", "o"))
                    .isEqualTo(new RespError("ERR model key is empty"));
            // One fault a call (inputs that exist): the model's own input count is known to the model server only, so
            // the module checks it after the keys, where the front checked it first (docs/ai.md, "Same answers").
            assertThat(c.call("AI.MODELEXECUTE", "m.bad", "INPUTS", "2", "wrong.shape", "wrong.type", "OUTPUTS", "1",
                    "o")).isEqualTo(new RespError("Number of keys given as INPUTS here does not match model definition"));
            assertThat(c.call("AI.MODELEXECUTE", "m.bad", "INPUTS", "1", "wrong.shape", "OUTPUTS", "1", "o", "TIMEOUT",
                    "0")).isEqualTo(new RespError("ERR Invalid value for TIMEOUT"));
            assertThat(c.call("AI.MODELEXECUTE", "m.bad", "INPUTS", "1", "wrong.shape", "OUTPUTS", "1", "o", "SOON"))
                    .isEqualTo(new RespError("Invalid argument: SOON"));
            assertThat(c.call("AI.MODELEXECUTE", "m.bad", "INPUTS", "0", "OUTPUTS", "1", "o", "x"))
                    .isEqualTo(new RespError("ERR Input count must be a positive integer"));
            assertThat(c.call("SET", "plain", "v")).isEqualTo(OK);
            assertThat(c.call("AI.MODELSTORE", "plain", "ONNX", "CPU", "BLOB", LINEAR))
                    .isEqualTo(new RespError("WRONGTYPE Operation against a key holding the wrong kind of value"));
            assertThat(c.call("AI.MODELGET", "plain", "BLOB"))
                    .isEqualTo(new RespError("WRONGTYPE Operation against a key holding the wrong kind of value"));

            // Still serving, and the model still runs.
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
            assertThat(c.call("AI.TENSORSET", "good", "FLOAT", "1", "3", "BLOB", floats(1, 1, 1))).isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "m.bad", "INPUTS", "1", "good", "OUTPUTS", "1", "o")).isEqualTo(OK);
            List<?> info = (List<?>) c.call("AI.INFO", "m.bad");
            assertThat(info.get(17)).isEqualTo(2L); // the two runs the runtime refused
        }
    }

    @Test
    void aRunPastItsTimeoutIsStoppedAndAnsweredTimedOut() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            setModel(c, "m.loop", OnnxModels.loop());
            assertThat(c.call("AI.TENSORSET", "loop.x", "FLOAT", "1", "BLOB", floats(2))).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "loop.few", "INT64", "1", "VALUES", "3")).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "loop.endless", "INT64", "1", "VALUES", Long.toString(Long.MAX_VALUE)))
                    .isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "m.loop", "INPUTS", "2", "loop.few", "loop.x", "OUTPUTS", "1",
                    "loop.y", "TIMEOUT", "60000")).isEqualTo(OK);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "loop.y", "BLOB"))).containsExactly(-2);

            // Long.MAX_VALUE rounds: this run ends only if ONNX Runtime is told to stop it, on any machine.
            assertThat(c.call("AI.MODELEXECUTE", "m.loop", "INPUTS", "2", "loop.endless", "loop.x", "OUTPUTS", "1",
                    "loop.out", "TIMEOUT", "100")).isEqualTo(new RespSimple("TIMEDOUT"));
            assertThat(c.call("EXISTS", "loop.out")).isEqualTo(0L);
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
            // The model is whole after a stopped run.
            assertThat(c.call("AI.MODELEXECUTE", "m.loop", "INPUTS", "2", "loop.few", "loop.x", "OUTPUTS", "1",
                    "loop.out", "TIMEOUT", "60000")).isEqualTo(OK);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "loop.out", "BLOB"))).containsExactly(-2);
            assertThat(((List<?>) c.call("AI.INFO", "m.loop")).get(17)).isEqualTo(1L); // errors: the stopped run
            assertThat(c.call("AI.MODELDEL", "m.loop")).isEqualTo(OK);
        }
    }

    @Test
    void storedModelsRunAfterARestartOfTheModelServer() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            setModel(c, "m.keep", LINEAR);
            assertThat(c.call("AI.TENSORSET", "keep.in", "FLOAT", "1", "3", "BLOB", floats(2, 0, 1))).isEqualTo(OK);
        }
        // The new model server knows no model: the module pushes the stored one from the keyspace on its first run.
        shard.restartModelServer();
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(c.call("AI.MODELEXECUTE", "m.keep", "INPUTS", "1", "keep.in", "OUTPUTS", "1", "keep.out"))
                    .isEqualTo(OK);
            byte[] y = (byte[]) c.call("AI.TENSORGET", "keep.out", "BLOB");
            assertThat(toFloats(y)).containsExactly(linear(new float[] {2, 0, 1}, 1, 3, 2, W, B));
            assertThat(((List<?>) c.call("AI.INFO", "m.keep")).get(15)).isEqualTo(1L);
        }
    }

    @Test
    void manyClientsRunOneModelAtOnce() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            setModel(c, "m.shared", LINEAR);
        }
        AiCalls.concurrently(shard.port(), 8, Duration.ofSeconds(60), (id, c) -> {
            for (int k = 0; k < 50; k++) {
                float[] x = {id, k, 1};
                c.call("AI.TENSORSET", "in." + id, "FLOAT", "1", "3", "BLOB", floats(x));
                assertThat(c.call("AI.MODELEXECUTE", "m.shared", "INPUTS", "1", "in." + id, "OUTPUTS", "1",
                        "out." + id)).isEqualTo(OK);
                assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "out." + id, "BLOB")))
                        .containsExactly(linear(x, 1, 3, 2, W, B));
            }
        });
    }

    /**
     * A python3 that imports the onnx package. The test is skipped, saying why, only when no python3 has the package;
     * any other failure (an import that breaks another way) fails it.
     */
    static String pythonWithOnnx() throws Exception {
        List<String> missing = new java.util.ArrayList<>();
        for (String py : List.of("/usr/bin/python3", "python3")) {
            Process p;
            try {
                p = new ProcessBuilder(py, "-c", "import onnx").redirectErrorStream(true).start();
            } catch (java.io.IOException e) {
                missing.add(py + ": not found");
                continue;
            }
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s -c 'import onnx' done within 60 s", py).isTrue();
            if (p.exitValue() == 0) {
                return py;
            }
            assertThat(log).as("%s -c 'import onnx' failed other than for a missing package", py)
                    .contains("No module named 'onnx'");
            missing.add(py + ": no module named 'onnx'");
        }
        assumeThat(missing).as("python3 with the onnx package (Debian: apt-get install python3-onnx); here "
                + String.join(", ", missing)).isEmpty();
        throw new AssertionError("unreachable");
    }

    /** A model written by the onnx Python package (Debian's python3-onnx), when it is installed. */
    @Test
    void modelWrittenByOnnxHelperRuns(@TempDir Path dir) throws Exception {
        Path script = dir.resolve("make.py");
        Path model = dir.resolve("mlp.onnx");
        Files.writeString(script, String.join("\n",
                "import sys, onnx",
                "from onnx import helper, TensorProto",
                "W1 = helper.make_tensor('W1', TensorProto.FLOAT, [2, 3], [1, -1, 0.5, 2, 0, -3])",
                "B1 = helper.make_tensor('B1', TensorProto.FLOAT, [3], [0.1, 0.2, -0.3])",
                "W2 = helper.make_tensor('W2', TensorProto.FLOAT, [3, 1], [1, 2, 3])",
                "nodes = [helper.make_node('Gemm', ['x', 'W1', 'B1'], ['h']),",
                "         helper.make_node('Relu', ['h'], ['r']),",
                "         helper.make_node('MatMul', ['r', 'W2'], ['y'])]",
                "g = helper.make_graph(nodes, 'mlp',",
                "    [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['n', 2])],",
                "    [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['n', 1])], [W1, B1, W2])",
                "m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])",
                "m.ir_version = 7",
                "onnx.checker.check_model(m)",
                "onnx.save(m, sys.argv[1])", ""));
        String py = pythonWithOnnx();
        Process p = new ProcessBuilder(py, script.toString(), model.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s %s done within 60 s", py, script).isTrue();
        assertThat(p.exitValue()).as("%s %s: %s", py, script, log).isZero();
        float[] x = {1, 2, -1, 0.5f};
        // h = x W1 + B1, relu, y = r W2
        float[] w1 = {1, -1, 0.5f, 2, 0, -3};
        float[] b1 = {0.1f, 0.2f, -0.3f};
        float[] h = linear(x, 2, 2, 3, w1, b1);
        for (int i = 0; i < h.length; i++) {
            h[i] = Math.max(0, h[i]);
        }
        float[] y = linear(h, 2, 3, 1, new float[] {1, 2, 3}, new float[] {0});
        try (RespClient c = RespClient.connect(shard.port())) {
            setModel(c, "m.py", Files.readAllBytes(model));
            assertThat(c.call("AI.TENSORSET", "py.in", "FLOAT", "2", "2", "BLOB", floats(x))).isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "m.py", "INPUTS", "1", "py.in", "OUTPUTS", "1", "py.out", "TIMEOUT",
                    "60000000")).isEqualTo(OK);
            List<?> out = (List<?>) c.call("AI.TENSORGET", "py.out", "META", "BLOB");
            assertThat(out.get(3)).isEqualTo(List.of(2L, 1L));
            float[] got = toFloats((byte[]) out.get(5));
            for (int i = 0; i < y.length; i++) {
                assertThat(got[i]).isCloseTo(y[i], org.assertj.core.data.Offset.offset(1e-5f));
            }
        }
    }
}
