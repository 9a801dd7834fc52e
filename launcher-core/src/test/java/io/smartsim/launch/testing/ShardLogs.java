package io.smartsim.launch.testing;

import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ShardPlan;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;

import static org.assertj.core.api.Assertions.assertThat;

/** What the shards' own logs say about how they ended, for tests that must tell a clean stop from the kill path. */
public final class ShardLogs {
    private ShardLogs() {
    }

    /**
     * Each shard of {@code plan} ended on the {@code SHUTDOWN} command (its log says it is ready to exit, and no signal
     * was received), not on the SIGTERM a stop sends once its grace has run out, or a scheduler's cancel sends. How long
     * the stop took says nothing about this on a busy machine; the server's log does.
     */
    public static void endedByShutdownCommand(LaunchPlan plan) {
        for (ShardPlan s : plan.shards()) {
            String log;
            try {
                log = Files.readString(s.logPath());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            assertThat(log).as("log of %s (%s)", s.name(), s.logPath()).contains("ready to exit")
                    .doesNotContain("Received SIGTERM").doesNotContain("Received SIGINT");
        }
    }
}
