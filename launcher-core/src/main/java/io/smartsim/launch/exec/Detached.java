package io.smartsim.launch.exec;

import java.time.Duration;
import java.util.Optional;

/**
 * A process started by {@link CommandRunner#spawn} that outlives the call that started it (an in-allocation
 * {@code srun}, a run command): on this machine a {@link DetachedProcess}, on a login node a process of its own
 * session there.
 */
public interface Detached {
    /** How the process ended ("exited with code 1"), once it has; empty while it runs. */
    Optional<String> exit();

    /** The process on this machine, when it runs on this machine (its pid and start time identify it here). */
    default Optional<Process> local() {
        return Optional.empty();
    }

    /**
     * As {@link #local()}, waiting up to {@code wait} for a process that is being started (a {@link DetachedProcess}
     * is started on a thread of its own: for a moment after it runs, {@link #local()} may not know it yet).
     */
    default Optional<Process> local(Duration wait) throws InterruptedException {
        return local();
    }

    /** Its process id where commands run (this machine, or the login node), when known. */
    default Optional<Long> pid() {
        return local().map(Process::pid);
    }

    /** Sends SIGTERM, waits up to {@code grace}, then SIGKILL. Safe to call when it has already ended. */
    void terminate(Duration grace) throws InterruptedException;
}
