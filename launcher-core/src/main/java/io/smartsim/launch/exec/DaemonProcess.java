package io.smartsim.launch.exec;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A process on this machine that is not a child of this JVM: a shard's server that outlives {@code db start}.
 *
 * <p>Why not a child: on Java 17, a JVM exits only after its threads in native code have returned or 300 ms have
 * passed ({@code VM_Exit::wait_for_threads_in_native_to_block}, made configurable only in Java 22 by JDK-8314243), and
 * each running child keeps a "process reaper" thread in {@code waitpid}. Any {@code db start} with a child left
 * running therefore took 0.3 s longer to exit than it worked.
 *
 * <p>How: {@code /bin/sh} starts a subshell in the background and exits at once; the subshell starts the command,
 * writes its pid to {@code <console>.pid}, waits for it and writes its exit status to {@code <console>.exit}. The
 * subshell reaps the command the moment it exits (no zombie lingering for init), and its exit status is known as
 * with a child ("exited with code 1"). The command's stdout and stderr are appended to {@code console}, its stdin is
 * /dev/null, and it stays in this process's process group, as a child would. One difference: started as an
 * asynchronous list of a non-interactive shell, it begins with SIGINT and SIGQUIT ignored (POSIX). redis-server and
 * KeyDB set their own handlers; a lease guard or an {@code --ai} model server ignores a Ctrl-C sent to the whole
 * group. Stops never rely on SIGINT (SHUTDOWN, then SIGTERM, then SIGKILL), and a guard ends with its server.
 */
public final class DaemonProcess implements Detached {
    /**
     * Runs "$@" in a waiting background subshell; $1 and $2 are the pid and exit files. The exit file says "PID STATUS",
     * written only while the pid file still names that process: a restart reuses both names, and the subshell of the
     * process it replaces (killed just before) must not report its end as the new one's.
     */
    static final String SCRIPT = "p=$1; x=$2; shift 2; " + Script.RUN + Script.REAP;

    /**
     * As {@link #SCRIPT}, held: once the pid file is written, the subshell waits until the file {@code $4} exists
     * ({@link #keep}), for as long as process {@code $3} (this JVM) lives. Should that process end first, the command
     * gets SIGTERM: a JVM killed before it recorded what it started leaves none of it running. Until then the command is
     * not reaped, so its pid cannot have been reused when it is signalled. It polls every 20 ms: nothing the shell can
     * block on ends both when the JVM says so and when the JVM dies (Java's file locks are fcntl locks, which flock(1)
     * does not see, and the JDK closes a child's stdin pipe as soon as that child, this short-lived shell, exits).
     */
    static final String HELD_SCRIPT = "p=$1; x=$2; h=$3; k=$4; shift 4; " + Script.RUN + Script.HOLD + Script.REAP;

    /** The parts of the two scripts. */
    private static final class Script {
        /** The command in the background subshell, its pid written. */
        static final String RUN = "( \"$@\" & c=$!; echo $c > \"$p\"; ";
        /** Held until $k exists while $h lives; SIGTERM to the command if $h ends first. */
        static final String HOLD = "while [ ! -e \"$k\" ]; do if ! kill -0 \"$h\" 2>/dev/null; then "
                + "[ -e \"$k\" ] || kill \"$c\" 2>/dev/null; break; fi; sleep 0.02; done; rm -f \"$k\"; ";
        /** Reaped, and its exit status written while the pid file still names it. */
        static final String REAP = "wait $c; s=$?; q=; { read q < \"$p\"; } 2>/dev/null; "
                + "if [ \"$q\" = \"$c\" ]; then echo \"$c $s\" > \"$x\"; fi ) &";
    }

    private final Path pidFile;
    private final Path exitFile;
    /** Held ({@link #spawnHeld}): the file {@link #keep} creates; else null. */
    private final Path keptFile;
    private volatile boolean kept;
    private volatile String startFailure;
    private volatile ProcessHandle handle;
    private volatile Process sh;

    private DaemonProcess(Path pidFile, Path exitFile, Path keptFile) {
        this.pidFile = pidFile;
        this.exitFile = exitFile;
        this.keptFile = keptFile;
    }

    /** Starts {@code argv} in {@code workDir}, stdout and stderr appended to {@code console}; returns at once. */
    public static DaemonProcess spawn(List<String> argv, Path workDir, Path console) {
        return spawn(argv, workDir, console, 0);
    }

    /**
     * As {@link #spawn}, held by this JVM until {@link #keep}: should this JVM end before (killed between starting a
     * shard and recording it), the process is sent SIGTERM and ends with it. Its exit is seen only once kept.
     */
    public static DaemonProcess spawnHeld(List<String> argv, Path workDir, Path console) {
        return spawn(argv, workDir, console, ProcessHandle.current().pid());
    }

