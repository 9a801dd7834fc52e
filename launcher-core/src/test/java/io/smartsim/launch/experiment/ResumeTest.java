package io.smartsim.launch.experiment;

import io.smartsim.launch.spec.Backend;
import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.error.StateException;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.ShardData;
import io.smartsim.launch.status.Status;
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
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pure half of a resume: compatibility with the previous record, and which data each slot range comes from. */
class ResumeTest {
    private static final Path EXP = Path.of("/scratch/exp");
    private static final Checkpoint EVERY = Checkpoint.every(Duration.ofMinutes(5));

    private static LaunchPlan plan(int shards, Checkpoint cp, Backend backend) {
        OrchestratorSpec.Builder b = OrchestratorSpec.builder().id("db").instancesPerNode(shards).backend(backend);
        if (cp != null) {
            b.checkpoint(cp);
        }
        return Planner.plan("demo", EXP, b.build(), new Placement(Collections.nCopies(1,
                new Placement.Node("localhost", List.of("127.0.0.1")))), Optional.of(new Credentials("smartsim", "0123456789abcdef0123456789abcdef")));
    }

    private static OrchestratorRecord record(LaunchPlan p, List<ShardData> data) {
        return new OrchestratorRecord("db", "local", Status.STOPPED, p.spec(), p, List.of(), Instant.EPOCH,
                Optional.empty(), data);
    }

    @Test
    void eachShardResumesFromItsOwnDirectoryByDefault() {
        LaunchPlan before = plan(3, EVERY, Backend.REDIS);
        // A lost allocation: only the planned paths were recorded (at start).
        List<ShardData> planned = Resume.planned(before, List.of());
        List<Resume.Source> s = Resume.choose(Optional.of(record(before, planned)), plan(3, EVERY, Backend.REDIS));
        assertThat(s).extracting(Resume.Source::from).containsExactly(Path.of("/scratch/exp/db/db_0/dump.rdb"),
                Path.of("/scratch/exp/db/db_1/dump.rdb"), Path.of("/scratch/exp/db/db_2/dump.rdb"));
        assertThat(s).allSatisfy(x -> assertThat(x.from()).isEqualTo(x.to()));
        assertThat(s).extracting(Resume.Source::slots).containsExactly(List.of(new SlotRange(0, 5461)),
                List.of(new SlotRange(5462, 10922)), List.of(new SlotRange(10923, 16383)));
    }

    @Test
    void theProcessSeenServingARangeLastWinsThenTheNewestSave() {
        // The hook for replicas: a process recorded at stop as master of shard 1's range (as a promoted replica
        // would be) is where that range resumes from; with two such records, the newest save wins.
        LaunchPlan before = plan(3, EVERY, Backend.REDIS);
        List<SlotRange> r1 = List.of(new SlotRange(5462, 10922));
        ShardData stale = new ShardData(1, "db_1", Checkpoint.Kind.RDB, Path.of("/scratch/exp/db/db_1/dump.rdb"),
                Optional.of(Instant.parse("2026-01-01T00:00:00Z")), Optional.of(10L), r1, Optional.empty());
        ShardData promoted = new ShardData(4, "db_4", Checkpoint.Kind.RDB, Path.of("/scratch/exp/db/db_4/dump.rdb"),
                Optional.of(Instant.parse("2026-01-01T01:00:00Z")), Optional.of(10L), r1, Optional.empty());
        List<Resume.Source> s = Resume.choose(Optional.of(record(before, List.of(stale, promoted))),
                plan(3, EVERY, Backend.REDIS));
        assertThat(s.get(1).from()).isEqualTo(Path.of("/scratch/exp/db/db_4/dump.rdb"));
        assertThat(s.get(1).to()).isEqualTo(Path.of("/scratch/exp/db/db_1/dump.rdb"));
        assertThat(s.get(1).recorded()).contains(promoted);
        assertThat(s.get(0).from()).isEqualTo(Path.of("/scratch/exp/db/db_0/dump.rdb"));
    }

