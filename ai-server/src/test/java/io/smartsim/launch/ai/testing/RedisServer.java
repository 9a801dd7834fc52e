package io.smartsim.launch.ai.testing;

import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.testing.Processes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real redis-server on a free loopback port, for integration tests; stopped (only the process this started) on
 * close. Started by its name on PATH, never a resolved path: Debian's redis-server is a symlink that picks its mode
 * from argv[0].
 */
public final class RedisServer implements AutoCloseable {
    private final Process process;
    private final int port;
    private final Path dir;

    private RedisServer(Process process, int port, Path dir) {
        this.process = process;
        this.port = port;
        this.dir = dir;
    }

    public static RedisServer start(String... extraArgs) throws IOException, InterruptedException {
        int port = freePort();
        Path dir = Files.createTempDirectory("ai-redis-");
        List<String> argv = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--logfile",
                dir.resolve("redis.log").toString()));
        argv.addAll(List.of(extraArgs));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(dir.resolve("console.log").toFile()).start();
        RedisServer r = new RedisServer(p, port, dir);
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (Instant.now().isBefore(deadline)) {
            if (!p.isAlive()) {
                throw new IllegalStateException("redis-server exited with " + p.exitValue() + ": "
                        + Files.readString(dir.resolve("console.log")));
            }
            try (RespClient c = RespClient.connect(port)) {
                Object pong = c.call("PING");
                // With requirepass, an unauthenticated PING answers NOAUTH: the server is up all the same.
                if (new RespSimple("PONG").equals(pong) || pong instanceof RespError e && e.text().startsWith("NOAUTH")) {
                    return r;
                }
            } catch (IOException e) {
                Thread.sleep(10);
            }
        }
        r.close();
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
     * A port from the tests' shared range ({@link Processes#freeBase}), never an ephemeral one (port 0): a port of the
     * ephemeral range can be taken by any outgoing connection, before the server binds it or after it is gone.
     */
    public static int freePort() {
        return Processes.freeBase(1);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
