package io.smartsim.launch.exec;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This process's routing table for control connections to shards: {@code host:port} as the shard announces it
 * (the address models and other shards use) to where this process must connect instead. Empty unless a remote
 * transport has exposed shards ({@link CommandRunner#expose}): then a shard on a compute node that only the login
 * node can reach is reached through a port forwarded over the login node's SSH session. Core's
 * {@code cluster.Connections} and {@code cluster.Ping} look every connection up here, so cluster forming, health
 * checks and shutdown work unchanged from a machine that reaches only the login node.
 *
 * <p>Process-wide on purpose: those callers are static helpers handed only {@code host:port}, and a shard's
 * address means the same thing to every caller in the process. Entries belong to the transport that added them
 * and leave with it ({@link #remove}).
 */
public final class Routes {
    private static final Map<String, InetSocketAddress> VIA = new ConcurrentHashMap<>();

    private Routes() {
    }

    /** Where to connect for {@code host:port}: a forwarded local address, or the address itself. */
    public static InetSocketAddress resolve(String host, int port) {
        InetSocketAddress via = VIA.get(key(host, port));
        return via != null ? via : new InetSocketAddress(host, port);
    }

    /** Connections to {@code host:port} go to {@code via} from now on. */
    public static void add(String host, int port, InetSocketAddress via) {
        VIA.put(key(host, port), via);
    }

    /** Connections to {@code host:port} go direct again, unless someone else has routed it meanwhile. */
    public static void remove(String host, int port, InetSocketAddress via) {
        VIA.remove(key(host, port), via);
    }

    /** Whether {@code host:port} is routed through a transport. */
    public static boolean routed(String host, int port) {
        return VIA.containsKey(key(host, port));
    }

    private static String key(String host, int port) {
        return host + "\u0000" + port;
    }
}
