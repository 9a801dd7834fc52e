package io.smartsim.launch.ssh;

import io.smartsim.launch.script.Shell;

import com.jcraft.jsch.AgentIdentityRepository;
import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.Identity;
import com.jcraft.jsch.IdentityRepository;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchAlgoNegoFailException;
import com.jcraft.jsch.JSchChangedHostKeyException;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.JSchUnknownHostKeyException;
import com.jcraft.jsch.SSHAgentConnector;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.UnixDomainSocketFactory;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.error.SchedulerUnreachableException;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.Detached;
import io.smartsim.launch.exec.Routes;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Vector;

/**
 * A transport that runs commands on one host over SSH (JSch, the maintained {@code com.github.mwiede} fork).
 * One session per runner, opened on first use, reused by every call and reopened when it has dropped; close
 * the runner to end it. Safe for concurrent calls (each is its own exec channel).
 *
 * <ul>
 *   <li>Each argument is quoted for the remote shell; environment goes inside the command ({@code env K=V ...}),
 *       since sshd drops channel environment unless {@code AcceptEnv} allows it.</li>
 *   <li>The exit status is read only once the channel has closed (jsch#717: it can arrive before the output).</li>
 *   <li>Host keys are checked strictly against known_hosts; an unknown or changed key is a
 *       {@link SshHostKeyException} naming the host and its SHA256 fingerprint.</li>
 *   <li>A host that cannot be reached, or a connection that drops while a command runs, is a
 *       {@link SchedulerUnreachableException}: the command's outcome is unknown, never "not found".</li>
 *   <li>Shards on nodes only the host reaches are {@linkplain #expose exposed} through local port forwards of the
 *       session (OpenSSH's {@code -L}), re-established after a reconnect, and entered in {@link Routes}.</li>
 * </ul>
 */
public final class SshCommandRunner implements CommandRunner, AutoCloseable {
    /** The exit code {@link #readFile} uses for "no such file". */
    private static final int NO_FILE = 100;
    private static final String WRITE_SCRIPT = "umask 077; d=$(dirname -- \"$1\") && mkdir -p -- \"$d\" "
            + "&& cat > \"$1.tmp.$$\" && mv -f -- \"$1.tmp.$$\" \"$1\"";
    private static final String READ_SCRIPT = "[ -e \"$1\" ] || exit " + NO_FILE + "; exec cat -- \"$1\"";

    private static final Duration SPAWN_CHECK_EVERY = Duration.ofSeconds(1);

    private final SshTarget target;
    private final Map<String, String> recorded;
    /** Exposed shards ("host:port") and the local address each is forwarded from, in the session's order. */
    private final Map<String, InetSocketAddress> forwards = new LinkedHashMap<>();
    private HostKeyVerifier hostKeys;
    private Session session;
    private boolean closed;

    /** A runner for {@code target}; connects on first use. */
    public SshCommandRunner(SshTarget target) {
        this(target, Map.of());
    }

    /**
     * @param recorded what a later process needs to open this transport again (see {@link CommandRunner#recorded()}):
     *                 the destination and the settings given, never a password or {@code accept-new-host-key}
     */
    public SshCommandRunner(SshTarget target, Map<String, String> recorded) {
        this.target = target;
        this.recorded = Map.copyOf(recorded);
    }

    @Override
    public Map<String, String> recorded() {
        return recorded;
    }

    public SshTarget target() {
        return target;
    }

    @Override
    public String where() {
        return target.where();
    }

    @Override
    public CommandResult run(List<String> argv, Map<String, String> env, Duration timeout) {
        return exec(argv, Shell.command(argv, env), null, timeout);
    }

    /** As {@link #run(List, Map, Duration)}, with {@code stdin} fed to the command (then end of file). */
    public CommandResult run(List<String> argv, Map<String, String> env, String stdin, Duration timeout) {
        return exec(argv, Shell.command(argv, env), stdin.getBytes(StandardCharsets.UTF_8), timeout);
    }

    /**
     * Writes {@code content} to {@code path} on the host, creating its directory: written to a temporary name and
     * renamed, so a reader never sees half a file. Owner-only permissions for the new file.
     */
    public void writeFile(String path, String content, Duration timeout) {
        CommandResult r = run(List.of("sh", "-c", WRITE_SCRIPT, "sh", path), Map.of(), content, timeout);
        if (!r.ok()) {
            throw new LaunchException("cannot write " + path + " on " + where() + ": " + r.describe());
        }
    }

    @Override
    public void writeFile(Path path, String content, Duration timeout) {
        writeFile(path.toString(), content, timeout);
    }

    @Override
    public Optional<String> readFile(Path path, Duration timeout) {
        return readFile(path.toString(), timeout);
    }