    /** As {@link #spawnHeld}, held by process {@code holder} (tests end one); 0: not held. */
    static DaemonProcess spawn(List<String> argv, Path workDir, Path console, long holder) {
        boolean held = holder > 0;
        Path pid = console.resolveSibling(console.getFileName() + ".pid");
        Path exit = console.resolveSibling(console.getFileName() + ".exit");
        Path kept = held ? console.resolveSibling(console.getFileName() + ".kept") : null;
        DaemonProcess d = new DaemonProcess(pid, exit, kept);
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", held ? HELD_SCRIPT : SCRIPT, "sh", pid.toString(),
                exit.toString()));
        if (held) {
            cmd.addAll(List.of(Long.toString(holder), kept.toString()));
        }
        cmd.addAll(argv);
        try { // a restart reuses the names: what an earlier run left must not be read as this one's
            Files.deleteIfExists(pid);
            Files.deleteIfExists(exit);
            if (kept != null) {
                Files.deleteIfExists(kept);
            }
        } catch (IOException e) {
            d.startFailure = "could not start: cannot remove " + pid + " or " + exit + ": " + e.getMessage();
            return d;
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(console.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        try {
            d.sh = pb.start(); // it only forks and exits: handle() waits for that, so many start side by side
        } catch (IOException e) {
            d.startFailure = "could not start: " + e.getMessage();
        }
        return d;
    }

    /**
     * The process once its pid is known (the subshell writes it within milliseconds), waiting up to {@code wait};
     * empty if it could not be started (the reason is in {@link #exit()}) or its pid did not appear in time.
     */
    public Optional<ProcessHandle> handle(Duration wait) throws InterruptedException {
        long until = System.nanoTime() + Math.max(1, wait.toNanos());
        Process starter = sh;
        if (starter != null && startFailure == null) {
            if (!starter.waitFor(Math.max(1, until - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                return Optional.empty();
            }
            if (starter.exitValue() != 0) {
                startFailure = "could not start: /bin/sh exited with code " + starter.exitValue();
            }
            sh = null;
        }
        long pause = 1;
        while (handle == null && startFailure == null) {
            Optional<Long> pid = number(pidFile);
            if (pid.isPresent()) {
                handle = ProcessHandle.of(pid.get()).orElse(null);
                if (handle == null) { // already gone (a bad argument): the exit file tells how, within milliseconds
                    awaitExit(Duration.ofNanos(Math.max(1, until - System.nanoTime())));
                    return Optional.empty();
                }
                break;
            }
            if (System.nanoTime() >= until) {
                return Optional.empty();
            }
            Thread.sleep(pause);
            pause = Math.min(pause * 2, 20);
        }
        return Optional.ofNullable(handle);
    }

    @Override
    public Optional<Long> pid() {
        try {
            return handle(Duration.ofSeconds(5)).map(ProcessHandle::pid).or(() -> number(pidFile));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return number(pidFile);
        }
    }

    /** How it ended ("exited with code 1"), once it has; a start that failed says why. */
    @Override
    public Optional<String> exit() {
        if (startFailure != null) {
            return Optional.of(startFailure);
        }
        Optional<Long> mine = Optional.ofNullable(handle).map(ProcessHandle::pid).or(() -> number(pidFile));
        try {
            String[] f = Files.readString(exitFile).trim().split(" ");
            if (f.length == 2 && mine.isPresent() && Long.parseLong(f[0]) == mine.get()) {
                return Optional.of("exited with code " + Long.parseLong(f[1]));
            }
        } catch (IOException | NumberFormatException notYetOrNotMine) {
            // missing, still being written, or another run's
        }
        return Optional.empty();
    }

    /**
     * Ends the hold of {@link #spawnHeld}: the process is recorded (or about to be stopped) and runs on after this JVM.
     * Once only; nothing for a process not held.
     */
    public void keep() {
        if (keptFile == null || kept) {
            return;
        }
        try {
            Files.newOutputStream(keptFile).close();
            kept = true;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot keep the process of " + pidFile + ": " + e.getMessage(), e);
        }
    }

    /** Sends SIGTERM, waits up to {@code grace}, then SIGKILL; waits (up to 5 s) until it has exited. */
    @Override
    public void terminate(Duration grace) throws InterruptedException {
        try {
            keep(); // a held process's exit is seen only once its subshell waits for it
        } catch (java.io.UncheckedIOException e) {
            // then its subshell sends it SIGTERM once this JVM has ended; it is being ended here anyway
        }
        ProcessHandle h = handle(Duration.ofSeconds(1)).orElse(null);
        if (h == null || exit().isPresent()) {
            return;
        }
        h.destroy();
        if (!awaitExit(grace)) {
            h.destroyForcibly();
            awaitExit(Duration.ofSeconds(5));
        }
    }

    /** Polls the exit file (the waiting subshell writes it once the process has been reaped). */
    private boolean awaitExit(Duration limit) throws InterruptedException {
        long until = System.nanoTime() + limit.toNanos();
        long pause = 1;
        while (exit().isEmpty()) {
            if (System.nanoTime() >= until) {
                return false;
            }
            Thread.sleep(pause);
            pause = Math.min(pause * 2, 20);
        }
        return true;
    }

    /** The number a file holds; empty while it is missing or still being written. */
    private static Optional<Long> number(Path file) {
        try {
            String s = Files.readString(file).trim();
            return s.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(s));
        } catch (NoSuchFileException | NumberFormatException notYet) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
