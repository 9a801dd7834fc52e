package io.smartsim.launch.supervise;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * A second process appending to an events log, for {@link EventLogTest}: {@code EventLogWriter FILE MAX_BYTES KEEP
 * TAG COUNT} appends COUNT events whose detail is {@code TAG:i}, i from 0, with the given rotation settings.
 */
public final class EventLogWriter {
    private EventLogWriter() {
    }

    public static void main(String[] args) {
        EventLog log = new EventLog(Path.of(args[0]), Long.parseLong(args[1]), Integer.parseInt(args[2]));
        String tag = args[3];
        int count = Integer.parseInt(args[4]);
        for (int i = 0; i < count; i++) {
            log.append(new Event(Instant.now(), "db", Event.SHARD_DOWN, Optional.of(i % 16), tag + ":" + i));
        }
    }
}
