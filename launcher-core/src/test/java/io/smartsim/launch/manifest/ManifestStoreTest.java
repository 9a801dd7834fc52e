package io.smartsim.launch.manifest;

import io.smartsim.launch.status.Status;
import io.smartsim.launch.error.ManifestException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.spi.LaunchedShard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ManifestStoreTest {
    @TempDir
    Path dir;

    private OrchestratorRecord record() {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").instancesPerNode(3).maxMemory("1gb")
                .startupTimeout(Duration.ofSeconds(30)).build();
        LaunchPlan plan = Planner.plan("demo", dir, spec, new Placement(List.of(
                new Placement.Node("localhost", List.of("127.0.0.1")))));
        List<LaunchedShard> shards = List.of(new LaunchedShard(0, "db_0", "127.0.0.1", 6780, Optional.of(42L),
                Optional.of(Instant.parse("2026-01-01T00:00:00Z")), Map.of("node", "0")));
        return new OrchestratorRecord("db", "local", Status.RUNNING, spec, plan, shards,
                Instant.parse("2026-01-01T00:00:01Z"), Optional.empty());
    }

    @Test
    void recordsRoundTripExactly() {
        ManifestStore store = new ManifestStore(dir);
        assertThat(store.read()).isEmpty();
        OrchestratorRecord rec = record();
        store.update("demo", m -> m.with(rec));
        Manifest back = store.read().orElseThrow();
        assertThat(back.experiment()).isEqualTo("demo");
        assertThat(back.find("db")).contains(rec);
    }

    @Test
    void updatesReplaceByIdAndKeepOthers() {
        ManifestStore store = new ManifestStore(dir);
        OrchestratorRecord rec = record();
        store.update("demo", m -> m.with(rec));
        store.update("demo", m -> m.with(rec.withStatus(Status.STOPPED, Optional.empty())));
        assertThat(store.read().orElseThrow().orchestrators()).singleElement()
                .extracting(OrchestratorRecord::status).isEqualTo(Status.STOPPED);
    }

    @Test
    void anUpdateBuildsOnWhatOthersWroteSinceThisStoresLastWrite() throws Exception {
        ManifestStore ours = new ManifestStore(dir);
        OrchestratorRecord rec = record();
        ours.update("demo", m -> m.with(rec));
        // another process (its own store) adds a record: our next update keeps it
        OrchestratorRecord other = new OrchestratorRecord("other", "local", Status.STOPPED, rec.spec(), rec.plan(),
                List.of(), rec.updated(), Optional.empty());
        new ManifestStore(dir).update("demo", m -> m.with(other));
        ours.update("demo", m -> m.with(rec.withStatus(Status.STOPPED, Optional.empty())));
        assertThat(ours.read().orElseThrow().orchestrators()).extracting(OrchestratorRecord::id)
                .containsExactly("db", "other");
        // an edit by hand that changes one value: the next update starts from it
        Path file = dir.resolve("manifest.json");
        Files.writeString(file, Files.readString(file).replace("\"experiment\" : \"demo\"",
                "\"experiment\" : \"renamed\""));
        Manifest next = ours.update("demo", m -> m);
        assertThat(next.experiment()).isEqualTo("renamed");
        // a file removed by hand: the update starts from an empty manifest, not from what this store wrote
        Files.delete(file);
        assertThat(ours.update("demo", m -> m).orchestrators()).isEmpty();
        // and a file broken by hand since is an error, not what this store wrote before
        ours.update("demo", m -> m.with(rec));
        Files.writeString(file, "{ oops");
        assertThatThrownBy(() -> ours.update("demo", m -> m)).isInstanceOf(ManifestException.class)
                .hasMessageContaining("is not a valid smartsim-launch manifest");
    }

    @Test
    void garbageIsAClearErrorWithTheLocation() throws Exception {
        Files.writeString(dir.resolve("manifest.json"), "{\"version\": 1,\n \"experiment\": \"x\",\n oops }");
        assertThatThrownBy(() -> new ManifestStore(dir).read()).isInstanceOf(ManifestException.class)
                .hasMessageContaining("is not a valid smartsim-launch manifest at line 3")
                .hasMessageContaining("move it aside");
    }

    @Test
    void emptyFileAndWrongVersionAreClearErrors() throws Exception {
        Files.writeString(dir.resolve("manifest.json"), "");
        assertThatThrownBy(() -> new ManifestStore(dir).read()).isInstanceOf(ManifestException.class)
                .hasMessageContaining("is not a valid smartsim-launch manifest at line 1");
        Files.writeString(dir.resolve("manifest.json"), "{\"version\": 99, \"experiment\": \"x\"}");
        assertThatThrownBy(() -> new ManifestStore(dir).read()).isInstanceOf(ManifestException.class)
                .hasMessageContaining("format version 99");
    }

    @Test
    void invalidContentsInsideValidJsonAreClearErrors() throws Exception {
        Files.writeString(dir.resolve("manifest.json"), "{\"version\": 1, \"experiment\": \"x\", \"orchestrators\": "
                + "[{\"id\": \"db\", \"status\": \"DANCING\"}]}");
        assertThatThrownBy(() -> new ManifestStore(dir).read()).isInstanceOf(ManifestException.class)
                .hasMessageContaining("manifest");
    }
}
