package io.smartsim.launch.ai.tf;

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
 * TensorFlow GraphDefs built with TensorFlow Java, stored and run through the module path every launcher serves
 * {@code --ai} with (issue 16): a real redis-server loading the smartsim-ai module and the real model server with the
 * TF backend on its socket (ai-module's {@link ModuleShard}), with the commands SmartRedis 0.6.1 sends in standalone
 * mode (shared/notes/redisai.md section 1: for TF, MODELSTORE carries INPUTS and OUTPUTS). Outputs are checked against
 * values computed here; the error texts are the ones the Java front answered (TfFrontIT, which this replaces).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class TfModuleIT {
    @RegisterExtension
    static final Leftovers leftovers = Leftovers.perClass(); // checked once the class's shared servers are gone
    static final byte[] LINEAR = TfGraphs.linear();

    @TempDir
    static Path dir;
    static ModuleShard shard;

    @BeforeAll
    static void start() throws Exception {
        shard = ModuleShard.start(dir, leftovers.freeBase(1), "TF");
    }

    @AfterAll
    static void stop() throws Exception {
        if (shard != null) {
            shard.close();
        }
    }

    /** x W + B for x of (rows, 3), in double, rounded once: the reference. */
    static float[] linear(float[] x, int rows) {
        return AiCalls.dense(x, rows, 3, 2, (i, o) -> TfGraphs.W[i][o], TfGraphs.B);
    }

    /**
     * set_model for TF as SmartRedis sends it: the chunk size first, then
     * {@code AI.MODELSTORE key TF device INPUTS n ... OUTPUTS m ... BLOB chunks...}.
     */
    static Object setModel(RespClient c, String key, String device, byte[] model, List<String> in, List<String> out)
            throws Exception {
        List<Object> io = new ArrayList<>(List.of("INPUTS", in.size()));
        io.addAll(in);
        io.add("OUTPUTS");
        io.add(out.size());
        io.addAll(out);
        return AiCalls.setModel(c, key, "TF", device, io, model, 100);
    }

    @Test
    void setRunGetDeleteModelLikeSmartRedis() throws Exception {
        float[] x = {1, 2, 3, -1, 0, 0.5f};
        try (RespClient c = RespClient.connect(shard.port())) {
            long t0 = System.nanoTime();
            assertThat(setModel(c, "tf.lin", "CPU", LINEAR, List.of("x"), List.of("y"))).isEqualTo(OK);
            long storeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(c.call("AI.TENSORSET", "tf.in", "FLOAT", "2", "3", "BLOB", floats(x))).isEqualTo(OK);
            t0 = System.nanoTime();
            assertThat(c.call("AI.MODELEXECUTE", "tf.lin", "INPUTS", "1", "tf.in", "OUTPUTS", "1", "tf.out",
                    "TIMEOUT", "60000000")).isEqualTo(OK);
            long runMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.printf("TfModuleIT: store %d ms, first run %d ms%n", storeMs, runMs);
            List<?> out = (List<?>) c.call("AI.TENSORGET", "tf.out", "META", "BLOB");
            assertThat(str(out.get(1))).isEqualTo("FLOAT");
            assertThat(out.get(3)).isEqualTo(List.of(2L, 2L));
            assertClose(toFloats((byte[]) out.get(5)), linear(x, 2));

            assertThat((byte[]) c.call("AI.MODELGET", "tf.lin", "BLOB")).isEqualTo(LINEAR);
            List<?> meta = (List<?>) c.call("AI.MODELGET", "tf.lin", "META");
            assertThat(str(meta.get(1))).isEqualTo("TF");
            assertThat(((List<?>) meta.get(11)).stream().map(AiCalls::str).toList()).containsExactly("x");
            assertThat(((List<?>) meta.get(13)).stream().map(AiCalls::str).toList()).containsExactly("y");
            List<Object> version = new ArrayList<>((List<?>) c.call("AI.INFO"));
            assertThat(version).contains(new RespSimple("TensorFlow version"));
            assertThat(c.call("AI.MODELDEL", "tf.lin")).isEqualTo(OK);
            assertThat(c.call("EXISTS", "tf.lin")).isEqualTo(0L);
        }
    }

    @Test
    void outputsGoToTheirKeysInTheOrderNamedWithOrWithoutIndex() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(setModel(c, "tf.sp", "CPU", TfGraphs.sumAndProduct(), List.of("a", "b:0"),
                    List.of("prod:0", "sum"))).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "sp.a", "FLOAT", "3", "BLOB", floats(1, 2, 3))).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "sp.b", "FLOAT", "3", "BLOB", floats(4, -5, 0.5f))).isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "tf.sp", "INPUTS", "2", "sp.a", "sp.b", "OUTPUTS", "2", "sp.prod",
                    "sp.sum")).isEqualTo(OK);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "sp.prod", "BLOB"))).containsExactly(4, -10, 1.5f);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "sp.sum", "BLOB"))).containsExactly(5, -3, 3.5f);
            assertThat(errorText(c.call("AI.MODELEXECUTE", "tf.sp", "INPUTS", "2", "sp.a", "sp.b", "OUTPUTS", "1",
                    "sp.sum"))).isEqualTo("Number of keys given as OUTPUTS here does not match model definition");
            assertThat(errorText(c.call("AI.MODELEXECUTE", "tf.sp", "INPUTS", "1", "sp.a", "OUTPUTS", "2",
                    "sp.prod", "sp.sum")))
                    .isEqualTo("Number of keys given as INPUTS here does not match model definition");
        }
    }

    @Test
    void badInputIsAnErrorAndTheServerGoesOn() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(setModel(c, "tf.bad", "CPU", LINEAR, List.of("x"), List.of("y"))).isEqualTo(OK);

            assertThat(errorText(c.call("AI.MODELSTORE", "tf.corrupt", "TF", "CPU", "INPUTS", "1", "x", "OUTPUTS",
                    "1", "y", "BLOB", "not a graph"))).startsWith("ERR ");
            assertThat(errorText(setModel(c, "tf.corrupt", "CPU", LINEAR, List.of("x"), List.of("nope"))))
                    .isEqualTo("ERR Output node named \"nope\" not found in TF graph");
            assertThat(errorText(setModel(c, "tf.corrupt", "CPU", LINEAR, List.of("in"), List.of("y"))))
                    .isEqualTo("ERR Input node named \"in\" not found in TF graph");
            assertThat(errorText(c.call("AI.MODELSTORE", "tf.corrupt", "TF", "CPU", "BLOB", LINEAR)))
                    .isEqualTo("ERR INPUTS not specified for TF");
            assertThat(c.call("EXISTS", "tf.corrupt")).isEqualTo(0L);

            assertThat(c.call("AI.TENSORSET", "tf.wshape", "FLOAT", "2", "4", "BLOB", new byte[32])).isEqualTo(OK);
            assertThat(errorText(c.call("AI.MODELEXECUTE", "tf.bad", "INPUTS", "1", "tf.wshape", "OUTPUTS", "1",
                    "o"))).startsWith("ERR ").contains("Matrix size-incompatible");
            assertThat(c.call("AI.TENSORSET", "tf.wtype", "DOUBLE", "1", "3", "BLOB", new byte[24])).isEqualTo(OK);
            assertThat(errorText(c.call("AI.MODELEXECUTE", "tf.bad", "INPUTS", "1", "tf.wtype", "OUTPUTS", "1",
                    "o"))).startsWith("ERR ").contains("float").contains("double");
            assertThat(c.call("AI.TENSORSET", "tf.i8", "INT8", "1", "3", "BLOB", new byte[3])).isEqualTo(OK);
            assertThat(errorText(c.call("AI.MODELEXECUTE", "tf.bad", "INPUTS", "1", "tf.i8", "OUTPUTS", "1", "o")))
                    .isEqualTo("ERR INT8 tensors cannot be given to the TF backend");

            assertThat(errorText(c.call("AI.TENSORSET", "tf.short", "FLOAT", "1", "3", "BLOB", new byte[8])))
                    .isEqualTo("ERR data length does not match tensor shape and type");
            assertThat(errorText(c.call("AI.MODELEXECUTE", "tf.bad", "INPUTS", "1", "no.such.input", "OUTPUTS", "1",
                    "o"))).isEqualTo("ERR tensor key is empty or in a different shard");
            assertThat(errorText(c.call("AI.MODELEXECUTE", "no.such.model", "INPUTS", "1", "tf.wtype", "OUTPUTS",
                    "1", "o"))).isEqualTo("ERR model key is empty");
            assertThat(c.call("EXISTS", "o")).isEqualTo(0L);

            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
            assertThat(c.call("AI.TENSORSET", "tf.good", "FLOAT", "1", "3", "BLOB", floats(1, 1, 1))).isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "tf.bad", "INPUTS", "1", "tf.good", "OUTPUTS", "1", "o"))
                    .isEqualTo(OK);
            assertClose(toFloats((byte[]) c.call("AI.TENSORGET", "o", "BLOB")), linear(new float[] {1, 1, 1}, 1));
            assertThat(((List<?>) c.call("AI.INFO", "tf.bad")).get(17)).isEqualTo(3L);
        }
    }

    @Test
    void aRunPastItsTimeoutIsAnsweredTimedOutAndItsResultDropped() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(setModel(c, "tf.wait", "CPU", TfGraphs.waitOnEmptyQueue(), List.of("x"), List.of("z")))
                    .isEqualTo(OK);
            assertThat(setModel(c, "tf.after", "CPU", TfGraphs.linear(), List.of("x"), List.of("y"))).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "twait.x", "FLOAT", "1", "3", "BLOB", floats(1, 1, 1))).isEqualTo(OK);
            // The run waits on a queue nothing fills: it ends only at its deadline, on any machine.
            assertThat(c.call("AI.MODELEXECUTE", "tf.wait", "INPUTS", "1", "twait.x", "OUTPUTS", "1", "twait.z",
                    "TIMEOUT", "100")).isEqualTo(new RespSimple("TIMEDOUT"));
            assertThat(c.call("EXISTS", "twait.z")).isEqualTo(0L);
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
            assertThat(c.call("AI.MODELEXECUTE", "tf.after", "INPUTS", "1", "twait.x", "OUTPUTS", "1", "twait.y",
                    "TIMEOUT", "60000")).isEqualTo(OK);
            assertClose(toFloats((byte[]) c.call("AI.TENSORGET", "twait.y", "BLOB")), linear(new float[] {1, 1, 1}, 1));
            assertThat(((List<?>) c.call("AI.INFO", "tf.wait")).get(17)).isEqualTo(1L); // errors: the timed-out run
            assertThat(c.call("AI.MODELDEL", "tf.wait")).isEqualTo(OK);
            assertThat(c.call("EXISTS", "twait.z")).isEqualTo(0L);
        }
    }

    @Test
    void gpuOnThisCpuOnlyBuildIsAClearError() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            String e = errorText(setModel(c, "tf.gpu", "GPU", LINEAR, List.of("x"), List.of("y")));
            assertThat(e).startsWith("ERR GPU requested but TensorFlow ").contains("cannot use it here");
            assertThat(c.call("EXISTS", "tf.gpu")).isEqualTo(0L);
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
        }
    }

    @Test
    void sixteenClientsRunOneModelAtOnce() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(setModel(c, "tf.shared", "CPU", LINEAR, List.of("x"), List.of("y"))).isEqualTo(OK);
        }
        AiCalls.concurrently(shard.port(), 16, Duration.ofSeconds(120), (id, c) -> {
            for (int k = 0; k < 40; k++) {
                float[] x = {id, k, 1, -id, 0.5f * k, 2};
                c.call("AI.TENSORSET", "tfin." + id, "FLOAT", "2", "3", "BLOB", floats(x));
                assertThat(c.call("AI.MODELEXECUTE", "tf.shared", "INPUTS", "1", "tfin." + id, "OUTPUTS",
                        "1", "tfout." + id, "TIMEOUT", "60000000")).isEqualTo(OK);
                assertClose(toFloats((byte[]) c.call("AI.TENSORGET", "tfout." + id, "BLOB")), linear(x, 2));
            }
        });
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(((List<?>) c.call("AI.INFO", "tf.shared")).get(15)).isEqualTo(16L * 40);
        }
    }
}
