package io.smartsim.launch.spec;

import java.time.Instant;
import java.util.Optional;

/**
 * The process whose life a watchdog follows when it renews the lease ({@code --lease}): the one that ran
 * {@code db start} (a shell, a batch script).
 *
 * @param pid   its process id
 * @param start its start time, so that a later process reusing the pid does not count; empty if unknown
 */
public record LeaseController(long pid, Optional<Instant> start) {
    public LeaseController {
        start = start == null ? Optional.empty() : start;
    }

    /** The parent of this process (the shell or script that ran it), if it has one. */
    public static Optional<LeaseController> parentOfThisProcess() {
        return ProcessHandle.current().parent().map(p -> new LeaseController(p.pid(), p.info().startInstant()));
    }

    /** Whether it still runs: a pid that no longer exists, or now names another process, is gone. */
    public boolean alive() {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(h -> start.isEmpty()
                || h.info().startInstant().isEmpty() || h.info().startInstant().equals(start)).isPresent();
    }
}
