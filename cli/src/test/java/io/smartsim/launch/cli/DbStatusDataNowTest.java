package io.smartsim.launch.cli;

import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.status.ShardDataNow;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code db status} of a running AOF orchestrator: its data on disk now, one shard not answering. */
class DbStatusDataNowTest {
    @Test
    void aofDataNowPerShardWithDashesForWhatIsNotKnown() {
        Path under = Path.of("/exp/db");
        List<ShardDataNow> now = List.of(
                new ShardDataNow(0, "db_0", Checkpoint.Kind.AOF, under.resolve("db_0/appendonlydir"),
                        Optional.of(2048L), Optional.of(Instant.parse("2026-12-06T00:40:12.734Z")), Optional.empty(),
                        Optional.of("ok"), Optional.empty(), false, Map.of("aof_last_write_status", "ok")),
                new ShardDataNow(1, "db_1", Checkpoint.Kind.AOF, under.resolve("db_1/appendonlydir"),
                        Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                        false, Map.of()));
        StringBuilder sb = new StringBuilder();
        DbStatusCommand.renderDataNow(sb, now);
        assertThat(sb.toString()).isEqualTo("""
                  data (AOF) now: 1 of 2 shard(s) with data on disk, 2.0 KiB; under /exp/db
                    SHARD  FILE                ON DISK  WRITTEN               LAST SAVE  STATUS  UNSAVED
                    0      db_0/appendonlydir  2.0 KiB  2026-12-06T00:40:12Z  -          ok      -
                    1      db_1/appendonlydir  -        -                     -          -       -
                """);
    }
}
