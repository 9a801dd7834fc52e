package io.smartsim.launch.ai.module;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One {@code --ai} shard as every launcher runs it since issue 16, for the tests of other modules (ai-tf, ai-tflite,
 * client, it-ai; through ai-module's test-jar): a real redis-server loading the smartsim-ai module
 * ({@code SOCKET <dir>/ms.sock BACKENDS <names>}) and the real model server (ai-server's ModelServerMain, with the
 * test's class path, so with the backends that module has) on that socket. Both work in directories under
 * {@code dir}, which should be a {@code @TempDir} of the test so that its Leftovers check finds them; the port should
 * come from {@code Leftovers.freeBase}. {@link #close} stops both (redis-server first).
 */
public final class ModuleShard implements AutoCloseable {
    private final Path dir;
    private final String backends;
    private final ModuleRedis redis;
    private ModelServerProcess modelServer;
    private int modelServers = 1;

    private ModuleShard(Path dir, String backends, ModuleRedis redis, ModelServerProcess modelServer) {
        this.dir = dir;
        this.backends = backends;
        this.redis = redis;
        this.modelServer = modelServer;
    }

    /**
     * Starts the model server with {@code backends} (e.g. "TF"), then redis-server on {@code port} loading the module
     * with the same backends; {@code redisArgs} go on redis-server's command line (e.g. "--requirepass", "pw").
     */
    public static ModuleShard start(Path dir, int port, String backends, String... redisArgs) throws Exception {
        Path socket = dir.resolve("ms.sock");
        ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket, backends);
        try {
            List<String> args = new ArrayList<>(List.of("SOCKET", socket.toString(), "BACKENDS", backends));
            args.addAll(List.of(redisArgs));
            return new ModuleShard(dir, backends, ModuleRedis.withModule(dir.resolve("redis"), port,
                    args.toArray(String[]::new)), server);
        } catch (Exception | Error e) {
            server.close();
            throw e;
        }
    }

    /** The shard's port: where clients connect (redis-server itself). */
    public int port() {
        return redis.port();
    }

    public Path socket() {
        return dir.resolve("ms.sock");
    }

    /** The last lines of redis-server's log, for a failure message. */
    public String logTail() {
        return redis.logTail();
    }

    /**
     * Stops the model server (SIGTERM) and starts a new one on the same socket, which knows no model or script: the
     * module pushes the stored ones from the keyspace on their first use.
     */
    public synchronized void restartModelServer() throws Exception {
        modelServer.close();
        modelServer = ModelServerProcess.start(dir.resolve("model-server-" + ++modelServers), socket(), backends);
    }

    /**
     * SIGKILL to the model server, as a crash (its socket file stays behind): the module's model commands then answer
     * {@code ERR model server not connected (socket <socket>: Connection refused)}. {@link #restartModelServer} starts
     * a new one on the same socket; {@link #close} is still safe.
     */
    public synchronized void killModelServer() throws InterruptedException {
        modelServer.kill();
    }

    /**
     * A redis-server without the module on {@code port}, working in {@code dir} (a {@code @TempDir} of the test), for
     * tests that need a shard with no AI commands; closing it stops it.
     */
    public static AutoCloseable plainRedis(Path dir, int port, String... redisArgs) throws Exception {
        ModuleRedis r = ModuleRedis.plain(dir, port, redisArgs);
        return r::close;
    }

    /**
     * A redis-server loading the module without {@code SOCKET} (no model server at all), working in {@code dir}; its
     * model commands answer {@code ERR model server not connected (the module was loaded without SOCKET <path>)}.
     */
    public static AutoCloseable moduleWithoutSocket(Path dir, int port, String... redisArgs) throws Exception {
        ModuleRedis r = ModuleRedis.withModule(dir, port, redisArgs);
        return r::close;
    }

    @Override
    public synchronized void close() throws Exception {
        try {
            redis.close();
        } finally {
            modelServer.close();
        }
    }
}
