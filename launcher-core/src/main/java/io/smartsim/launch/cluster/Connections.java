package io.smartsim.launch.cluster;

import io.smartsim.launch.exec.Routes;
import redis.clients.jedis.ClientSetInfoConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Opens short-lived control connections to shards. {@code CLIENT SETINFO} is off: it costs a round trip per
 * connection and KeyDB (Redis 6) does not know it.
 */
public final class Connections {
    private Connections() {
    }

    public static Jedis open(String host, int port, Duration timeout) {
        int ms = (int) Math.max(1, timeout.toMillis());
        InetSocketAddress via = Routes.resolve(host, port);
        return new Jedis(new HostAndPort(via.getHostString(), via.getPort()), DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(ms).socketTimeoutMillis(ms)
                .clientSetInfoConfig(ClientSetInfoConfig.DISABLED).build());
    }
}
