package io.smartsim.launch.spec;


import io.smartsim.launch.error.InvalidSpecException;
import java.time.Duration;
import java.util.Optional;

/**
 * How shards persist their data under the experiment directory ({@code --checkpoint}): an RDB snapshot every
 * {@code every} ({@code every=5m}), or an append-only file ({@code aof}).
 *
 * @param kind  RDB snapshots or AOF
 * @param every for RDB, the interval between snapshots; empty for AOF
 */
public record Checkpoint(Kind kind, Optional<Duration> every) {
    public enum Kind { RDB, AOF }

    public Checkpoint {
        if (kind == null) throw new InvalidSpecException("checkpoint", "missing kind; use every=DURATION or aof");
        every = every == null ? Optional.empty() : every;
        if (kind == Kind.RDB) {
            Duration d = every.orElseThrow(() -> new InvalidSpecException("checkpoint",
                    "an RDB checkpoint needs an interval; use every=DURATION, for example every=5m"));
            if (d.toSeconds() < 1) {
                throw new InvalidSpecException("checkpoint", "every=" + Durations.format(d) + " is shorter than a "
                        + "second; Redis snapshots at most once per second, use every=1s or more");
            }
        } else if (every.isPresent()) {
            throw new InvalidSpecException("checkpoint", "aof takes no interval (Redis fsyncs the file every second); "
                    + "use aof or every=DURATION");
        }
    }

    public static Checkpoint every(Duration d) {
        return new Checkpoint(Kind.RDB, Optional.of(d));
    }

    public static Checkpoint aof() {
        return new Checkpoint(Kind.AOF, Optional.empty());
    }

    /** Reads {@code every=DURATION} or {@code aof}. */
    public static Checkpoint parse(String text) {
        String t = text == null ? "" : text.strip();
        if (t.equalsIgnoreCase("aof")) return aof();
        if (t.regionMatches(true, 0, "every=", 0, 6)) return every(Durations.parse("checkpoint", t.substring(6)));
        throw new InvalidSpecException("checkpoint", "'" + text + "' is not a checkpoint mode; use every=DURATION "
                + "(an RDB snapshot, for example every=5m) or aof (an append-only file)");
    }

    @Override
    public String toString() {
        return kind == Kind.AOF ? "aof" : "every=" + Durations.format(every.orElseThrow());
    }
}
