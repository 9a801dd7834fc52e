package io.smartsim.launch.experiment;

import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.spi.LaunchedShard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The manifest records of one orchestrator's life, as {@link Recorder} writes them: read back from the file. */
class RecorderTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @TempDir
    Path dir;

    private LaunchPlan plan(Optional<Duration> lease) {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").instancesPerNode(3).auth(false)
                .lease(lease.orElse(null)).build();
        return Planner.plan("demo", dir, spec, new Placement(List.of(
                new Placement.Node("localhost", List.of("127.0.0.1")))));
    }

    private static LaunchedShard shard(int index, long pid) {
        return new LaunchedShard(index, "db_" + index, "127.0.0.1", 6780 + index, Optional.of(pid), Optional.empty(),
                Map.of());
    }

    private OrchestratorRecord read(ManifestStore store) {
        return store.read().flatMap(m -> m.find("db")).orElseThrow();
    }

    @Test
    void aStartIsRecordedStartingThenShardByShardThenRunning() {
        ManifestStore store = new ManifestStore(dir);
        Recorder recorder = new Recorder(store, "demo");
        LaunchPlan plan = plan(Optional.of(Duration.ofMinutes(5)));
        OrchestratorRecord starting = recorder.starting(plan, "local", T0, List.of());
        assertThat(read(store)).isEqualTo(starting);
        assertThat(starting.status()).isEqualTo(Status.STARTING);
        assertThat(starting.shards()).isEmpty();
        assertThat(starting.supervision()).as("the events log and lease file, for a later process")
                .hasValueSatisfying(s -> assertThat(s.leaseFile()).isPresent());
        assertThat(store.read().orElseThrow().experiment()).isEqualTo("demo");

        recorder.spawned(starting, shard(0, 100));
        recorder.spawned(starting, shard(1, 101));
        recorder.spawned(starting, shard(0, 200)); // shard 0 reported again (it landed): replaces its entry
        assertThat(read(store).shards()).extracting(s -> s.pid().orElseThrow()).containsExactlyInAnyOrder(200L, 101L);
        assertThat(read(store).status()).isEqualTo(Status.STARTING);

        List<LaunchedShard> all = List.of(shard(0, 200), shard(1, 101), shard(2, 102));
        recorder.running(starting, all);
        assertThat(read(store).status()).isEqualTo(Status.RUNNING);
        assertThat(read(store).shards()).isEqualTo(all);

        recorder.restarted("db", shard(1, 301));
        assertThat(read(store).shards()).extracting(s -> s.pid().orElseThrow()).containsExactly(200L, 301L, 102L);
    }

    @Test
    void aFailedStartKeepsTheShardsItRecordedWithTheError() {
        ManifestStore store = new ManifestStore(dir);
        Recorder recorder = new Recorder(store, "demo");
        OrchestratorRecord starting = recorder.starting(plan(Optional.empty()), "local", T0, List.of());
        recorder.spawned(starting, shard(0, 100));
        recorder.failed(starting, "shard 1 did not answer PING");
        OrchestratorRecord r = read(store);
        assertThat(r.status()).isEqualTo(Status.FAILED);
        assertThat(r.error()).hasValue("shard 1 did not answer PING");
        assertThat(r.shards()).as("what a cleanup would look for").containsExactly(shard(0, 100));
    }

    @Test
    void aRestartOfAnOrchestratorNoLongerRecordedChangesNothing() {
        ManifestStore store = new ManifestStore(dir);
        Recorder recorder = new Recorder(store, "demo");
        recorder.restarted("gone", shard(0, 100));
        assertThat(store.read().orElseThrow().orchestrators()).isEmpty();
    }

    @Test
    void aStopIsRecordedWithItsTime() {
        ManifestStore store = new ManifestStore(dir);
        Recorder recorder = new Recorder(store, "demo");
        LaunchPlan plan = plan(Optional.empty());
        OrchestratorRecord starting = recorder.starting(plan, "local", T0, List.of());
        recorder.running(starting, List.of(shard(0, 1), shard(1, 2), shard(2, 3)));
        recorder.ended("db", Status.STOPPED, Optional.empty(), plan, List.of(), T0.plusSeconds(60), Map.of());
        assertThat(read(store).status()).isEqualTo(Status.STOPPED);
        assertThat(read(store).error()).isEmpty();
        recorder.ended("other", Status.STOPPED, Optional.empty(), plan, List.of(), T0, Map.of());
        assertThat(store.read().orElseThrow().orchestrators()).as("no entry made up for an unknown id").hasSize(1);
    }
}
