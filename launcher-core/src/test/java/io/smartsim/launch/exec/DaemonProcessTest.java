package io.smartsim.launch.exec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A server that must outlive {@code db start} is not a child of the JVM that started it (a running child keeps a
 * thread in native code, which on Java 17 holds the JVM's exit for 300 ms), yet its exit status is still known.
 */
@Timeout(60)
class DaemonProcessTest {
    @TempDir
    Path dir;

    @Test
    void itRunsButIsNotAChildOfThisJvmAndTerminateEndsIt() throws Exception {
        Path console = dir.resolve("sleeper.out");
        DaemonProcess d = DaemonProcess.spawn(List.of("sh", "-c", "echo started; exec sleep 60"), dir, console);
        ProcessHandle h = d.handle(Duration.ofSeconds(20)).orElseThrow();
        try {
            assertThat(h.isAlive()).isTrue();
            assertThat(ProcessHandle.current().descendants().map(ProcessHandle::pid)).doesNotContain(h.pid());
            assertThat(h.parent().map(ProcessHandle::pid)).isNotEqualTo(Optional.of(ProcessHandle.current().pid()));
            assertThat(d.pid()).contains(h.pid());
            assertThat(d.exit()).isEmpty();
            awaitContent(console, "started");
        } finally {
            d.terminate(Duration.ofSeconds(5));
        }
        assertThat(h.isAlive()).isFalse();
        assertThat(d.exit()).contains("exited with code 143"); // SIGTERM, as a child's Process.exitValue() says
    }

    @Test
    void anExitStatusIsReportedAsAChildsWouldBeAndAnEarlierRunsFilesAreNotRead() throws Exception {
        Path console = dir.resolve("failing.out");
        Files.writeString(dir.resolve("failing.out.exit"), "0\n"); // what an earlier run of the same name left
        Files.writeString(dir.resolve("failing.out.pid"), "1\n");
        DaemonProcess d = DaemonProcess.spawn(List.of("sh", "-c", "echo bad directive >&2; exit 3"), dir, console);
        d.handle(Duration.ofSeconds(20)); // the pid appears, the process may already be gone
        awaitExit(d);
        assertThat(d.exit()).contains("exited with code 3");
        assertThat(d.pid()).isNotEqualTo(Optional.of(1L));
        awaitContent(console, "bad directive");
    }

    /**
     * A restart reuses the console's name: the end of the process it replaces, killed just before, is not the new
     * one's, whether its subshell reports it before or after the new one started (simulated here by a late write).
     */
    @Test
    void theEndOfTheProcessARestartReplacesIsNotTakenForTheNewOnes() throws Exception {
        Path console = dir.resolve("shard.out");
        DaemonProcess old = DaemonProcess.spawn(List.of("sleep", "60"), dir, console);
        ProcessHandle oldHandle = old.handle(Duration.ofSeconds(20)).orElseThrow();
        DaemonProcess fresh = DaemonProcess.spawn(List.of("sleep", "60"), dir, console);
        ProcessHandle freshHandle = fresh.handle(Duration.ofSeconds(20)).orElseThrow();
        try {
            oldHandle.destroyForcibly();
            oldHandle.onExit().get(20, java.util.concurrent.TimeUnit.SECONDS);
            Files.writeString(dir.resolve("shard.out.exit"), "137\n"); // a status alone: whose?
            assertThat(fresh.exit()).as("the new process runs").isEmpty();
            Files.writeString(dir.resolve("shard.out.exit"), oldHandle.pid() + " 137\n"); // as a late subshell would
            assertThat(fresh.exit()).as("the new process runs").isEmpty();
            assertThat(freshHandle.isAlive()).isTrue();
        } finally {
            fresh.terminate(Duration.ofSeconds(5));
        }
        assertThat(fresh.exit()).contains("exited with code 143");
        assertThat(dir.resolve("shard.out.exit")).content().startsWith(freshHandle.pid() + " ");
    }

    @Test
    void aCommandThatCannotRunSaysSo() throws Exception {
        DaemonProcess d = DaemonProcess.spawn(List.of(dir.resolve("no-such-program").toString()), dir,
                dir.resolve("missing.out"));
        d.handle(Duration.ofSeconds(20));
        awaitExit(d);
        assertThat(d.exit()).contains("exited with code 127"); // the shell's "not found"
        awaitContent(dir.resolve("missing.out"), "no-such-program");
    }

    /** A process standing for the JVM that holds a start's shards (a test cannot kill its own JVM). */
    private static Process holder() throws Exception {
        return new ProcessBuilder("sleep", "60").start();
    }

    private static void awaitExit(DaemonProcess d) throws Exception {
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (d.exit().isEmpty() && System.nanoTime() < until) {
            Thread.sleep(5);
        }
    }

    /** A JVM killed between starting a shard and recording it: the shard, held, ends with it. */
    @Test
    void aHeldProcessEndsWhenItsHolderEndsBeforeKeepingIt() throws Exception {
        Process holder = holder();
        DaemonProcess d = DaemonProcess.spawn(List.of("sleep", "60"), dir, dir.resolve("held.out"), holder.pid());
        ProcessHandle h = d.handle(Duration.ofSeconds(20)).orElseThrow();
        try {
            assertThat(h.isAlive()).isTrue();
            holder.destroyForcibly().waitFor();
            awaitExit(d);
            assertThat(d.exit()).contains("exited with code 143"); // the SIGTERM of its subshell
            assertThat(h.isAlive()).isFalse();
        } finally {
            h.destroyForcibly();
        }
    }

    @Test
    void aHeldProcessKeptRunsOnAfterItsHolderEnds() throws Exception {
        Process holder = holder();
        Path kept = dir.resolve("kept.out.kept");
        DaemonProcess d = DaemonProcess.spawn(List.of("sleep", "60"), dir, dir.resolve("kept.out"), holder.pid());
        ProcessHandle h = d.handle(Duration.ofSeconds(20)).orElseThrow();
        try {
            d.keep();
            d.keep(); // once is enough; again changes nothing
            long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (Files.exists(kept) && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertThat(kept).as("seen by its subshell, which then waits for the process only").doesNotExist();
            // the subshell removes the file after its last look at the holder: from here on nothing signals it
            holder.destroyForcibly().waitFor();
            assertThat(h.isAlive()).isTrue();
            assertThat(d.exit()).isEmpty();
        } finally {
            d.terminate(Duration.ofSeconds(5));
        }
        assertThat(d.exit()).contains("exited with code 143");
        assertThat(kept).doesNotExist();
    }

    @Test
    void terminateEndsAHeldProcessAndSeesItsExitWhileItsHolderLives() throws Exception {
        Process holder = holder();
        try {
            DaemonProcess d = DaemonProcess.spawn(List.of("sleep", "60"), dir, dir.resolve("t.out"), holder.pid());
            ProcessHandle h = d.handle(Duration.ofSeconds(20)).orElseThrow();
            long t0 = System.nanoTime();
            d.terminate(Duration.ofSeconds(10));
            assertThat(d.exit()).contains("exited with code 143");
            assertThat(h.isAlive()).isFalse();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("ended by SIGTERM, not after the grace")
                    .isLessThan(Duration.ofSeconds(10));
        } finally {
            holder.destroyForcibly().waitFor();
        }
    }

    private static void awaitContent(Path file, String text) throws Exception {
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!(Files.exists(file) && Files.readString(file).contains(text)) && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(file).content().contains(text);
    }
}
