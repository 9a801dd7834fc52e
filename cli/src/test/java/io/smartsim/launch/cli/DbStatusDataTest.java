package io.smartsim.launch.cli;

import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.status.ShardData;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code db status} of an orchestrator with {@code --checkpoint}: the data kept, and shards whose save went wrong. */
class DbStatusDataTest {
    private static ShardData data(int i, long bytes, String savedAt, String words) {
        return new ShardData(i, "db_" + i, Checkpoint.Kind.RDB, Path.of("/exp/db/db_" + i + "/dump.rdb"),
                Optional.of(Instant.parse(savedAt)), Optional.of(bytes), List.of(), Optional.of(words));
    }

    @Test
    void oneLineForTheDataAndOneForEachShardWhoseSaveFailed() {
        DbStatusCommand.Entry e = new DbStatusCommand.Entry("db", "local", "STOPPED", "STOPPED", false, null, "",
                List.of(), List.of(), null).withData(List.of(
                        data(0, 1024, "2026-11-25T21:00:00Z", "saved by SHUTDOWN SAVE at stop"),
                        data(1, 2048, "2026-11-25T20:59:00Z", "refused to shut down (ERR Errors trying to SHUTDOWN. "
                                + "Check logs.; its log says why); its data is as of its last good save")));
        String text = DbStatusCommand.render(new DbStatusCommand.Report("exp", Path.of("/exp/manifest.json"), false,
                List.of(e)));
        assertThat(text).isEqualTo("""
                orchestrator 'db' of experiment 'exp': STOPPED
                  launcher local, recorded STOPPED
                  data (RDB): 2 of 2 shard(s) with data on record, 3.0 KiB, oldest save 2026-11-25T20:59:00Z; under /exp/db
                  data of shard 1: refused to shut down (ERR Errors trying to SHUTDOWN. Check logs.; its log says why); its data is as of its last good save
                """);
    }
}
