package io.smartsim.launch.ssh;

import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.error.SchedulerUnreachableException;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.testing.FileStamps;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The SSH transport against a real sshd on loopback (testbeds/ssh). */
@TestbedLock(TestbedLock.Bed.SSH)
@org.junit.jupiter.api.Tag("ssh-alone") // run alone, after the others (launcher-ssh/pom.xml)
class SshCommandRunnerIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, the remote sleeps by argument
    private static final Duration T = Duration.ofSeconds(20);
    private static final AtomicInteger NAPS = new AtomicInteger();

    @TempDir
    Path tmp;

    @BeforeAll
    static void sshdUp() {
        SshTestbed.up();
    }

    /**
     * The argument of a remote {@code sleep} of about {@code seconds}, unique to this test (GNU sleep takes a
     * fraction), so the leftover check finds that process and no other: a command has no directory of the test.
     */
    private String nap(int seconds) {
        String arg = seconds + ".000" + ProcessHandle.current().pid() + NAPS.incrementAndGet();
        leftovers.naming("sleep " + arg);
        return arg;
    }

    /**
     * Ends this test's remote sleep over SSH: a command whose channel was closed or whose connection dropped may
     * still run on the host (the runner says so), and the test must not leave it; the leftover check then proves it.
     */
    private static void endOnHost(String host, String nap) {
        try (SshCommandRunner r = new SshCommandRunner(SshTestbed.target(host))) {
            r.run(List.of("pkill", "-f", "^sleep " + nap.replace(".", "\\.") + "$"), T);
        }
    }

    /**
     * Every IT class brings the testbed up again (testbeds/ssh/up, idempotent) while other classes' tests log in. The
     * script used to rewrite the authorized key and the client config in place (cp, cat >): a login in that moment
     * was refused (SshSupervisionIT failed so once; by hand, 4 of 29 OpenSSH logins beside 40 ups). It now writes a
     * file only when its text changes, renaming a complete one over it ({@link
     * #bringingTheTestbedUpAgainRewritesNoFileThatIsAlreadyRight} shows it deterministically), so no login beside it is
     * refused.
     */
    @Test
    void bringingTheTestbedUpAgainRewritesNoFileThatIsAlreadyRight() throws Exception {
        SshTestbed.up();
        List<Path> files = List.of(SshTestbed.DIR.resolve("authorized_keys"), SshTestbed.DIR.resolve("ssh_config"),
                SshTestbed.DIR.resolve("known_hosts"));
        Map<Path, List<Object>> before = FileStamps.of(files);
        SshTestbed.up();
        assertThat(FileStamps.of(files)).as("inode and modification time of each file sshd or a client reads")
                .isEqualTo(before);
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 3, unit = TimeUnit.MINUTES)
    void bringingTheTestbedUpAgainRefusesNoLogin() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        AtomicInteger ups = new AtomicInteger();
        CompletableFuture<Void> upAgain = CompletableFuture.runAsync(() -> {
            while (!done.get()) {
                SshTestbed.up();
                ups.incrementAndGet();
            }
        });
        List<String> refused = new java.util.ArrayList<>();
        try {
            for (int login = 0; login < 20 && !upAgain.isDone(); login++) {
                // a new session each time: the key is checked at login
                try (SshCommandRunner r = new SshCommandRunner(SshTestbed.target(SshTestbed.HOSTS.get(login % 3)))) {
                    assertThat(r.run(List.of("true"), T).ok()).isTrue();
                } catch (SshAuthException e) {
                    refused.add(e.getMessage());
                }
            }
        } finally {
            done.set(true);
        }
        upAgain.get(1, TimeUnit.MINUTES); // an up that failed fails here
        assertThat(ups.get()).as("times the testbed was brought up beside the logins").isGreaterThanOrEqualTo(10);
        assertThat(refused).as("logins refused among 20 while the testbed was brought up %d times", ups.get())
                .isEmpty();
    }

    @Test
    void argumentsArriveIntactEnvironmentInsideTheCommandAndTheExitStatusIsKept() {
        try (SshCommandRunner r = new SshCommandRunner(SshTestbed.target("127.0.1.1"))) {
            CommandResult res = r.run(List.of("sh", "-c", "printf '%s|' \"$@\"; printf '%s\\n' \"$GREETING\"; "
                    + "echo oops >&2; exit 7", "sh", "a b", "it's", "$HOME", "", "*"), Map.of("GREETING", "hi there"), T);
            assertThat(res.exitCode()).isEqualTo(7);
            assertThat(res.stdout()).isEqualTo("a b|it's|$HOME||*|hi there\n");
            assertThat(res.stderr()).isEqualTo("oops\n");
            assertThat(res.argv()).containsExactly("sh", "-c", "printf '%s|' \"$@\"; printf '%s\\n' \"$GREETING\"; "
                    + "echo oops >&2; exit 7", "sh", "a b", "it's", "$HOME", "", "*");
            assertThat(r.where()).isEqualTo(SshTestbed.user() + "@127.0.1.1:2222");
        }
    }

    @Test
    void largeOutputAndFilesRoundTrip() {
        String content = "line 'one' \"two\" $three\n".repeat(8000) + "end without newline ü";
        Path remote = tmp.resolve("sub dir/file.conf");
        try (SshCommandRunner r = new SshCommandRunner(SshTestbed.target("127.0.1.2"))) {
            r.writeFile(remote.toString(), content, T);
            assertThat(r.readFile(remote.toString(), T)).contains(content);
            assertThat(r.readFile(tmp.resolve("missing").toString(), T)).isEmpty();
            CommandResult big = r.run(List.of("head", "-c", "1000000", "/dev/zero"), T);
            assertThat(big.ok()).isTrue();
            assertThat(big.stdout()).hasSize(1_000_000);
        }
    }

    @Test
    void theSessionIsReusedAndReopenedAfterItDropped() throws Exception {
        try (SshCommandRunner r = new SshCommandRunner(SshTestbed.target("127.0.1.1"))) {
            String first = r.run(List.of("sh", "-c", "echo $SSH_CONNECTION"), T).stdout();
            assertThat(r.run(List.of("sh", "-c", "echo $SSH_CONNECTION"), T).stdout()).isEqualTo(first);
            SshTestbed.dropSessions();
            CommandResult again = r.run(List.of("sh", "-c", "echo $SSH_CONNECTION"), T);
            assertThat(again.ok()).isTrue();
            assertThat(again.stdout()).isNotEqualTo(first); // a new connection, from another local port
        }
    }

    @Test
    void aConnectionDroppedWhileACommandRunsIsSchedulerUnreachable() throws Exception {
        try (SshCommandRunner r = new SshCommandRunner(SshTestbed.target("127.0.1.3"))) {
            r.run(List.of("true"), T);
            String nap = nap(30);
            CompletableFuture<CommandResult> running = CompletableFuture.supplyAsync(
                    () -> r.run(List.of("sleep", nap), T));
            // The command runs on the other side before the connection drops (sshd's sessions run here).
            long until = System.nanoTime() + T.toNanos();
            while (sleeping(nap).isEmpty()) {
                assertThat(System.nanoTime()).as("`sleep %s` started through sshd within %s", nap, T)
                        .isLessThan(until);
                Thread.sleep(20);
            }
            SshTestbed.dropSessions();
            assertThatThrownBy(() -> running.get(20, TimeUnit.SECONDS)).hasCauseInstanceOf(
                    SchedulerUnreachableException.class).hasMessageContaining("dropped while `sleep " + nap + "` ran")
                    .hasMessageContaining("outcome is unknown");
            endOnHost("127.0.1.3", nap);
        }
    }

    @Test
    void aHostWithNoSshdIsSchedulerUnreachable() {
        SshTarget nothere = new SshTarget("127.0.1.3", "127.0.1.3", 2223, "root", List.of(SshTestbed.key()),
                SshTestbed.knownHosts(), false, false, Duration.ofSeconds(3));
        try (SshCommandRunner r = new SshCommandRunner(nothere)) {
            assertThatThrownBy(() -> r.run(List.of("true"), T)).isInstanceOf(SchedulerUnreachableException.class)
                    .hasMessageContaining("cannot reach root@127.0.1.3:2223").hasMessageNotContaining("not found");
        }
    }

    @Test
    void aCommandOverItsTimeoutIsReportedWithTheBound() {
        String nap = nap(120); // still running when the runner gives up, whatever the load
        try (SshCommandRunner r = new SshCommandRunner(SshTestbed.target("127.0.1.1"))) {
            assertThatThrownBy(() -> r.run(List.of("sleep", nap), Duration.ofMillis(700)))
                    .isInstanceOf(LaunchException.class).hasMessageContaining("`sleep " + nap + "` on ")
                    .hasMessageContaining("did not finish within 0.7 s");
            // It gave up while the command still ran: not after waiting for it to end.
            assertThat(sleeping(nap)).as("the remote `sleep %s` when the runner gave up", nap).isNotEmpty();
            assertThat(r.run(List.of("echo", "still usable"), T).stdout()).isEqualTo("still usable\n");
            endOnHost("127.0.1.1", nap);
        }
    }

    /** The {@code sleep ARG} processes on this machine (the testbed's sshd runs its sessions here). */
    private static List<ProcessHandle> sleeping(String arg) {
        return ProcessHandle.allProcesses().filter(h -> h.info().command().map(c -> c.endsWith("/sleep")).orElse(false)
                && java.util.Arrays.equals(h.info().arguments().orElse(null), new String[] {arg})).toList();
    }

    @Test
    void anUnknownHostKeyIsRefusedNamingTheHostAndFingerprintUntilAcceptedExplicitly() throws Exception {
        Path known = tmp.resolve("known_hosts"); // empty: nothing is known
        String fingerprint = fingerprintOfTestbedHostKey();
        try (SshCommandRunner r = new SshCommandRunner(SshTestbed.target("127.0.1.2", SshTestbed.key(), known, false))) {
            assertThatThrownBy(() -> r.run(List.of("true"), T)).isInstanceOf(SshHostKeyException.class)
                    .hasMessageContaining("host key of [127.0.1.2]:2222 (host 127.0.1.2) is not known")
                    .hasMessageContaining("presents the ssh-ed25519 key " + fingerprint)
                    .hasMessageContaining("--accept-new-host-key");
        }
        assertThat(known).doesNotExist();
        try (SshCommandRunner r = new SshCommandRunner(SshTestbed.target("127.0.1.2", SshTestbed.key(), known, true))) {
            assertThat(r.run(List.of("true"), T).ok()).isTrue();
        }
        assertThat(Files.readString(known)).startsWith("[127.0.1.2]:2222 ssh-ed25519 AAAA");
        // Recorded: from now on strict checking passes without the flag.
        try (SshCommandRunner r = new SshCommandRunner(SshTestbed.target("127.0.1.2", SshTestbed.key(), known, false))) {
            assertThat(r.run(List.of("true"), T).ok()).isTrue();
        }
    }

    @Test
    void aChangedHostKeyIsRefusedEvenWithAcceptNew() throws Exception {
        Path known = tmp.resolve("known_hosts");
        String otherKey = Files.readString(SshTestbed.wrongKey().resolveSibling("wrong_ed25519.pub")).split(" ")[1];
        Files.writeString(known, "[127.0.1.1]:2222 ssh-ed25519 " + otherKey + "\n");
        try (SshCommandRunner r = new SshCommandRunner(SshTestbed.target("127.0.1.1", SshTestbed.key(), known, true))) {
            assertThatThrownBy(() -> r.run(List.of("true"), T)).isInstanceOf(SshHostKeyException.class)
                    .hasMessageContaining("host key of [127.0.1.1]:2222 (host 127.0.1.1) has CHANGED")
                    .hasMessageContaining(fingerprintOfTestbedHostKey());
        }
        assertThat(Files.readString(known)).isEqualTo("[127.0.1.1]:2222 ssh-ed25519 " + otherKey + "\n");
    }

    @Test
    void aKeyTheHostDoesNotAcceptIsRefusedNamingUserHostAndKey() {
        try (SshCommandRunner r = new SshCommandRunner(SshTestbed.target("127.0.1.1", SshTestbed.wrongKey(),
                SshTestbed.knownHosts(), false))) {
            assertThatThrownBy(() -> r.run(List.of("true"), T)).isInstanceOf(SshAuthException.class)
                    .hasMessageContaining("SSH login as " + SshTestbed.user() + "@127.0.1.1:2222 (host 127.0.1.1) was "
                            + "refused").hasMessageContaining(SshTestbed.wrongKey().toString())
                    .hasMessageContaining("--identity");
        }
    }

    @Test
    void settingsComeFromAnOpenSshConfigFile() {
        SshTarget t = SshConfigResolver.forUser(Optional.of(SshTestbed.sshConfig())).resolve("127.0.1.3", SshFlags.none());
        assertThat(t.port()).isEqualTo(2222);
        assertThat(t.identities()).containsExactly(SshTestbed.key());
        assertThat(t.knownHosts()).isEqualTo(SshTestbed.knownHosts());
        try (SshCommandRunner r = new SshCommandRunner(t)) {
            assertThat(r.run(List.of("sh", "-c", "echo $SSH_CONNECTION"), T).stdout()).endsWith(" 127.0.1.3 2222\n");
        }
    }

    private static String fingerprintOfTestbedHostKey() throws Exception {
        Process p = new ProcessBuilder("ssh-keygen", "-lf", SshTestbed.DIR.resolve("ssh_host_ed25519_key.pub").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return out.split(" ")[1]; // "256 SHA256:... comment (ED25519)"
    }
}
