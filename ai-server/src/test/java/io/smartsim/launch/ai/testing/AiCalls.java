package io.smartsim.launch.ai.testing;

import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespSimple;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the model-serving ITs of every backend (ai-module's, ai-tf's, ai-tflite's) send and check over RESP as
 * SmartRedis 0.6.1 does: float tensors as little-endian bytes, {@code set_model} in chunks, replies as text; and many
 * clients running at once.
 */
public final class AiCalls {
    public static final RespSimple OK = new RespSimple("OK");

    private AiCalls() {
    }

    /** FLOAT tensor data as SmartRedis sends it: little-endian. */
    public static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    public static float[] toFloats(byte[] b) {
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.length / 4];
        for (int i = 0; i < f.length; i++) {
            f[i] = buf.getFloat();
        }
        return f;
    }

    /** A bulk reply as text. */
    public static String str(Object bulk) {
        return new String((byte[]) bulk, StandardCharsets.UTF_8);
    }

    /** The text of an error reply; fails when {@code reply} is not one. */
    public static String errorText(Object reply) {
        assertThat(reply).isInstanceOf(RespError.class);
        return ((RespError) reply).text();
    }

    /** A dense layer's weight from input {@code i} to output {@code o}, as each model maker lays its weights out. */
    @FunctionalInterface
    public interface Weight {
        double at(int i, int o);
    }

    /**
     * {@code y = x W + b} for {@code x} of (rows, in), computed in double and rounded once: the reference the backend
     * ITs check a runtime's outputs against, computed without any runtime.
     */
    public static float[] dense(float[] x, int rows, int in, int out, Weight w, float[] b) {
        float[] y = new float[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int i = 0; i < in; i++) {
                    s += (double) x[r * in + i] * w.at(i, o);
                }
                y[r * out + o] = (float) s;
            }
        }
        return y;
    }

    /** Element by element within 1e-5: a runtime's float arithmetic against a reference computed in double. */
    public static void assertClose(float[] got, float[] want) {
        assertThat(got).hasSize(want.length);
        for (int i = 0; i < want.length; i++) {
            assertThat(got[i]).as("element %d", i).isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-5f));
        }
    }

    /**
     * {@code set_model} as SmartRedis sends it: {@code AI.CONFIG GET MODEL_CHUNK_SIZE} first, then
     * {@code AI.MODELSTORE key backend device <options...> BLOB} with the blob cut into chunks of that size, at most
     * {@code maxChunk} bytes (small, so that the chunked form is exercised). Returns the reply.
     */
    public static Object setModel(RespClient c, String key, String backend, String device, List<?> options,
                                  byte[] model, int maxChunk) throws Exception {
        Object chunk = c.call("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE");
        assertThat(chunk).isInstanceOf(Long.class);
        int size = (int) Math.min((Long) chunk, maxChunk);
        List<Object> cmd = new ArrayList<>(List.of("AI.MODELSTORE", key, backend, device));
        cmd.addAll(options);
        cmd.add("BLOB");
        for (int i = 0; i < model.length; i += size) {
            cmd.add(Arrays.copyOfRange(model, i, Math.min(model.length, i + size)));
        }
        return c.call(cmd.toArray());
    }

    /** What one of {@link #concurrently}'s clients does on its own connection. */
    @FunctionalInterface
    public interface ClientRun {
        void run(int client, RespClient c) throws Exception;
    }

    /**
     * {@code clients} threads, each with a connection of its own to {@code port}, run {@code body} at once; every one
     * must end within {@code limit} (a hung client fails, it does not pass), and the first failure of any fails.
     */
    public static void concurrently(int port, int clients, Duration limit, ClientRun body) throws Exception {
        Thread[] threads = new Thread[clients];
        Throwable[] failures = new Throwable[clients];
        for (int t = 0; t < clients; t++) {
            int id = t;
            threads[t] = new Thread(() -> {
                try (RespClient c = RespClient.connect(port)) {
                    body.run(id, c);
                } catch (Throwable e) {
                    failures[id] = e;
                }
            }, "client-" + t);
            threads[t].start();
        }
        long until = System.nanoTime() + limit.toNanos();
        for (Thread t : threads) {
            t.join(Math.max(1, (until - System.nanoTime()) / 1_000_000));
            assertThat(t.isAlive()).as("%s still running after %s", t.getName(), limit).isFalse();
        }
        for (int t = 0; t < clients; t++) {
            if (failures[t] != null) {
                throw new AssertionError("client " + t + " failed: " + failures[t], failures[t]);
            }
        }
    }
}
