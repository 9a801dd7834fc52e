package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.RespClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real redis-server for the module's tests, working in its own directory under the test's {@code @TempDir} (so
 * the Leftovers check finds it), on a port the test chose with {@code Leftovers.freeBase} (below 32768).
 * Started by its name on PATH, never a resolved path: Debian's redis-server is a symlink that picks its mode from
 * argv[0]. {@link #close} stops only the process this started.
 */
final class ModuleRedis implements AutoCloseable {
    static final Duration START = Duration.ofSeconds(30);

    private final Process process;
    private final int port;
    private final Path dir;

    private ModuleRedis(Process process, int port, Path dir) {
        this.process = process;
        this.port = port;
        this.dir = dir;
    }

    /**
     * The module's library as {@link AiModule} finds it. Failsafe puts the module's jar on the class path, so this
     * copies it out of the jar (into its own directory, leaving the build's target/smartsim-ai.so alone).
     */
    static Path library() throws IOException {
        return AiModule.library(Path.of("target", "module-from-class-path"));
    }

    /** redis-server with the module loaded, no persistence unless {@code extra} asks for it. */
    static ModuleRedis withModule(Path dir, int port, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--loadmodule", library().toAbsolutePath().toString()));
        args.addAll(List.of(extra));
        return start(dir, port, args);
    }

    /** redis-server without the module. */
    static ModuleRedis plain(Path dir, int port, String... extra) throws Exception {
        return start(dir, port, List.of(extra));
    }

    private static ModuleRedis start(Path dir, int port, List<String> extra) throws Exception {
        Files.createDirectories(dir);
        List<String> argv = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--logfile",
                dir.resolve("redis.log").toString()));
        argv.addAll(extra);
        Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("console.log").toFile())).start();
        ModuleRedis r = new ModuleRedis(p, port, dir);
        Instant deadline = Instant.now().plus(START);
        while (Instant.now().isBefore(deadline)) {
            if (!p.isAlive()) {
                throw new IllegalStateException("redis-server " + argv + " exited with " + p.exitValue() + ": "
                        + Files.readString(dir.resolve("console.log")) + r.logTail());
            }
            try (RespClient c = RespClient.connect(port)) {
                Object pong = c.call("PING");
                // NOAUTH (a server started with --requirepass) proves it accepts connections, as PONG does
                if (new RespSimple("PONG").equals(pong) || pong instanceof RespError n && n.text().startsWith("NOAUTH")) {
                    return r;
                }
                if (!(pong instanceof RespError e && e.text().startsWith("LOADING"))) {
                    r.close();
                    throw new IllegalStateException("port " + port + " answered PING with " + pong);
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(20);
        }
        r.close();
        throw new IllegalStateException("redis-server on port " + port + " did not answer PING within " + START
                + r.logTail());
    }

    int port() {
        return port;
    }

    Path dir() {
        return dir;
    }

    RespClient client() throws IOException {
        return RespClient.connect(port);
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("redis.log"));
            return "\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    /** SIGTERM (Redis's ordinary shutdown: it writes its AOF/RDB first when configured), then waits. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
