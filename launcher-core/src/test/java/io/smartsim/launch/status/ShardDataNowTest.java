package io.smartsim.launch.status;

import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.cluster.InfoParser;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** What {@code db status} makes of a running shard's data file and its {@code INFO persistence} (issue 14 point 5). */
class ShardDataNowTest {
    /**
     * INFO persistence of Redis 7.0.15 (Debian 12) with {@code save 1 1}: one snapshot, then one more write; captured
     * with redis-cli on this machine, plus a line of another section.
     */
    private static final String REDIS_RDB = """
            # Persistence\r
            loading:0\r
            async_loading:0\r
            current_cow_peak:0\r
            current_cow_size:0\r
            current_cow_size_age:0\r
            current_fork_perc:0.00\r
            current_save_keys_processed:0\r
            current_save_keys_total:0\r
            rdb_changes_since_last_save:1\r
            rdb_bgsave_in_progress:0\r
            rdb_last_save_time:1796516462\r
            rdb_last_bgsave_status:ok\r
            rdb_last_bgsave_time_sec:0\r
            rdb_current_bgsave_time_sec:-1\r
            rdb_saves:1\r
            rdb_last_cow_size:208896\r
            rdb_last_load_keys_expired:0\r
            rdb_last_load_keys_loaded:0\r
            aof_enabled:0\r
            aof_rewrite_in_progress:0\r
            aof_rewrite_scheduled:0\r
            aof_last_rewrite_time_sec:-1\r
            aof_current_rewrite_time_sec:-1\r
            aof_last_bgrewrite_status:ok\r
            aof_rewrites:0\r
            aof_rewrites_consecutive_failures:0\r
            aof_last_write_status:ok\r
            aof_last_cow_size:0\r
            module_fork_in_progress:0\r
            module_fork_last_cow_size:0\r
            # Stats\r
            total_connections_received:9\r
            """;

    @Test
    void rdbShowsTheLastSaveItsStatusAndTheWritesNotOnDiskYet() {
        Map<String, String> info = ShardHealth.persistenceOf(InfoParser.parse(REDIS_RDB));
        assertThat(info).doesNotContainKeys("total_connections_received", "current_cow_peak", "module_fork_in_progress")
                .containsEntry("rdb_saves", "1").containsEntry("loading", "0");
        ShardDataNow d = ShardDataNow.of(0, "db_0", Checkpoint.Kind.RDB, Path.of("/e/db/db_0/dump.rdb"),
                Optional.of(60_000L), Optional.of(Instant.parse("2026-12-06T00:40:12Z")), info);
        assertThat(d.lastSave()).contains(Instant.ofEpochSecond(1796516462L));
        assertThat(d.status()).contains("ok");
        assertThat(d.changesSinceSave()).contains(1L);
        assertThat(d.saving()).isFalse();
        assertThat(d.bytes()).contains(60_000L);
    }

    @Test
    void aofShowsTheWriteStatusAndAFailedRewriteBesideIt() {
        Map<String, String> info = Map.of("aof_enabled", "1", "aof_last_write_status", "ok",
                "aof_last_bgrewrite_status", "err", "aof_rewrite_in_progress", "1", "rdb_last_save_time", "1796524812");
        ShardDataNow d = ShardDataNow.of(1, "db_1", Checkpoint.Kind.AOF, Path.of("/e/db/db_1/appendonlydir"),
                Optional.of(123L), Optional.empty(), info);
        assertThat(d.status()).contains("ok, last rewrite err");
        assertThat(d.lastSave()).as("an AOF is written continuously: no save time").isEmpty();
        assertThat(d.changesSinceSave()).isEmpty();
        assertThat(d.saving()).isTrue();
    }

    @Test
    void aShardThatDidNotAnswerHasOnlyItsFile() {
        ShardDataNow d = ShardDataNow.of(2, "db_2", Checkpoint.Kind.RDB, Path.of("/e/db/db_2/dump.rdb"),
                Optional.empty(), Optional.empty(), Map.of());
        assertThat(d.status()).isEmpty();
        assertThat(d.lastSave()).isEmpty();
        assertThat(d.bytes()).isEmpty();
    }
}
