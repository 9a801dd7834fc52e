package io.smartsim.launch.colocated;

import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.spi.ModelState;
import io.smartsim.launch.status.ColocatedNode;

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
import java.time.Duration;
import java.time.Instant;
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

    /** How often the first rank on a node reports its database's health into the model's directory. */
    public static final Duration REPORT_EVERY = Duration.ofSeconds(5);
    /** A report older than this says nothing any more: the node's health is then unknown. */
    public static final Duration REPORT_STALE = REPORT_EVERY.multipliedBy(4);

    /**
     * The databases with a pid file: those running, or whose keeper was killed before it could clean up. One on this
     * machine is checked here (its pid, a PING); one on another node as that node last reported it
     * ({@link ColocatedPlan#healthFile}), since neither its pid nor its socket or loopback port can be reached from
     * here.
     */
    public static List<ColocatedNode> nodes(ColocatedPlan plan) {
        return nodes(plan, io.smartsim.launch.util.HostName.shortName(), Instant.now());
    }

    /** As {@link #nodes(ColocatedPlan)}, with this machine's short host name and the time given. */
    static List<ColocatedNode> nodes(ColocatedPlan plan, String here, Instant now) {
        List<ColocatedNode> out = new ArrayList<>();
        try (DirectoryStream<Path> pids = Files.newDirectoryStream(plan.dir(), "colocated-*.pid")) {
            for (Path f : pids) {
                String name = f.getFileName().toString();
                if (name.endsWith(".ai.pid")) {
                    continue; // its model server's, with the database's own beside it
                }
                String node = name.substring("colocated-".length(), name.length() - ".pid".length());
                long pid;
                try {
                    pid = Long.parseLong(Files.readString(f).trim());
                } catch (IOException | NumberFormatException e) {
                    continue; // being written or removed right now
                }
                if (node.equals(here)) {
                    boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
                    out.add(new ColocatedNode(node, pid, alive, ping(plan), plan.db().ssdb(), plan.log(node)));
                } else {
                    out.add(reported(plan, node, pid, now));
                }
            }
        } catch (IOException e) {
            return out; // no directory: the model never ran
        }
        out.sort((a, b) -> a.node().compareTo(b.node()));
        return out;
    }

    /**
     * Node {@code node}'s database as it last reported it: alive and answering as its report says when the report is
     * recent ({@link #REPORT_STALE}) and names server {@code pid}; otherwise neither (health "unknown"), with the time
     * of whatever report there was.
     */
    static ColocatedNode reported(ColocatedPlan plan, String node, long pid, Instant now) {
        Optional<Instant> at = Optional.empty();
        boolean fresh = false;
        boolean answering = false;
        try {
            String[] f = Files.readString(plan.healthFile(node)).trim().split("\\s+");
            if (f.length == 3) {
                Instant t = Instant.ofEpochSecond(Long.parseLong(f[0]));
                at = Optional.of(t);
                fresh = Long.parseLong(f[1]) == pid && !t.plus(REPORT_STALE).isBefore(now);
                answering = fresh && f[2].equals("yes");
            }
        } catch (IOException | NumberFormatException e) {
            // no report yet, or one being replaced: nothing known
        }
        return new ColocatedNode(node, pid, fresh, answering, plan.db().ssdb(), plan.log(node),
                Optional.of(at.orElse(Instant.EPOCH)));
    }

    /**
     * Stops what a killed keeper left on this machine (a server still running, its socket, pid and lock files), for
     * {@code db cleanup}; returns one line per node cleaned. A database whose application still runs is left alone:
     * its ranks hold the node's run lock (checked without waiting), and its keeper will stop it; it gets a line saying
     * so.
     */
    public static List<String> cleanup(ColocatedPlan plan) {
        List<String> out = new ArrayList<>();
        for (ColocatedNode n : nodes(plan)) {
            if (n.reported().isPresent()) { // its pid is another host's: never signal a process here by it
                out.add("node " + n.node() + ": left alone, it is another host (server pid " + n.pid() + " there, "
                        + n.health() + "); run db cleanup on that node, or end the model's job or step, whose end "
                        + "stops it");
                continue;
            }
            Path runLock = plan.dir().resolve(".colocated-" + n.node() + ".run");
            if (Files.exists(runLock) && held(runLock)) { // ranks still run here: said, so no one thinks it gone
                out.add("node " + n.node() + ": left alone, its application still runs there (server pid " + n.pid()
                        + ", " + n.address() + "); its keeper stops it when the last rank ends");
                continue;
            }
            ProcessHandle.of(n.pid()).ifPresent(ColocatedStatus::terminate);
            String modelServer = endModelServer(plan, n.node());
            try {
                plan.db().socket().ifPresent(s -> deleteQuietly(s));
                Files.deleteIfExists(plan.pidFile(n.node()));
                Files.deleteIfExists(plan.healthFile(n.node()));
                Files.deleteIfExists(runLock);
                Files.deleteIfExists(plan.dir().resolve(".colocated-" + n.node() + ".start"));
            } catch (IOException e) {
                out.add("node " + n.node() + ": " + e.getMessage());
                continue;
            }
            out.add("node " + n.node() + ": " + (n.alive() ? "stopped server pid " + n.pid() : "removed the files of "
                    + "server pid " + n.pid() + ", already gone") + " (" + n.address() + ")" + modelServer);
        }
        return out;
    }

    /**
     * The model server a killed keeper left beside its database on {@code node} (its pid file names it; ended only if
     * that pid still runs the model server), and its socket and temporary directory removed; what to add to the node's
     * line.
     */
    private static String endModelServer(ColocatedPlan plan, String node) {
        Path pidFile = plan.modelServerPidFile(node);
        if (!Files.exists(pidFile)) {
            return "";
        }
        String said = "";
        try {
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            Optional<ProcessHandle> h = ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(p -> p.info()
                    .commandLine().map(c -> c.contains(ModelServerPlan.MAIN)).orElse(false));
            if (h.isPresent()) {
                terminate(h.get());
                said = ", and its model server pid " + pid;
            }
        } catch (IOException | NumberFormatException e) {
            said = ", its model server's pid file unreadable (" + e.getMessage() + ")";
        }
        deleteQuietly(pidFile);
        deleteQuietly(plan.modelServerSocket(node));
        try (java.util.stream.Stream<Path> files = Files.walk(plan.modelServerTmp(node))) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(ColocatedStatus::deleteQuietly);
        } catch (IOException e) {
            // none: it never started, or the keeper removed it
        }
        return said;
    }

    /** SIGTERM, then SIGKILL if it still runs after 10 s; waits for it (5 s more at most). */
    private static void terminate(ProcessHandle h) {
        h.destroy();
        if (h.onExit().completeOnTimeout(h, 10, TimeUnit.SECONDS).join().isAlive()) {
            h.destroyForcibly();
            h.onExit().completeOnTimeout(h, 5, TimeUnit.SECONDS).join();
        }
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

    /**
     * {@code s} as a model launcher reports it, and if it is FAILED while a node's database did not start, with that
     * node's error (the node, the port or socket, the last lines of the server's log) as its detail.
     */
    public static ModelState explained(ColocatedPlan plan, ModelState s) {
        if (s.status() != EntityStatus.FAILED) {
            return s;
        }
        return errors(plan).map(why -> new ModelState(s.status(), s.exitCode(),
                Optional.of(why), s.node())).orElse(s);
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
