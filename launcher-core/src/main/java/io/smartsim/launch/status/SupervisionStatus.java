package io.smartsim.launch.status;

import io.smartsim.launch.spec.RestartPolicy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What {@code db status} and the API ({@code Experiment.supervision}) show about the supervision of one orchestrator.
 *
 * @param restart       the restart policy
 * @param lease         the lease duration; empty without {@code --lease}
 * @param leaseExpiry   when the lease runs out (as the lease file says); empty without a lease
 * @param leaseExpired  whether it has run out
 * @param watchdogPid   the detached watchdog process, if one was recorded
 * @param watchdogAlive whether that process still runs
 * @param events        the events log, oldest first
 */
public record SupervisionStatus(RestartPolicy restart, Optional<Duration> lease, Optional<Instant> leaseExpiry,
                                boolean leaseExpired, Optional<Long> watchdogPid, boolean watchdogAlive,
                                List<Event> events) {
    public SupervisionStatus {
        events = List.copyOf(events);
    }
}