    @Test
    void afterALostAllocationTheNewestDataAmongAMasterAndItsReplicasWins() {
        // 3 masters x 1 replica: shard 3 replicates 0, 4 replicates 1, 5 replicates 2. Nothing recorded at stop (the
        // allocation was lost); shard 4 (a replica promoted when shard 1 died) wrote last for range 1.
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").instancesPerNode(3).replicas(1).checkpoint(EVERY)
                .build();
        LaunchPlan before = Planner.plan("demo", EXP, spec, new Placement(List.of(new Placement.Node("localhost",
                List.of("127.0.0.1")))), Optional.of(new Credentials("smartsim", "0123456789abcdef0123456789abcdef")));
        OrchestratorRecord prev = record(before, Resume.planned(before, List.of()));
        java.util.Map<Path, Instant> written = java.util.Map.of(
                Path.of("/scratch/exp/db/db_1/dump.rdb"), Instant.parse("2026-01-01T00:00:00Z"),
                Path.of("/scratch/exp/db/db_4/dump.rdb"), Instant.parse("2026-01-01T01:00:00Z"),
                Path.of("/scratch/exp/db/db_0/dump.rdb"), Instant.parse("2026-01-01T02:00:00Z"),
                Path.of("/scratch/exp/db/db_3/dump.rdb"), Instant.parse("2026-01-01T01:00:00Z"),
                Path.of("/scratch/exp/db/db_5/dump.rdb"), Instant.parse("2026-01-01T03:00:00Z"));
        java.util.function.Function<Path, Optional<Instant>> at = p -> Optional.ofNullable(written.get(p));
        assertThat(Resume.lastServer(prev, before.shards().get(1).slots(), 1, at).path())
                .isEqualTo(Path.of("/scratch/exp/db/db_4/dump.rdb"));
        assertThat(Resume.lastServer(prev, before.shards().get(0).slots(), 0, at).path())
                .isEqualTo(Path.of("/scratch/exp/db/db_0/dump.rdb"));
        // Shard 2 itself left no file; its replica's is the data there is.
        assertThat(Resume.lastServer(prev, before.shards().get(2).slots(), 2, at).path())
                .isEqualTo(Path.of("/scratch/exp/db/db_5/dump.rdb"));
        // No data anywhere: the planned master's path, and it starts empty.
        assertThat(Resume.lastServer(prev, before.shards().get(2).slots(), 2, p -> Optional.empty()).path())
                .isEqualTo(Path.of("/scratch/exp/db/db_2/dump.rdb"));
    }

    @Test
    void incompatibleStartsAreRefusedNamingBothSidesAndTheFix() {
        LaunchPlan three = plan(3, EVERY, Backend.REDIS);
        Optional<OrchestratorRecord> prev = Optional.of(record(three, List.of()));
        assertThatThrownBy(() -> Resume.choose(prev, plan(4, EVERY, Backend.REDIS)))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("kept its data in 3 shard(s) (1 node(s) x 3 per node) but this start plans 4 "
                        + "(1 x 4)").hasMessageContaining("--nodes 1 --per-node 3");
        assertThatThrownBy(() -> Resume.choose(prev, plan(1, EVERY, Backend.REDIS)))
                .hasMessageContaining("plans 1 (1 x 1)");
        assertThatThrownBy(() -> Resume.choose(prev, plan(3, Checkpoint.aof(), Backend.REDIS)))
                .hasMessageContaining("checkpoint").hasMessageContaining("kept RDB snapshots (--checkpoint every=5m) "
                        + "but this start has --checkpoint aof").hasMessageContaining("resume with --checkpoint every=");
        assertThatThrownBy(() -> Resume.choose(prev, plan(3, null, Backend.REDIS)))
                .hasMessageContaining("but this start has no --checkpoint");
        assertThatThrownBy(() -> Resume.choose(prev, plan(3, EVERY, Backend.KEYDB)))
                .hasMessageContaining("used redis but this start asks for keydb")
                .hasMessageContaining("--backend redis");
        assertThatThrownBy(() -> Resume.choose(Optional.empty(), three)).isInstanceOf(StateException.class)
                .hasMessageContaining("nothing to resume: no orchestrator 'db' is recorded in /scratch/exp");
        assertThatThrownBy(() -> Resume.choose(Optional.of(record(plan(3, null, Backend.REDIS), List.of())), three))
                .isInstanceOf(StateException.class).hasMessageContaining("ran without --checkpoint");
    }

