package io.smartsim.launch.local;

import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.error.ClusterFormingException;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.error.StateException;
import io.smartsim.launch.status.ShardHealth;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.ShardData;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisCluster;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code --checkpoint} and {@code resume} against real redis-server processes: data kept by a stop and by a lost
 * allocation (every shard SIGKILLed), brought back key for key into a cluster that {@code redis-cli} accepts.
 */
class CheckpointIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;

    private int ports(int count) {
        return leftovers.freeBase(count);
    }

    private static OrchestratorSpec spec(int base, int shards, Checkpoint checkpoint) {
        return OrchestratorSpec.builder().id("db").instancesPerNode(shards).port(base).checkpoint(checkpoint).build();
    }

    private static void write(Orchestrator db, int from, int to) {
        try (JedisCluster jc = new JedisCluster(Set.of(hostPort(db)), LocalOrchestratorIT.login(db))) {
            for (int i = from; i < to; i++) {
                jc.set("key:" + i, "value-" + i);
            }
        }
    }

    /** Every key of [from, to) has its value, read through a cluster client as a model would. */
    private static void assertAllBack(Orchestrator db, int from, int to) {
        List<Integer> missing = new ArrayList<>();
        try (JedisCluster jc = new JedisCluster(Set.of(hostPort(db)), LocalOrchestratorIT.login(db))) {
            for (int i = from; i < to; i++) {
                if (!("value-" + i).equals(jc.get("key:" + i))) {
                    missing.add(i);
                }
            }
        }
        assertThat(missing).as("keys not back").isEmpty();
    }

    private static HostAndPort hostPort(Orchestrator db) {
        LaunchedShard s = db.shards().get(0);
        return new HostAndPort(s.host(), s.port());
    }

    private static void assertRedisCliCheckPasses(Orchestrator db) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("redis-cli", "--user", "smartsim", "--cluster", "check",
                db.addresses().get(0)).redirectErrorStream(true);
        pb.environment().put("REDISCLI_AUTH", db.plan().auth().orElseThrow().password());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("[OK] All nodes agree about slots configuration.", "[OK] All 16384 slots covered.");
    }

    /** Polls every shard until its last snapshot holds every change ({@code rdb_changes_since_last_save:0}). */
    private static void awaitSnapshot(Orchestrator db) throws InterruptedException {
        Credentials c = db.plan().auth().orElseThrow();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (LaunchedShard s : db.shards()) {
            while (true) {
                try (Jedis j = new Jedis(s.host(), s.port())) {
                    j.auth(c.user(), c.password());
                    String info = j.info("persistence");
                    if (info.contains("rdb_changes_since_last_save:0\r") && info.contains("rdb_bgsave_in_progress:0")
                            && info.contains("rdb_last_bgsave_status:ok")) {
                        break;
                    }
                }
                assertThat(System.nanoTime()).as("shard %d took a snapshot within 20 s", s.index()).isLessThan(until);
                Thread.sleep(50);
            }
        }
    }

    private OrchestratorRecord record() {
        return new ManifestStore(dir).read().orElseThrow().find("db").orElseThrow();
    }

    private static String perms(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void rdbSnapshotsSurviveAStopAndResumeBringsEveryKeyBack() throws Exception {
        int base = ports(3);
        try (Experiment exp = Experiment.create("ck", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(base, 3, Checkpoint.every(Duration.ofSeconds(1))));
            exp.start(db);
            write(db, 0, 6000);
            awaitSnapshot(db); // a snapshot holds the first 6000 ...
            write(db, 6000, 6300); // ... and these only the stop's SHUTDOWN SAVE may have written
            exp.stop(db);
        }
        OrchestratorRecord stopped = record();
        assertThat(stopped.status()).isEqualTo(Status.STOPPED);
        assertThat(stopped.data()).hasSize(3).allSatisfy(d -> {
            assertThat(d.kind()).isEqualTo(Checkpoint.Kind.RDB);
            assertThat(d.path()).exists().hasFileName("dump.rdb");
            assertThat(d.lastSave()).contains("saved by SHUTDOWN SAVE at stop");
            assertThat(d.savedAt()).isPresent();
            assertThat(d.bytes()).hasValueSatisfying(b -> assertThat(b).isGreaterThan(1000));
        });
        assertThat(stopped.data()).extracting(ShardData::served).containsExactly(List.of(new SlotRange(0, 5461)),
                List.of(new SlotRange(5462, 10922)), List.of(new SlotRange(10923, 16383)));
        for (ShardData d : stopped.data()) {
            assertThat(perms(d.path())).as("%s", d.path()).isEqualTo("rw-------");
            assertThat(perms(d.path().getParent())).as("%s", d.path().getParent()).isEqualTo("rwx------");
        }

        // A new process, as 'db start --resume' is: only the manifest and the files tell it anything.
        List<String> progress = new ArrayList<>();
        try (Experiment exp = Experiment.create("ck", dir, progress::add)) {
            Orchestrator db = exp.createOrchestrator(spec(base, 3, Checkpoint.every(Duration.ofSeconds(1))));
            exp.resume(db);
            assertAllBack(db, 0, 6300);
            assertRedisCliCheckPasses(db);
            assertThat(db.health().shards()).extracting(ShardHealth::keys).allSatisfy(k -> assertThat(k).isPositive());
            assertThat(db.health().shards().stream().mapToLong(ShardHealth::keys).sum()).isEqualTo(6300);
            assertThat(progress).anySatisfy(l -> assertThat(l).startsWith("shard 0 (slots 0-5461): resuming from "
                    + dir.toRealPath().resolve("db/db_0/dump.rdb")));
            // The stopped run's log stays beside the new one: how the last run ended is still there to read.
            Path log = dir.resolve("db/db_0/db_0.log");
            assertThat(Files.readString(log.resolveSibling("db_0.log.1"))).contains("User requested shutdown",
                    "DB saved on disk");
            assertThat(Files.readString(log)).contains("DB loaded from disk").doesNotContain("User requested shutdown");
            exp.stop(db);
        }
    }

    @Test
    void aofKeepsEveryAcknowledgedWriteThroughALostAllocation() throws Exception {
        int base = ports(3);
        try (Experiment exp = Experiment.create("ck", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(base, 3, Checkpoint.aof()));
            exp.start(db);
            write(db, 0, 5000);
            // Every acknowledged write in the AOF files, which a SIGKILL keeps: looked for there, not guessed from a pause.
            io.smartsim.launch.testing.DataChecks.awaitAllInAppendOnlyFiles(db);
            // The allocation is lost: every shard SIGKILLed, nothing saved at a stop.
            for (LaunchedShard s : db.shards()) {
                ProcessHandle h = ProcessHandle.of(s.pid().orElseThrow()).orElseThrow();
                h.destroyForcibly();
                h.onExit().get(10, TimeUnit.SECONDS);
            }
            exp.detach(db); // its processes are gone; closing must not try to stop them
            assertThat(exp.status("db").state()).isEqualTo("STALE");
        }
        Path aofDir = dir.resolve("db/db_1/appendonlydir");
        assertThat(perms(aofDir)).isEqualTo("rwx------");
        try (Stream<Path> files = Files.list(aofDir)) {
            for (Path f : files.toList()) {
                assertThat(perms(f)).as("%s", f).isEqualTo("rw-------");
            }
        }
        // A new allocation gets other addresses: here, other ports. The data follows the shard index, not the port.
        int moved = ports(3);
        try (Experiment exp = Experiment.create("ck", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(moved, 3, Checkpoint.aof()));
            exp.resume(db);
            assertThat(db.addresses()).containsExactly("127.0.0.1:" + moved, "127.0.0.1:" + (moved + 1),
                    "127.0.0.1:" + (moved + 2));
            assertAllBack(db, 0, 5000);
            assertRedisCliCheckPasses(db);
            exp.stop(db);
        }
        OrchestratorRecord r = record();
        assertThat(r.data()).hasSize(3).allSatisfy(d -> assertThat(d.lastSave()).hasValueSatisfying(
                s -> assertThat(s).startsWith("AOF flushed and fsynced by SHUTDOWN at stop")));
    }

    /**
     * Replicas and a lost allocation: a master dies, its replica takes over and takes more writes, then every process
     * is SIGKILLed. Nothing was recorded at a stop, so resume must pick, for that range, the promoted replica's newer
     * data over its dead master's older file.
     */
    @Test
    void withReplicasAResumeAfterALostAllocationTakesThePromotedReplicasNewerData() throws Exception {
        int base = ports(6);
        try (Experiment exp = Experiment.create("ck", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(base, 3, Checkpoint.aof()).toBuilder().replicas(1).build());
            exp.start(db);
            write(db, 0, 3000);
            // On every replica and in every AOF, masters' and replicas': not guessed from a pause.
            io.smartsim.launch.testing.DataChecks.awaitReplicatedAndWritten(db);
            LaunchedShard master1 = db.shards().get(1);
            ProcessHandle h = ProcessHandle.of(master1.pid().orElseThrow()).orElseThrow();
            h.destroyForcibly();
            h.onExit().get(10, TimeUnit.SECONDS);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            while (!exp.status("db").serving()) {
                assertThat(System.nanoTime()).as("a replica took over within 40 s").isLessThan(until);
                Thread.sleep(200);
            }
            write(db, 3000, 4000); // a third of these only the promoted replica (shard 4) ever holds
            io.smartsim.launch.testing.DataChecks.awaitReplicatedAndWritten(db);
            for (LaunchedShard s : db.shards()) {
                if (s.index() != 1) {
                    ProcessHandle p = ProcessHandle.of(s.pid().orElseThrow()).orElseThrow();
                    p.destroyForcibly();
                    p.onExit().get(10, TimeUnit.SECONDS);
                }
            }
            exp.detach(db);
        }
        int moved = ports(6);
        try (Experiment exp = Experiment.create("ck", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(moved, 3, Checkpoint.aof()).toBuilder().replicas(1).build());
            exp.resume(db);
            assertAllBack(db, 0, 4000);
            assertRedisCliCheckPasses(db);
            exp.stop(db);
        }
    }

    @Test
    void aStandaloneShardResumesToo() throws Exception {
        int base = ports(1);
        Checkpoint aof = Checkpoint.aof();
        try (Experiment exp = Experiment.create("ck", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(base, 1, aof));
            exp.start(db);
            try (Jedis j = new Jedis(db.shards().get(0).host(), base)) {
                j.auth("smartsim", db.plan().auth().orElseThrow().password());
                for (int i = 0; i < 1000; i++) {
                    j.set("key:" + i, "value-" + i);
                }
            }
            exp.stop(db);
        }
        try (Experiment exp = Experiment.create("ck", dir)) {
            Orchestrator db = exp.resume("db"); // the Java API's default: the spec the manifest recorded
            assertThat(db.spec()).isEqualTo(spec(base, 1, aof));
            assertThat(db.dbType()).isEqualTo("Standalone");
            try (Jedis j = new Jedis(db.shards().get(0).host(), base)) {
                j.auth("smartsim", db.plan().auth().orElseThrow().password());
                assertThat(j.dbSize()).isEqualTo(1000);
                assertThat(j.get("key:999")).isEqualTo("value-999");
            }
            exp.stop(db);
        }
    }

    @Test
    void resumeRefusesAnotherLayoutDataOfAnotherShardAndNothingToResumeStartingNothing() throws Exception {
        int base = ports(4);
        Checkpoint every = Checkpoint.every(Duration.ofSeconds(1));
        try (Experiment exp = Experiment.create("ck", dir)) {
            // The first run of an id: nothing to resume.
            Orchestrator first = exp.createOrchestrator(spec(base, 3, every));
            assertThatThrownBy(() -> exp.resume(first)).isInstanceOf(StateException.class)
                    .hasMessageContaining("nothing to resume: no orchestrator 'db' is recorded in")
                    .hasMessageContaining("start it without --resume");
            assertNothingRuns(base, 4);
            exp.start(first);
            write(first, 0, 500);
            exp.stop(first);
        }
        try (Experiment exp = Experiment.create("ck", dir)) {
            Orchestrator four = exp.createOrchestrator(spec(base, 4, every));
            assertThatThrownBy(() -> exp.resume(four)).isInstanceOf(InvalidSpecException.class)
                    .hasMessageContaining("kept its data in 3 shard(s) (1 node(s) x 3 per node) but this start plans "
                            + "4 (1 x 4)").hasMessageContaining("--nodes 1 --per-node 3");
            assertNothingRuns(base, 4);
        }
        try (Experiment exp = Experiment.create("ck", dir)) {
            Orchestrator aof = exp.createOrchestrator(spec(base, 3, Checkpoint.aof()));
            assertThatThrownBy(() -> exp.resume(aof)).isInstanceOf(InvalidSpecException.class)
                    .hasMessageContaining("resume with --checkpoint every=DURATION");
        }
        try (Experiment exp = Experiment.create("ck", dir)) {
            // A plain start over kept data would load it silently: refused, naming the way out.
            Orchestrator fresh = exp.createOrchestrator(spec(base, 3, every));
            assertThatThrownBy(() -> exp.start(fresh)).isInstanceOf(StateException.class)
                    .hasMessageContaining("has data from an earlier run").hasMessageContaining("--resume");
            assertNothingRuns(base, 4);
        }
        assertThat(record().status()).isEqualTo(Status.STOPPED); // the refusals left the record as it was

        // Shard 0's data in shard 1's place: shard 1 claims slots the plan gives to shard 0. Refused, all stopped.
        Path d0 = dir.resolve("db/db_0/dump.rdb");
        Path d1 = dir.resolve("db/db_1/dump.rdb");
        Path tmp = dir.resolve("swap.rdb");
        Files.move(d0, tmp);
        Files.move(d1, d0);
        Files.move(tmp, d1);
        try (Experiment exp = Experiment.create("ck", dir)) {
            Orchestrator swapped = exp.createOrchestrator(spec(base, 3, every));
            assertThatThrownBy(() -> exp.resume(swapped)).isInstanceOf(ClusterFormingException.class)
                    .hasMessageContaining("already owns slots").hasMessageContaining("outside its planned slots")
                    .hasMessageContaining("belongs to another shard");
            assertNothingRuns(base, 4);
        }
    }

    private static void assertNothingRuns(int base, int count) {
        List<Integer> ports = Processes.range(base, count);
        assertThat(Processes.serversOn(ports)).isEmpty();
        ports.forEach(p -> assertThat(Processes.free("127.0.0.1", p)).as("port %d free", p).isTrue());
    }
}
