package io.smartsim.launch.ai;

import io.smartsim.launch.ai.resp.RespInput;
import io.smartsim.launch.ai.resp.RespOutput;
import io.smartsim.launch.ai.resp.RespProtocolException;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.util.Set;

/**
 * One client of the front, on its own thread with its own upstream connection to Redis. Commands other than the AI
 * ones go to Redis as they came (re-framed as RESP arrays, arguments untouched) and Redis's replies come back byte for
 * byte. Pipelined commands stay pipelined: everything the client has already sent is forwarded in one write before
 * the replies are read. Because the upstream connection is the client's alone, connection state (AUTH, SELECT,
 * MULTI/EXEC, WATCH, blocking pops, CLIENT SETNAME) behaves as on Redis itself.
 *
 * <p>Once the client subscribes (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE), sends MONITOR, or is a replica asking for the
 * replication stream (PSYNC, SYNC), Redis sends data the client
 * did not ask for; from then on the connection is a plain two-way byte tunnel and AI commands are no longer
 * recognised on it (Redis allows only (un)subscribe commands there anyway).
 */
final class FrontConnection implements Runnable {
    /**
     * Commands after which Redis sends what nobody asked for: pub/sub and MONITOR pushes, and the replication stream a
     * replica's PSYNC/SYNC starts (an RDB payload, then the master's write commands; with --replicas under --ai, a
     * replica's redis-server reaches its master's server through the master's front, whose port is the one announced).
     */
    private static final Set<String> TUNNEL = Set.of("SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR", "PSYNC",
            "SYNC");

    /**
     * What an auth-on front answers before AUTH. Redis's own text is "NOAUTH Authentication required."; this one says
     * why, since SmartRedis clients (which never send AUTH) see it as their only clue. It must stay under 255 bytes
     * on the wire: a replica's redis-server reads its master's replies to PING/AUTH/REPLCONF into a 256-byte buffer,
     * and a longer line left its tail to be read as the next reply (PSYNC then saw "+OK" and replication failed).
     */
    static final String NOAUTH = "NOAUTH Authentication required. SmartRedis sends no AUTH: start the orchestrator "
            + "with --no-auth for it (anyone reaching its ports can then use the data), or send AUTH $SSDB_USER "
            + "$SSDB_PASSWORD";

    private final Socket socket;
    private final AiServer server;
    private boolean inMulti;
    private boolean authenticated;

    FrontConnection(Socket socket, AiServer server) {
        this.socket = socket;
        this.server = server;
    }

    @Override
    public void run() {
        try (socket; Upstream up = Upstream.connect(server.redisAddress(), server.connectTimeout())) {
            socket.setTcpNoDelay(true);
            RespInput in = new RespInput(socket.getInputStream());
            OutputStream rawOut = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            RespOutput out = new RespOutput(rawOut);
            serve(in, out, up);
        } catch (IOException | RuntimeException e) {
            // The client or Redis went away, or the front is closing: nothing to tell anyone.
        } finally {
            server.closed(this);
        }
    }

    void closeSocket() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    private void serve(RespInput in, RespOutput out, Upstream up) throws IOException {
        int pending = 0;
        while (true) {
            byte[][] cmd;
            try {
                cmd = in.readCommand();
            } catch (RespProtocolException e) {
                out.error("ERR Protocol error: " + e.getMessage());
                out.flush();
                return;
            }
            if (cmd == null) {
                return;
            }
            if (cmd.length == 0) {
                continue;
            }
            String name = AiCommands.s(cmd[0]).toUpperCase(java.util.Locale.ROOT);
            if (server.mode().authRequired() && !authenticated && !name.equals("QUIT")) {
                pending = drain(up, out, pending);
                if (name.equals("HELLO") && cmd.length > 1 && !AiCommands.s(cmd[1]).equals("2")) {
                    out.error("NOPROTO this server speaks RESP2 only");
                } else if (name.equals("AUTH") || name.equals("HELLO")) {
                    // Forwarded alone, its reply read here: a success is what lets the other commands through.
                    up.out.command(cmd);
                    up.out.flush();
                    Object reply = up.in.readReply();
                    out.value(reply);
                    authenticated = !(reply instanceof io.smartsim.launch.ai.resp.RespError)
                            && (name.equals("AUTH") || hasAuth(cmd));
                } else {
                    out.error(NOAUTH);
                }
            } else if (server.mode().cluster() && AiCommands.handles(name)
                    && io.smartsim.launch.ai.cluster.CrossSlot.check(name, cmd).isPresent()) {
                pending = drain(up, out, pending);
                out.error(io.smartsim.launch.ai.cluster.CrossSlot.ERROR);
            } else if (AiCommands.handles(name)) {
                pending = drain(up, out, pending);
                if (inMulti) {
                    out.error("ERR " + name + " cannot be queued in MULTI on this server; run it outside the "
                            + "transaction");
                } else {
                    server.commands().execute(name, cmd, up, out);
                }
            } else if (name.equals("HELLO") && cmd.length > 1 && !AiCommands.s(cmd[1]).equals("2")) {
                // Only RESP2: RESP3 push messages would break the one-reply-per-command forwarding.
                pending = drain(up, out, pending);
                out.error("NOPROTO this server speaks RESP2 only");
            } else if (TUNNEL.contains(name)) {
                drain(up, out, pending);
                out.flush();
                up.out.command(cmd);
                up.out.flush();
                tunnel(in, up, out);
                return;
            } else {
                up.out.command(cmd);
                pending++;
                switch (name) {
                    case "MULTI" -> inMulti = true;
                    case "EXEC", "DISCARD" -> inMulti = false;
                    case "RESET" -> {
                        inMulti = false;
                        authenticated = false; // RESET logs the connection out
                    }
                    default -> { }
                }
                if (name.equals("QUIT")) {
                    drain(up, out, pending);
                    out.flush();
                    return;
                }
            }
            if (!in.hasBuffered()) {
                pending = drain(up, out, pending);
                out.flush();
            }
        }
    }

    private static boolean hasAuth(byte[][] cmd) {
        for (byte[] a : cmd) {
            if (AiCommands.s(a).equalsIgnoreCase("AUTH")) {
                return true;
            }
        }
        return false;
    }

    /** Sends what was forwarded and copies that many replies back to the client. */
    private static int drain(Upstream up, RespOutput out, int pending) throws IOException {
        if (pending == 0) {
            return 0;
        }
        up.out.flush();
        for (int i = 0; i < pending; i++) {
            up.in.copyReply(out.stream());
        }
        return 0;
    }

    /** Both directions copied as bytes until either side closes. */
    private void tunnel(RespInput in, Upstream up, RespOutput out) throws IOException {
        Thread pump = new Thread(() -> {
            try {
                up.in.copyAll(out.stream());
            } catch (IOException e) {
                // Redis closed
            } finally {
                closeSocket();
            }
        }, "ai-front-tunnel");
        pump.setDaemon(true);
        pump.start();
        try {
            in.copyAll(up.out.stream());
        } finally {
            up.close();
        }
    }
}
