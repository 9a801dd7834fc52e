package io.smartsim.launch.colocated;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * What a model's colocated databases are doing, read from its directory (the wrapper's {@code colocated-<node>.pid}
 * and {@code .error} files) and from the servers themselves (one PING each). The pid is checked on this machine, so
 * the health of a node other than this one is what its PING says.
 */
public final class ColocatedStatus {
    private static final long PING_MILLIS = 2000;

    private ColocatedStatus() {
    }

    /**
     * One node's database.
     *
     * @param node      the node's short host name
     * @param pid       the server's pid, as the wrapper recorded it
     * @param alive     whether that process runs (on this machine)
     * @param answering whether the server answered PING
     * @param address   where it was asked: {@code 127.0.0.1:PORT} or {@code unix:///path}
     * @param log       its log
     */
    public record Node(String node, long pid, boolean alive, boolean answering, String address, Path log) {
        /** "healthy", "not answering" or "gone" (in JSON too: {@code db status --json} and the dashboard show it). */
        @JsonProperty(value = "health", access = JsonProperty.Access.READ_ONLY)
        public String health() {
            return answering ? "healthy" : alive ? "not answering" : "gone";
        }
    }

    /** The databases with a pid file: those running, or whose keeper was killed before it could clean up. */
    public static List<Node> nodes(ColocatedPlan plan) {
        List<Node> out = new ArrayList<>();
        try (DirectoryStream<Path> pids = Files.newDirectoryStream(plan.dir(), "colocated-*.pid")) {
            for (Path f : pids) {
                String name = f.getFileName().toString();
                String node = name.substring("colocated-".length(), name.length() - ".pid".length());
                long pid;
                try {
                    pid = Long.parseLong(Files.readString(f).trim());
                } catch (IOException | NumberFormatException e) {
                    continue; // being written or removed right now
                }
                boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
                out.add(new Node(node, pid, alive, ping(plan), plan.db().ssdb(), plan.log(node)));
            }
        } catch (IOException e) {
            return out; // no directory: the model never ran
        }
        out.sort((a, b) -> a.node().compareTo(b.node()));
        return out;
    }

    /**
     * Stops what a killed keeper left on this machine (a server still running, its socket, pid and lock files), for
     * {@code db cleanup}; returns one line per node cleaned. A database whose application still runs is left alone:
     * its ranks hold the node's run lock (checked without waiting), and its keeper will stop it; it gets a line saying
     * so.
     */
    public static List<String> cleanup(ColocatedPlan plan) {
        List<String> out = new ArrayList<>();
        for (Node n : nodes(plan)) {
            Path runLock = plan.dir().resolve(".colocated-" + n.node() + ".run");
            if (Files.exists(runLock) && held(runLock)) { // ranks still run here: said, so no one thinks it gone
                out.add("node " + n.node() + ": left alone, its application still runs there (server pid " + n.pid()
                        + ", " + n.address() + "); its keeper stops it when the last rank ends");
                continue;
            }
            ProcessHandle.of(n.pid()).ifPresent(h -> {
                h.destroy();
                if (!h.onExit().completeOnTimeout(h, 10, TimeUnit.SECONDS).join().isAlive()) {
                    return;
                }
                h.destroyForcibly();
                h.onExit().completeOnTimeout(h, 5, TimeUnit.SECONDS).join();
            });
            try {
                plan.db().socket().ifPresent(s -> deleteQuietly(s));
                Files.deleteIfExists(plan.pidFile(n.node()));
                Files.deleteIfExists(runLock);
                Files.deleteIfExists(plan.dir().resolve(".colocated-" + n.node() + ".start"));
            } catch (IOException e) {
                out.add("node " + n.node() + ": " + e.getMessage());
                continue;
            }
            out.add("node " + n.node() + ": " + (n.alive() ? "stopped server pid " + n.pid() : "removed the files of "
                    + "server pid " + n.pid() + ", already gone") + " (" + n.address() + ")");
        }
        return out;
    }

    /** Whether a process holds a lock on {@code file} (a rank's shared lock), tried without waiting. */
    private static boolean held(Path file) {
        try {
            // the ranks hold flock(2) locks, which Java's (fcntl) locks do not see: ask flock itself
            Process p = new ProcessBuilder("flock", "-n", "-x", file.toString(), "true")
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return !p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // reported by the caller through the pid file's deletion, which follows
        }
    }

    /** The errors of the nodes where the database did not start, one after another; empty when none did. */
    public static Optional<String> errors(ColocatedPlan plan) {
        StringBuilder b = new StringBuilder();
        try (DirectoryStream<Path> errs = Files.newDirectoryStream(plan.dir(), "colocated-*.error")) {
            for (Path f : errs) {
                b.append(Files.readString(f).strip()).append('\n');
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return b.isEmpty() ? Optional.empty() : Optional.of(b.toString().strip());
    }

    /**
     * Whether the database answers {@code PING} (inline command, no login: a colocated database has none) within
     * {@value #PING_MILLIS} ms. Non-blocking I/O on this thread, so a server that accepts the connection and never
     * answers (stopped, hung) costs that time and nothing after it: the channel is closed when it runs out, and no
     * thread is left waiting on it (a blocked read on a pool thread, given up by its caller, used to stay blocked for as
     * long as the server did not answer, one thread per check).
     */
    public static boolean ping(ColocatedPlan plan) {
        SocketAddress address = plan.db().socket().<SocketAddress>map(UnixDomainSocketAddress::of)
                .orElseGet(() -> new InetSocketAddress("127.0.0.1", plan.db().port().orElseThrow()));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PING_MILLIS);
        try (SocketChannel ch = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
             Selector selector = Selector.open()) {
            ch.configureBlocking(false);
            ByteBuffer out = ByteBuffer.wrap("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            ByteBuffer in = ByteBuffer.allocate(64);
            SelectionKey key = ch.register(selector, ch.connect(address) ? SelectionKey.OP_WRITE
                    : SelectionKey.OP_CONNECT);
            while (in.position() < 7) { // "+PONG\r\n"
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0 || Thread.currentThread().isInterrupted()) {
                    return false;
                }
                if (selector.select(left) == 0) {
                    continue;
                }
                selector.selectedKeys().clear();
                if (key.isConnectable()) {
                    if (ch.finishConnect()) {
                        key.interestOps(SelectionKey.OP_WRITE);
                    }
                } else if (key.isWritable()) {
                    ch.write(out);
                    if (!out.hasRemaining()) {
                        key.interestOps(SelectionKey.OP_READ);
                    }
                } else if (key.isReadable() && ch.read(in) < 0) {
                    break;
                }
            }
            return new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII).startsWith("+PONG");
        } catch (IOException e) {
            return false;
        }
    }
}
