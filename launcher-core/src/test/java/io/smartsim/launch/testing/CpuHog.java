package io.smartsim.launch.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Busy-loop processes that keep every core of this machine busy while a test runs beside them (the load of other
 * builds on a shared login node), started and ended by the test itself. Each is one bash process spinning on
 * builtins until its bound has passed ({@code SECONDS}), so none outlives the bound even when the test's JVM is killed;
 * {@link #close} ends them at once (SIGKILL) and waits until they are gone.
 */
public final class CpuHog implements AutoCloseable {
    private final List<Process> procs = new ArrayList<>();

    private CpuHog() {
    }

    /** Cores + 2 busy loops, each ended by itself after {@code bound} at the latest. */
    public static CpuHog start(Duration bound) {
        return start(Runtime.getRuntime().availableProcessors() + 2, bound);
    }

    /** {@code n} busy loops, each ended by itself after {@code bound} at the latest. */
    public static CpuHog start(int n, Duration bound) {
        CpuHog hog = new CpuHog();
        try {
            for (int i = 0; i < n; i++) {
                hog.procs.add(new ProcessBuilder("/bin/bash", "-c", "SECONDS=0; while (( SECONDS < "
                        + Math.max(1, bound.toSeconds()) + " )); do :; done").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
            }
        } catch (IOException e) {
            hog.close();
            throw new IllegalStateException("cannot start the CPU hog: " + e.getMessage(), e);
        }
        return hog;
    }

    /** How many busy loops run. */
    public int size() {
        return procs.size();
    }

    /** The 1-minute load average now, as the kernel says ({@code /proc/loadavg}); NaN when it cannot be read. */
    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Ends every loop and waits (at most 10 s) until each is gone. Safe to call twice. */
    @Override
    public void close() {
        procs.forEach(Process::destroyForcibly);
        for (Process p : procs) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("a CPU hog process (pid " + p.pid() + ") did not end");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        procs.clear();
    }
}