    private static LaunchPlan remotePlan(String remote) {
        OrchestratorSpec.Builder b = OrchestratorSpec.builder().id("db").launcher("slurm").instancesPerNode(3)
                .checkpoint(EVERY);
        if (remote != null) {
            b.launcherOption("remote", remote);
        }
        return Planner.plan("demo", EXP, b.build(), new Placement(Collections.nCopies(1,
                new Placement.Node("n1", List.of("10.0.0.1")))), Optional.of(new Credentials("smartsim",
                "0123456789abcdef0123456789abcdef")));
    }

    @Test
    void dataKeptBehindALoginNodeIsResumedThroughThatLoginNodeOrWhereverItIsVisible(
            @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Optional<OrchestratorRecord> remote = Optional.of(record(remotePlan("me@login1"), List.of()));
        assertThat(Resume.choose(remote, remotePlan("me@login1"))).hasSize(3);
        assertThat(Resume.choose(remote, remotePlan("ssh://me@login1"))).as("the default scheme written out").hasSize(3);
        // Its data is not on this machine (nothing under /scratch here): refused, naming both sides and the fix.
        assertThatThrownBy(() -> Resume.choose(remote, remotePlan(null))).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("launcherOptions.remote")
                .hasMessageContaining("kept its data on the cluster behind --remote me@login1 but this start has no "
                        + "--remote, and none of its data is on localhost under /scratch/exp/db")
                .hasMessageContaining("resume with --remote me@login1");
        assertThatThrownBy(() -> Resume.choose(Optional.of(record(remotePlan(null), List.of())),
                remotePlan("me@login2"))).hasMessageContaining("kept its data on this machine's file system (no "
                + "--remote) but this start goes through --remote me@login2").hasMessageContaining("resume without "
                + "--remote");
        // Now working on the login node itself, where the data is: resumed without --remote.
        LaunchPlan there = Planner.plan("demo", dir, remotePlan(null).spec(), new Placement(Collections.nCopies(1,
                new Placement.Node("n1", List.of("10.0.0.1")))), Optional.of(new Credentials("smartsim",
                "0123456789abcdef0123456789abcdef")));
        LaunchPlan ranRemote = Planner.plan("demo", dir, remotePlan("me@login1").spec(), new Placement(Collections
                .nCopies(1, new Placement.Node("n1", List.of("10.0.0.1")))), Optional.of(new Credentials("smartsim",
                "0123456789abcdef0123456789abcdef")));
        java.nio.file.Files.createDirectories(dir.resolve("db/db_1"));
        java.nio.file.Files.write(dir.resolve("db/db_1/dump.rdb"), new byte[10]);
        assertThat(Resume.choose(Optional.of(record(ranRemote, List.of())), there, DataFiles.local())).hasSize(3);
    }

    @Test
    void dataRecordedAsSavedThatIsNotThereFailsTheResumeInsteadOfStartingEmpty(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        Path here = dir.resolve("db/db_0/dump.rdb");
        ShardData saved = new ShardData(0, "db_0", Checkpoint.Kind.RDB, here, Optional.of(Instant.EPOCH),
                Optional.of(20530L), List.of(new SlotRange(0, 16383)), Optional.of("saved by SHUTDOWN SAVE at stop"));
        Resume.Source source = new Resume.Source(0, List.of(new SlotRange(0, 16383)), here, here, Optional.of(saved));
        List<String> progress = new java.util.ArrayList<>();
        assertThatThrownBy(() -> Resume.place(List.of(source), progress::add, DataFiles.local()))
                .isInstanceOf(StateException.class)
                .hasMessageContaining("cannot resume shard 0: its data was saved at stop (saved by SHUTDOWN SAVE at "
                        + "stop, 20530 bytes) to " + here + ", but there is no such data on localhost")
                .hasMessageContaining("the same --remote");
        // Never saved (a lost allocation before the first snapshot): the shard starts empty, and says so.
        Resume.place(List.of(new Resume.Source(0, source.slots(), here, here, Optional.empty())), progress::add,
                DataFiles.local());
        assertThat(progress).containsExactly("shard 0: no data at " + here + " (nothing was saved before it stopped); "
                + "it starts empty");
        java.nio.file.Files.createDirectories(here.getParent());
        java.nio.file.Files.write(here, new byte[10]);
        Resume.place(List.of(source), progress::add, DataFiles.local());
        assertThat(progress.get(1)).startsWith("shard 0 (slots 0-16383): resuming from " + here + " (10 bytes, ");
    }
}
