package io.smartsim.launch.ai;

import java.time.Duration;

/**
 * How one front runs.
 *
 * @param bind           address to listen on
 * @param port           port to listen on; 0 picks a free one
 * @param redis          the redis-server behind it: "host:port" or "unix:/path/redis.sock"
 * @param intraOpThreads threads one model operator may use; 0 lets the runtime choose
 * @param connectTimeout for each upstream connection
 */
public record AiServerConfig(String bind, int port, String redis, int intraOpThreads, Duration connectTimeout) {
    public AiServerConfig {
        if (bind == null || bind.isBlank()) {
            throw new IllegalArgumentException("bind: give an address to listen on, for example 127.0.0.1");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range 0-65535");
        }
        if (redis == null || !(redis.startsWith("unix:/") || redis.matches(".+:[0-9]{1,5}"))) {
            throw new IllegalArgumentException("redis '" + redis + "' is not host:port or unix:/path");
        }
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intraOpThreads " + intraOpThreads + " is negative; use 0 for the default");
        }
        if (connectTimeout == null || connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout must be positive");
        }
    }

    public static AiServerConfig of(String bind, int port, String redis) {
        return new AiServerConfig(bind, port, redis, 0, Duration.ofSeconds(5));
    }
}
