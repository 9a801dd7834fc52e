package io.smartsim.launch.cluster;

import io.smartsim.launch.exec.Routes;
import io.smartsim.launch.planned.Access;
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

    /** A connection to the shard at {@code host:port}, through a forwarded port when a transport routes it ({@link Routes}). */
    public static Jedis open(String host, int port, Duration timeout) {
        return open(host, port, timeout, Access.NONE);
    }

    /**
     * As {@link #open(String, int, Duration)}, logged in as {@code access}'s user (AUTH on connect) when it has one,
     * over TLS trusting the orchestrator's CA when it has one.
     */
    public static Jedis open(String host, int port, Duration timeout, Access access) {
        int ms = (int) Math.max(1, timeout.toMillis());
        InetSocketAddress via = Routes.resolve(host, port);
        DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(ms).socketTimeoutMillis(ms)
                .clientSetInfoConfig(ClientSetInfoConfig.DISABLED);
        access.credentials().ifPresent(c -> config.user(c.user()).password(c.password()));
        // --tls: the shards listen on TLS only; trust the orchestrator's own CA (no host-name check: see Tls).
        access.tls().ifPresent(t -> config.ssl(true).sslSocketFactory(t.socketFactory()));
        return new Jedis(new HostAndPort(via.getHostString(), via.getPort()), config.build());
    }
}
