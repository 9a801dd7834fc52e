package io.smartsim.launch;

import io.smartsim.launch.supervise.Watchdog;

import java.util.Optional;

/**
 * How an orchestrator started by an {@link Experiment} is kept and supervised ({@code --restart on-failure},
 * {@code --lease}), chosen once, before it starts: in this process while the experiment is open (stopped by its close
 * and by the JVM's exit), or detached, left running and supervised by a watchdog process of its own
 * ({@code watchdog}'s command) that outlives this one. Nothing is started for one and torn down for the other.
 *
 * @param watchdog the watchdog process's command when detached; empty in process
 */
record Supervise(Optional<Watchdog.Command> watchdog) {
    static final Supervise IN_PROCESS = new Supervise(Optional.empty());

    static Supervise detached(Watchdog.Command watchdog) {
        return new Supervise(Optional.of(watchdog));
    }

    boolean detached() {
        return watchdog.isPresent();
    }
}
