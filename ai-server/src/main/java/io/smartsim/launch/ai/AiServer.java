package io.smartsim.launch.ai;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
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
    private final Set<FrontConnection> connections = ConcurrentHashMap.newKeySet();
    private ServerSocket listener;
    private Thread acceptor;
    private volatile boolean closed;

    public AiServer(AiServerConfig config, Backends backends) {
        this.config = config;
        this.commands = new AiCommands(backends, config.intraOpThreads());
    }

    /** Binds and starts accepting; returns once the port is open. */
    public synchronized AiServer start() throws IOException {
        if (listener != null) {
            return this;
        }
        ServerSocket ss = new ServerSocket();
        ss.setReuseAddress(true);
        ss.bind(new InetSocketAddress(InetAddress.getByName(config.bind()), config.port()), 1024);
        listener = ss;
        acceptor = new Thread(this::acceptLoop, "ai-front-accept-" + ss.getLocalPort());
        acceptor.start();
        return this;
    }

    /** The port clients connect to (the one bound, when the config asked for 0). */
    public int port() {
        return listener.getLocalPort();
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

    private void acceptLoop() {
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
        if (listener != null) {
            try {
                listener.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        connections.forEach(FrontConnection::closeSocket);
        if (acceptor != null) {
            try {
                acceptor.join(Duration.ofSeconds(5).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        commands.close();
    }
}
