package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.AiCalls;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.ai.torch.PipeGate;
import io.smartsim.launch.ai.torch.TorchModels;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.ai.testing.AiCalls.OK;
import static io.smartsim.launch.ai.testing.AiCalls.assertClose;
import static io.smartsim.launch.ai.testing.AiCalls.errorText;
import static io.smartsim.launch.ai.testing.AiCalls.floats;
import static io.smartsim.launch.ai.testing.AiCalls.str;
import static io.smartsim.launch.ai.testing.AiCalls.toFloats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * TorchScript models through the module path every launcher serves {@code --ai} with (issue 16): a real redis-server
 * loading the smartsim-ai module and the real model server with the TORCH backend on its socket ({@link ModuleShard}),
 * with the commands SmartRedis 0.6.1 sends in standalone mode (shared/notes/redisai.md section 1). Models are written
 * by python3-torch 1.13 and run by libtorch 2.7.1; outputs are checked against values computed here; the error texts
 * are the ones the Java front answered (TorchFrontIT, which this replaces).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class TorchModuleIT {
    @RegisterExtension
    static final Leftovers leftovers = Leftovers.perClass(); // checked once the class's shared servers are gone

    @TempDir
    static Path dir;
    static ModuleShard shard;
    static byte[] linear;

    @BeforeAll
    static void start() throws Exception {
        linear = TorchModels.linear();
        shard = ModuleShard.start(dir, leftovers.freeBase(1), "TORCH");
    }

    @AfterAll
    static void stop() throws Exception {
        if (shard != null) {
            shard.close();
        }
    }

    /** x W^T + B for x of (rows, 3), computed in double and rounded once, as an independent reference. */
    static float[] linear(float[] x, int rows) {
        return AiCalls.dense(x, rows, 3, 2, (i, o) -> TorchModels.W[o * 3 + i], TorchModels.B);
    }

    /** set_model as SmartRedis sends it: the chunk size first, then MODELSTORE with the blob in chunks. */
    static Object setModel(RespClient c, String key, String device, byte[] model) throws Exception {
        return AiCalls.setModel(c, key, "TORCH", device, List.of(), model, 1000);
    }

    @Test
    void setRunGetDeleteModelLikeSmartRedis() throws Exception {
        float[] x = {1, 2, 3, -1, 0, 0.5f};
        try (RespClient c = RespClient.connect(shard.port())) {
            long t0 = System.nanoTime();
            assertThat(setModel(c, "t.lin", "CPU", linear)).isEqualTo(OK);
            long storeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(c.call("EXISTS", "t.lin")).isEqualTo(1L);
            assertThat(c.call("AI.TENSORSET", "t.in", "FLOAT", "2", "3", "BLOB", floats(x))).isEqualTo(OK);
            t0 = System.nanoTime();
            assertThat(c.call("AI.MODELEXECUTE", "t.lin", "INPUTS", "1", "t.in", "OUTPUTS", "1", "t.out",
                    "TIMEOUT", "60000000")).isEqualTo(OK);
            long firstRunMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.printf("TorchModuleIT: store %d ms, first run %d ms%n", storeMs, firstRunMs);
            List<?> out = (List<?>) c.call("AI.TENSORGET", "t.out", "META", "BLOB");
            assertThat(str(out.get(1))).isEqualTo("FLOAT");
            assertThat(out.get(3)).isEqualTo(List.of(2L, 2L));
            assertClose(toFloats((byte[]) out.get(5)), linear(x, 2));

            assertThat((byte[]) c.call("AI.MODELGET", "t.lin", "BLOB")).isEqualTo(linear);
            List<?> meta = (List<?>) c.call("AI.MODELGET", "t.lin", "META");
            assertThat(str(meta.get(1))).isEqualTo("TORCH");
            assertThat(str(meta.get(3))).isEqualTo("CPU");
            List<?> info = (List<?>) c.call("AI.INFO", "t.lin");
            assertThat(str(info.get(5))).isEqualTo("TORCH");
            assertThat(info.get(13)).isEqualTo(2L); // samples
            assertThat(info.get(15)).isEqualTo(1L); // calls
            List<Object> version = new java.util.ArrayList<>((List<?>) c.call("AI.INFO"));
            assertThat(version).contains(new RespSimple("Torch version"), new RespSimple("2.7.1"));

            assertThat(c.call("AI.MODELDEL", "t.lin")).isEqualTo(OK);
            assertThat(c.call("EXISTS", "t.lin")).isEqualTo(0L);
        }
    }

    @Test
    void tupleOutputsGoToTheirKeysInOrder() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(setModel(c, "t.sp", "CPU", TorchModels.sumAndProduct())).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "sp.a", "DOUBLE", "3", "BLOB", doubles(1, 2, 3))).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "sp.b", "DOUBLE", "3", "BLOB", doubles(4, -5, 0.5))).isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "t.sp", "INPUTS", "2", "sp.a", "sp.b", "OUTPUTS", "2", "sp.sum",
                    "sp.prod", "TIMEOUT", "60000000")).isEqualTo(OK);
            assertThat(strs(c.call("AI.TENSORGET", "sp.sum", "VALUES"))).containsExactly("5", "-3", "3.5");
            assertThat(strs(c.call("AI.TENSORGET", "sp.prod", "VALUES"))).containsExactly("4", "-10", "1.5");
            assertThat(errorText(c.call("AI.MODELEXECUTE", "t.sp", "INPUTS", "2", "sp.a", "sp.b", "OUTPUTS", "1",
                    "sp.sum"))).isEqualTo("Number of keys given as OUTPUTS here does not match model definition");
        }
    }

    static List<String> strs(Object bulks) {
        return ((List<?>) bulks).stream().map(AiCalls::str).toList();
    }

    static byte[] doubles(double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) {
            b.putDouble(d);
        }
        return b.array();
    }

    @Test
    void badInputIsAnErrorAndTheServerGoesOn() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(setModel(c, "t.bad", "CPU", linear)).isEqualTo(OK);

            String corrupt = errorText(c.call("AI.MODELSTORE", "t.corrupt", "TORCH", "CPU", "BLOB", "not a model"));
            assertThat(corrupt).startsWith("ERR ").doesNotContain("\n").doesNotContain("frame #");
            assertThat(c.call("EXISTS", "t.corrupt")).isEqualTo(0L);
            byte[] truncated = Arrays.copyOf(linear, linear.length / 2);
            assertThat(errorText(c.call("AI.MODELSTORE", "t.corrupt", "TORCH", "CPU", "BLOB", truncated)))
                    .startsWith("ERR ");

            assertThat(c.call("AI.TENSORSET", "t.wshape", "FLOAT", "2", "4", "BLOB", new byte[32])).isEqualTo(OK);
            assertThat(errorText(c.call("AI.MODELEXECUTE", "t.bad", "INPUTS", "1", "t.wshape", "OUTPUTS", "1", "o")))
                    .isEqualTo("ERR RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x4 and 3x2)");

            assertThat(c.call("AI.TENSORSET", "t.wtype", "DOUBLE", "1", "3", "BLOB", new byte[24])).isEqualTo(OK);
            assertThat(errorText(c.call("AI.MODELEXECUTE", "t.bad", "INPUTS", "1", "t.wtype", "OUTPUTS", "1", "o")))
                    .startsWith("ERR ").contains("dtype");

            // Regression: DJL's binding aborted the whole process (std::terminate) when handed a 16-bit integer tensor.
            for (String t16 : List.of("INT16", "UINT16")) {
                assertThat(c.call("AI.TENSORSET", "t.16", t16, "1", "3", "BLOB", new byte[6])).isEqualTo(OK);
                assertThat(errorText(c.call("AI.MODELEXECUTE", "t.bad", "INPUTS", "1", "t.16", "OUTPUTS", "1", "o")))
                        .isEqualTo("ERR " + t16 + " tensors cannot be given to the TORCH backend (DJL's libtorch "
                                + "binding has no 16-bit integer tensors)");
            }

            assertThat(c.call("AI.TENSORSET", "t.in1", "FLOAT", "1", "3", "BLOB", floats(1, 1, 1))).isEqualTo(OK);
            assertThat(errorText(c.call("AI.MODELEXECUTE", "t.bad", "INPUTS", "2", "t.in1", "t.in1", "OUTPUTS", "1",
                    "o"))).startsWith("ERR ").contains("argument");

            assertThat(errorText(c.call("AI.TENSORSET", "t.short", "FLOAT", "1", "3", "BLOB", new byte[8])))
                    .isEqualTo("ERR data length does not match tensor shape and type");
            assertThat(errorText(c.call("AI.MODELEXECUTE", "t.bad", "INPUTS", "1", "no.such.input", "OUTPUTS", "1",
                    "o"))).isEqualTo("ERR tensor key is empty or in a different shard");
            assertThat(errorText(c.call("AI.MODELEXECUTE", "no.such.model", "INPUTS", "1", "t.in1", "OUTPUTS", "1",
                    "o"))).isEqualTo("ERR model key is empty");
            assertThat(c.call("EXISTS", "o")).isEqualTo(0L);

            // Still serving, and the model still runs.
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
            assertThat(c.call("AI.MODELEXECUTE", "t.bad", "INPUTS", "1", "t.in1", "OUTPUTS", "1", "o")).isEqualTo(OK);
            assertClose(toFloats((byte[]) c.call("AI.TENSORGET", "o", "BLOB")), linear(new float[] {1, 1, 1}, 1));
            List<?> info = (List<?>) c.call("AI.INFO", "t.bad");
            assertThat(info.get(17)).isEqualTo(5L); // the three runs libtorch refused, the two 16-bit inputs
        }
    }

    @Test
    void aRunPastItsTimeoutIsAnsweredTimedOutAndItsResultDropped() throws Exception {
        try (PipeGate gate = PipeGate.create(TorchModels.gate(), Duration.ofSeconds(30));
             RespClient c = RespClient.connect(shard.port())) {
            assertThat(setModel(c, "t.wait", "CPU", TorchModels.waitAtGate())).isEqualTo(OK);
            assertThat(setModel(c, "t.after", "CPU", linear)).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "wait.x", "FLOAT", "1", "3", "BLOB", floats(1, 1, 1))).isEqualTo(OK);
            // The run waits at the gate until this test opens it: past its TIMEOUT on any machine.
            assertThat(c.call("AI.MODELEXECUTE", "t.wait", "INPUTS", "1", "wait.x", "OUTPUTS", "1", "wait.z",
                    "TIMEOUT", "100")).isEqualTo(new RespSimple("TIMEDOUT"));
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
            assertThat(c.call("EXISTS", "wait.z")).isEqualTo(0L);
            assertThat(c.call("AI.MODELEXECUTE", "t.after", "INPUTS", "1", "wait.x", "OUTPUTS", "1", "wait.y"))
                    .isEqualTo(OK);
            assertClose(toFloats((byte[]) c.call("AI.TENSORGET", "wait.y", "BLOB")), linear(new float[] {1, 1, 1}, 1));
            // Deleting the model while the abandoned run goes on frees it only when that run ends.
            assertThat(c.call("AI.MODELDEL", "t.wait")).isEqualTo(OK);
            // The abandoned run goes on in the model server's JVM (libtorch cannot stop it), out of this test's sight;
            // once let through it fails there, and its answer has no one to go to: the module answered TIMEDOUT and
            // writes no output for it. The model server serves on.
            gate.release();
            assertThat(c.call("AI.MODELEXECUTE", "t.after", "INPUTS", "1", "wait.x", "OUTPUTS", "1", "wait.y2"))
                    .isEqualTo(OK);
            assertThat(c.call("EXISTS", "wait.z")).as("its result dropped").isEqualTo(0L);
            assertThat(((List<?>) c.call("AI.INFO", "t.after")).get(15)).isEqualTo(2L);
        }
    }

    @Test
    void gpuOnThisCpuOnlyBuildIsAClearError() throws Exception {
        // The model server's libtorch is the CPU build: 0 CUDA devices wherever no NVIDIA device is (there is none
        // here; where one is, this build still sees none, but the assumption keeps the test honest about what it saw).
        assumeThat(java.nio.file.Files.exists(Path.of("/dev/nvidia0"))).as("a machine without a CUDA device").isFalse();
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(errorText(setModel(c, "t.gpu", "GPU", linear)))
                    .startsWith("ERR GPU requested but libtorch cannot use it here: GPU:0 asked, 0 CUDA device(s)");
            assertThat(errorText(setModel(c, "t.gpu", "GPU:1", linear))).contains("GPU:1 asked");
            assertThat(c.call("EXISTS", "t.gpu")).isEqualTo(0L);
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
        }
    }

    @Test
    void sixteenClientsRunOneModelAtOnce() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(setModel(c, "t.shared", "CPU", linear)).isEqualTo(OK);
        }
        AiCalls.concurrently(shard.port(), 16, Duration.ofSeconds(120), (id, c) -> {
            for (int k = 0; k < 40; k++) {
                float[] x = {id, k, 1, -id, 0.5f * k, 2};
                c.call("AI.TENSORSET", "tin." + id, "FLOAT", "2", "3", "BLOB", floats(x));
                assertThat(c.call("AI.MODELEXECUTE", "t.shared", "INPUTS", "1", "tin." + id, "OUTPUTS", "1",
                        "tout." + id, "TIMEOUT", "60000000")).isEqualTo(OK);
                assertClose(toFloats((byte[]) c.call("AI.TENSORGET", "tout." + id, "BLOB")), linear(x, 2));
            }
        });
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(((List<?>) c.call("AI.INFO", "t.shared")).get(15)).isEqualTo(16L * 40);
        }
    }
}
