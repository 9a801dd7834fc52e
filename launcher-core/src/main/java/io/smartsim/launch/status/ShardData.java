package io.smartsim.launch.status;

import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.planned.SlotRange;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where one shard keeps its data ({@code --checkpoint}) and what the launcher knows of its last save, as the
 * manifest records it: the paths at start, the rest at stop. After a lost allocation only the paths are known;
 * the files themselves tell the rest.
 *
 * @param index    shard index in the plan
 * @param name     shard name
 * @param kind     RDB snapshot or AOF
 * @param path     the RDB file, Redis 7's AOF directory or KeyDB's AOF file
 * @param savedAt  when its data was last made durable, where known (the stop's save, INFO persistence, the file)
 * @param bytes    size of the data on disk, where known
 * @param served   the slots it served as a master when last seen (at stop); empty when not seen
 * @param lastSave what is known of the last save, in words (for example "saved by SHUTDOWN SAVE at stop")
 */
public record ShardData(int index, String name, Checkpoint.Kind kind, Path path, Optional<Instant> savedAt,
                        Optional<Long> bytes, List<SlotRange> served, Optional<String> lastSave) {
    public ShardData {
        savedAt = savedAt == null ? Optional.empty() : savedAt;
        bytes = bytes == null ? Optional.empty() : bytes;
        served = List.copyOf(served == null ? List.of() : served);
        lastSave = lastSave == null ? Optional.empty() : lastSave;
    }

    /** A shard's data path as planned, before anything is known of its saves. */
    public static ShardData planned(int index, String name, Checkpoint.Kind kind, Path path) {
        return new ShardData(index, name, kind, path, Optional.empty(), Optional.empty(), List.of(), Optional.empty());
    }
}
