package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.DType;
import io.smartsim.launch.ai.Tensor;
import io.smartsim.launch.ai.TensorCodec;
import io.smartsim.launch.ai.onnx.OnnxBackend;
import io.smartsim.launch.ai.spi.LoadedModel;
import io.smartsim.launch.ai.spi.ModelOptions;
import io.smartsim.launch.testing.TmpLitter;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A model call's time split into the runtime's own run and the module ↔ model server hop, for a tiny model (ONNX, 1x3
 * to 1x2 linear), measured in one run with the rounds alternating (BENCHMARKS.md, "AI serving: the model hop"). Not a
 * test: run it by hand.
 *
 * <pre>
 * java -cp "$(cat ai-module/target/it-classpath.txt)" io.smartsim.launch.ai.module.ModelHopBench [--port 11995]
 *   [--seconds 2] [--rounds 3]
 * </pre>
 *
 * One thread, one request at a time, for each of:
 * <ul>
 * <li>run: {@code LoadedModel.run} in this JVM (the runtime's own run, through the backend SPI);</li>
 * <li>socket RUN: one RUN frame to a real model server process over its Unix socket, from this JVM (the run plus the
 *     hop: framing, the socket both ways, the tensor codec);</li>
 * <li>MODELEXECUTE: {@code AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 y} to redis-server with the module, which calls that
 *     model server (everything: RESP, the event loop, the worker thread, the hop, the run, the reply callback);</li>
 * <li>TENSORGET: {@code AI.TENSORGET x META BLOB} on the same server (RESP and the event loop only: the baseline);</li>
 * <li>MODELEXECUTE with WORKERS 1: the same on a second redis-server (port + 1) whose module has one worker thread
 *     (the default is 4), same model server.</li>
 * </ul>
 */
public final class ModelHopBench {
    static final float[] W = {1, 2, -1, 0.5f, 3, -2};
    static final float[] B = {0.25f, -1};

    interface Call {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        String dirProperty = "smartsim.bench.dir";
        if (System.getProperty(dirProperty) != null) {
            run(args, Path.of(System.getProperty(dirProperty)));
            return;
        }
        // This JVM would load ONNX Runtime (the in-process baseline), which makes an onnxruntime-java* directory in
        // java.io.tmpdir and never removes it, and the JDK reads java.io.tmpdir once at start: so the bench runs in a
        // JVM of its own whose java.io.tmpdir is the bench's directory, removed at the end with what is in it.
        Path dir = Files.createTempDirectory("model-hop-bench");
        try {
            List<String> argv = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin",
                    "java").toString(), "-Djava.io.tmpdir=" + dir, "-D" + dirProperty + "=" + dir, "-cp",
                    System.getProperty("java.class.path"), ModelHopBench.class.getName()));
            argv.addAll(List.of(args));
            int code = new ProcessBuilder(argv).inheritIO().start().waitFor();
            if (code != 0) {
                throw new IllegalStateException("the bench's JVM exited with " + code);
            }
        } finally {
            TmpLitter.delete(dir);
        }
    }

    private static void run(String[] args, Path dir) throws Exception {
        int port = 11995;
        int seconds = 2;
        int rounds = 3;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; use --port N --seconds S --rounds R");
            }
        }
        byte[] model = io.smartsim.launch.ai.testing.OnnxModels.linear(3, 2, W, B);
        Path socket = dir.resolve("ms.sock");
        Tensor x = new Tensor(DType.FLOAT, new long[] {1, 3}, TensorWireIT.floats(1, 2, 3));
        LoadedModel local = new OnnxBackend().load(model, new ModelOptions("CPU", List.of(), List.of(), 0));
        try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket, "ONNX");
             ModuleRedis redis = ModuleRedis.withModule(dir.resolve("redis"), port, "SOCKET", socket.toString(),
                     "BACKENDS", "ONNX");
             ModuleRedis redis1 = ModuleRedis.withModule(dir.resolve("redis-1-worker"), port + 1, "SOCKET",
                     socket.toString(), "BACKENDS", "ONNX", "WORKERS", "1");
             RawReplies c = new RawReplies(redis.port());
             RawReplies c1 = new RawReplies(redis1.port());
             SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            byte[] load = frame('L', "bench-id", "ONNX", "CPU", 0, 0, model);
            check(roundtrip(ch, load), "LOAD");
            ByteBuffer run = ByteBuffer.allocate(4 + 1 + 4 + 8 + 12 + 4 + TensorCodec.encode(x).length)
                    .order(ByteOrder.LITTLE_ENDIAN);
            byte[] enc = TensorCodec.encode(x);
            run.putInt(run.capacity() - 4).put((byte) 'R').putInt(8).put("bench-id".getBytes(StandardCharsets.UTF_8))
                    .putInt(0).putInt(1).putInt(1).putInt(enc.length).put(enc);
            byte[] runFrame = run.array();
            check(roundtrip(ch, runFrame), "RUN");
            check(c.call(TensorWireIT.cmd(ModelServingIT.modelStoreArgs("m"))), "MODELSTORE");
            check(c.call(TensorWireIT.cmd("AI.TENSORSET", "x", "FLOAT", 1, 3, "BLOB", x.data())), "TENSORSET");
            byte[][] exec = TensorWireIT.cmd("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y");
            byte[][] get = TensorWireIT.cmd("AI.TENSORGET", "x", "META", "BLOB");
            check(c.call(exec), "MODELEXECUTE");
            check(c1.call(TensorWireIT.cmd(ModelServingIT.modelStoreArgs("m"))), "MODELSTORE");
            check(c1.call(TensorWireIT.cmd("AI.TENSORSET", "x", "FLOAT", 1, 3, "BLOB", x.data())), "TENSORSET");
            check(c1.call(exec), "MODELEXECUTE");
            String[] names = {"run (in-process)", "socket RUN (model server)", "AI.MODELEXECUTE (module)",
                    "AI.TENSORGET (baseline)", "AI.MODELEXECUTE (WORKERS 1)"};
            Call[] calls = {() -> local.run(List.of(x), null), () -> roundtrip(ch, runFrame), () -> c.call(exec),
                    () -> c.call(get), () -> c1.call(exec)};
            double[][] p50 = new double[calls.length][rounds];
            double[][] ops = new double[calls.length][rounds];
            System.out.println("load average at start: " + Files.readString(Path.of("/proc/loadavg")).trim());
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < calls.length; k++) {
                    double[] res = measure(calls[k], seconds);
                    ops[k][r] = res[0];
                    p50[k][r] = res[1];
                }
            }
            System.out.println("load average at end: " + Files.readString(Path.of("/proc/loadavg")).trim());
            double[] med = new double[calls.length];
            for (int k = 0; k < calls.length; k++) {
                med[k] = median(p50[k]);
                System.out.printf(Locale.ROOT, "%-28s p50 %7.1f us  (rounds %s)  %8.0f calls/s%n", names[k], med[k],
                        Arrays.toString(Arrays.stream(p50[k]).map(v -> Math.round(v * 10) / 10.0).toArray()),
                        median(ops[k]));
            }
            System.out.printf(Locale.ROOT, "hop, model server alone (socket RUN - run): %.1f us%n", med[1] - med[0]);
            System.out.printf(Locale.ROOT, "hop, through the module (MODELEXECUTE - TENSORGET - run): %.1f us%n",
                    med[2] - med[3] - med[0]);
            System.out.printf(Locale.ROOT, "hop, through the module with WORKERS 1: %.1f us%n",
                    med[4] - med[3] - med[0]);
        } finally {
            local.close();
        }
    }

    static void check(byte[] reply, String what) {
        if (reply.length == 0 || (reply[0] != '+' && reply[0] != 'K')) {
            throw new IllegalStateException(what + " answered " + TensorWireIT.show(reply));
        }
    }

    static byte[] frame(char op, String id, String backend, String device, int nin, int nout, byte[] blob) {
        byte[][] strs = {id.getBytes(StandardCharsets.UTF_8), backend.getBytes(StandardCharsets.UTF_8),
                device.getBytes(StandardCharsets.UTF_8)};
        int len = 1 + 12 + strs[0].length + strs[1].length + strs[2].length + 8 + 4 + blob.length;
        ByteBuffer b = ByteBuffer.allocate(4 + len).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(len).put((byte) op);
        for (byte[] s : strs) {
            b.putInt(s.length).put(s);
        }
        b.putInt(nin).putInt(nout).putInt(blob.length).put(blob);
        return b.array();
    }

    /** One frame out, one frame back: the reply body (status byte first). */
    static byte[] roundtrip(SocketChannel ch, byte[] frame) throws Exception {
        ByteBuffer out = ByteBuffer.wrap(frame);
        while (out.hasRemaining()) {
            ch.write(out);
        }
        ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        while (len.hasRemaining()) {
            if (ch.read(len) < 0) {
                throw new IllegalStateException("model server closed the connection");
            }
        }
        ByteBuffer body = ByteBuffer.allocate(len.getInt(0));
        while (body.hasRemaining()) {
            if (ch.read(body) < 0) {
                throw new IllegalStateException("model server closed the connection");
            }
        }
        return body.array();
    }

    /** {calls/s, p50 µs} of {@code call} repeated for {@code seconds} after a short warm-up. */
    static double[] measure(Call call, int seconds) throws Exception {
        for (int i = 0; i < 2000; i++) {
            call.run();
        }
        List<Long> times = new ArrayList<>();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long start = System.nanoTime();
        while (System.nanoTime() < end) {
            long t0 = System.nanoTime();
            call.run();
            times.add(System.nanoTime() - t0);
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        long[] sorted = times.stream().mapToLong(Long::longValue).sorted().toArray();
        return new double[] {sorted.length / elapsed, sorted[sorted.length / 2] / 1000.0};
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
