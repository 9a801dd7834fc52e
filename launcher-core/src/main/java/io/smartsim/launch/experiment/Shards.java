package io.smartsim.launch.experiment;

import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.cluster.Connections;
import io.smartsim.launch.planned.Access;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
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

    /**
     * Lets the launcher make recorded shards reachable from this process ({@link Launcher#reach}) before control
     * connections to them. A failure here (transport down) is not the caller's failure: shards it cannot reach
     * fail their {@code SHUTDOWN} or health check, and stop falls back to the scheduler.
     */
    static void reach(Launcher launcher, List<LaunchedShard> shards) {
        try {
            launcher.reach(shards);
        } catch (LaunchException e) {
            // reported by what follows: the unreachable shards' health, or the launcher's own stop
        }
    }

    /** Stops {@code shards} without saving: {@code SHUTDOWN NOSAVE} where reachable, then the launcher's stop. */
    static void teardown(Launcher launcher, List<LaunchedShard> shards, Duration timeout, Duration grace,
                         Access access) {
        if (shards.isEmpty()) {
            return;
        }
        List<LaunchedShard> copy = List.copyOf(shards);
        reach(launcher, copy);
        shutdownNoSave(copy, timeout, access);
        launcher.stop(copy, grace);
    }
}
