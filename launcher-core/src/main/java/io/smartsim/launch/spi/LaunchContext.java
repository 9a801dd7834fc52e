package io.smartsim.launch.spi;

import io.smartsim.launch.util.Deadline;

import java.util.function.Consumer;

/**
 * What a launch is given besides its plan.
 *
 * @param deadline one deadline for the whole launch; launchers pass it down, never start their own
 * @param progress short human-readable progress lines ("shard 2 up on 127.0.0.1:6782")
 * @param spawned  told about each shard process as soon as it exists, so the caller can clean up after a crash; a
 *                 launcher that {@link Launcher#holdsUntilRecorded holds} its shards keeps each once this returned
 */
public record LaunchContext(Deadline deadline, Consumer<String> progress, Consumer<LaunchedShard> spawned) {
}
