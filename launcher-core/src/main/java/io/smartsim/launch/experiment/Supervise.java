package io.smartsim.launch.experiment;

import io.smartsim.launch.spec.WatchdogCommand;

import java.util.Optional;

/**
 * How an orchestrator started by an {@code Experiment} is kept and supervised ({@code --restart on-failure},
 * {@code --lease}), chosen once, before it starts: in this process while the experiment is open (stopped by its close
 * and by the JVM's exit), or detached, left running and supervised by a watchdog process of its own
 * ({@code watchdog}'s command) that outlives this one. Nothing is started for one and torn down for the other.
 *
 * @param watchdog the watchdog process's command when detached; empty in process
 */
public record Supervise(Optional<WatchdogCommand> watchdog) {
    public static final Supervise IN_PROCESS = new Supervise(Optional.empty());

    public static Supervise detached(WatchdogCommand watchdog) {
        return new Supervise(Optional.of(watchdog));
    }

    public boolean detached() {
        return watchdog.isPresent();
    }
}
