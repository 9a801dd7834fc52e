package io.smartsim.launch.ai;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The front: listens for Redis clients, answers the AI.* commands itself (with the backends found at start) and
 * passes every other command to one redis-server. One thread per client connection, each with its own upstream
 * connection to Redis. {@link #start} and {@link #close} are safe to call twice.
 */
public final class AiServer implements AutoCloseable {
    private final AiServerConfig config;
    private final AiCommands commands;
    private final Mode mode;
    private final Set<FrontConnection> connections = ConcurrentHashMap.newKeySet();
    private final List<ServerSocket> listeners = new ArrayList<>();
    private final List<Thread> acceptors = new ArrayList<>();
    private volatile boolean closed;

    /**
     * How the front treats its clients beyond passing commands through.
     *
     * @param cluster      the Redis behind it is a cluster node: runs naming keys of several slots get CROSSSLOT
     * @param authRequired the Redis behind it requires a password: a command before a successful AUTH gets a NOAUTH
     *                     that says why and what the choice is, instead of Redis's bare one
     */
    public record Mode(boolean cluster, boolean authRequired) {
        public static final Mode STANDALONE = new Mode(false, false);
    }

    public AiServer(AiServerConfig config, Backends backends) {
        this(config, backends, Mode.STANDALONE);
    }

    public AiServer(AiServerConfig config, Backends backends, Mode mode) {
        this.config = config;
        this.mode = mode;
        this.commands = new AiCommands(backends, config.intraOpThreads());
    }

    /** Binds (each address of a comma-separated bind) and starts accepting; returns once the ports are open. */
    public synchronized AiServer start() throws IOException {
        if (!listeners.isEmpty()) {
            return this;
        }
        int port = config.port();
        try {
            for (String addr : config.bind().split(",")) {
                ServerSocket ss = new ServerSocket();
                ss.setReuseAddress(true);
                ss.bind(new InetSocketAddress(InetAddress.getByName(addr.strip()), port), 1024);
                listeners.add(ss);
                port = ss.getLocalPort(); // port 0: the other addresses take the port the first one got
            }
        } catch (IOException e) {
            for (ServerSocket ss : listeners) {
                ss.close();
            }
            listeners.clear();
            throw e;
        }
        for (ServerSocket ss : listeners) {
            Thread t = new Thread(() -> acceptLoop(ss), "ai-front-accept-" + ss.getLocalPort());
            acceptors.add(t);
            t.start();
        }
        return this;
    }

    /** The port clients connect to (the one bound, when the config asked for 0). */
    public int port() {
        return listeners.get(0).getLocalPort();
    }

    Mode mode() {
        return mode;
    }

    String redisAddress() {
        return config.redis();
    }

    Duration connectTimeout() {
        return config.connectTimeout();
    }

    AiCommands commands() {
        return commands;
    }

    void closed(FrontConnection c) {
        connections.remove(c);
    }

    private void acceptLoop(ServerSocket listener) {
        while (!closed) {
            Socket s;
            try {
                s = listener.accept();
            } catch (SocketException e) {
                return; // closed
            } catch (IOException e) {
                continue;
            }
            FrontConnection c = new FrontConnection(s, this);
            connections.add(c);
            Thread t = new Thread(c, "ai-front-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    /** Stops accepting, closes every client connection and frees the loaded models. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (ServerSocket listener : listeners) {
            try {
                listener.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        connections.forEach(FrontConnection::closeSocket);
        for (Thread acceptor : acceptors) {
            try {
                acceptor.join(Duration.ofSeconds(5).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        commands.close();
    }
}
