package io.smartsim.launch.status;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The per-shard collector of one orchestrator ({@code --telemetry}, docs/telemetry.md) as {@code db status} shows it:
 * whether it records, how often, its current file, and each shard's last recorded sample.
 *
 * @param on       whether the collector records this orchestrator ({@code --telemetry on}, the default)
 * @param interval time between two samples of a shard ({@code --telemetry-interval})
 * @param file     the current file of its samples, {@code <expDir>/telemetry/<id>.jsonl}, whether it exists yet or not
 * @param latest   the last recorded sample of each shard, by shard index; empty when nothing was recorded
 */
public record TelemetryStatus(boolean on, Duration interval, Path file, List<ShardSample> latest) {
    public TelemetryStatus {
        latest = List.copyOf(latest);
    }
}
