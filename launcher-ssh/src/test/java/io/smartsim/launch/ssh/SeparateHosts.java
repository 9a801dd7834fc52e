package io.smartsim.launch.ssh;

import io.smartsim.launch.testing.Leftovers;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Three ssh "hosts" (127.0.1.1-3) that do not share the experiment directory: a test's own sshd (the ssh testbed's
 * keys, a port of the test) runs every session of host N in a mount namespace of its own, where the experiment
 * directory is a bind mount of that host's own directory ({@code sshd_config}'s {@code Match LocalAddress} and
 * {@code ForceCommand}). Whatever a host writes there (configs, the lease file, the guards' events) only that host
 * sees, as on separate machines; processes stay in this machine's PID space, so the leftover check still finds them
 * (their working directory reads as the same path). Needs root ({@code unshare --mount}); skips without it.
 */
final class SeparateHosts implements AutoCloseable {
    private final Path state;
    private final int port;
    private final Process sshd;

    private SeparateHosts(Path state, int port, Process sshd) {
        this.state = state;
        this.port = port;
        this.sshd = sshd;
    }

    /** Starts the sshd; {@code shared} is the directory each host sees as its own, {@code state} holds the rest. */
    static SeparateHosts start(Path shared, Path state, Leftovers leftovers) throws IOException, InterruptedException {
        assumeTrue("root".equals(System.getProperty("user.name")), "separate hosts need root (unshare --mount)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "separate hosts need unshare (util-linux)");
        SshTestbed.up(); // its keys
        int port = leftovers.port(io.smartsim.launch.testing.Processes.freeBase(1));
        Path wrapper = state.resolve("host-session");
        Files.writeString(wrapper, """
                #!/bin/bash
                # One ssh session of a host: its own mount namespace, where $2 is the host's own directory $1.
                exec unshare --mount --propagation private /bin/bash -c \
                  'mount --bind "$1" "$2" && exec /bin/bash -c "$SSH_ORIGINAL_COMMAND"' host-session "$1" "$2"
                """);
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
        StringBuilder conf = new StringBuilder();
        conf.append("Port ").append(port).append('\n');
        SshTestbed.HOSTS.forEach(h -> conf.append("ListenAddress ").append(h).append('\n'));
        conf.append("HostKey ").append(SshTestbed.DIR.resolve("ssh_host_ed25519_key")).append('\n')
                .append("PidFile ").append(state.resolve("sshd.pid")).append('\n')
                .append("AuthorizedKeysFile ").append(SshTestbed.DIR.resolve("authorized_keys")).append('\n')
                .append("PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n")
                .append("UsePAM no\nPermitRootLogin prohibit-password\nStrictModes no\n")
                .append("MaxStartups 100:30:200\nMaxSessions 100\nLogLevel VERBOSE\n")
                // as the testbed's sshd: not the login user's shell start files on every command
                .append("SetEnv HOME=").append(SshTestbed.DIR.resolve("home")).append('\n');
        String[] pub = Files.readString(SshTestbed.DIR.resolve("ssh_host_ed25519_key.pub")).strip().split("\\s+");
        String hostKey = pub[0] + " " + pub[1];
        StringBuilder known = new StringBuilder();
        for (int i = 0; i < SshTestbed.HOSTS.size(); i++) {
            String h = SshTestbed.HOSTS.get(i);
            Path own = Files.createDirectories(state.resolve("host" + (i + 1)));
            conf.append("Match LocalAddress ").append(h).append("\n    ForceCommand ").append(wrapper).append(' ')
                    .append(own).append(' ').append(shared).append('\n');
            known.append('[').append(h).append("]:").append(port).append(' ').append(hostKey).append('\n');
        }
        Files.writeString(state.resolve("sshd_config"), conf);
        Files.writeString(state.resolve("known_hosts"), known);
        Files.writeString(state.resolve("ssh_config"), "Host 127.0.1.*\n    Port " + port + "\n    User root\n"
                + "    IdentityFile " + SshTestbed.key() + "\n    IdentitiesOnly yes\n"
                + "    UserKnownHostsFile " + state.resolve("known_hosts") + "\n    StrictHostKeyChecking yes\n");
        Process sshd = new ProcessBuilder("/usr/sbin/sshd", "-D", "-f", state.resolve("sshd_config").toString(), "-E",
                state.resolve("sshd.log").toString()).redirectErrorStream(true)
                .redirectOutput(state.resolve("sshd.out").toFile()).start();
        SeparateHosts hosts = new SeparateHosts(state, port, sshd);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (String h : SshTestbed.HOSTS) {
            while (true) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(h, port), 200);
                    break;
                } catch (IOException notYet) {
                    if (!sshd.isAlive() || System.nanoTime() > until) {
                        hosts.close();
                        throw new IllegalStateException("the separate hosts' sshd did not listen on " + h + ":" + port
                                + " within 20 s: " + Files.readString(state.resolve("sshd.out")));
                    }
                    Thread.sleep(20);
                }
            }
        }
        // Root without CAP_SYS_ADMIN (some containers) cannot make the mount namespace: say so and skip.
        io.smartsim.launch.exec.CommandResult r;
        try (SshCommandRunner first = hosts.runner(SshTestbed.HOSTS.get(0))) {
            r = first.run(List.of("true"), Duration.ofSeconds(20));
        }
        if (!r.ok()) {
            hosts.close();
        }
        assumeTrue(r.ok(), "separate hosts: a session cannot bind-mount in a namespace of its own here: "
                + r.describe());
        return hosts;
    }

    /** The {@code ssh-config} launcher option that reaches these hosts. */
    Path sshConfig() {
        return state.resolve("ssh_config");
    }

    /** A session to host {@code h} (127.0.1.x) of these. */
    SshCommandRunner runner(String h) {
        return new SshCommandRunner(new SshTarget(h, h, port, "root", List.of(SshTestbed.key()),
                state.resolve("known_hosts"), false, false, Duration.ofSeconds(10)));
    }

    /** {@code file} as host {@code h} sees it, read over SSH. */
    Optional<String> read(String h, Path file) {
        try (SshCommandRunner r = runner(h)) {
            return r.readFile(file, Duration.ofSeconds(10));
        }
    }

    /** Stops the sshd and its sessions (the processes they started detached keep running, as on real hosts). */
    @Override
    public void close() throws InterruptedException {
        sshd.descendants().forEach(ProcessHandle::destroy);
        sshd.destroy();
        if (!sshd.waitFor(10, TimeUnit.SECONDS)) {
            sshd.destroyForcibly();
            sshd.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public String toString() {
        return "separate hosts " + SshTestbed.HOSTS + " on port " + port + " (" + state + ")";
    }
}
