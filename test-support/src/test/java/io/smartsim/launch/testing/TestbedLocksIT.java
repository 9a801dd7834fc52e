package io.smartsim.launch.testing;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The testbed locks and port reservations across real JVMs: other test JVMs are separate {@code java} processes
 * ({@link LockHolderMain}) on lock files in this test's own directory (the ports: on the machine's port file, at ports
 * above 65000 that no allocator hands out). An exclusive holder makes the other wait, saying for whom, until it
 * releases or dies ({@code kill -9}: the kernel drops its lock); shared holders run side by side.
 */
class TestbedLocksIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // the other JVMs run in the @TempDir: none may be left
    @TempDir
    Path dir;
    private final List<Child> children = new ArrayList<>();

    @AfterEach
    void stopChildren() {
        for (Child c : children) {
            c.process.destroyForcibly();
            c.process.onExit().orTimeout(10, TimeUnit.SECONDS).join();
        }
    }

    /** A second test JVM, its output collected as it comes. */
    private final class Child {
        final Process process;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Child(String... args) throws IOException {
            List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "-cp", System.getProperty("java.class.path"), LockHolderMain.class.getName()));
            argv.addAll(List.of(args));
            process = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true).start();
            children.add(this);
            Thread t = new Thread(() -> {
                try (InputStream in = process.getInputStream()) {
                    byte[] b = new byte[4096];
                    for (int n; (n = in.read(b)) > 0; ) {
                        synchronized (out) {
                            out.write(b, 0, n);
                        }
                    }
                } catch (IOException e) {
                    // the child is gone
                }
            });
            t.setDaemon(true);
            t.start();
        }

        String output() {
            synchronized (out) {
                return out.toString(StandardCharsets.UTF_8);
            }
        }

        /** Waits until the child's output contains {@code text}; fails with its output after {@code seconds}. */
        void await(String text, int seconds) throws InterruptedException {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (!output().contains(text)) {
                assertThat(System.nanoTime() < until).as("within %d s the child printed %s; its output:%n%s",
                        seconds, text, output()).isTrue();
                Thread.sleep(50);
            }
        }

        void send(String line) throws IOException {
            OutputStream o = process.getOutputStream();
            o.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            o.flush();
        }
    }

    private Child lock(String bed, String mode, String who) throws IOException {
        return new Child("lock", dir.toString(), bed, mode, who);
    }

    @Test
    void aSecondJvmWaitsSayingForWhomAndGetsTheTestbedWhenTheFirstReleasesIt() throws Exception {
        Child first = lock("SLURM", "exclusive", "FirstIT");
        first.await("HOLDING", 30);
        Child second = lock("SLURM", "exclusive", "SecondIT");
        second.await("[testbed-lock] SecondIT waits for the slurm testbed (exclusive), held by pid "
                + first.process.pid() + " FirstIT (exclusive, in ", 30);
        // It waits on the lock, not on a guess: another whole second later it still does not hold the testbed.
        Thread.sleep(1000);
        assertThat(second.output()).doesNotContain("HOLDING");
        first.send("release");
        first.await("RELEASED", 30);
        second.await("HOLDING", 30);
        assertThat(second.output()).contains("[testbed-lock] SecondIT has the slurm testbed (exclusive) after waiting");
        // Another testbed's lock is another lock: nobody waits for the ssh testbed while the Slurm one is held.
        Child ssh = lock("SSH", "exclusive", "SshIT");
        ssh.await("HOLDING", 30);
        assertThat(ssh.output()).doesNotContain("waits");
    }

    @Test
    void aKilledHolderLeavesNoLockBehind() throws Exception {
        Child holder = lock("SSH", "exclusive", "KilledIT");
        holder.await("HOLDING", 30);
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(said, true, StandardCharsets.UTF_8);
        assertThatThrownBy(() -> TestbedLocks.hold(dir, TestbedLock.Bed.SSH, false, "ThisIT", Duration.ofSeconds(2),
                out)).isInstanceOf(IllegalStateException.class).hasMessageContaining(
                        "ThisIT gave up waiting for the ssh testbed after 2 s").hasMessageContaining(
                        "held by pid " + holder.process.pid() + " KilledIT");
        assertThat(said.toString(StandardCharsets.UTF_8)).contains("ThisIT waits for the ssh testbed (exclusive), "
                + "held by pid " + holder.process.pid() + " KilledIT");
        holder.process.destroyForcibly(); // kill -9: no release, no clean-up of its own
        holder.process.onExit().orTimeout(10, TimeUnit.SECONDS).join();
        try (AutoCloseable held = TestbedLocks.hold(dir, TestbedLock.Bed.SSH, false, "ThisIT", Duration.ofSeconds(30),
                out)) {
            assertThat(TestbedLocks.holders(dir, TestbedLock.Bed.SSH)).startsWith("pid " + ProcessHandle.current()
                    .pid() + " ThisIT (exclusive").doesNotContain("KilledIT");
        }
    }

    @Test
    void sharedHoldersRunSideBySideAndAnExclusiveOneWaitsForBoth() throws Exception {
        Child a = lock("SSH", "shared", "ReaderA");
        a.await("HOLDING", 30);
        Child b = lock("SSH", "shared", "ReaderB");
        b.await("HOLDING", 30);
        assertThat(b.output()).doesNotContain("waits");
        Child writer = lock("SSH", "exclusive", "CutsSshdIT");
        writer.await("CutsSshdIT waits for the ssh testbed (exclusive), held by ", 30);
        writer.await("ReaderA (shared", 30);
        assertThat(writer.output()).contains("ReaderB (shared");
        a.send("release");
        a.await("RELEASED", 30);
        Thread.sleep(1000);
        assertThat(writer.output()).doesNotContain("HOLDING");
        b.send("release");
        writer.await("HOLDING", 30);
    }

    @Test
    void aClassThatNeedsTwoTestbedsHoldsNeitherWhileOneIsBusy() throws Exception {
        Child ssh = lock("SSH", "exclusive", "CutsSshdIT");
        ssh.await("HOLDING", 30);
        Child both = lock("SLURM,SSH", "exclusive", "RemoteSlurmLikeIT");
        both.await("RemoteSlurmLikeIT waits for the ssh testbed (exclusive), held by pid " + ssh.process.pid(), 30);
        // While it waits for sshd it does not sit on Slurm: another class gets Slurm at once.
        Child slurm = lock("SLURM", "exclusive", "SlurmOnlyIT");
        slurm.await("HOLDING", 30);
        assertThat(slurm.output()).doesNotContain("waits");
        slurm.send("release");
        slurm.await("RELEASED", 30);
        ssh.send("release");
        both.await("HOLDING", 30);
        assertThat(both.output()).contains("RemoteSlurmLikeIT has the slurm testbed (exclusive) and the ssh testbed "
                + "(exclusive) after waiting");
    }

    @Test
    void withinOneJvmTheLockIsReentrant() throws Exception {
        PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        try (AutoCloseable outer = TestbedLocks.hold(dir, TestbedLock.Bed.PBS, false, "OuterIT", Duration.ofSeconds(5),
                out)) {
            try (AutoCloseable inner = TestbedLocks.hold(dir, TestbedLock.Bed.PBS, false, "InnerIT",
                    Duration.ofSeconds(5), out)) {
                assertThat(TestbedLocks.holders(dir, TestbedLock.Bed.PBS)).contains("OuterIT");
            }
            Child other = lock("PBS", "exclusive", "OtherIT");
            other.await("OtherIT waits for the pbs testbed", 30); // the inner release did not free it
        }
        children.get(0).await("HOLDING", 30);
    }

    @Test
    void portsReservedByAnotherJvmAreNotHandedOutUntilItEnds() throws Exception {
        // Above every allocator's range (the ports' numbers are only positions in the lock file here).
        Child other = new Child("ports", "65101", "65102");
        other.await("HOLDING", 30);
        PortLocks.Taken mine = PortLocks.reserve(List.of(65100, 65101));
        assertThat(mine.ok()).as("65101 is the other JVM's").isFalse();
        assertThat(PortLocks.held(65100)).as("all or nothing: 65100 was given back").isFalse();
        other.process.destroyForcibly();
        other.process.onExit().orTimeout(10, TimeUnit.SECONDS).join();
        mine = PortLocks.reserve(List.of(65100, 65101));
        try {
            assertThat(mine.ok()).isTrue();
            assertThat(mine.ports()).containsExactly(65100, 65101);
            Child again = new Child("ports", "65102", "65100");
            again.await("TAKEN", 30);
        } finally {
            mine.giveBack();
        }
    }
}
