package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.ai.module.ModelServingIT.LINEAR;
import static io.smartsim.launch.ai.module.TensorWireIT.floats;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the Java front's own test (AiFrontIT) proved beyond tensors and the SmartRedis sequences, on the module path
 * (issue 16): a real redis-server with smartsim-ai loaded ({@code BACKENDS ONNX}) and, where a model is run, the real
 * model server. The AI commands in transactions and scripts (the front refused them inside MULTI by itself; here
 * Redis queues them, the tensor commands run at EXEC, and a model command, which must block its client, says it cannot
 * run there); the backends not named in {@code --ai}; an AI command the project does not implement.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ModuleCommandsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest();
    static final RespSimple OK = new RespSimple("OK");

    @TempDir
    Path dir;

    @Test
    void tensorCommandsRunInsideMultiAndScriptsAndModelCommandsSayTheyCannot() throws Exception {
        try (ModuleShard shard = ModuleShard.start(dir, leftovers.freeBase(1), "ONNX");
             RespClient c = RespClient.connect(shard.port())) {
            assertThat(c.call("AI.MODELSTORE", "m", "ONNX", "CPU", "BLOB", LINEAR)).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "x", "FLOAT", 1, 3, "BLOB", floats(1, 2, 3))).isEqualTo(OK);
            assertThat(c.call("MULTI")).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "t", "INT32", 2, "VALUES", 7, -1)).isEqualTo(new RespSimple("QUEUED"));
            assertThat(c.call("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y"))
                    .isEqualTo(new RespSimple("QUEUED"));
            assertThat(c.call("AI.TENSORGET", "t", "VALUES")).isEqualTo(new RespSimple("QUEUED"));
            List<?> exec = (List<?>) c.call("EXEC");
            assertThat(exec).hasSize(3);
            assertThat(exec.get(0)).isEqualTo(OK);
            assertThat(exec.get(1)).isEqualTo(new RespError("ERR AI.MODELEXECUTE runs on the model server and cannot "
                    + "run inside MULTI or a script"));
            assertThat(exec.get(2)).isEqualTo(List.of(7L, -1L));
            assertThat(c.call("EXISTS", "y")).isEqualTo(0L);
            // A Lua script: the tensor command runs, the model command is refused with the same text.
            assertThat(c.call("EVAL", "return redis.call('AI.TENSORGET', KEYS[1], 'VALUES')", 1, "t"))
                    .isEqualTo(List.of(7L, -1L));
            Object fromScript = c.call("EVAL", "return redis.pcall('AI.MODELEXECUTE', KEYS[1], 'INPUTS', 1, KEYS[2], "
                    + "'OUTPUTS', 1, KEYS[3])", 3, "m", "x", "y");
            assertThat(fromScript).isInstanceOfSatisfying(RespError.class, e -> assertThat(e.text())
                    .contains("AI.MODELEXECUTE runs on the model server and cannot run inside MULTI or a script"));
            assertThat(c.call("EXISTS", "y")).isEqualTo(0L);
            // Outside them, the same run works.
            assertThat(c.call("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y")).isEqualTo(OK);
            assertThat(c.call("EXISTS", "y")).isEqualTo(1L);
        }
    }

    /** The front's answers with no backend of that name, from the module: refused at once, no model server asked. */
    @Test
    void backendsNotNamedAndCommandsNotImplementedAreRefusedAtOnce() throws Exception {
        try (ModuleRedis module = ModuleRedis.withModule(dir.resolve("redis"), leftovers.freeBase(1), "SOCKET",
                dir.resolve("none.sock").toString(), "BACKENDS", "ONNX"); RespClient c = module.client()) {
            assertThat(c.call("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")).isEqualTo(511L * 1024 * 1024);
            assertThat(c.call("AI.SCRIPTSET", "s", "CPU", "SOURCE", "def f(a): return a"))
                    .isEqualTo(new RespError("ERR Backend not loaded: TORCH"));
            assertThat(c.call("AI.SCRIPTSTORE", "s", "CPU", "ENTRY_POINTS", 1, "f", "SOURCE", "def f(a): return a"))
                    .isEqualTo(new RespError("ERR Backend not loaded: TORCH"));
            assertThat(c.call("AI.MODELSTORE", "m", "CAFFE", "CPU", "BLOB", "xx"))
                    .isEqualTo(new RespError("ERR unsupported backend"));
            assertThat(c.call("AI.MODELSTORE", "m", "ONNX", "TPU", "BLOB", "xx"))
                    .isEqualTo(new RespError("ERR Invalid DEVICE"));
            assertThat(c.call("EXISTS", "s", "m")).isEqualTo(0L);
            // Not one of the commands SmartRedis sends: Redis's own unknown-command error.
            assertThat(c.call("AI.DAGEXECUTE", "x")).isInstanceOfSatisfying(RespError.class,
                    e -> assertThat(e.text()).startsWith("ERR unknown command"));
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
        }
    }
}
