package io.smartsim.launch.telemetry;

import io.smartsim.launch.planned.Access;
import io.smartsim.launch.spec.TelemetrySpec;
import io.smartsim.launch.status.ShardSample;
import io.smartsim.launch.status.TelemetryStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.SortedMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * {@link TelemetryFiles#latest}: each shard's last sample from the end of the files, whatever their length; and
 * {@link TelemetryFiles#status}, what {@code Experiment.telemetry} hands {@code db status}.
 */
class TelemetryFilesLatestTest {
    @TempDir
    Path exp;

    private static ShardSample sample(int shard, long second, long used) {
        ShardTarget t = new ShardTarget("exp", "db", shard, "127.0.0.1", 6380 + shard, "n" + shard, Access.NONE);
        return InfoSample.of(Instant.ofEpochSecond(second), t, 1, "role:master\nused_memory:" + used + "\n");
    }

    @Test
    void nothingRecordedIsEmpty() {
        assertThat(TelemetryFiles.latest(exp, "db")).isEmpty();
    }

    @Test
    void theLastSampleOfEachShardFromALongFileReadFromItsEndOnly() throws Exception {
        TelemetryFiles.Writer w = new TelemetryFiles.Writer(exp, "db", 64L << 20, 1);
        int n = 0;
        while (Files.notExists(TelemetryFiles.current(exp, "db"))
                || Files.size(TelemetryFiles.current(exp, "db")) < 3L * TelemetryFiles.TAIL_BYTES) {
            for (int shard = 0; shard < 3; shard++) {
                w.append(sample(shard, n, 1000 + n));
            }
            n++;
        }
        w.append(sample(1, n, 7)); // shard 1 once more, last
        SortedMap<Integer, ShardSample> latest = TelemetryFiles.latest(exp, "db");
        assertThat(latest.keySet()).containsExactly(0, 1, 2);
        assertThat(latest.get(0).usedMemory()).isEqualTo(1000L + n - 1);
        assertThat(latest.get(1).usedMemory()).isEqualTo(7L);
        assertThat(latest.get(2).time()).isEqualTo(Instant.ofEpochSecond(n - 1));
    }

    @Test
    void rightAfterARotationTheNewestRotatedFileAnswers() throws Exception {
        TelemetryFiles.Writer w = new TelemetryFiles.Writer(exp, "db", 4096, 2);
        int n = 0;
        while (Files.notExists(TelemetryFiles.rotated(exp, "db", 1))) {
            w.append(sample(0, n, n));
            n++;
        }
        // The sample that rotated the file is in the new current file; empty the current file as a rotation that has
        // just happened would leave it.
        Files.writeString(TelemetryFiles.current(exp, "db"), "");
        assertThat(TelemetryFiles.latest(exp, "db").get(0).usedMemory()).isEqualTo(n - 2L);
    }

    @Test
    void theStatusIsTheRecordedSettingTheCurrentFileAndEachShardsLastSampleInShardOrder() throws Exception {
        TelemetryFiles.Writer w = new TelemetryFiles.Writer(exp, "db", 64L << 20, 1);
        w.append(sample(1, 10, 100));
        w.append(sample(0, 11, 200));
        w.append(sample(1, 12, 300));
        TelemetryStatus s = TelemetryFiles.status(exp, "db", new TelemetrySpec(false, Duration.ofSeconds(2)));
        assertThat(s.on()).isFalse();
        assertThat(s.interval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.file()).isEqualTo(TelemetryFiles.current(exp, "db"));
        assertThat(s.latest()).extracting(ShardSample::shard, ShardSample::usedMemory)
                .containsExactly(tuple(0, 200L), tuple(1, 300L));
    }

    @Test
    void theStatusOfAnOrchestratorWithNothingRecordedHasNoSampleAndNamesTheFileToCome() {
        TelemetryStatus s = TelemetryFiles.status(exp, "db", TelemetrySpec.DEFAULT);
        assertThat(s.on()).isTrue();
        assertThat(s.interval()).isEqualTo(TelemetrySpec.DEFAULT_INTERVAL);
        assertThat(s.file()).isEqualTo(exp.toAbsolutePath().normalize().resolve("telemetry/db.jsonl"));
        assertThat(s.latest()).isEmpty();
    }
}
