package io.smartsim.launch.ai.testing;

import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.testing.TmpLitter;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real redis-server on a free loopback port of {@link #FIRST}-{@link #LAST}, for integration tests; stopped (only
 * the process this started) on close. Started by its name on PATH, never a resolved path: Debian's redis-server is a
 * symlink that picks its mode from argv[0].
 */
public final class RedisServer implements AutoCloseable {
    /**
     * The ports these servers take: below 32768, where Linux's ephemeral range starts, so no outgoing connection can
     * hold one when a test starts or checks it (test-support's Processes: bases 10000-11767; ai-dist's
     * AiTestbed: 12000-12767; fixed ports of ITs: 13000-19999). A standalone server has no bus port.
     */
    static final int FIRST = 12800;
    static final int LAST = 12999;
    private static final AtomicInteger NEXT = new AtomicInteger(
            FIRST + (int) (ProcessHandle.current().pid() % 20) * 10); // test JVMs side by side start apart
    private final Process process;
    private final int port;
    private final Path dir;

    private RedisServer(Process process, int port, Path dir) {
        this.process = process;
        this.port = port;
        this.dir = dir;
    }

    public static RedisServer start(String... extraArgs) throws IOException, InterruptedException {
        // A test JVM beside this one may bind the port between freePort's check and the server's own bind: then the
        // server exits at once saying so, and the next free port is tried.
        for (int attempt = 1; ; attempt++) {
            try {
                return start(freePort(), extraArgs);
            } catch (PortTakenException e) {
                if (attempt == 5) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            }
        }
    }

    private static final class PortTakenException extends Exception {
        PortTakenException(String message) {
            super(message);
        }
    }

    private static RedisServer start(int port, String... extraArgs)
            throws IOException, InterruptedException, PortTakenException {
        Path dir = Files.createTempDirectory("ai-redis-");
        List<String> argv = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--logfile",
                dir.resolve("redis.log").toString()));
        argv.addAll(List.of(extraArgs));
        Process p;
        try {
            p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(dir.resolve("console.log").toFile())
                    .start();
        } catch (IOException e) {
            TmpLitter.delete(dir);
            throw e;
        }
        RedisServer r = new RedisServer(p, port, dir);
        try {
            return r.awaitPing();
        } catch (IOException | InterruptedException | PortTakenException | RuntimeException e) {
            r.close(); // its directory too: a start that failed (a port taken, then tried again) leaves nothing
            throw e;
        }
    }

    private RedisServer awaitPing() throws IOException, InterruptedException, PortTakenException {
        Process p = process;
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (Instant.now().isBefore(deadline)) {
            if (!p.isAlive()) {
                String log = Files.readString(dir.resolve("console.log"))
                        + (Files.exists(dir.resolve("redis.log")) ? Files.readString(dir.resolve("redis.log")) : "");
                String why = "redis-server on port " + port + " exited with " + p.exitValue() + ": " + log;
                if (log.contains("Address already in use")) {
                    throw new PortTakenException(why);
                }
                throw new IllegalStateException(why);
            }
            try (RespClient c = RespClient.connect(port)) {
                Object pong = c.call("PING");
                // With requirepass, an unauthenticated PING answers NOAUTH: the server is up all the same.
                if (new RespSimple("PONG").equals(pong) || pong instanceof RespError e && e.text().startsWith("NOAUTH")) {
                    return this;
                }
            } catch (IOException e) {
                Thread.sleep(10);
            }
        }
        throw new IllegalStateException("redis-server on port " + port + " did not answer PING within 10 s");
    }

    public int port() {
        return port;
    }

    public String address() {
        return "127.0.0.1:" + port;
    }

    /** The directory it runs in (its {@code --dir}), for the leftover check. */
    public Path dir() {
        return dir;
    }

    /**
     * A port of {@link #FIRST}-{@link #LAST} free on every address now; each call moves on to the next one. The tests'
     * AI fronts take theirs here too.
     */
    public static int freePort() {
        for (int tried = 0; tried <= LAST - FIRST; tried++) {
            int port = NEXT.getAndUpdate(p -> p >= LAST ? FIRST : p + 1);
            // Reserved for this JVM's life, so that the ai-* modules' test JVMs of a parallel build (which all take
            // these servers) never share one between the check and the bind, nor while a test checks it free after.
            io.smartsim.launch.testing.PortLocks.Taken taken = io.smartsim.launch.testing.PortLocks.reserve(
                    List.of(port));
            if (!taken.ok()) {
                continue; // another test JVM's
            }
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress("0.0.0.0", port));
                return port;
            } catch (IOException e) {
                taken.giveBack(); // in use: try the next
            }
        }
        throw new IllegalStateException("no free port in " + FIRST + "-" + LAST);
    }

    /** Stops the server, then removes its directory (made in /tmp: nothing else would). */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
        TmpLitter.delete(dir);
    }
}
