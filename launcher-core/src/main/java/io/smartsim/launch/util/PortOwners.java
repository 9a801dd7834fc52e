package io.smartsim.launch.util;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Who holds a TCP port, where Linux can tell: the socket's inode and owner from {@code /proc/net/tcp} and
 * {@code tcp6}, then the process whose {@code /proc/<pid>/fd} links to {@code socket:[inode]}, with its
 * {@code comm}. A process of another user shows only its uid: its file descriptors are not ours to read.
 */
public final class PortOwners {
    private static final String LISTEN = "0A";

    /** One socket bound to the port. */
    public record Socket(long inode, int uid, boolean listening) {
    }

    /** What holds the port, as far as the system tells. */
    public record Owner(Optional<Long> pid, Optional<String> command, int uid, boolean listening) {
        public String describe() {
            String who = pid.map(p -> "pid " + p + command.map(c -> " (" + c + ")").orElse(""))
                    .orElse("a process of uid " + uid + " that this user cannot inspect");
            return who + (listening ? "" : ", not listening");
        }
    }

    private final Path proc;

    public PortOwners(Path proc) {
        this.proc = proc;
    }

    /** The live system's {@code /proc}. */
    public static PortOwners system() {
        return new PortOwners(Path.of("/proc"));
    }

    /** A phrase such as "held by pid 1234 (redis-server)", or empty when the system cannot tell. */
    public static Optional<String> heldBy(int port) {
        List<Owner> owners = system().owners(port);
        if (owners.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("held by " + String.join(", ", owners.stream().map(Owner::describe).distinct().toList()));
    }

    /** Every process holding a socket bound to {@code port}, listeners first. */
    public List<Owner> owners(int port) {
        List<Socket> sockets = new ArrayList<>();
        for (String table : List.of("net/tcp", "net/tcp6")) {
            try {
                sockets.addAll(parse(Files.readAllLines(proc.resolve(table)), port));
            } catch (IOException | RuntimeException e) {
                // no such table (no IPv6, not Linux): nothing to tell from it
            }
        }
        sockets.sort((a, b) -> Boolean.compare(b.listening(), a.listening()));
        List<Owner> out = new ArrayList<>();
        for (Socket s : sockets) {
            Optional<Long> pid = pidOf(s.inode());
            out.add(new Owner(pid, pid.flatMap(this::comm), s.uid(), s.listening()));
        }
        return out;
    }

    /** Sockets of a {@code /proc/net/tcp}-format table whose local port is {@code port}. */
    static List<Socket> parse(List<String> lines, int port) {
        List<Socket> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 10 || !f[0].endsWith(":")) {
                continue; // the header
            }
            String local = f[1];
            int colon = local.lastIndexOf(':');
            if (colon < 0 || Integer.parseInt(local.substring(colon + 1), 16) != port) {
                continue;
            }
            long inode = Long.parseLong(f[9]);
            if (inode == 0) {
                continue; // TIME_WAIT and the like: no process holds it
            }
            out.add(new Socket(inode, Integer.parseInt(f[7]), LISTEN.equals(f[3])));
        }
        return out;
    }

    private Optional<Long> pidOf(long inode) {
        String target = "socket:[" + inode + "]";
        try (DirectoryStream<Path> pids = Files.newDirectoryStream(proc, "[0-9]*")) {
            for (Path p : pids) {
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(p.resolve("fd"))) {
                    for (Path fd : fds) {
                        try {
                            if (target.equals(Files.readSymbolicLink(fd).toString())) {
                                return Optional.of(Long.parseLong(p.getFileName().toString()));
                            }
                        } catch (IOException | UnsupportedOperationException gone) {
                            // closed meanwhile
                        }
                    }
                } catch (IOException | SecurityException notOurs) {
                    // another user's process, or it exited
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private Optional<String> comm(long pid) {
        try {
            return Optional.of(Files.readString(proc.resolve(Long.toString(pid)).resolve("comm")).strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
