package io.smartsim.launch.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Ends server processes this benchmark started and that are still running: those whose working directory is under
 * the benchmark's own scratch directory (redis-server rewrites its command line, so that cannot tell). Other
 * engineers' processes never match.
 */
final class Leftovers {
    private Leftovers() {
    }

    static int kill(Path scratch) {
        Path mark = scratch.toAbsolutePath().normalize();
        List<ProcessHandle> mine = ProcessHandle.allProcesses()
                .filter(h -> cwd(h.pid()).map(d -> d.startsWith(mark)).orElse(false))
                .filter(h -> h.pid() != ProcessHandle.current().pid())
                .toList();
        mine.forEach(ProcessHandle::destroy);
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        for (ProcessHandle h : mine) {
            while (h.isAlive() && System.nanoTime() < until) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (h.isAlive()) {
                h.destroyForcibly();
            }
        }
        return mine.size();
    }

    private static java.util.Optional<Path> cwd(long pid) {
        try {
            return java.util.Optional.of(java.nio.file.Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd")));
        } catch (java.io.IOException | SecurityException e) {
            return java.util.Optional.empty();
        }
    }
}
