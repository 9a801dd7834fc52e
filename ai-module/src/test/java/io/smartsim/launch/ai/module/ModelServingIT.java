package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.OnnxModels;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.ai.module.TensorWireIT.b;
import static io.smartsim.launch.ai.module.TensorWireIT.cmd;
import static io.smartsim.launch.ai.module.TensorWireIT.floats;
import static io.smartsim.launch.ai.module.TensorWireIT.show;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Models through the module: a real redis-server with smartsim-ai loaded ({@code SOCKET <path> BACKENDS ONNX}), the
 * real model server process (ai-server's ModelServerMain with the ONNX backend) on that Unix socket, and a real ONNX
 * model (built in memory by ai-server's OnnxModels, no download). Replies are compared byte for byte with what the
 * Java front answered (the front with the same ONNX backend, before a plain redis-server; recorded from it before its
 * removal in issue 16: {@link Golden}), as TensorWireIT does for tensors.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ModelServingIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    // Y = X @ W + B, W 3x2, B 2 (the model OnnxModuleIT checks against values computed by hand)
    static final float[] W = {1, 2, -1, 0.5f, 3, -2};
    static final float[] B = {0.25f, -1};
    static final byte[] LINEAR = OnnxModels.linear(3, 2, W, B);

    @TempDir
    Path dir;

    Path socket() {
        return dir.resolve("ms.sock");
    }

    ModuleRedis moduleRedis(int port, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("SOCKET", socket().toString(), "BACKENDS", "ONNX"));
        args.addAll(List.of(extra));
        return ModuleRedis.withModule(dir.resolve("redis"), port, args.toArray(String[]::new));
    }

    /** SmartRedis 0.6.1's set_model: the chunk size first, then MODELSTORE with the blob cut into chunks. */
    static byte[][] modelStore(String key, byte[] model, int chunk, Object... options) {
        List<Object> c = new ArrayList<>(List.of("AI.MODELSTORE", key, "ONNX", "CPU"));
        c.addAll(List.of(options));
        c.add("BLOB");
        for (int i = 0; i < model.length; i += chunk) {
            c.add(Arrays.copyOfRange(model, i, Math.min(model.length, i + chunk)));
        }
        return cmd(c.toArray());
    }

    /** SmartRedis's set_model / run_model / unpack_tensor / get_model / delete_model, and the front's error texts. */
    static List<List<byte[][]>> sequence() {
        byte[] x = floats(1, 2, 3, -0.5f, 0, 4);
        List<List<byte[][]>> calls = new ArrayList<>();
        // set_model
        calls.add(List.<byte[][]>of(cmd("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")));
        calls.add(List.<byte[][]>of(modelStore("m", LINEAR, 100)));
        calls.add(List.<byte[][]>of(cmd("EXISTS", "m")));
        // put_tensor, run_model, unpack_tensor
        calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", "x", "FLOAT", 2, 3, "BLOB", x)));
        calls.add(List.<byte[][]>of(cmd("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "TIMEOUT", 10000)));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", "y", "META", "BLOB")));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORGET", "y", "VALUES")));
        // the same run without TIMEOUT, pipelined with its reads, as a pipeline of clients would send it
        calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", "x2", "FLOAT", 1, 3, "VALUES", 0.5, -1, 2),
                cmd("AI.MODELEXECUTE", "m", "INPUTS", 1, "x2", "OUTPUTS", 1, "y2"),
                cmd("AI.TENSORGET", "y2", "META", "BLOB")));
        // get_model, and the metadata forms
        calls.add(List.<byte[][]>of(cmd("AI.MODELGET", "m", "BLOB")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELGET", "m", "META")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELGET", "m")));
        calls.add(List.<byte[][]>of(modelStore("tagged", LINEAR, 1 << 20, "TAG", "v1", "BATCHSIZE", 8, "MINBATCHSIZE", 2,
                "MINBATCHTIMEOUT", 5)));
        calls.add(List.<byte[][]>of(cmd("AI.MODELGET", "tagged", "META")));
        // bad input: every text must be the front's
        calls.add(List.<byte[][]>of(cmd("AI.MODELSTORE", "t", "TORCH", "CPU", "BLOB", "xx")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELSTORE", "bad", "ONNX", "CPU", "BLOB", "not a model")));
        calls.add(List.<byte[][]>of(cmd("EXISTS", "bad")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELSTORE", "m", "ONNX", "CPX", "BLOB", "xx")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELSTORE", "m", "NOPE", "CPU", "BLOB", "xx")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELSTORE", "m", "ONNX", "CPU", "INPUTS", 1, "a", "BLOB", "xx")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELSTORE", "m", "ONNX", "CPU", "MINBATCHSIZE", 2, "BLOB", "xx")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELSTORE", "m", "ONNX", "CPU", "BLOB")));
        calls.add(List.<byte[][]>of(cmd("SET", "s", "a string")));
        calls.add(List.<byte[][]>of(modelStore("s", LINEAR, 1 << 20)));
        calls.add(List.<byte[][]>of(cmd("AI.MODELGET", "s", "META")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELGET", "nosuch", "META")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELGET", "m", "NEITHER")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELEXECUTE", "nosuch", "INPUTS", 1, "x", "OUTPUTS", 1, "y")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELEXECUTE", "s", "INPUTS", 1, "x", "OUTPUTS", 1, "y")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELEXECUTE", "m", "INPUTS", 2, "x", "x2", "OUTPUTS", 1, "y")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 2, "y", "z")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELEXECUTE", "m", "INPUTS", 0, "x", "OUTPUTS", 1, "y")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELEXECUTE", "m", "INPUTS", 1, "nosuch", "OUTPUTS", 1, "y")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELEXECUTE", "m", "INPUTS", 1, "s", "OUTPUTS", 1, "y")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "FOO", 1)));
        calls.add(List.<byte[][]>of(cmd("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "TIMEOUT", 0)));
        calls.add(List.<byte[][]>of(cmd("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1)));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", "wide", "FLOAT", 1, 4, "VALUES", 1, 2, 3, 4)));
        calls.add(List.<byte[][]>of(cmd("AI.MODELEXECUTE", "m", "INPUTS", 1, "wide", "OUTPUTS", 1, "y")));
        // delete_model
        calls.add(List.<byte[][]>of(cmd("AI.MODELDEL", "m")));
        calls.add(List.<byte[][]>of(cmd("EXISTS", "m")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELDEL", "m")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELDEL", "s")));
        calls.add(List.<byte[][]>of(cmd("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y")));
        // set_model_chunk_size
        calls.add(List.<byte[][]>of(cmd("AI.CONFIG", "MODEL_CHUNK_SIZE", 1000), cmd("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")));
        calls.add(List.<byte[][]>of(cmd("AI.CONFIG", "MODEL_CHUNK_SIZE", 0), cmd("AI.CONFIG", "GET", "NOTHING"),
                cmd("AI.CONFIG", "LOADBACKEND", "ONNX", "x"), cmd("AI.CONFIG", "LOADBACKEND", "TORCH", "x"),
                cmd("AI.CONFIG", "FOO")));
        return calls;
    }

    @Test
    void smartRedisModelSequenceAnswersAsTheFrontDoes() throws Exception {
        try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket(), "ONNX");
             ModuleRedis module = moduleRedis(leftovers.freeBase(1));
             RawReplies toModule = new RawReplies(module.port())) {
            List<String> fromModule = TensorWireIT.replies(toModule, sequence());
            // The outputs are the model's: X @ W + B, by hand.
            assertThat(show(toModule.call(b("AI.TENSORGET"), b("y"), b("BLOB"))))
                    .isEqualTo(show(b("$16\r\n")) + show(floats(1 - 2 + 9 + 0.25f, 2 + 1 - 6 - 1, -0.5f + 12 + 0.25f,
                            -1 - 8 - 1)) + "\\x0d\\x0a");
            // The stored model is the front's hash, field for field (the random id aside).
            byte[][] hmget = cmd("HMGET", "tagged", "type", "backend", "device", "tag", "batchsize", "minbatchsize",
                    "minbatchtimeout", "inputs", "outputs", "blob");
            fromModule.add(TensorWireIT.reply(toModule, hmget));
            for (String key : List.of("y", "y2")) {
                fromModule.add(TensorWireIT.reply(toModule, b("GET"), b(key)));
            }
            // AI.INFO's counters: two good runs (2 + 1 samples), one the runtime refuses (an error), one refused
            // before the run (not counted); the duration is the one figure that differs (a time), so masked.
            List<byte[][]> info = List.of(cmd("AI.TENSORSET", "x3", "FLOAT", 2, 3, "VALUES", 1, 2, 3, 4, 5, 6),
                    cmd("AI.MODELEXECUTE", "tagged", "INPUTS", 1, "x3", "OUTPUTS", 1, "o"),
                    cmd("AI.MODELEXECUTE", "tagged", "INPUTS", 1, "x2", "OUTPUTS", 1, "o"),
                    cmd("AI.MODELEXECUTE", "tagged", "INPUTS", 1, "wide", "OUTPUTS", 1, "o"),
                    cmd("AI.MODELEXECUTE", "tagged", "INPUTS", 1, "nosuch", "OUTPUTS", 1, "o"),
                    cmd("AI.INFO", "tagged"), cmd("AI.INFO", "tagged", "RESETSTAT"), cmd("AI.INFO", "tagged"),
                    cmd("AI.INFO", "nosuch"), cmd("AI.INFO", "s"), cmd("AI.INFO", "tagged", "RESETSTAT", "x"),
                    cmd("AI.INFO"), cmd("AI.INFO", "a", "b", "c"));
            List<String> infoModule = toModule.pipeline(info).stream().map(r -> maskDuration(show(r))).toList();
            for (int i = 0; i < info.size(); i++) {
                fromModule.add(TensorWireIT.label(info.get(i)) + " -> " + infoModule.get(i));
            }
            Golden.check("model-smartredis-sequence", fromModule);
            assertThat(infoModule.get(11)).as("AI.INFO without a key: the model server's ONNX Runtime version")
                    .startsWith("*8\\x0d\\x0a+Version\\x0d\\x0a$5\\x0d\\x0a1.2.7").contains("+ONNX version\\x0d\\x0a+1.");
            assertThat(infoModule.get(5)).as("the counters")
                    .contains("$7\\x0d\\x0asamples\\x0d\\x0a:3\\x0d\\x0a$5\\x0d\\x0acalls\\x0d\\x0a:2"
                            + "\\x0d\\x0a$6\\x0d\\x0aerrors\\x0d\\x0a:1");
        }
    }

    /** Only ONNX was named: TORCH is refused at once, with or without a model server to ask. */
    @Test
    void aBackendNotLoadedIsRefusedAtOnceEvenWithoutTheModelServer() throws Exception {
        try (ModuleRedis module = moduleRedis(leftovers.freeBase(1)); RespClient c = module.client()) {
            for (String backend : List.of("TORCH", "TF", "TFLITE")) {
                Object[] store = backend.equals("TF")
                        ? new Object[] {"AI.MODELSTORE", "b", backend, "CPU", "INPUTS", 1, "a", "OUTPUTS", 1, "b",
                                "BLOB", "xx"}
                        : new Object[] {"AI.MODELSTORE", "b", backend, "CPU", "BLOB", "xx"};
                assertThat(c.call(store)).isEqualTo(new RespError("ERR Backend not loaded: " + backend));
            }
            assertThat(c.call("AI.MODELSTORE", "m", "ONNX", "CPU", "BLOB", "xx")).isInstanceOfSatisfying(
                    RespError.class, e -> assertThat(e.text()).startsWith("ERR model server not connected (socket "
                            + socket()));
        }
    }

    @Test
    void withTheModelServerKilledDataCommandsWorkAndModelCommandsNameIt() throws Exception {
        try (ModuleRedis module = moduleRedis(leftovers.freeBase(1)); RespClient c = module.client()) {
            ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket(), "ONNX");
            try {
                assertThat(c.call(modelStoreArgs("m"))).isEqualTo(new RespSimple("OK"));
                assertThat(c.call("AI.TENSORSET", "x", "FLOAT", 1, 3, "VALUES", 1, 2, 3)).isEqualTo(new RespSimple("OK"));
                assertThat(c.call("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y"))
                        .isEqualTo(new RespSimple("OK"));
            } finally {
                server.kill();
            }
            // Data commands do not need the model server.
            assertThat(c.call("AI.TENSORSET", "x", "FLOAT", 1, 3, "VALUES", 3, 2, 1)).isEqualTo(new RespSimple("OK"));
            assertThat(((List<?>) c.call("AI.TENSORGET", "x", "VALUES")).stream().map(v -> new String((byte[]) v)))
                    .containsExactly("3", "2", "1");
            assertThat(c.call("SET", "k", "v")).isEqualTo(new RespSimple("OK"));
            assertThat(c.call("GET", "k")).isEqualTo(b("v"));
            assertThat(c.call("AI.MODELGET", "m", "BLOB")).isEqualTo(LINEAR);
            // Model commands name the missing model server.
            String missing = "ERR model server not connected (socket " + socket() + ": Connection refused)";
            assertThat(c.call("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y"))
                    .isEqualTo(new RespError(missing));
            assertThat(c.call(modelStoreArgs("m2"))).isEqualTo(new RespError(missing));
            assertThat(c.call("AI.INFO")).isEqualTo(new RespError(missing));
            assertThat(c.call("EXISTS", "m2")).isEqualTo(0L);
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
            // A new model server knows no model: the module pushes the stored one on first use.
            try (ModelServerProcess again = ModelServerProcess.start(dir.resolve("model-server-2"), socket(), "ONNX")) {
                assertThat(c.call("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y"))
                        .isEqualTo(new RespSimple("OK"));
                assertThat(c.call("AI.TENSORGET", "y", "BLOB")).isEqualTo(floats(3 - 2 + 3 + 0.25f, 6 + 1 - 2 - 1));
            }
        }
    }

    /** The model is data: after a restart from the AOF, the first run pushes it to the model server from the keyspace. */
    @Test
    void aStoredModelSurvivesARestartFromTheAof() throws Exception {
        int port = leftovers.freeBase(1);
        try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket(), "ONNX")) {
            try (ModuleRedis module = moduleRedis(port, "--appendonly", "yes"); RespClient c = module.client()) {
                assertThat(c.call(modelStoreArgs("m"))).isEqualTo(new RespSimple("OK"));
                assertThat(c.call("AI.TENSORSET", "x", "FLOAT", 1, 3, "VALUES", 1, 2, 3)).isEqualTo(new RespSimple("OK"));
            }
            try (ModuleRedis module = moduleRedis(port, "--appendonly", "yes"); RespClient c = module.client()) {
                assertThat(c.call("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y"))
                        .isEqualTo(new RespSimple("OK"));
                assertThat(c.call("AI.TENSORGET", "y", "BLOB")).isEqualTo(floats(1 - 2 + 9 + 0.25f, 2 + 1 - 6 - 1));
                assertThat(c.call("AI.MODELDEL", "m")).isEqualTo(new RespSimple("OK"));
            }
        }
        assertThat(Files.exists(socket())).as("the model server removed its socket on SIGTERM").isFalse();
    }

    /**
     * A replica gets the model as data (DEL + HSET) and a run's outputs (SET), with no model server of its own being
     * asked; once promoted, its first run pushes the model from its keyspace to its own model server.
     */
    @Test
    void aReplicaHasTheModelAndTheOutputsAndRunsThemOncePromoted() throws Exception {
        int base = leftovers.freeBase(2);
        Path replicaSocket = dir.resolve("ms-replica.sock");
        try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket(), "ONNX");
             ModelServerProcess replicaServer = ModelServerProcess.start(dir.resolve("model-server-replica"),
                     replicaSocket, "ONNX");
             ModuleRedis master = moduleRedis(base);
             ModuleRedis replica = ModuleRedis.withModule(dir.resolve("replica"), base + 1, "SOCKET",
                     replicaSocket.toString(), "BACKENDS", "ONNX", "--replicaof", "127.0.0.1",
                     Integer.toString(base));
             RespClient m = master.client(); RespClient r = replica.client()) {
            java.time.Instant deadline = java.time.Instant.now().plusSeconds(60);
            while (!new String((byte[]) m.call("INFO", "replication")).contains("state=online")) {
                assertThat(java.time.Instant.now()).as("replica online within 60 s").isBefore(deadline);
                Thread.sleep(50);
            }
            assertThat(m.call(modelStoreArgs("m"))).isEqualTo(new RespSimple("OK"));
            assertThat(m.call("AI.TENSORSET", "x", "FLOAT", 1, 3, "VALUES", 1, 2, 3)).isEqualTo(new RespSimple("OK"));
            assertThat(m.call("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y"))
                    .isEqualTo(new RespSimple("OK"));
            assertThat(m.call("WAIT", 1, 30000)).isEqualTo(1L);
            for (String field : List.of("type", "id", "backend", "device", "blob")) {
                assertThat(r.call("HGET", "m", field)).as("replica's model field " + field)
                        .isEqualTo(m.call("HGET", "m", field));
            }
            assertThat(r.call("AI.TENSORGET", "y", "BLOB")).isEqualTo(floats(1 - 2 + 9 + 0.25f, 2 + 1 - 6 - 1));
            assertThat(r.call("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y2")).as("a replica is read-only")
                    .isInstanceOfSatisfying(RespError.class, e -> assertThat(e.text()).startsWith("READONLY"));
            assertThat(r.call("REPLICAOF", "NO", "ONE")).isEqualTo(new RespSimple("OK"));
            assertThat(r.call("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y2"))
                    .isEqualTo(new RespSimple("OK"));
            assertThat(r.call("AI.TENSORGET", "y2", "BLOB")).isEqualTo(floats(1 - 2 + 9 + 0.25f, 2 + 1 - 6 - 1));
        }
    }

    /**
     * A run blocks only its own client: while a model runs on the model server, the event loop serves others, and
     * another model is stored and run beside it; a run
     * past its TIMEOUT is stopped and answered TIMEDOUT (counted in AI.INFO's errors), and the model is whole after.
     */
    @Test
    void aLongRunBlocksOnlyItsClientAndIsStoppedAtItsTimeout() throws Exception {
        try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket(), "ONNX");
             ModuleRedis module = moduleRedis(leftovers.freeBase(1));
             RespClient c = module.client();
             java.net.Socket waiting = new java.net.Socket("127.0.0.1", module.port())) {
            assertThat(c.call("AI.MODELSTORE", "loop", "ONNX", "CPU", "BLOB", OnnxModels.loop()))
                    .isEqualTo(new RespSimple("OK"));
            assertThat(c.call("AI.TENSORSET", "x", "FLOAT", 1, "BLOB", floats(2))).isEqualTo(new RespSimple("OK"));
            assertThat(c.call("AI.TENSORSET", "few", "INT64", 1, "VALUES", 3)).isEqualTo(new RespSimple("OK"));
            // Long.MAX_VALUE rounds: this run ends only when ONNX Runtime is told to stop it, on any machine.
            assertThat(c.call("AI.TENSORSET", "endless", "INT64", 1, "VALUES", Long.MAX_VALUE))
                    .isEqualTo(new RespSimple("OK"));
            waiting.setSoTimeout(60_000);
            waiting.getOutputStream().write(resp(cmd("AI.MODELEXECUTE", "loop", "INPUTS", 2, "endless",
                    "x", "OUTPUTS", 1, "out", "TIMEOUT", 5000)));
            waiting.getOutputStream().flush();
            assertThat(c.call("AI.TENSORGET", "x", "BLOB")).as("served while the model runs").isEqualTo(floats(2));
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
            // other runs go on beside it (the module has more than one connection to the model server)
            assertThat(c.call("AI.MODELSTORE", "m", "ONNX", "CPU", "BLOB", LINEAR)).isEqualTo(new RespSimple("OK"));
            assertThat(c.call("AI.TENSORSET", "in", "FLOAT", 1, 3, "VALUES", 1, 2, 3)).isEqualTo(new RespSimple("OK"));
            assertThat(c.call("AI.MODELEXECUTE", "m", "INPUTS", 1, "in", "OUTPUTS", 1, "y"))
                    .isEqualTo(new RespSimple("OK"));
            assertThat(c.call("AI.TENSORGET", "y", "BLOB")).isEqualTo(floats(1 - 2 + 9 + 0.25f, 2 + 1 - 6 - 1));
            assertThat(waiting.getInputStream().available()).as("the running client has no answer yet").isZero();
            byte[] reply = new byte[11];
            int n = 0;
            while (n < reply.length) {
                int r = waiting.getInputStream().read(reply, n, reply.length - n);
                assertThat(r).as("connection open").isPositive();
                n += r;
            }
            assertThat(new String(reply)).isEqualTo("+TIMEDOUT\r\n");
            assertThat(c.call("EXISTS", "out")).isEqualTo(0L);
            assertThat(c.call("AI.MODELEXECUTE", "loop", "INPUTS", 2, "few", "x", "OUTPUTS", 1, "out", "TIMEOUT",
                    60000)).isEqualTo(new RespSimple("OK"));
            assertThat(c.call("AI.TENSORGET", "out", "BLOB")).isEqualTo(floats(-2));
            List<?> info = (List<?>) c.call("AI.INFO", "loop");
            assertThat(new String((byte[]) info.get(14))).isEqualTo("calls");
            assertThat(info.get(15)).as("calls: the good run").isEqualTo(1L);
            assertThat(new String((byte[]) info.get(16))).isEqualTo("errors");
            assertThat(info.get(17)).as("errors: the stopped run").isEqualTo(1L);
        }
    }

    /** The model server loads only what it is told, and refuses at start what it cannot load, naming the fix. */
    @Test
    void theModelServerRefusesABackendItCannotLoadNamingTheFix() throws Exception {
        // ai-tf is not on this module's test class path (ai-onnx and ai-torch are)
        assertThatThrownBy(() -> ModelServerProcess.start(dir.resolve("tf"), dir.resolve("t.sock"), "ONNX,TF"))
                .hasMessageContaining("exited with 2")
                .hasMessageContaining("--backends: the TF backend is not on the class path (found: [")
                .hasMessageContaining("]); add its jar (ai-tf)");
        assertThatThrownBy(() -> ModelServerProcess.start(dir.resolve("foo"), dir.resolve("f.sock"), "FOO"))
                .hasMessageContaining("--backends: unknown backend FOO; known: [TF, TFLITE, TORCH, ONNX]");
        try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("onnx"), socket(), "onnx")) {
            assertThat(server.log()).contains("ready socket=" + socket() + " backends=ONNX intra-op-threads=0");
        }
        for (String bad : List.of("-1", "1025", "four")) {
            assertThatThrownBy(() -> ModelServerProcess.start(dir.resolve("threads"), dir.resolve("th.sock"), "ONNX",
                    "--intra-op-threads", bad)).hasMessageContaining("exited with 2")
                    .hasMessageContaining("--intra-op-threads: '" + bad + "' is not a number from 0 (the runtime "
                            + "chooses) to 1024");
        }
    }

    /**
     * {@code --ai-threads N} reaches the runtime: ONNX Runtime gives each session a pool of N - 1 intra-op threads
     * (the caller is the Nth), so three models stored with N above this machine's CPUs add at least 3 (N - 1) threads
     * to the model server, more than its default (one thread per physical core) could add.
     */
    @Test
    void intraOpThreadsSizeEachModelsThreadPool() throws Exception {
        int n = Runtime.getRuntime().availableProcessors() + 3;
        try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket(), "ONNX",
                "--intra-op-threads", Integer.toString(n));
             ModuleRedis module = moduleRedis(leftovers.freeBase(1)); RespClient c = module.client()) {
            assertThat(server.log()).contains("intra-op-threads=" + n);
            assertThat(c.call("AI.INFO")).isInstanceOf(List.class); // the module's connection to the server exists
            long before = threads(server.pid());
            for (String key : List.of("m1", "m2", "m3")) {
                assertThat(c.call((Object[]) modelStore(key, LINEAR, 1 << 20))).isEqualTo(new RespSimple("OK"));
            }
            long after = threads(server.pid());
            assertThat(after - before).as("threads of the model server: %d before 3 models, %d after", before, after)
                    .isGreaterThanOrEqualTo(3L * (n - 1));
            assertThat(c.call("AI.TENSORSET", "x", "FLOAT", 1, 3, "VALUES", 1, 2, 3)).isEqualTo(new RespSimple("OK"));
            assertThat(c.call("AI.MODELEXECUTE", "m2", "INPUTS", 1, "x", "OUTPUTS", 1, "y"))
                    .isEqualTo(new RespSimple("OK"));
        }
    }

    /** The number of threads of process {@code pid}, from {@code /proc/<pid>/status}. */
    static long threads(long pid) throws java.io.IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("Threads:"))
                .mapToLong(l -> Long.parseLong(l.substring("Threads:".length()).strip())).findFirst().orElseThrow();
    }

    /** A command as RESP bytes (bulk strings). */
    static byte[] resp(byte[][] command) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.writeBytes(("*" + command.length + "\r\n").getBytes());
        for (byte[] a : command) {
            out.writeBytes(("$" + a.length + "\r\n").getBytes());
            out.writeBytes(a);
            out.writeBytes("\r\n".getBytes());
        }
        return out.toByteArray();
    }

    /** The value after "duration" in a shown AI.INFO reply, replaced by N. */
    static String maskDuration(String shown) {
        return shown.replaceAll("(duration\\\\x0d\\\\x0a:)[0-9]+", "$1N");
    }

    static Object[] modelStoreArgs(String key) {
        return new Object[] {"AI.MODELSTORE", key, "ONNX", "CPU", "BLOB", LINEAR};
    }
}
