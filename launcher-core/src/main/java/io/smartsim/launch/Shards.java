package io.smartsim.launch;

import io.smartsim.launch.cluster.Connections;
import io.smartsim.launch.security.Access;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.util.Parallel;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisException;

import java.time.Duration;
import java.util.List;


/** Control-plane calls over a set of shards. */
final class Shards {
    private Shards() {
    }

    /** Sends {@code SHUTDOWN NOSAVE} to every shard in parallel; unreachable shards are left to the launcher. */
    static void shutdownNoSave(List<LaunchedShard> shards, Duration timeout, Access access) {
        Parallel.map(shards, s -> {
            try (Jedis j = Connections.open(s.host(), s.port(), timeout, access)) {
                j.sendCommand(Protocol.Command.SHUTDOWN, "NOSAVE");
            } catch (JedisException expected) {
                // The server closes the connection as it exits; an unreachable one is terminated by the launcher.
            }
            return s;
        });
    }
}
