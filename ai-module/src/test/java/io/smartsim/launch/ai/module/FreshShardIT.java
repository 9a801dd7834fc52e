package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.testing.OnnxModels;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.ai.module.TensorWireIT.cmd;
import static io.smartsim.launch.ai.module.TensorWireIT.floats;
import static io.smartsim.launch.ai.module.TensorWireIT.show;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16: every AI command answers within SmartRedis's socket timeout (SR_SOCKET_TIMEOUT, 250 ms) on a fresh shard,
 * the first AI.MODELSTORE and AI.SCRIPTSET included, because the model server loads the named runtimes before it
 * reports ready: no first call pays for loading libtorch or ONNX Runtime. That cause is what this test checks, on any
 * machine at any load: the runtimes' native libraries are mapped in the model server before the first command, and
 * every first command then answers rightly. The time each took is printed, not asserted: a speed target belongs in a
 * benchmark (with a CPU hog beside the suite, a first command once took longer than 250 ms here, issue 21). A backend
 * not named answers at once, by name.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class FreshShardIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;

    /** A bound on each reply, not a speed target: a reply that never comes fails the test instead of hanging it. */
    static final int REPLY_BOUND_MS = 60_000;

    @Test
    void theRuntimesAreLoadedBeforeTheFirstAiCommandAndEveryFirstCommandAnswers() throws Exception {
        Path socket = dir.resolve("ms.sock");
        byte[] model = OnnxModels.linear(3, 2, new float[] {1, 0, 0, 1, 1, 1}, new float[] {0.5f, -1});
        // the check below can fail: a model server that did not load libtorch does not map it
        try (ModelServerProcess onnxOnly = ModelServerProcess.start(dir.resolve("onnx-only"), dir.resolve("o.sock"),
                "ONNX")) {
            assertThat(Files.readString(Path.of("/proc/" + onnxOnly.pid() + "/maps"))).contains("libonnxruntime")
                    .doesNotContain("libtorch");
        }
        try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket, "ONNX,TORCH");
             ModuleRedis module = ModuleRedis.withModule(dir.resolve("redis"), leftovers.freeBase(1), "SOCKET",
                     socket.toString(), "BACKENDS", "ONNX,TORCH");
             RawReplies c = new RawReplies(module.port(), REPLY_BOUND_MS)) {
            String maps = Files.readString(Path.of("/proc/" + server.pid() + "/maps"));
            assertThat(maps).as("ONNX Runtime and libtorch mapped in the model server before any command")
                    .contains("libonnxruntime").contains("libtorch");
            long t0 = System.nanoTime();
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
            System.out.printf("FreshShardIT: 12 first AI commands answered in %d ms in all%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        }
    }
}
