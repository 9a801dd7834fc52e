package io.smartsim.launch.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a process still runs, as {@code /proc/PID/stat} tells it. {@link ProcessHandle#isAlive} says yes to a
 * zombie: a process that has exited but that its parent (init, a container's PID 1 that reaps slowly or never, or a
 * parent that does not wait) has not reaped yet. A zombie runs nothing and holds no port or file, so here it counts
 * as exited: the state letter in {@code /proc/PID/stat} is {@code Z} (or {@code X}, dead). Where there is no
 * {@code /proc}, {@link ProcessHandle#isAlive} is all there is.
 */
public final class ProcStat {
    private static final boolean PROC = Files.isDirectory(Path.of("/proc/self"));

    private ProcStat() {
    }

    /** Whether {@code pid} exists and has not exited (a zombie has exited). */
    public static boolean running(long pid) {
        if (!PROC) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (IOException e) {
            return false; // no such process (any more)
        }
        return running(stat);
    }

    /**
     * Whether the process of {@code h} runs: alive as the JDK sees it (which also tells a pid reused since by another
     * process) and not a zombie.
     */
    public static boolean running(ProcessHandle h) {
        return h.isAlive() && running(h.pid());
    }

    /** From the text of {@code /proc/PID/stat}: "PID (COMM) STATE ...", where COMM may hold spaces and parentheses. */
    public static boolean running(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0 || close + 2 >= stat.length()) {
            throw new IllegalArgumentException("not a /proc/PID/stat line: " + stat);
        }
        char state = stat.charAt(close + 2);
        return state != 'Z' && state != 'X' && state != 'x';
    }
}