    /** The last lines of a log on the host, read with {@code tail} (logs can be long); never throws. */
    @Override
    public String logTail(Path file, int max) {
        try {
            CommandResult r = run(SshCommands.tail(file.toString(), max), Duration.ofSeconds(5));
            List<String> lines = r.stdout().lines().filter(l -> !l.isBlank()).toList();
            if (!r.ok() || lines.isEmpty()) {
                return "  (" + file + " on " + where() + " is empty or missing)";
            }
            return "  last lines of " + file + " on " + where() + ":\n    " + String.join("\n    ", lines);
        } catch (LaunchException e) {
            return "  (could not read " + file + " on " + where() + ": " + e.getMessage() + ")";
        }
    }

    @Override
    public void keepPrevious(List<Path> paths, Duration timeout) {
        if (paths.isEmpty()) {
            return;
        }
        List<String> argv = new ArrayList<>(List.of("sh", "-c", SshCommands.KEEP_PREVIOUS_SCRIPT, "sh"));
        paths.forEach(p -> argv.add(p.toString()));
        CommandResult r = run(argv, timeout);
        if (!r.ok()) {
            throw new LaunchException("cannot keep the previous logs on " + where() + ": " + r.describe());
        }
    }

    @Override
    public void deleteFiles(List<Path> paths, Duration timeout) {
        if (paths.isEmpty()) {
            return;
        }
        List<String> argv = new ArrayList<>(List.of("rm", "-f", "--"));
        paths.forEach(p -> argv.add(p.toString()));
        CommandResult r = run(argv, timeout);
        if (!r.ok()) {
            throw new LaunchException("cannot remove files on " + where() + ": " + r.describe());
        }
    }

    /**
     * Starts {@code argv} on the host in a session of its own ({@code nohup setsid}), so it outlives this SSH
     * session and this process; its exit code lands beside {@code console} ({@code console.exit}).
     */
    @Override
    public Detached spawn(List<String> argv, Path workDir, Path console, Duration timeout) {
        CommandResult r = run(SshCommands.spawn(workDir.toString(), console.toString(), argv), timeout);
        List<Long> pids;
        try {
            pids = r.ok() ? SshCommands.parsePids(r.stdout()) : List.of();
        } catch (NumberFormatException e) {
            pids = List.of();
        }
        if (pids.size() != 1) {
            throw new LaunchException("could not start `" + String.join(" ", argv) + "` detached on " + where() + ": "
                    + r.describe());
        }
        return new RemoteProcess(pids.get(0), console + ".exit");
    }

    /** A process started by {@link #spawn}: its state is asked on the host, at most once per second. */
    private final class RemoteProcess implements Detached {
        private final long pid;
        private final String exitFile;
        private long checkedAt;
        private Optional<String> ended = Optional.empty();

        RemoteProcess(long pid, String exitFile) {
            this.pid = pid;
            this.exitFile = exitFile;
            this.checkedAt = System.nanoTime();
        }

        @Override
        public Optional<Long> pid() {
            return Optional.of(pid);
        }

        @Override
        public synchronized Optional<String> exit() {
            if (ended.isPresent() || System.nanoTime() - checkedAt < SPAWN_CHECK_EVERY.toNanos()) {
                return ended;
            }
            CommandResult r = run(SshCommands.check(exitFile, pid), Duration.ofSeconds(10));
            checkedAt = System.nanoTime();
            if (r.ok()) {
                ended = Optional.of(r.stdout().strip() + " (pid " + pid + " on " + where() + ")");
            }
            return ended;
        }

        @Override
        public void terminate(Duration grace) throws InterruptedException {
            run(SshCommands.killGroup("TERM", pid), Duration.ofSeconds(10));
            long until = System.nanoTime() + grace.toNanos();
            while (System.nanoTime() < until) {
                if (!run(List.of("kill", "-0", Long.toString(pid)), Duration.ofSeconds(10)).ok()) {
                    return;
                }
                Thread.sleep(200);
            }
            run(SshCommands.killGroup("KILL", pid), Duration.ofSeconds(10));
        }
    }

    /**
     * Forwards a local port through this session to {@code host:port} as the SSH host reaches it (a compute node
     * behind a login node), and routes this process's control connections to it there ({@link Routes}). Once per
     * shard; kept across reconnects, until {@link #close()}.
     */
    @Override
    public void expose(String host, int port) {
        String key = host + ":" + port;
        synchronized (this) {
            if (forwards.containsKey(key)) {
                return;
            }
        }
        Session s = session(target.connectTimeout());
        synchronized (this) {
            if (!forwards.containsKey(key)) {
                forwards.put(key, forward(s, host, port, 0));
            }
        }
    }

