package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.ai.module.ModelServingIT.LINEAR;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * AI._LIST, the command the telemetry collector asks for the model and script keys of a shard (then AI.INFO of each):
 * against a real redis-server with the module and the real model server (ONNX for the models, TORCH for the script).
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ModelListIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest();

    @TempDir
    Path dir;

    static final RespSimple OK = new RespSimple("OK");

    static List<String> strings(Object reply) {
        return ((List<?>) reply).stream().map(v -> new String((byte[]) v, StandardCharsets.UTF_8)).toList();
    }

    @Test
    void listsTheStoredAndRunModelsAndScriptsSortedBoundedByCountAndForgetsKeysThatNoLongerHoldOne() throws Exception {
        Path socket = dir.resolve("ms.sock");
        try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket, "ONNX,TORCH");
             ModuleRedis module = ModuleRedis.withModule(dir.resolve("redis"), leftovers.freeBase(1), "SOCKET",
                     socket.toString(), "BACKENDS", "ONNX,TORCH");
             RespClient c = module.client()) {
            assertThat(c.call("AI._LIST")).as("nothing stored yet").isEqualTo(List.of());

            assertThat(c.call("AI.MODELSTORE", "m2", "ONNX", "CPU", "BLOB", LINEAR)).isEqualTo(OK);
            assertThat(c.call("AI.MODELSTORE", "m1", "ONNX", "CPU", "BLOB", LINEAR)).isEqualTo(OK);
            assertThat(c.call("AI.SCRIPTSET", "s", "CPU", "SOURCE", "def f(x):\n    return x + 1\n")).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "x", "FLOAT", 1, 3, "VALUES", 1, 2, 3)).isEqualTo(OK);
            for (int k = 0; k < 3; k++) {
                assertThat(c.call("AI.MODELEXECUTE", "m1", "INPUTS", 1, "x", "OUTPUTS", 1, "y")).isEqualTo(OK);
            }
            assertThat(c.call("AI.SCRIPTRUN", "s", "f", "INPUTS", "x", "OUTPUTS", "z")).isEqualTo(OK);
            // Tensors, plain keys and a hash that is not a model are never listed.
            assertThat(c.call("HSET", "h", "type", "other")).isEqualTo(1L);

            assertThat(strings(c.call("AI._LIST"))).as("sorted bytewise").containsExactly("m1", "m2", "s");
            assertThat(strings(c.call("AI._LIST", "COUNT", 2))).containsExactly("m1", "m2");
            assertThat(strings(c.call("AI._LIST", "count", 100))).containsExactly("m1", "m2", "s");
            List<?> info = (List<?>) c.call("AI.INFO", "m1");
            assertThat(info.get(15)).as("the listed key's counters: calls").isEqualTo(3L);

            // Deleted by AI.MODELDEL, or behind the module's back (plain DEL, RENAME): no longer listed.
            assertThat(c.call("AI.MODELDEL", "m2")).isEqualTo(OK);
            assertThat(strings(c.call("AI._LIST"))).containsExactly("m1", "s");
            assertThat(c.call("RENAME", "m1", "moved")).isEqualTo(OK);
            assertThat(c.call("DEL", "s")).isEqualTo(1L);
            assertThat(c.call("AI._LIST")).isEqualTo(List.of());
            // The renamed model counts again from its first run there, as RedisAI's counters do.
            assertThat(c.call("AI.MODELEXECUTE", "moved", "INPUTS", 1, "x", "OUTPUTS", 1, "y")).isEqualTo(OK);
            assertThat(strings(c.call("AI._LIST"))).containsExactly("moved");

            // Bad input names the fix.
            assertThat(c.call("AI._LIST", "COUNT", 0)).isEqualTo(new RespError(
                    "ERR AI._LIST COUNT must be a whole number of 1 or more, e.g. AI._LIST COUNT 100"));
            assertThat(c.call("AI._LIST", "MAX", 5)).isEqualTo(new RespError(
                    "ERR AI._LIST takes COUNT n or nothing, e.g. AI._LIST COUNT 100"));
            assertThat(c.call("AI._LIST", "COUNT")).isEqualTo(new RespError(
                    "ERR wrong number of arguments for 'AI._LIST' command"));

            // Registered read-only with no keys: any shard (and a read-only replica) answers it, no MOVED.
            List<Object> command = List.copyOf((List<?>) ((List<?>) c.call("COMMAND", "INFO", "AI._LIST")).get(0));
            assertThat(command.subList(1, 6)).containsExactly(-1L, List.of(new RespSimple("readonly"),
                    new RespSimple("module")), 0L, 0L, 0L);
        }
    }
}
