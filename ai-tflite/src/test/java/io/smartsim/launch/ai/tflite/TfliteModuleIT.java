package io.smartsim.launch.ai.tflite;

import io.smartsim.launch.ai.module.ModuleShard;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.AiCalls;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.ai.testing.AiCalls.OK;
import static io.smartsim.launch.ai.testing.AiCalls.assertClose;
import static io.smartsim.launch.ai.testing.AiCalls.errorText;
import static io.smartsim.launch.ai.testing.AiCalls.floats;
import static io.smartsim.launch.ai.testing.AiCalls.str;
import static io.smartsim.launch.ai.testing.AiCalls.toFloats;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * .tflite models (written by {@link TfliteModels}) stored and run through the module path every launcher serves
 * {@code --ai} with (issue 16): a real redis-server loading the smartsim-ai module and the real model server with the
 * TFLITE backend on its socket (ai-module's {@link ModuleShard}), with the commands SmartRedis 0.6.1 sends in standalone
 * mode (shared/notes/redisai.md section 1). Outputs are checked against values computed here; the error texts are the
 * ones the Java front answered (TfliteFrontIT, which this replaces).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class TfliteModuleIT {
    @RegisterExtension
    static final Leftovers leftovers = Leftovers.perClass(); // checked once the class's shared servers are gone
    static final byte[] LINEAR = TfliteModels.linear();

    @TempDir
    static Path dir;
    static ModuleShard shard;

    @BeforeAll
    static void start() throws Exception {
        shard = ModuleShard.start(dir, leftovers.freeBase(1), "TFLITE");
    }

    @AfterAll
    static void stop() throws Exception {
        if (shard != null) {
            shard.close();
        }
    }

    /** x W^T + B for x of (rows, 3), in double, rounded once: the reference. */
    static float[] linear(float[] x, int rows) {
        return AiCalls.dense(x, rows, 3, 2, (i, o) -> TfliteModels.W[o * 3 + i], TfliteModels.B);
    }

    /** set_model as SmartRedis sends it: the chunk size first, then MODELSTORE with the blob in chunks. */
    static Object setModel(RespClient c, String key, String device, byte[] model) throws Exception {
        return AiCalls.setModel(c, key, "TFLITE", device, List.of(), model, 100);
    }

    @Test
    void setRunGetDeleteModelLikeSmartRedis() throws Exception {
        float[] x = {1, 2, 3, -1, 0, 0.5f};
        try (RespClient c = RespClient.connect(shard.port())) {
            long t0 = System.nanoTime();
            assertThat(setModel(c, "tfl.lin", "CPU", LINEAR)).isEqualTo(OK);
            long storeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(c.call("AI.TENSORSET", "tfl.in", "FLOAT", "2", "3", "BLOB", floats(x))).isEqualTo(OK);
            t0 = System.nanoTime();
            assertThat(c.call("AI.MODELEXECUTE", "tfl.lin", "INPUTS", "1", "tfl.in", "OUTPUTS", "1", "tfl.out",
                    "TIMEOUT", "60000000")).isEqualTo(OK);
            long runMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.printf("TfliteModuleIT: store %d ms, first run %d ms%n", storeMs, runMs);
            List<?> out = (List<?>) c.call("AI.TENSORGET", "tfl.out", "META", "BLOB");
            assertThat(str(out.get(1))).isEqualTo("FLOAT");
            assertThat(out.get(3)).isEqualTo(List.of(2L, 2L));
            assertClose(toFloats((byte[]) out.get(5)), linear(x, 2));

            assertThat((byte[]) c.call("AI.MODELGET", "tfl.lin", "BLOB")).isEqualTo(LINEAR);
            assertThat(str(((List<?>) c.call("AI.MODELGET", "tfl.lin", "META")).get(1))).isEqualTo("TFLITE");
            List<Object> version = new ArrayList<>((List<?>) c.call("AI.INFO"));
            assertThat(version).contains(new RespSimple("TFLite version"), new RespSimple("2.6.2"));
            assertThat(c.call("AI.MODELDEL", "tfl.lin")).isEqualTo(OK);
            assertThat(c.call("EXISTS", "tfl.lin")).isEqualTo(0L);
        }
    }

    @Test
    void outputsGoToTheirKeysInTheModelsOrder() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(setModel(c, "tfl.ps", "CPU", TfliteModels.productAndSum())).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "ps.a", "FLOAT", "3", "BLOB", floats(1, 2, 3))).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "ps.b", "FLOAT", "3", "BLOB", floats(4, -5, 0.5f))).isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "tfl.ps", "INPUTS", "2", "ps.a", "ps.b", "OUTPUTS", "2", "ps.prod",
                    "ps.sum")).isEqualTo(OK);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "ps.prod", "BLOB"))).containsExactly(4, -10, 1.5f);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "ps.sum", "BLOB"))).containsExactly(5, -3, 3.5f);
            assertThat(errorText(c.call("AI.MODELEXECUTE", "tfl.ps", "INPUTS", "1", "ps.a", "OUTPUTS", "2", "x",
                    "y"))).isEqualTo("Number of keys given as INPUTS here does not match model definition");
        }
    }

    @Test
    void badInputIsAnErrorAndTheServerGoesOn() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(setModel(c, "tfl.bad", "CPU", LINEAR)).isEqualTo(OK);
            assertThat(errorText(c.call("AI.MODELSTORE", "tfl.corrupt", "TFLITE", "CPU", "BLOB", "not a model")))
                    .startsWith("ERR ");
            assertThat(errorText(c.call("AI.MODELSTORE", "tfl.corrupt", "TFLITE", "CPU", "BATCHSIZE", "4", "BLOB",
                    LINEAR))).isEqualTo("ERR Auto-batching not supported by the TFLITE backend");
            assertThat(c.call("EXISTS", "tfl.corrupt")).isEqualTo(0L);

            // FULLY_CONNECTED takes any input whose size it can cut into rows, so shapes are checked with ADD/MUL.
            assertThat(setModel(c, "tfl.bad2", "CPU", TfliteModels.productAndSum())).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "tfl.three", "FLOAT", "3", "BLOB", new byte[12])).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "tfl.wshape", "FLOAT", "4", "BLOB", new byte[16])).isEqualTo(OK);
            String shape = errorText(c.call("AI.MODELEXECUTE", "tfl.bad2", "INPUTS", "2", "tfl.three", "tfl.wshape",
                    "OUTPUTS", "2", "o", "o2"));
            assertThat(shape).startsWith("ERR ").contains("[3] and [4], are not broadcastable");
            assertThat(c.call("AI.TENSORSET", "tfl.wtype", "INT32", "1", "3", "BLOB", new byte[12])).isEqualTo(OK);
            assertThat(errorText(c.call("AI.MODELEXECUTE", "tfl.bad", "INPUTS", "1", "tfl.wtype", "OUTPUTS", "1",
                    "o"))).isEqualTo("ERR input 0 is INT32 but the TFLite model takes FLOAT32");
            assertThat(c.call("AI.TENSORSET", "tfl.dbl", "DOUBLE", "1", "3", "BLOB", new byte[24])).isEqualTo(OK);
            assertThat(errorText(c.call("AI.MODELEXECUTE", "tfl.bad", "INPUTS", "1", "tfl.dbl", "OUTPUTS", "1", "o")))
                    .isEqualTo("ERR DOUBLE tensors cannot be given to the TFLITE backend");
            assertThat(errorText(c.call("AI.TENSORSET", "tfl.short", "FLOAT", "1", "3", "BLOB", new byte[8])))
                    .isEqualTo("ERR data length does not match tensor shape and type");
            assertThat(errorText(c.call("AI.MODELEXECUTE", "tfl.bad", "INPUTS", "1", "no.such.input", "OUTPUTS", "1",
                    "o"))).isEqualTo("ERR tensor key is empty or in a different shard");
            assertThat(errorText(c.call("AI.MODELEXECUTE", "no.such.model", "INPUTS", "1", "tfl.wtype", "OUTPUTS",
                    "1", "o"))).isEqualTo("ERR model key is empty");
            assertThat(c.call("EXISTS", "o")).isEqualTo(0L);

            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
            assertThat(c.call("AI.TENSORSET", "tfl.good", "FLOAT", "1", "3", "BLOB", floats(1, 1, 1))).isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "tfl.bad", "INPUTS", "1", "tfl.good", "OUTPUTS", "1", "o"))
                    .isEqualTo(OK);
            assertClose(toFloats((byte[]) c.call("AI.TENSORGET", "o", "BLOB")), linear(new float[] {1, 1, 1}, 1));
            assertThat(((List<?>) c.call("AI.INFO", "tfl.bad")).get(17)).isEqualTo(2L); // the two refused dtypes
        }
    }

    @Test
    void aRunPastItsTimeoutIsCancelledAndAnsweredTimedOut() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(setModel(c, "tfl.loop", "CPU", TfliteModels.squareWhileBelowOne())).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "tfll.ends", "FLOAT", "1", "BLOB", floats(-2))).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "tfll.endless", "FLOAT", "1", "BLOB", floats(0.5f))).isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "tfl.loop", "INPUTS", "1", "tfll.ends", "OUTPUTS", "1", "tfll.y",
                    "TIMEOUT", "60000")).isEqualTo(OK);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "tfll.y", "BLOB"))).containsExactly(4);

            // x = 0.5 never reaches 1: this run ends only if TFLite is told to stop it, on any machine.
            assertThat(c.call("AI.MODELEXECUTE", "tfl.loop", "INPUTS", "1", "tfll.endless", "OUTPUTS", "1", "tfll.z",
                    "TIMEOUT", "100")).isEqualTo(new RespSimple("TIMEDOUT"));
            assertThat(c.call("EXISTS", "tfll.z")).isEqualTo(0L);
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
            // The cancelled interpreter is not reused: the next run is whole.
            assertThat(c.call("AI.MODELEXECUTE", "tfl.loop", "INPUTS", "1", "tfll.ends", "OUTPUTS", "1", "tfll.z",
                    "TIMEOUT", "60000")).isEqualTo(OK);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "tfll.z", "BLOB"))).containsExactly(4);
            assertThat(((List<?>) c.call("AI.INFO", "tfl.loop")).get(17)).isEqualTo(1L); // errors: the stopped run
        }
    }

    @Test
    void gpuIsAClearError() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(errorText(setModel(c, "tfl.gpu", "GPU", LINEAR)))
                    .startsWith("ERR GPU requested but TensorFlow Lite cannot use it here");
            assertThat(c.call("EXISTS", "tfl.gpu")).isEqualTo(0L);
        }
    }

    @Test
    void sixteenClientsRunOneModelAtOnce() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(setModel(c, "tfl.shared", "CPU", LINEAR)).isEqualTo(OK);
        }
        AiCalls.concurrently(shard.port(), 16, Duration.ofSeconds(120), (id, c) -> {
            for (int k = 0; k < 40; k++) {
                int rows = 1 + (id + k) % 3; // shapes differ between runs: interpreters resize
                float[] x = new float[rows * 3];
                for (int i = 0; i < x.length; i++) {
                    x[i] = id - k * 0.5f + i;
                }
                c.call("AI.TENSORSET", "tflin." + id, "FLOAT", rows, "3", "BLOB", floats(x));
                assertThat(c.call("AI.MODELEXECUTE", "tfl.shared", "INPUTS", "1", "tflin." + id, "OUTPUTS",
                        "1", "tflout." + id, "TIMEOUT", "60000000")).isEqualTo(OK);
                assertClose(toFloats((byte[]) c.call("AI.TENSORGET", "tflout." + id, "BLOB")), linear(x, rows));
            }
        });
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(((List<?>) c.call("AI.INFO", "tfl.shared")).get(15)).isEqualTo(16L * 40);
        }
    }
}
