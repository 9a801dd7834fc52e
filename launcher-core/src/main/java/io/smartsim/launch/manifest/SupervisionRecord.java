package io.smartsim.launch.manifest;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * What supervises an orchestrator, as the manifest records it, so that a later {@code db stop}, {@code db cleanup}
 * or {@code db status} from any process can find it.
 *
 * @param events        the events log ({@code <dir>/<id>/events.jsonl})
 * @param leaseFile     the lease file under {@code --lease}; its contents say when the lease runs out
 * @param watchdogPid   the detached watchdog process ({@code db watch}) that {@code db start} left, if any
 * @param watchdogStart its start time, to tell it from a later process that reuses the pid
 * @param watchdogLog   its log file
 * @param watchdogHost  the host it runs on (a pid means nothing elsewhere)
 */
public record SupervisionRecord(Path events, Optional<Path> leaseFile, Optional<Long> watchdogPid,
                                Optional<Instant> watchdogStart, Optional<Path> watchdogLog,
                                Optional<String> watchdogHost) {
    public SupervisionRecord {
        watchdogHost = watchdogHost == null ? Optional.empty() : watchdogHost;
        leaseFile = leaseFile == null ? Optional.empty() : leaseFile;
        watchdogPid = watchdogPid == null ? Optional.empty() : watchdogPid;
        watchdogStart = watchdogStart == null ? Optional.empty() : watchdogStart;
        watchdogLog = watchdogLog == null ? Optional.empty() : watchdogLog;
    }

    /** This record with the watchdog process {@code pid}. */
    public SupervisionRecord withWatchdog(long pid, Optional<Instant> start, Path log, String host) {
        return new SupervisionRecord(events, leaseFile, Optional.of(pid), start, Optional.of(log), Optional.of(host));
    }
}
