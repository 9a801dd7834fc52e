package io.smartsim.launch.status;

import io.smartsim.launch.spec.Checkpoint;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * One running shard's checkpoint data as {@code db status} sees it now ({@code --checkpoint}): what is on disk at its
 * data path, and what the server says of its saves ({@code INFO persistence}). The manifest's {@link ShardData}
 * holds what was known at start and stop; this is read at each status.
 *
 * @param index            shard index in the plan
 * @param name             shard name
 * @param kind             RDB snapshot or AOF
 * @param path             the RDB file, Redis 7's AOF directory or KeyDB's AOF file
 * @param bytes            size on disk now (a directory: its files together); empty when nothing is there yet
 * @param written          when the data on disk last changed (the newest file's time)
 * @param lastSave         RDB: {@code rdb_last_save_time}, when the server's data last equalled the file (its start,
 *                         before a first snapshot); empty for AOF, which writes continuously
 * @param status           {@code rdb_last_bgsave_status} (RDB) or {@code aof_last_write_status} (AOF), with the last
 *                         rewrite's status beside it when that failed; empty when the shard did not answer
 * @param changesSinceSave RDB: {@code rdb_changes_since_last_save}, the writes not on disk yet
 * @param saving           a snapshot (RDB) or rewrite (AOF) is running now
 * @param info             the save-related {@code INFO persistence} fields as the server gave them, by name
 */
public record ShardDataNow(int index, String name, Checkpoint.Kind kind, Path path, Optional<Long> bytes,
                           Optional<Instant> written, Optional<Instant> lastSave, Optional<String> status,
                           Optional<Long> changesSinceSave, boolean saving, Map<String, String> info) {
    public ShardDataNow {
        bytes = bytes == null ? Optional.empty() : bytes;
        written = written == null ? Optional.empty() : written;
        lastSave = lastSave == null ? Optional.empty() : lastSave;
        status = status == null ? Optional.empty() : status;
        changesSinceSave = changesSinceSave == null ? Optional.empty() : changesSinceSave;
        info = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(info == null ? Map.of() : info));
    }

    /** From the file's facts ({@code bytes}, {@code written}) and the shard's {@code INFO persistence} fields. */
    public static ShardDataNow of(int index, String name, Checkpoint.Kind kind, Path path, Optional<Long> bytes,
                           Optional<Instant> written, Map<String, String> info) {
        boolean rdb = kind == Checkpoint.Kind.RDB;
        Optional<String> status;
        if (info.isEmpty()) {
            status = Optional.empty();
        } else if (rdb) {
            status = Optional.ofNullable(info.get("rdb_last_bgsave_status"));
        } else {
            String rewrite = info.getOrDefault("aof_last_bgrewrite_status", "ok");
            status = Optional.ofNullable(info.get("aof_last_write_status"))
                    .map(w -> "ok".equals(rewrite) ? w : w + ", last rewrite " + rewrite);
        }
        return new ShardDataNow(index, name, kind, path, bytes, written,
                rdb ? number(info, "rdb_last_save_time").map(Instant::ofEpochSecond) : Optional.empty(), status,
                rdb ? number(info, "rdb_changes_since_last_save") : Optional.empty(),
                number(info, rdb ? "rdb_bgsave_in_progress" : "aof_rewrite_in_progress").orElse(0L) > 0, info);
    }

    private static Optional<Long> number(Map<String, String> info, String key) {
        try {
            return Optional.ofNullable(info.get(key)).map(v -> Long.parseLong(v.strip()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
