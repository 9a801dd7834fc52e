package io.smartsim.launch.supervise;

import io.smartsim.launch.status.Event;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A second process appending to an events log, for {@link EventLogTest}: {@code EventLogWriter FILE MAX_BYTES KEEP
 * TAG COUNT SYNC_DIR TAGS} appends COUNT events whose detail is {@code TAG:i}, i from 0, with the given rotation
 * settings, meeting the other writers (TAGS, comma-separated) in SYNC_DIR before its first line and at its half way
 * ({@link #meet}), so that every writer's lines lie between the others' first and last ones.
 */
public final class EventLogWriter {
    /** How long a writer waits for the others at a meeting point before it gives up (and the test fails). */
    static final long MEET_WAIT_SECONDS = 60;

    private EventLogWriter() {
    }

    public static void main(String[] args) throws Exception {
        EventLog log = new EventLog(Path.of(args[0]), Long.parseLong(args[1]), Integer.parseInt(args[2]));
        write(log, args[3], Integer.parseInt(args[4]), Path.of(args[5]), List.of(args[6].split(",")));
    }

    /** Appends {@code count} lines {@code tag:i}, meeting the other writers at the start and after the first half. */
    static void write(EventLog log, String tag, int count, Path sync, List<String> tags) throws Exception {
        meet(sync, "ready", tag, tags);
        for (int i = 0; i < count; i++) {
            if (i == count / 2) {
                meet(sync, "half", tag, tags); // every writer has written its first half: the rest overlaps theirs
            }
            log.append(new Event(Instant.now(), "db", Event.SHARD_DOWN, Optional.of(i % 16), tag + ":" + i));
        }
    }

    /**
     * Says {@code tag} reached {@code stage} (a file {@code tag.stage} in {@code sync}), then waits until every writer
     * of {@code tags} has: a barrier across threads and processes (the bash writer makes the same files).
     */
    static void meet(Path sync, String stage, String tag, List<String> tags) throws IOException, InterruptedException {
        Files.createFile(sync.resolve(tag + "." + stage));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(MEET_WAIT_SECONDS);
        while (!tags.stream().allMatch(t -> Files.exists(sync.resolve(t + "." + stage)))) {
            if (System.nanoTime() > until) {
                throw new IllegalStateException(tag + ": the other writers did not reach '" + stage + "' within "
                        + MEET_WAIT_SECONDS + " s");
            }
            Thread.sleep(5);
        }
    }
}
