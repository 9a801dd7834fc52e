package io.smartsim.launch.ssh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The loopback sshd of {@code testbeds/ssh}: port 2222 on 127.0.0.1 and 127.0.1.1-3, keys under {@link #DIR}.
 * {@link #up()} starts it when it is not running (idempotent); {@link #cut()} stops it and its sessions.
 */
final class SshTestbed {
    static final Path DIR = Path.of(System.getProperty("smartsim.ssh.testbed.dir", "/tmp/smartsim-ssh-testbed"));
    static final int PORT = 2222;
    static final List<String> HOSTS = List.of("127.0.1.1", "127.0.1.2", "127.0.1.3");

    private SshTestbed() {
    }

    private static Path scripts() {
        String p = System.getProperty("smartsim.ssh.testbed");
        if (p != null) {
            return Path.of(p);
        }
        Path here = Path.of("").toAbsolutePath();
        return Files.isDirectory(here.resolve("testbeds/ssh")) ? here.resolve("testbeds/ssh")
                : here.getParent().resolve("testbeds/ssh");
    }

    /**
     * For tests that drive Slurm through the loopback login node: skips when the Slurm or the ssh testbed is declined
     * or not installed (fails when Slurm is installed but does not answer), then brings sshd up.
     */
    static void upWithSlurm() {
        io.smartsim.launch.testing.Testbeds.slurm();
        up();
    }

    /** Skips when the ssh testbed is declined (SKIP_SSH=1) or cannot be set up here; otherwise brings it up. */
    static void up() {
        io.smartsim.launch.testing.Testbeds.ssh();
        run("up");
    }

    /** Stops sshd and cuts every session it serves, as a network failure or a rebooting login node would. */
    static void cut() {
        run("down");
    }

    private static void run(String script) {
        try {
            Process p = new ProcessBuilder(scripts().resolve(script).toString(), DIR.toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("testbeds/ssh/" + script + " failed:\n" + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run testbeds/ssh/" + script + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The live sshd's pid (the listener). */
    static long listenerPid() throws IOException {
        return Long.parseLong(Files.readString(DIR.resolve("sshd.pid")).strip());
    }

    /** Ends every session the listener serves (the connections drop) and leaves the listener up. */
    static void dropSessions() throws IOException {
        ProcessHandle.of(listenerPid()).orElseThrow().children().forEach(h -> {
            h.destroy();
            h.onExit().orTimeout(5, TimeUnit.SECONDS).exceptionally(t -> h).join();
        });
    }

    static Path key() {
        return DIR.resolve("id_ed25519");
    }

    static Path wrongKey() {
        return DIR.resolve("wrong_ed25519");
    }

    static Path knownHosts() {
        return DIR.resolve("known_hosts");
    }

    static Path sshConfig() {
        return DIR.resolve("ssh_config");
    }

    static String user() {
        return System.getProperty("user.name");
    }

    static SshTarget target(String host) {
        return target(host, key(), knownHosts(), false);
    }

    static SshTarget target(String host, Path key, Path knownHosts, boolean acceptNew) {
        return new SshTarget(host, host, PORT, user(), List.of(key), knownHosts, false, acceptNew, Duration.ofSeconds(10));
    }
}
