package io.smartsim.launch.telemetry;

import java.time.Duration;

/**
 * How often to sample and how much to keep.
 *
 * @param interval    time between two samples of a shard (default 5 s)
 * @param callTimeout how long one shard's {@code INFO} (connect, AUTH and the call) may take before the shard is
 *                    recorded as unreachable (default 1 s). Longer than the interval is allowed: a hung shard's next
 *                    sample then simply comes late; the other shards' do not
 * @param maxFileBytes size at which an orchestrator's file is rotated (default 4 MiB)
 * @param keptFiles   rotated files kept beside the current one (default 3): at most
 *                    {@code (keptFiles + 1) x maxFileBytes} (plus one line) per orchestrator
 */
public record TelemetryOptions(Duration interval, Duration callTimeout, long maxFileBytes, int keptFiles) {
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
    public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(1);
    public static final long DEFAULT_MAX_FILE_BYTES = 4L << 20;
    public static final int DEFAULT_KEPT_FILES = 3;

    public TelemetryOptions {
        if (interval == null || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("telemetry interval must be positive, got " + interval
                    + "; give a duration such as 5s");
        }
        if (callTimeout == null || callTimeout.isNegative() || callTimeout.isZero()) {
            throw new IllegalArgumentException("telemetry call timeout must be positive, got " + callTimeout);
        }
        if (maxFileBytes < 1024) {
            throw new IllegalArgumentException("telemetry file size must be at least 1024 bytes, got " + maxFileBytes);
        }
        if (keptFiles < 0) {
            throw new IllegalArgumentException("telemetry kept files must be 0 or more, got " + keptFiles);
        }
    }

    public static TelemetryOptions defaults() {
        return new TelemetryOptions(DEFAULT_INTERVAL, DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_FILE_BYTES, DEFAULT_KEPT_FILES);
    }

    public TelemetryOptions withInterval(Duration d) {
        return new TelemetryOptions(d, callTimeout, maxFileBytes, keptFiles);
    }

    public TelemetryOptions withCallTimeout(Duration d) {
        return new TelemetryOptions(interval, d, maxFileBytes, keptFiles);
    }

    public TelemetryOptions withRotation(long bytes, int kept) {
        return new TelemetryOptions(interval, callTimeout, bytes, kept);
    }
}
