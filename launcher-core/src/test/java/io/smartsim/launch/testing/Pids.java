package io.smartsim.launch.testing;

import io.smartsim.launch.util.ProcStat;

import java.time.Duration;
import java.util.Collection;
import java.util.List;

/**
 * Whether a process has exited, for processes the test did not start itself (a model's child, a model server, the
 * processes of a killed launcher). {@link ProcessHandle#isAlive} says yes to a zombie: an orphan that has
 * exited but that its new parent (init, or a container's PID 1 that reaps slowly or never) has not reaped yet. A
 * zombie runs nothing and holds no port or file, so here it counts as gone: the state letter in
 * {@code /proc/PID/stat} is {@code Z} (or {@code X}, dead). The product reads it the same way ({@link ProcStat}).
 */
public final class Pids {
    private Pids() {
    }

    /** Whether {@code pid} exists and has not exited (a zombie has exited): {@link ProcStat#running(long)}. */
    public static boolean running(long pid) {
        return ProcStat.running(pid);
    }

    /** From the text of {@code /proc/PID/stat}: {@link ProcStat#running(String)}. */
    static boolean running(String stat) {
        return ProcStat.running(stat);
    }

    /** Those of {@code pids} still running after waiting up to {@code deadline} for all of them to exit. */
    public static List<Long> stillRunningAfter(Collection<Long> pids, Duration deadline) throws InterruptedException {
        long until = System.nanoTime() + deadline.toNanos();
        while (true) {
            List<Long> left = pids.stream().filter(Pids::running).toList();
            if (left.isEmpty() || System.nanoTime() - until > 0) {
                return left;
            }
            Thread.sleep(20);
        }
    }
}
