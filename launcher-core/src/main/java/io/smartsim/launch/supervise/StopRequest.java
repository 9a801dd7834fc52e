package io.smartsim.launch.supervise;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * {@code <experiment dir>/<id>/watchdog.stop}: written by {@code db stop} and {@code db cleanup} before they stop the
 * shards, so that a watchdog they cannot signal (it runs on another host) restarts nothing and ends. A start removes
 * it. The watchdog heeds only a request made after it started.
 */
final class StopRequest {
    static final String FILE = "watchdog.stop";
    /** How long a stop waits for a watchdog on another host to notice (it checks every second). */
    static final Duration GRACE = Duration.ofSeconds(3);

    private StopRequest() {
    }

    static void write(Path orchestratorDir) {
        try {
            Files.createDirectories(orchestratorDir);
            Files.writeString(orchestratorDir.resolve(FILE), Instant.now() + "\n");
        } catch (IOException e) {
            // the signal (same host) or the manifest's status (every second) still ends the watchdog
        }
    }

    static void clear(Path orchestratorDir) {
        try {
            Files.deleteIfExists(orchestratorDir.resolve(FILE));
        } catch (IOException e) {
            // a stale request older than the next watchdog is ignored by it anyway
        }
    }

    /** Whether a stop was requested after {@code since}. */
    static boolean since(Path orchestratorDir, Instant since) {
        try {
            return Files.getLastModifiedTime(orchestratorDir.resolve(FILE)).toInstant().isAfter(since);
        } catch (IOException e) {
            return false;
        }
    }
}
