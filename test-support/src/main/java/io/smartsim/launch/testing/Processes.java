package io.smartsim.launch.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What integration tests need to prove that nothing is left behind: servers by port, processes by the experiment
 * directory they run in, free ports.
 *
 * <p>Redis and KeyDB rewrite their command line to {@code redis-server ADDR:PORT [cluster]}: the config path is gone
 * from {@code /proc/PID/cmdline} (and {@code pgrep -af}) and the environment is overwritten, so grepping the command
 * line for the experiment directory never finds a shard. What stays is the working directory: every rendered config
 * sets {@code dir} to the shard's work dir under the experiment, and the server changes into it. {@link #under} and
 * {@link #serversUnder} look there (and in the command line, for srun's {@code --chdir=} and model scripts).
 */
public final class Processes {
    /**
     * Bases from 10000 to 11767: a shard's port, its bus port (+10000) and its --ai server port (+20000) then all stay
     * below 32768, where Linux's ephemeral range starts (32768-60999 here). A port in that range can be taken at any
     * moment by an outgoing connection of this or any process, and a test's "free afterwards" check or a shard's bind
     * would then fail for no fault of the code under test.
     */
    private static final int FIRST = 10000;
    private static final int LAST = 11767; // 12000-12767: it-ai's AiTestbed; 12800-12999: ai-server's test
    // RedisServer; 13000-19999: fixed ports of ITs
    private static final AtomicInteger NEXT = new AtomicInteger(FIRST + (int) (ProcessHandle.current().pid() % 17) * 100);

    private Processes() {
    }

    /**
     * How long this JVM keeps a base it handed out from other test JVMs once its own range has run out: far longer than
     * any test class runs (a test restarts a cluster on the same ports minutes later), far shorter than a module.
     */
    static final Duration KEEP = Duration.ofMinutes(15);

    /**
     * A base port with {@code count} consecutive ports (and their +10000 bus ports) free on every address, and
     * reserved for this JVM ({@link PortLocks}) with their +10000 and +20000 ports: another test JVM running at the
     * same time (a parallel build's other module) never gets them between this probe and the servers' bind.
     */
    public static int freeBase(int count) {
        int attempts = 2 * ((LAST - FIRST) / (count + 5) + 1);
        for (int attempt = 0; attempt < attempts; attempt++) {
            int base = NEXT.getAndAdd(count + 5);
            if (base + count - 1 > LAST) {
                NEXT.set(FIRST);
                PortLocks.releaseOlderThan(KEEP);
                continue;
            }
            List<Integer> ports = new ArrayList<>();
            for (int p = base; p < base + count; p++) {
                ports.addAll(List.of(p, p + 10000, p + 20000));
            }
            PortLocks.Taken taken = PortLocks.reserve(ports);
            if (!taken.ok()) {
                continue; // another test JVM's
            }
            boolean ok = true;
            for (int p = base; p < base + count && ok; p++) {
                // The wildcard address: a port in use on any address (127.0.1.x for the ssh and Slurm testbeds'
                // shards) is not free, so two test JVMs never share a port, nor kill each other's servers by port.
                ok = free("0.0.0.0", p) && free("0.0.0.0", p + 10000);
            }
            if (ok) {
                return base;
            }
            taken.giveBack();
        }
        throw new IllegalStateException("no free port range of " + count + " in " + FIRST + "-" + LAST
                + " (reserved by other test JVMs: see " + PortLocks.file() + ")");
    }

    public static boolean free(String host, int port) {
        try (ServerSocket ss = new ServerSocket()) {
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress(InetAddress.getByName(host), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Live redis-server / keydb-server processes serving one of these ports. Redis rewrites its process title
     * to {@code redis-server 127.0.0.1:PORT [cluster]}, so the port shows in the command line.
     */
    public static List<String> serversOn(List<Integer> ports) {
        return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
                .map(h -> h.pid() + " " + cmdline(h.pid()))
                .filter(cl -> cl.contains("redis-server") || cl.contains("keydb-server"))
                .filter(cl -> ports.stream().anyMatch(p -> cl.matches("(?s).*:" + p + "\\b.*")))
                .toList();
    }

    private static String cmdline(long pid) {
        try {
            return new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/" + pid + "/cmdline")))
                    .replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    /** Kills whatever {@link #serversOn} finds: the cleanup of last resort after a failed test. */
    public static void killServersOn(List<Integer> ports) {
        for (String line : serversOn(ports)) {
            long pid = Long.parseLong(line.substring(0, line.indexOf(' ')));
            ProcessHandle.of(pid).ifPresent(h -> {
                h.destroyForcibly();
                h.onExit().orTimeout(Duration.ofSeconds(5).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                        .exceptionally(t -> h).join();
            });
        }
    }

    /** One live process as {@code /proc} shows it. */
    public record Proc(long pid, String comm, String cwd, String cmdline) {
        /** A Redis or KeyDB server, whatever its title says: {@code comm} keeps the name it was started as. */
        public boolean server() {
            return comm.equals("redis-server") || comm.equals("keydb-server");
        }

        @Override
        public String toString() {
            return pid + " " + cmdline + " (" + comm + ", cwd " + cwd + ")";
        }
    }

    /**
     * Live processes of the experiment in {@code dir}: their working directory is {@code dir} or below it, or their
     * command line names it ({@code srun --chdir=...}, a model script, a model server's {@code --socket ...}).
     * This JVM and its ancestors never count. {@code dir} must be the test's own directory (a {@code @TempDir}): then
     * every process found was started by the test, and no other test's process ever is.
     */
    public static List<Proc> under(Path dir) {
        String root = real(dir);
        Set<Long> skip = new HashSet<>();
        for (Optional<ProcessHandle> h = Optional.of(ProcessHandle.current()); h.isPresent(); h = h.get().parent()) {
            skip.add(h.get().pid());
        }
        List<Proc> out = new ArrayList<>();
        try (DirectoryStream<Path> pids = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : pids) {
                long pid = Long.parseLong(p.getFileName().toString());
                if (skip.contains(pid)) {
                    continue;
                }
                String cwd = cwd(pid).orElse("");
                String cmdline = cmdline(pid).strip();
                if (inside(cwd, root) || names(cmdline, root) || names(cmdline, dir.toAbsolutePath().toString())) {
                    out.add(new Proc(pid, comm(pid), cwd, cmdline));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc: this check needs Linux", e);
        }
        return out.stream().filter(pr -> ProcessHandle.of(pr.pid()).map(ProcessHandle::isAlive).orElse(false))
                .toList();
    }

    /**
     * Live processes whose command line contains {@code token} (a token unique to the test, as commands started over
     * SSH have no directory of the test); this JVM and its ancestors never count.
     */
    public static List<Proc> naming(String token) {
        Set<Long> skip = new HashSet<>();
        for (Optional<ProcessHandle> h = Optional.of(ProcessHandle.current()); h.isPresent(); h = h.get().parent()) {
            skip.add(h.get().pid());
        }
        return ProcessHandle.allProcesses().filter(h -> !skip.contains(h.pid())).filter(ProcessHandle::isAlive)
                .map(h -> new Proc(h.pid(), comm(h.pid()), cwd(h.pid()).orElse(""), cmdline(h.pid()).strip()))
                .filter(p -> p.cmdline().contains(token)).toList();
    }

    /** The redis-server / keydb-server processes among {@link #under}: the shards still running from {@code dir}. */
    public static List<Proc> serversUnder(Path dir) {
        return under(dir).stream().filter(Proc::server).toList();
    }

    /** How long a scheduler may take to end a cancelled step's processes after scancel/qdel returns. */
    public static final Duration GRACE = Duration.ofSeconds(10);

    /**
     * What {@link #under} still finds once {@code grace} has passed (polled, so usually at once): a scheduler ends a
     * cancelled step's processes a moment after {@code scancel}/{@code qdel} returns; a true leftover stays.
     */
    public static List<Proc> leftUnder(Path dir, Duration grace) {
        return untilNothingLeft(() -> under(dir), List::size, grace, "leftUnder: process(es) of " + dir);
    }

    /**
     * Looks again every 100 ms until {@code look} finds nothing or {@code grace} has passed, and returns what it found
     * last; says how far into the grace what it first found had ended. The one wait of the leftover checks.
     */
    static <T> T untilNothingLeft(java.util.function.Supplier<T> look, java.util.function.ToIntFunction<T> count,
            Duration grace, String what) {
        long t0 = System.nanoTime();
        long until = t0 + grace.toNanos();
        T left = look.get();
        int first = count.applyAsInt(left);
        while (count.applyAsInt(left) > 0 && System.nanoTime() < until) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return left;
            }
            left = look.get();
        }
        if (first > 0 && count.applyAsInt(left) == 0) {
            System.out.printf("%s: %d ended %d ms into the grace%n", what, first, (System.nanoTime() - t0) / 1_000_000);
        }
        return left;
    }

    /**
     * The check for an {@code @AfterEach}: every process of the test's directory still there after {@link #GRACE},
     * each then killed ({@link #killUnder}) so that even a failing test leaves no orphan. Assert it is empty.
     */
    public static List<Proc> leftBehind(Path dir) {
        List<Proc> left = leftUnder(dir, GRACE);
        if (!left.isEmpty()) {
            killUnder(dir);
        }
        return left;
    }

    /**
     * Kills what {@link #under} finds, and waits for each to end: the cleanup of last resort after a failed check,
     * so that a failing test still leaves no orphan. Only processes in the test's own directory: never another's.
     */
    public static void killUnder(Path dir) {
        for (Proc p : under(dir)) {
            ProcessHandle.of(p.pid()).ifPresent(h -> {
                h.destroyForcibly();
                h.onExit().orTimeout(5, java.util.concurrent.TimeUnit.SECONDS).exceptionally(t -> h).join();
            });
        }
    }

    private static boolean inside(String cwd, String root) {
        String c = cwd.endsWith(" (deleted)") ? cwd.substring(0, cwd.length() - " (deleted)".length()) : cwd;
        return c.equals(root) || c.startsWith(root.endsWith("/") ? root : root + "/");
    }

    /** {@code cmdline} names {@code root} or a path below it (not merely a longer name that starts the same). */
    static boolean names(String cmdline, String root) {
        for (int i = cmdline.indexOf(root); i >= 0; i = cmdline.indexOf(root, i + 1)) {
            int end = i + root.length();
            if (end == cmdline.length() || !(Character.isLetterOrDigit(cmdline.charAt(end))
                    || "._-".indexOf(cmdline.charAt(end)) >= 0)) {
                return true;
            }
        }
        return false;
    }

    private static String real(Path dir) {
        try {
            return dir.toRealPath().toString();
        } catch (IOException e) {
            return dir.toAbsolutePath().normalize().toString();
        }
    }

    private static Optional<String> cwd(long pid) {
        try {
            return Optional.of(Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd")).toString());
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return Optional.empty(); // exited, or another user's
        }
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "comm")).strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** A socket in the LISTEN state on {@code port}: its local address and the processes holding it (pid and title). */
    public record Listener(int port, String address, List<String> holders) {
        @Override
        public String toString() {
            return address + ":" + port + " listening" + (holders.isEmpty() ? " (holder not visible)"
                    : " held by " + String.join(", ", holders));
        }
    }

    /**
     * Every socket listening on one of {@code ports}, on any address of this network namespace (IPv4 and IPv6), as
     * {@code /proc/net/tcp} and {@code /proc/net/tcp6} list them. Unlike a trial bind, this neither sees a closed
     * connection's TIME_WAIT nor an outgoing connection that happens to use the port: only a server still there.
     */
    public static List<Listener> listening(java.util.Collection<Integer> ports) {
        Set<Integer> wanted = new HashSet<>(ports);
        List<String[]> found = new ArrayList<>(); // {port, address, inode}
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(table));
            } catch (IOException e) {
                if (table.endsWith("6")) {
                    continue; // no IPv6 here
                }
                throw new IllegalStateException("cannot read " + table + ": this check needs Linux", e);
            }
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 10 || !f[3].equals("0A")) { // 0A: TCP_LISTEN
                    continue;
                }
                String local = f[1];
                int port = Integer.parseInt(local.substring(local.indexOf(':') + 1), 16);
                if (wanted.contains(port)) {
                    found.add(new String[] {Integer.toString(port), address(local.substring(0, local.indexOf(':'))),
                            f[9]});
                }
            }
        }
        if (found.isEmpty()) {
            return List.of();
        }
        java.util.Map<String, List<String>> holders = socketHolders();
        return found.stream().map(f -> new Listener(Integer.parseInt(f[0]), f[1],
                holders.getOrDefault(f[2], List.of()))).toList();
    }

    /** {@code /proc/net/tcp}'s hex address: 4 bytes (IPv4) or 16 (IPv6), each 32-bit word in host (little) order. */
    static String address(String hex) {
        byte[] b = new byte[hex.length() / 2];
        for (int w = 0; w < b.length / 4; w++) {
            for (int i = 0; i < 4; i++) {
                b[w * 4 + i] = (byte) Integer.parseInt(hex.substring(w * 8 + (3 - i) * 2, w * 8 + (3 - i) * 2 + 2), 16);
            }
        }
        try {
            String a = InetAddress.getByAddress(b).getHostAddress();
            return b.length == 16 ? "[" + a + "]" : a;
        } catch (java.net.UnknownHostException e) {
            return hex;
        }
    }

    /** Socket inode -> "PID title" of every process holding it (only the processes this user may look into). */
    private static java.util.Map<String, List<String>> socketHolders() {
        java.util.Map<String, List<String>> out = new java.util.HashMap<>();
        try (DirectoryStream<Path> pids = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : pids) {
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(p.resolve("fd"))) {
                    for (Path fd : fds) {
                        String target;
                        try {
                            target = Files.readSymbolicLink(fd).toString();
                        } catch (IOException e) {
                            continue;
                        }
                        if (target.startsWith("socket:[")) {
                            long pid = Long.parseLong(p.getFileName().toString());
                            String who = pid + " " + cmdline(pid).strip();
                            List<String> l = out.computeIfAbsent(target.substring(8, target.length() - 1),
                                    k -> new ArrayList<>());
                            if (!l.contains(who)) {
                                l.add(who);
                            }
                        }
                    }
                } catch (IOException | SecurityException e) {
                    // exited, or another user's
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    public static List<Integer> range(int base, int count) {
        return java.util.stream.IntStream.range(base, base + count).boxed().toList();
    }
}
