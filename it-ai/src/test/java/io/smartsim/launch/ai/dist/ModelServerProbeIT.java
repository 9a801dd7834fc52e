package io.smartsim.launch.ai.dist;

import io.smartsim.launch.ai.module.ModuleShard;
import io.smartsim.launch.cluster.Connections;
import io.smartsim.launch.cluster.ModelServerProbe;
import io.smartsim.launch.cluster.ModelServerProbe.Answer;
import io.smartsim.launch.planned.Access;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Core's data-plane probe of a shard's {@code --ai} model server ({@link ModelServerProbe}) on real replies: a real
 * redis-server loading the smartsim-ai module with the real model server (ai-server's ModelServerMain, ONNX) on its
 * socket (ai-module's {@link ModuleShard}), a plain redis-server, a module loaded without a socket, and a port nobody
 * listens on. What PBS's {@code probeModelServers} uses where no process on this machine can tell.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ModelServerProbeIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir (the model servers too), ports
    private static final String PASSWORD = "probe-0123456789abcdef";
    private static final Access LOGIN = Access.of(Optional.of(new Credentials("default", PASSWORD)));
    private static final Duration T = ModelServerProbe.TIMEOUT;

    @TempDir
    Path dir;

    /**
     * Alive while its model server answers, gone once it is killed (the module's error names its socket), alive again
     * once a new one listens on the socket (the module reconnects by itself). The shard's own credentials are what
     * make the difference: without them (or with a wrong password) the shard answers before its module does, and the
     * judgement is unknown, never gone.
     */
    @Test
    void aliveWhileItsModelServerAnswersGoneOnceKilledAliveOnceStartedAgainAndUnknownWithoutTheShardsPassword()
            throws Exception {
        try (ModuleShard shard = ModuleShard.start(dir.resolve("shard"), leftovers.freeBase(1), "ONNX",
                "--requirepass", PASSWORD)) {
            int port = shard.port();
            Answer up = ModelServerProbe.ask("127.0.0.1", port, LOGIN, T);
            assertThat(up.liveness()).as(up.said()).isEqualTo(Liveness.ALIVE);
            assertThat(up.said()).startsWith("ONNX version ").doesNotContain("TORCH");

            Answer noLogin = ModelServerProbe.ask("127.0.0.1", port, Access.NONE, T);
            assertThat(noLogin.liveness()).as(noLogin.said()).isEqualTo(Liveness.UNKNOWN);
            assertThat(noLogin.said()).startsWith("NOAUTH");
            Answer wrong = ModelServerProbe.ask("127.0.0.1", port,
                    Access.of(Optional.of(new Credentials("default", "not-the-password-0000"))), T);
            assertThat(wrong.liveness()).as(wrong.said()).isEqualTo(Liveness.UNKNOWN);

            shard.killModelServer();
            Answer down = ModelServerProbe.ask("127.0.0.1", port, LOGIN, T);
            assertThat(down).isEqualTo(new Answer(Liveness.GONE, "ERR model server not connected (socket "
                    + shard.socket() + ": Connection refused)"));
            try (Jedis j = Connections.open("127.0.0.1", port, T, LOGIN)) {
                assertThat(j.ping()).as("the shard itself still serves").isEqualTo("PONG");
            }
            assertThat(ModelServerProbe.ask("127.0.0.1", port, Access.NONE, T).liveness())
                    .as("without the password the shard cannot be asked, so it is not called gone")
                    .isEqualTo(Liveness.UNKNOWN);

            shard.restartModelServer(); // returns once the new one said ready on the same socket
            Answer again = ModelServerProbe.ask("127.0.0.1", port, LOGIN, T);
            assertThat(again.liveness()).as(again.said()).isEqualTo(Liveness.ALIVE);
            assertThat(again.said()).startsWith("ONNX version ");
        }
    }

    /**
     * The map is keyed by each recorded shard's index, all asked at once; a shard that has no module, a module with no
     * socket, or nothing listening gives no word on a model server: unknown, each for its own reason.
     */
    @Test
    void probeKeysEachShardByIndexAndCallsWhatCannotSayUnknown() throws Exception {
        int served = leftovers.freeBase(1);
        int plain = leftovers.freeBase(1);
        int noSocket = leftovers.freeBase(1);
        int closed = leftovers.freeBase(1); // nothing is started there
        try (ModuleShard shard = ModuleShard.start(dir.resolve("shard"), served, "ONNX");
             AutoCloseable p = ModuleShard.plainRedis(dir.resolve("plain"), plain);
             AutoCloseable n = ModuleShard.moduleWithoutSocket(dir.resolve("no-socket"), noSocket)) {
            List<LaunchedShard> shards = List.of(shardAt(3, served), shardAt(5, plain), shardAt(7, noSocket),
                    shardAt(9, closed));
            assertThat(ModelServerProbe.probe(shards, Access.NONE, T)).isEqualTo(Map.of(
                    3, Liveness.ALIVE, 5, Liveness.UNKNOWN, 7, Liveness.UNKNOWN, 9, Liveness.UNKNOWN));

            assertThat(ModelServerProbe.ask("127.0.0.1", plain, Access.NONE, T).said())
                    .startsWith("ERR unknown command");
            assertThat(ModelServerProbe.ask("127.0.0.1", noSocket, Access.NONE, T).said())
                    .isEqualTo("ERR model server not connected (the module was loaded without SOCKET <path>)");
            assertThat(ModelServerProbe.ask("127.0.0.1", closed, Access.NONE, T).said())
                    .isEqualTo("shard 127.0.0.1:" + closed + " not asked: down: Connection refused (no process "
                            + "listens on its port)");

            shard.killModelServer();
            assertThat(ModelServerProbe.probe(shards.subList(0, 1), Access.NONE, T))
                    .isEqualTo(Map.of(3, Liveness.GONE));
        }
    }

    private static LaunchedShard shardAt(int index, int port) {
        return new LaunchedShard(index, "orchestrator_" + index, "127.0.0.1", port, Optional.empty(),
                Optional.empty(), Map.of());
    }
}