    /** Opens one local forward ({@code 127.0.0.1:local -> host:port} via the session) and routes it. */
    private InetSocketAddress forward(Session s, String host, int port, int local) {
        try {
            int bound = s.setPortForwardingL("127.0.0.1", local, host, port);
            InetSocketAddress via = new InetSocketAddress("127.0.0.1", bound);
            Routes.add(host, port, via);
            return via;
        } catch (JSchException e) {
            if (local != 0) {
                return forward(s, host, port, 0); // the old local port was taken meanwhile: any port will do
            }
            throw new SchedulerUnreachableException("cannot forward a port through " + where() + " to shard "
                    + host + ":" + port + ": " + e.getMessage() + "; the host's sshd must allow TCP forwarding "
                    + "(AllowTcpForwarding)", e);
        }
    }

    /** The contents of {@code path} on the host; empty when there is no such file. */
    public Optional<String> readFile(String path, Duration timeout) {
        CommandResult r = run(List.of("sh", "-c", READ_SCRIPT, "sh", path), timeout);
        if (r.exitCode() == NO_FILE) {
            return Optional.empty();
        }
        if (!r.ok()) {
            throw new LaunchException("cannot read " + path + " on " + where() + ": " + r.describe());
        }
        return Optional.of(r.stdout());
    }

