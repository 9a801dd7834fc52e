package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.testing.OnnxModels;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.ai.module.TensorWireIT.cmd;
import static io.smartsim.launch.ai.module.TensorWireIT.floats;
import static io.smartsim.launch.ai.module.TensorWireIT.show;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16: every AI command answers within SmartRedis's socket timeout (SR_SOCKET_TIMEOUT, 250 ms) on a fresh shard,
 * the first AI.MODELSTORE and AI.SCRIPTSET included: the model server loads the named runtimes before it reports
 * ready, so no first call pays for loading libtorch or ONNX Runtime. A backend not named answers at once. The client
 * reads every reply with a 250 ms timeout, as SmartRedis does (a SocketTimeoutException fails the test).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class FreshShardIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;

    static final int SMARTREDIS_SOCKET_TIMEOUT_MS = 250;

    @Test
    void everyFirstAiCommandOnAFreshShardAnswersWithin250ms() throws Exception {
        Path socket = dir.resolve("ms.sock");
        byte[] model = OnnxModels.linear(3, 2, new float[] {1, 0, 0, 1, 1, 1}, new float[] {0.5f, -1});
        try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket, "ONNX,TORCH");
             ModuleRedis module = ModuleRedis.withModule(dir.resolve("redis"), leftovers.freeBase(1), "SOCKET",
                     socket.toString(), "BACKENDS", "ONNX,TORCH");
             RawReplies c = new RawReplies(module.port(), SMARTREDIS_SOCKET_TIMEOUT_MS)) {
            // SmartRedis's set_model, set_script, put_tensor, run_model, run_script, get_ai_info: each the first
            assertThat(show(c.call(cmd("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")))).isEqualTo(":535822336\\x0d\\x0a");
            assertThat(show(c.call(cmd("AI.MODELSTORE", "m", "ONNX", "CPU", "BLOB", model)))).isEqualTo("+OK\\x0d\\x0a");
            assertThat(show(c.call(cmd("AI.SCRIPTSET", "s", "CPU", "SOURCE",
                    "    def twice(a):\n        return a + a\n")))).isEqualTo("+OK\\x0d\\x0a");
            assertThat(show(c.call(cmd("AI.TENSORSET", "x", "FLOAT", 1, 3, "BLOB", floats(1, 2, 3)))))
                    .isEqualTo("+OK\\x0d\\x0a");
            assertThat(show(c.call(cmd("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y"))))
                    .isEqualTo("+OK\\x0d\\x0a");
            assertThat(show(c.call(cmd("AI.SCRIPTRUN", "s", "twice", "INPUTS", "x", "OUTPUTS", "z"))))
                    .isEqualTo("+OK\\x0d\\x0a");
            // y = x W + b with W = [[1, 0], [0, 1], [1, 1]]: (1 + 3 + 0.5, 2 + 3 - 1); z = 2x
            assertThat(show(c.call(cmd("AI.TENSORGET", "y", "BLOB"))))
                    .isEqualTo("$8\\x0d\\x0a" + show(floats(4.5f, 4)) + "\\x0d\\x0a");
            assertThat(show(c.call(cmd("AI.TENSORGET", "z", "BLOB"))))
                    .isEqualTo("$12\\x0d\\x0a" + show(floats(2, 4, 6)) + "\\x0d\\x0a");
            assertThat(show(c.call(cmd("AI.INFO", "m")))).startsWith("*18\\x0d\\x0a");
            assertThat(show(c.call(cmd("AI.INFO")))).contains("+ONNX version").contains("+Torch version");
            // backends not named: refused at once, by name
            assertThat(show(c.call(cmd("AI.MODELSTORE", "o", "TF", "CPU", "INPUTS", 1, "a", "OUTPUTS", 1, "b",
                    "BLOB", "x")))).isEqualTo("-ERR Backend not loaded: TF\\x0d\\x0a");
            assertThat(show(c.call(cmd("AI.MODELSTORE", "o", "TFLITE", "CPU", "BLOB", "x"))))
                    .isEqualTo("-ERR Backend not loaded: TFLITE\\x0d\\x0a");
        }
    }
}
