package io.smartsim.launch.ssh;

import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.Detached;
import io.smartsim.launch.exec.TransportProvider;
import io.smartsim.launch.exec.Transports;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The real SSH transport with a log: {@code remote=recording://HOST} opens {@link SshTransportProvider}'s runner for
 * HOST and records every call the launcher makes through it ("run sbatch ...", "write PATH", "spawn srun ...",
 * "expose HOST:PORT"), so a test can show that the launcher's commands and files went through SSH. Not a fake:
 * every call still runs over the loopback sshd. {@link #afterRun} lets a test cut the connection at a chosen command.
 */
public final class RecordingTransport implements TransportProvider {
    static final List<String> LOG = new CopyOnWriteArrayList<>();
    /** Called with each command's argv after it ran. */
    static volatile Consumer<List<String>> afterRun = argv -> { };

    /** Before each test: an empty log, and no cut planned. */
    static void reset() {
        LOG.clear();
        afterRun = argv -> { };
    }

    @Override
    public String scheme() {
        return "recording";
    }

    @Override
    public Set<String> optionKeys() {
        return SshTransportProvider.KEYS;
    }

    @Override
    public CommandRunner open(String destination, Map<String, String> options) {
        return new Recording(new SshTransportProvider().open(destination, options));
    }

    /** Delegates everything to the SSH runner, logging it first. */
    private record Recording(CommandRunner ssh) implements CommandRunner {
        @Override
        public CommandResult run(List<String> argv, Map<String, String> env, Duration timeout) {
            LOG.add("run " + String.join(" ", argv));
            CommandResult r = ssh.run(argv, env, timeout);
            afterRun.accept(argv);
            return r;
        }

        @Override
        public String where() {
            return ssh.where();
        }

        @Override
        public void writeFile(Path path, String content, Duration timeout) {
            LOG.add("write " + path);
            ssh.writeFile(path, content, timeout);
        }

        @Override
        public Optional<String> readFile(Path path, Duration timeout) {
            LOG.add("read " + path);
            return ssh.readFile(path, timeout);
        }

        @Override
        public void deleteFiles(List<Path> paths, Duration timeout) {
            LOG.add("delete " + paths);
            ssh.deleteFiles(paths, timeout);
        }

        @Override
        public Detached spawn(List<String> argv, Path workDir, Path console, Duration timeout) {
            LOG.add("spawn " + String.join(" ", argv));
            return ssh.spawn(argv, workDir, console, timeout);
        }

        @Override
        public void expose(String host, int port) {
            LOG.add("expose " + host + ":" + port);
            ssh.expose(host, port);
        }

        @Override
        public String logTail(Path file, int max) {
            return ssh.logTail(file, max);
        }

        @Override
        public Map<String, String> recorded() {
            Map<String, String> m = new LinkedHashMap<>(ssh.recorded());
            m.put(Transports.REMOTE, m.get(Transports.REMOTE).replaceFirst("^ssh://", "recording://"));
            return m;
        }

        @Override
        public void close() {
            ssh.close();
        }
    }
}