    private CommandResult exec(List<String> argv, String command, byte[] stdin, Duration timeout) {
        long until = System.nanoTime() + timeout.toNanos();
        List<String> shown = List.of("ssh", where(), command);
        ChannelExec ch = null;
        Session s = null;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        for (int attempt = 0; ch == null; attempt++) {
            s = session(timeout);
            try {
                ChannelExec c = (ChannelExec) s.openChannel("exec");
                c.setCommand(command);
                c.setInputStream(stdin == null ? null : new ByteArrayInputStream(stdin));
                c.setOutputStream(out, true);
                c.setErrStream(err, true);
                c.connect(millisLeft(until));
                ch = c;
            } catch (JSchException e) {
                // The command was not started. A session that looked alive but had dropped gets one reconnect.
                dropped(s);
                if (attempt > 0 || remaining(until) <= 0) {
                    throw new SchedulerUnreachableException("lost the SSH connection to " + where() + " before `"
                            + command + "` could start: " + e.getMessage() + "; check that the host is up and reachable",
                            e);
                }
            }
        }
        try {
            long pause = 1;
            while (!ch.isClosed()) {
                if (!s.isConnected()) {
                    break;
                }
                if (remaining(until) <= 0) {
                    throw new LaunchException("`" + String.join(" ", argv) + "` on " + where() + " did not finish within "
                            + timeout.toMillis() / 1000.0 + " s; its channel was closed (the command may still run there)");
                }
                Thread.sleep(Math.min(pause, Math.max(1, remaining(until) / 1_000_000)));
                pause = Math.min(20, pause * 2);
            }
            // Only now, with the channel closed, is the exit status final.
            int status = ch.getExitStatus();
            if (status == -1 && !s.isConnected()) {
                dropped(s);
                throw new SchedulerUnreachableException("the SSH connection to " + where() + " dropped while `"
                        + String.join(" ", argv) + "` ran; its outcome is unknown (it may have run); check that the host "
                        + "is reachable, then look at what it left with db status / db stop");
            }
            return new CommandResult(argv, status, out.toString(StandardCharsets.UTF_8),
                    err.toString(StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted while `" + String.join(" ", shown) + "` ran", e);
        } finally {
            ch.disconnect();
        }
    }

    private static long remaining(long untilNanos) {
        return untilNanos - System.nanoTime();
    }

    private static int millisLeft(long untilNanos) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, remaining(untilNanos) / 1_000_000));
    }

    /** The open session, connecting (or reconnecting after a drop) when needed. */
    private synchronized Session session(Duration timeout) {
        if (closed) {
            throw new IllegalStateException("the SSH runner for " + where() + " is closed");
        }
        if (session != null && session.isConnected()) {
            return session;
        }
        session = null;
        Session s = newSession();
        int ms = (int) Math.max(1, Math.min(target.connectTimeout().toMillis(), timeout.toMillis()));
        try {
            s.connect(ms);
        } catch (JSchException e) {
            s.disconnect();
            throw classify(e);
        }
        session = s;
        // A reconnect: the old forwards ended with the old session. Same local ports where still free.
        for (Map.Entry<String, InetSocketAddress> f : forwards.entrySet()) {
            String k = f.getKey();
            int colon = k.lastIndexOf(':');
            String host = k.substring(0, colon);
            int port = Integer.parseInt(k.substring(colon + 1));
            Routes.remove(host, port, f.getValue());
            try {
                f.setValue(forward(s, host, port, f.getValue().getPort()));
            } catch (SchedulerUnreachableException e) {
                // left unrouted: a control connection to it fails, as the shard is unreachable meanwhile
            }
        }
        return s;
    }

    private synchronized void dropped(Session s) {
        s.disconnect();
        if (session == s) {
            session = null;
        }
    }

    private Session newSession() {
        JSch jsch = new JSch();
        try {
            jsch.setKnownHosts(target.knownHosts().toString());
            hostKeys = new HostKeyVerifier(jsch.getHostKeyRepository(), target.knownHosts(), target.acceptNewHostKey());
            jsch.setHostKeyRepository(hostKeys);
            jsch.setIdentityRepository(identities());
            Session s = jsch.getSession(target.user(), target.hostName(), target.port());
            s.setConfig("StrictHostKeyChecking", "yes");
            s.setConfig("PreferredAuthentications", "publickey");
            s.setDaemonThread(true); // a dead transport must never keep the JVM alive
            s.setServerAliveInterval(5000);
            s.setServerAliveCountMax(3);
            return s;
        } catch (JSchException e) {
            throw new LaunchException("cannot set up SSH to " + where() + ": " + e.getMessage(), e);
        }
    }

    /** The agent's keys (when allowed and running), then the key files that exist, in order. */
    private IdentityRepository identities() throws JSchException {
        List<IdentityRepository> parts = new ArrayList<>();
        String sock = System.getenv("SSH_AUTH_SOCK");
        if (target.useAgent() && sock != null && !sock.isBlank()) {
            try {
                parts.add(new AgentIdentityRepository(new SSHAgentConnector(new UnixDomainSocketFactory(), Path.of(sock))));
            } catch (Exception | LinkageError e) {
                // the agent is optional: the key files below still count
            }
        }
        JSch loader = new JSch();
        for (Path key : target.identities()) {
            if (Files.isRegularFile(key)) {
                loader.addIdentity(key.toString());
            }
        }
        parts.add(loader.getIdentityRepository());
        return new Keys(parts);
    }

    /** Maps a failed connect to what the caller can do about it. */
    private LaunchException classify(JSchException e) {
        Optional<HostKeyVerifier.Seen> seen = hostKeys == null ? Optional.empty() : hostKeys.last();
        String msg = String.valueOf(e.getMessage());
        boolean hostKey = e instanceof JSchUnknownHostKeyException || e instanceof JSchChangedHostKeyException
                || msg.startsWith("reject HostKey") || msg.startsWith("HostKey has been changed");
        if (hostKey && seen.isPresent()) {
            HostKeyVerifier.Seen k = seen.get();
            boolean changed = k.result() == com.jcraft.jsch.HostKeyRepository.CHANGED;
            return new SshHostKeyException(target, k.fingerprint(), k.type(), changed);
        }
        if (msg.contains("Auth fail") || msg.contains("Auth cancel")) {
            return new SshAuthException(target, e);
        }
        if (e instanceof JSchAlgoNegoFailException) {
            return new LaunchException("SSH to " + where() + " (host " + target.alias() + ") found no algorithm both "
                    + "sides accept: " + msg + "; a Java runtime without ed25519 support, or a host that allows only "
                    + "legacy algorithms, does this", e);
        }
        return new SchedulerUnreachableException("cannot reach " + where() + " over SSH (host " + target.alias()
                + "): " + describe(e) + "; check that the host is up, that sshd listens on port " + target.port()
                + ", and the HostName/Port in your ssh config", e);
    }

    private static String describe(Throwable e) {
        Throwable c = e;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        String msg = String.valueOf(e.getMessage());
        return c == e || msg.contains(c.toString()) ? msg : msg + " (" + c + ")";
    }

    /** Ends the session. Safe to call twice; the runner cannot be used afterwards. */
    @Override
    public synchronized void close() {
        closed = true;
        forwards.forEach((k, via) -> {
            int colon = k.lastIndexOf(':');
            Routes.remove(k.substring(0, colon), Integer.parseInt(k.substring(colon + 1)), via);
        });
        forwards.clear();
        if (session != null) {
            session.disconnect();
            session = null;
        }
    }

    /** Several identity sources offered in order (the agent's keys, then key files). */
    private record Keys(List<IdentityRepository> parts) implements IdentityRepository {
        @Override
        public String getName() {
            return "smartsim-launch";
        }

        @Override
        public int getStatus() {
            return RUNNING;
        }

        @Override
        public Vector<Identity> getIdentities() {
            Vector<Identity> all = new Vector<>();
            for (IdentityRepository r : parts) {
                if (r.getStatus() != UNAVAILABLE) {
                    try {
                        all.addAll(r.getIdentities());
                    } catch (RuntimeException agentGone) {
                        // an agent that went away offers nothing
                    }
                }
            }
            return all;
        }

        @Override
        public boolean add(byte[] identity) {
            return false;
        }

        @Override
        public boolean remove(byte[] blob) {
            return false;
        }

        @Override
        public void removeAll() {
        }
    }
}
