package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.testing.OnnxModels;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.testing.TmpLitter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Auto-batching's effect (BENCHMARKS.md, "AI serving: auto-batching"): 16 clients, each its own connection, each
 * running a batch-1 MLP (ONNX, in → hidden → 4, ReLU, {@code OnnxModels.mlp}; 16 → 64 → 4 unless told) in a loop through redis-server with the
 * module ({@code WORKERS 16}) and the model server, on a model stored without BATCHSIZE and on the same model stored
 * with {@code BATCHSIZE 16}; the two measured alternately in rounds, in one run. Prints calls/s per round and the
 * model server's average batch (requests per model run). Not a test: run it by hand.
 *
 * <pre>
 * java -cp ... io.smartsim.launch.ai.module.AutoBatchBench [--port 11995] [--clients 16] [--seconds 3] [--rounds 3]
 *   [--in 16] [--hidden 64]
 * </pre>
 */
public final class AutoBatchBench {
    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("auto-batch-bench");
        try {
            run(args, dir);
        } finally {
            TmpLitter.delete(dir); // the servers' directories and sockets: nothing of the bench stays in /tmp
        }
    }

    private static void run(String[] args, Path dir) throws Exception {
        int port = 11995;
        int clients = 16;
        int seconds = 3;
        int rounds = 3;
        int in = 16;
        int hidden = 64;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--clients" -> clients = Integer.parseInt(args[i + 1]);
                case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--in" -> in = Integer.parseInt(args[i + 1]);
                case "--hidden" -> hidden = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; use --port N --clients C --seconds S --rounds R --in I --hidden H");
            }
        }
        int out = 4;
        byte[] mlp = OnnxModels.mlp(in, hidden, out, fill(in * hidden, 0.01f), fill(hidden, 0.1f),
                fill(hidden * out, -0.02f), fill(out, 0.5f));
        Path socket = dir.resolve("ms.sock");
        try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket, "ONNX");
             ModuleRedis redis = ModuleRedis.withModule(dir.resolve("redis"), port, "SOCKET", socket.toString(),
                     "BACKENDS", "ONNX", "WORKERS", String.valueOf(clients));
             RawReplies c = new RawReplies(redis.port())) {
            ModelHopBench.check(c.call(TensorWireIT.cmd("AI.MODELSTORE", "plain", "ONNX", "CPU", "BLOB", mlp)),
                    "MODELSTORE plain");
            ModelHopBench.check(c.call(TensorWireIT.cmd("AI.MODELSTORE", "batched", "ONNX", "CPU", "BATCHSIZE",
                    clients, "BLOB", mlp)), "MODELSTORE batched");
            for (int k = 0; k < clients; k++) {
                ModelHopBench.check(c.call(TensorWireIT.cmd("AI.TENSORSET", "x" + k, "FLOAT", 1, in, "BLOB",
                        TensorWireIT.floats(fill(in, k)))), "TENSORSET");
            }
            String[] models = {"plain", "batched"};
            double[][] rates = new double[2][rounds];
            System.out.println("load average at start: " + Files.readString(Path.of("/proc/loadavg")).trim());
            for (int r = 0; r < rounds; r++) {
                for (int m = 0; m < 2; m++) {
                    rates[m][r] = measure(redis.port(), models[m], clients, seconds);
                }
            }
            System.out.println("load average at end: " + Files.readString(Path.of("/proc/loadavg")).trim());
            for (int m = 0; m < 2; m++) {
                System.out.printf(Locale.ROOT, "%-8s median %8.0f calls/s  (rounds %s)%n", models[m],
                        ModelHopBench.median(rates[m]),
                        Arrays.toString(Arrays.stream(rates[m]).map(Math::rint).toArray()));
            }
            long[] q;
            try (RespClient rc = RespClient.connect(redis.port())) {
                q = AutoBatchingIT.counts(socket, rc, "batched");
            }
            System.out.printf(Locale.ROOT, "MLP %d -> %d -> %d, %d clients%n", in, hidden, out, clients);
            System.out.printf(Locale.ROOT, "batched: %d requests in %d model runs (%.2f per run)%n", q[1], q[0],
                    q[1] / (double) q[0]);
        }
    }

    static float[] fill(int n, float base) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = base * ((i % 7) - 3);
        }
        return v;
    }

    /** calls/s of {@code clients} connections each running the model on its own input for {@code seconds}. */
    static double measure(int port, String model, int clients, int seconds) throws Exception {
        AtomicLong done = new AtomicLong();
        CountDownLatch ready = new CountDownLatch(clients);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        long[] window = new long[2];
        for (int k = 0; k < clients; k++) {
            byte[][] exec = TensorWireIT.cmd("AI.MODELEXECUTE", model, "INPUTS", 1, "x" + k, "OUTPUTS", 1, "y" + k);
            Thread t = new Thread(() -> {
                try (RawReplies own = new RawReplies(port)) {
                    for (int w = 0; w < 200; w++) {
                        ModelHopBench.check(own.call(exec), "MODELEXECUTE");
                    }
                    ready.countDown();
                    go.await();
                    long end = window[1];
                    while (System.nanoTime() < end) {
                        ModelHopBench.check(own.call(exec), "MODELEXECUTE");
                        done.incrementAndGet();
                    }
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                    ready.countDown();
                }
            });
            threads.add(t);
            t.start();
        }
        ready.await();
        long start = System.nanoTime();
        window[0] = start;
        window[1] = start + seconds * 1_000_000_000L;
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        if (!failures.isEmpty()) {
            throw new IllegalStateException("a client failed", failures.get(0));
        }
        return done.get() / elapsed;
    }
}
