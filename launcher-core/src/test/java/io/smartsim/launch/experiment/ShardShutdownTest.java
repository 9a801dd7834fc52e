package io.smartsim.launch.experiment;

import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.ShardData;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.planned.Credentials;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** What a stop records of each shard's data, from what the shards told (the live half is in CheckpointIT). */
class ShardShutdownTest {
    private static final Instant STOP = Instant.parse("2026-11-25T21:00:00Z");

    private static LaunchPlan plan() {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").instancesPerNode(3)
                .checkpoint(Checkpoint.every(Duration.ofMinutes(5))).build();
        return Planner.plan("demo", Path.of("/nonexistent/exp"), spec, new Placement(Collections.nCopies(1,
                new Placement.Node("localhost", List.of("127.0.0.1")))),
                Optional.of(new Credentials("smartsim", "0123456789abcdef0123456789abcdef")));
    }

    @Test
    void eachShardsRecordSaysHowItsLastSaveWent() {
        List<SlotRange> r0 = List.of(new SlotRange(0, 5461));
        List<ShardShutdown.Outcome> outcomes = List.of(
                new ShardShutdown.Outcome(0, Map.of(), r0, true, Optional.empty()),
                new ShardShutdown.Outcome(1, Map.of("rdb_last_save_time", "1764100000"), List.of(), false,
                        Optional.of("refused to shut down (ERR Errors trying to SHUTDOWN. Check logs.; its log says "
                                + "why); its data is as of its last good save")));
        ShardData before = new ShardData(2, "db_2", Checkpoint.Kind.RDB, Path.of("/old"), Optional.empty(),
                Optional.empty(), List.of(new SlotRange(10923, 16383)), Optional.empty());
        List<ShardData> d = ShardShutdown.records(plan(), outcomes, List.of(before), STOP);
        assertThat(d).extracting(ShardData::path).containsExactly(Path.of("/nonexistent/exp/db/db_0/dump.rdb"),
                Path.of("/nonexistent/exp/db/db_1/dump.rdb"), Path.of("/nonexistent/exp/db/db_2/dump.rdb"));
        assertThat(d.get(0).savedAt()).contains(STOP);
        assertThat(d.get(0).lastSave()).contains("saved by SHUTDOWN SAVE at stop");
        assertThat(d.get(0).served()).isEqualTo(r0);
        assertThat(d.get(1).savedAt()).contains(Instant.ofEpochSecond(1764100000));
        assertThat(d.get(1).lastSave()).hasValueSatisfying(s -> assertThat(s).startsWith("refused to shut down"));
        // Not seen at stop (its process was gone): what was known before stays, the rest from its file (none here).
        assertThat(d.get(2).lastSave()).contains("not seen at stop");
        assertThat(d.get(2).served()).isEqualTo(before.served());
        assertThat(d.get(2).savedAt()).isEmpty();
        assertThat(d.get(2).bytes()).isEmpty();
    }

    @Test
    void bigShardsGetLongerToSave() {
        assertThat(ShardShutdown.saveTimeout(Map.of())).isEqualTo(Duration.ofMinutes(2));
        assertThat(ShardShutdown.saveTimeout(Map.of("used_memory", "1073741824"))).isEqualTo(Duration.ofMinutes(2));
        assertThat(ShardShutdown.saveTimeout(Map.of("used_memory", Long.toString(20L << 30))))
                .isEqualTo(Duration.ofSeconds(2048));
    }
}
