package io.smartsim.launch.spec;


import io.smartsim.launch.error.InvalidSpecException;
import java.time.Duration;

/**
 * Whether the per-shard collector runs while the orchestrator runs ({@code --telemetry on|off}, default on) and how
 * often it samples each shard ({@code --telemetry-interval}, default 5 s). It runs in whatever supervises the
 * orchestrator: the open {@link Experiment}, or the detached watchdog process ({@code db watch}); see
 * docs/telemetry.md.
 *
 * @param on       record samples under {@code <expDir>/telemetry/}
 * @param interval time between two samples of a shard
 */
public record TelemetrySpec(boolean on, Duration interval) {
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
    /** Below this the collector itself becomes a load on the shards (one INFO per shard per interval). */
    public static final Duration MIN_INTERVAL = Duration.ofMillis(100);
    public static final TelemetrySpec DEFAULT = new TelemetrySpec(true, DEFAULT_INTERVAL);
    public static final TelemetrySpec OFF = new TelemetrySpec(false, DEFAULT_INTERVAL);

    public TelemetrySpec {
        interval = interval == null ? DEFAULT_INTERVAL : interval;
        if (interval.compareTo(MIN_INTERVAL) < 0) {
            throw new InvalidSpecException("telemetry-interval", Durations.format(interval) + " is too short: give "
                    + MIN_INTERVAL.toMillis() + "ms or more, for example 5s (or --telemetry off to record nothing)");
        }
    }

    /** {@code on} or {@code off}, as {@code --telemetry} takes it. */
    public static boolean parseSwitch(String text) {
        if ("on".equals(text)) {
            return true;
        }
        if ("off".equals(text)) {
            return false;
        }
        throw new InvalidSpecException("telemetry", "'" + text + "' is not on or off; give --telemetry on (the "
                + "default: samples every shard every few seconds) or --telemetry off");
    }

    /** As {@code --telemetry} and {@code --telemetry-interval} give them; either may be absent (null). */
    public static TelemetrySpec parse(String onOff, String interval) {
        return new TelemetrySpec(onOff == null || parseSwitch(onOff),
                interval == null ? DEFAULT_INTERVAL : Durations.parse("telemetry-interval", interval));
    }

    public String describe() {
        return on ? "on, every " + Durations.format(interval) : "off";
    }
}
