package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.ai.module.ModelServingIT.B;
import static io.smartsim.launch.ai.module.ModelServingIT.LINEAR;
import static io.smartsim.launch.ai.module.ModelServingIT.W;
import static io.smartsim.launch.ai.module.TensorWireIT.floats;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Auto-batching through the module and the real model server (ONNX, the linear model Y = X @ W + B with a free first
 * dimension): AI.MODELSTORE's BATCHSIZE / MINBATCHSIZE / MINBATCHTIMEOUT applied as RedisAI applies them. The evidence
 * that runs were batched is the model server's own count of model runs and of the requests they served (its 'Q'
 * request, asked here over its socket). MINBATCHSIZE without MINBATCHTIMEOUT waits without a bound for enough rows, so
 * which runs go together does not depend on the machine's speed.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class AutoBatchingIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest();

    @TempDir
    Path dir;

    static final RespSimple OK = new RespSimple("OK");

    /** Y = X @ W + B for one row x, by hand. */
    static float[] expected(float... x) {
        return new float[] {x[0] * W[0] + x[1] * W[2] + x[2] * W[4] + B[0], x[0] * W[1] + x[1] * W[3] + x[2] * W[5] + B[1]};
    }

    static Object[] store(String key, Object... options) {
        List<Object> c = new ArrayList<>(List.of("AI.MODELSTORE", key, "ONNX", "CPU"));
        c.addAll(List.of(options));
        c.add("BLOB");
        c.add(LINEAR);
        return c.toArray();
    }

    /** The model server's count for the model at key: {model runs, requests served}. */
    static long[] counts(Path socket, RespClient c, String key) throws Exception {
        byte[] id = (byte[]) c.call("HGET", key, "id");
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            ByteBuffer req = ByteBuffer.allocate(4 + 1 + 4 + id.length).order(ByteOrder.LITTLE_ENDIAN);
            req.putInt(1 + 4 + id.length).put((byte) 'Q').putInt(id.length).put(id).flip();
            while (req.hasRemaining()) {
                ch.write(req);
            }
            ByteBuffer rep = ByteBuffer.allocate(4 + 17).order(ByteOrder.LITTLE_ENDIAN);
            while (rep.hasRemaining()) {
                assertThat(ch.read(rep)).as("the model server answers").isNotNegative();
            }
            rep.flip();
            assertThat(rep.getInt()).isEqualTo(17);
            assertThat((char) rep.get()).isEqualTo('K');
            return new long[] {rep.getLong(), rep.getLong()};
        }
    }

    @Test
    void concurrentRunsAreConcatenatedRunOnceAndSplitBackAndALargerOneRunsAlone() throws Exception {
        Path socket = dir.resolve("ms.sock");
        int clients = 8;
        try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket, "ONNX");
             ModuleRedis module = ModuleRedis.withModule(dir.resolve("redis"), leftovers.freeBase(1), "SOCKET",
                     socket.toString(), "BACKENDS", "ONNX", "WORKERS", "16");
             RespClient c = module.client()) {
            // Waits (no bound) until 8 rows are queued: the 8 clients' runs must go as one.
            assertThat(c.call(store("m", "BATCHSIZE", clients, "MINBATCHSIZE", clients))).isEqualTo(OK);
            assertThat(counts(socket, c, "m")).containsExactly(0, 0);

            // 10 rows, more than BATCHSIZE: runs alone at once (queued, it would wait for ever).
            float[] big = new float[30];
            for (int k = 0; k < big.length; k++) {
                big[k] = k - 7;
            }
            assertThat(c.call("AI.TENSORSET", "big", "FLOAT", 10, 3, "BLOB", floats(big))).isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "m", "INPUTS", 1, "big", "OUTPUTS", 1, "big.y")).isEqualTo(OK);
            List<?> meta = (List<?>) c.call("AI.TENSORGET", "big.y", "META");
            assertThat(meta.get(3)).isEqualTo(List.of(10L, 2L));
            assertThat(counts(socket, c, "m")).containsExactly(1, 1);

            ExecutorService pool = Executors.newFixedThreadPool(clients);
            try {
                List<Future<Object>> runs = new ArrayList<>();
                for (int k = 0; k < clients; k++) {
                    int n = k;
                    runs.add(pool.submit(() -> {
                        try (RespClient own = module.client()) {
                            own.call("AI.TENSORSET", "x" + n, "FLOAT", 1, 3, "BLOB", floats(n, -n, 0.5f * n));
                            return own.call("AI.MODELEXECUTE", "m", "INPUTS", 1, "x" + n, "OUTPUTS", 1, "y" + n);
                        }
                    }));
                }
                for (Future<Object> f : runs) {
                    assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(OK);
                }
            } finally {
                pool.shutdownNow();
            }
            // One model run served the 8 requests; each client got its own row back.
            assertThat(counts(socket, c, "m")).as("{model runs, requests}").containsExactly(2, 1 + clients);
            for (int k = 0; k < clients; k++) {
                List<?> y = (List<?>) c.call("AI.TENSORGET", "y" + k, "META", "BLOB");
                assertThat(y.get(3)).isEqualTo(List.of(1L, 2L));
                assertThat((byte[]) y.get(5)).as("y" + k).isEqualTo(floats(expected(k, -k, 0.5f * k)));
            }
            List<?> info = (List<?>) c.call("AI.INFO", "m");
            assertThat(info.subList(12, 18).stream()
                    .map(v -> v instanceof byte[] bs ? new String(bs, StandardCharsets.UTF_8) : v).toList())
                    .as("AI.INFO counts each client's run").containsExactly("samples", 18L, "calls", 9L, "errors", 0L);
        }
    }

    @Test
    void minBatchSizeWaitsAtMostMinBatchTimeoutAndAModelWithoutBatchsizeIsNotBatched() throws Exception {
        Path socket = dir.resolve("ms.sock");
        try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket, "ONNX");
             ModuleRedis module = ModuleRedis.withModule(dir.resolve("redis"), leftovers.freeBase(1), "SOCKET",
                     socket.toString(), "BACKENDS", "ONNX");
             RespClient c = module.client()) {
            assertThat(c.call(store("t", "BATCHSIZE", 8, "MINBATCHSIZE", 4, "MINBATCHTIMEOUT", 300))).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "x", "FLOAT", 1, 3, "VALUES", 1, 2, 3)).isEqualTo(OK);
            long start = System.nanoTime();
            assertThat(c.call("AI.MODELEXECUTE", "t", "INPUTS", 1, "x", "OUTPUTS", 1, "y")).isEqualTo(OK);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(ms).as("waited for more rows until MINBATCHTIMEOUT, then ran").isGreaterThanOrEqualTo(300);
            assertThat(c.call("AI.TENSORGET", "y", "BLOB")).isEqualTo(floats(expected(1, 2, 3)));
            assertThat(counts(socket, c, "t")).containsExactly(1, 1);

            assertThat(c.call(store("plain"))).isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "plain", "INPUTS", 1, "x", "OUTPUTS", 1, "y2")).isEqualTo(OK);
            assertThat(counts(socket, c, "plain")).as("no batching without BATCHSIZE").containsExactly(0, 0);
            // Stored again without BATCHSIZE: no longer batched.
            assertThat(c.call(store("t"))).isEqualTo(OK);
            assertThat(c.call("AI.MODELEXECUTE", "t", "INPUTS", 1, "x", "OUTPUTS", 1, "y")).isEqualTo(OK);
            assertThat(counts(socket, c, "t")).containsExactly(0, 0);
        }
    }
}
