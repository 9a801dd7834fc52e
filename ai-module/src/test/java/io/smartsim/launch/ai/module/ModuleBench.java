package io.smartsim.launch.ai.module;

import io.smartsim.launch.testing.TmpLitter;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The module's tensor commands against plain SET/GET of the same sizes, on one redis-server with the module loaded,
 * measured in one run with the rounds alternating (BENCHMARKS.md, "AI serving"). Not a test: run it by hand.
 *
 * <pre>
 * java -cp ai-module/target/test-classes:ai-module/target/classes:ai-server/target/test-classes:\
 *   ai-server/target/classes:launcher-core/target/test-classes io.smartsim.launch.ai.module.ModuleBench \
 *   [--port 11990] [--seconds 3] [--rounds 3]
 * </pre>
 *
 * Each connection is a thread sending one command, reading its whole reply, and again (no pipelining), for the
 * given seconds. SET k v vs {@code AI.TENSORSET k UINT8 n BLOB v} (the tensor's bytes as the value), and GET k vs
 * {@code AI.TENSORGET k META BLOB} (what SmartRedis sends). redis-benchmark cannot send the 1 MiB BLOB (a command-line
 * argument is at most 128 KiB on Linux), so one client does both sizes; redis-benchmark's 16 B figures are in
 * BENCHMARKS.md beside these as a cross-check.
 */
public final class ModuleBench {
    record Result(double opsPerSec, double p50us) {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("module-bench");
        try {
            run(args, dir);
        } finally {
            TmpLitter.delete(dir); // the servers' directories and sockets: nothing of the bench stays in /tmp
        }
    }

    private static void run(String[] args, Path dir) throws Exception {
        int port = 11990;
        int seconds = 3;
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
        int[] sizes = {16, 1 << 20};
        int[] conns = {1, 16};
        String[][] pairs = {{"SET", "AI.TENSORSET"}, {"GET", "AI.TENSORGET"}};
        // results[size][conn][pair][which][round]
        double[][][][][] ops = new double[2][2][2][2][rounds];
        double[][][][][] p50 = new double[2][2][2][2][rounds];
        System.out.println("load average at start: " + loadavg());
        try (ModuleRedis redis = ModuleRedis.withModule(dir, port)) {
            for (int r = 0; r < rounds; r++) {
                for (int s = 0; s < sizes.length; s++) {
                    for (int c = 0; c < conns.length; c++) {
                        for (int p = 0; p < pairs.length; p++) {
                            for (int w = 0; w < 2; w++) {
                                // alternate which of the two goes first from round to round
                                int which = (r % 2 == 0) ? w : 1 - w;
                                Result res = run(port, pairs[p][which], sizes[s], conns[c], seconds);
                                ops[s][c][p][which][r] = res.opsPerSec;
                                p50[s][c][p][which][r] = res.p50us;
                                System.out.printf(Locale.ROOT, "round %d %-13s %8d B %2d conn: %10.0f ops/s p50 %7.1f us"
                                        + "  (load %s)%n", r + 1, pairs[p][which], sizes[s], conns[c], res.opsPerSec,
                                        res.p50us, loadavg());
                            }
                        }
                    }
                }
            }
        }
        System.out.println("load average at end: " + loadavg());
        System.out.println();
        System.out.println("| size | connections | plain | ops/s | p50 us | module | ops/s | p50 us | module/plain |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        for (int s = 0; s < sizes.length; s++) {
            for (int c = 0; c < conns.length; c++) {
                for (int p = 0; p < pairs.length; p++) {
                    double plain = median(ops[s][c][p][0]);
                    double module = median(ops[s][c][p][1]);
                    System.out.printf(Locale.ROOT, "| %s | %d | %s | %,.0f | %.0f | `%s` | %,.0f | %.0f | %.0f %% |%n",
                            sizes[s] == 16 ? "16 B" : "1 MiB", conns[c], pairs[p][0], plain, median(p50[s][c][p][0]),
                            pairs[p][1], module, median(p50[s][c][p][1]), 100 * module / plain);
                }
            }
        }
    }

    static String loadavg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }

    static byte[] command(String... parts) {
        return command(List.of(parts).stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new));
    }

    static byte[] command(byte[]... args) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(("*" + args.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (byte[] a : args) {
            b.writeBytes(("$" + a.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            b.writeBytes(a);
            b.writeBytes(new byte[] {'\r', '\n'});
        }
        return b.toByteArray();
    }

    static byte[] request(String name, String key, byte[] value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        return switch (name) {
            case "SET" -> command("SET".getBytes(), k, value);
            case "GET" -> command("GET".getBytes(), k);
            case "AI.TENSORSET" -> command("AI.TENSORSET".getBytes(), k, "UINT8".getBytes(),
                    Integer.toString(value.length).getBytes(), "BLOB".getBytes(), value);
            case "AI.TENSORGET" -> command("AI.TENSORGET".getBytes(), k, "META".getBytes(), "BLOB".getBytes());
            default -> throw new IllegalArgumentException(name);
        };
    }

    static Result run(int port, String name, int size, int conns, int seconds) throws Exception {
        byte[] value = new byte[size];
        new Random(size).nextBytes(value);
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        long[][] lat = new long[conns][];
        int[] counts = new int[conns];
        for (int c = 0; c < conns; c++) {
            String key = "bench:" + name.startsWith("AI.") + ":" + c;
            // GET and TENSORGET read what the matching SET stored
            String setter = name.endsWith("GET") ? (name.startsWith("AI.") ? "AI.TENSORSET" : "SET") : null;
            byte[] req = request(name, key, value);
            int idx = c;
            Socket s = new Socket();
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(60_000);
            InputStream in = new BufferedInputStream(s.getInputStream(), 1 << 16);
            OutputStream out = s.getOutputStream();
            if (setter != null) {
                out.write(request(setter, key, value));
                skipReply(in);
            }
            threads.add(new Thread(() -> {
                long[] l = new long[1 << 19];
                int n = 0;
                try (s) {
                    while (!stop.get()) {
                        long t0 = System.nanoTime();
                        out.write(req);
                        if (skipReply(in) != '+' && !name.endsWith("GET")) {
                            throw new IllegalStateException(name + " failed");
                        }
                        if (n < l.length) {
                            l[n] = System.nanoTime() - t0;
                        }
                        n++;
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
                lat[idx] = Arrays.copyOf(l, Math.min(n, l.length));
                counts[idx] = n;
            }));
        }
        long t0 = System.nanoTime();
        threads.forEach(Thread::start);
        Thread.sleep(seconds * 1000L);
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - t0) / 1e9;
        long total = Arrays.stream(counts).sum();
        long[] all = Arrays.stream(lat).flatMapToLong(Arrays::stream).sorted().toArray();
        return new Result(total / elapsed, all.length == 0 ? 0 : all[all.length / 2] / 1000.0);
    }

    /** Reads one whole RESP2 reply and answers its type byte; an error reply throws. */
    static int skipReply(InputStream in) throws IOException {
        int type = in.read();
        String line = readLine(in);
        switch (type) {
            case '+', ':' -> {
            }
            case '-' -> throw new IllegalStateException("error reply: " + line);
            case '$' -> {
                long n = Long.parseLong(line);
                if (n >= 0) {
                    in.skipNBytes(n + 2);
                }
            }
            case '*' -> {
                long n = Long.parseLong(line);
                for (long i = 0; i < n; i++) {
                    skipReply(in);
                }
            }
            default -> throw new IOException("not RESP2: " + (char) type + line);
        }
        return type;
    }

    static String readLine(InputStream in) throws IOException {
        StringBuilder s = new StringBuilder();
        int c;
        while ((c = in.read()) != '\r') {
            if (c < 0) {
                throw new IOException("closed");
            }
            s.append((char) c);
        }
        in.read();
        return s.toString();
    }
}
