package io.smartsim.launch.ssh;

import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.ShardData;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.DataChecks;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --checkpoint} and {@code resume} with the ssh launcher: shards on 127.0.1.1-3 through the loopback sshd,
 * whose hosts share this machine's file system, the shared-file-system setup checkpoints need with this launcher
 * (docs/ssh.md). After a {@code db stop} (which saves) and after a lost "allocation" (every shard SIGKILLed), a
 * resume in a new {@link Experiment}, as {@code db start --resume} is, brings every key back.
 */
@TestbedLock(value = TestbedLock.Bed.SSH, shared = true)
class SshCheckpointIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;
    private final List<String> progress = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void sshdUp() {
        SshTestbed.up();
    }

    private int ports() {
        return leftovers.freeBase(1);
    }

    private static OrchestratorSpec spec(int port, Checkpoint cp) {
        return OrchestratorSpec.builder().id("db").launcher("ssh").nodes(3).instancesPerNode(1).port(port)
                .checkpoint(cp).launcherOption("hosts", String.join(",", SshTestbed.HOSTS))
                .launcherOption("ssh-config", SshTestbed.sshConfig().toString()).build();
    }

    private Experiment experiment() {
        long t0 = System.nanoTime();
        return Experiment.create("ssh-ck", dir, line -> {
            progress.add(line);
            System.out.printf("  [%6.2f s] %s%n", (System.nanoTime() - t0) / 1e9, line);
        });
    }

    private OrchestratorRecord record() {
        return new ManifestStore(dir).read().orElseThrow().find("db").orElseThrow();
    }

    private static String perms(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void rdbSnapshotsSurviveAStopAndResumeBringsEveryKeyBack() throws Exception {
        int port = ports();
        Checkpoint cp = Checkpoint.every(Duration.ofSeconds(1));
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec(port, cp));
            exp.start(db);
            DataChecks.write(db, 3000);
            DataChecks.awaitSnapshot(db);
            exp.stop(db); // SHUTDOWN SAVE on each host's shard
        }
        OrchestratorRecord stopped = record();
        assertThat(stopped.data()).hasSize(3).allSatisfy(d -> {
            assertThat(d.path()).exists().hasFileName("dump.rdb");
            assertThat(d.lastSave()).contains("saved by SHUTDOWN SAVE at stop");
            assertThat(d.bytes()).hasValueSatisfying(b -> assertThat(b).isGreaterThan(1000));
        });
        for (ShardData d : stopped.data()) { // written on the host under the start script's umask 077
            assertThat(perms(d.path())).as("%s", d.path()).isEqualTo("rw-------");
            assertThat(perms(d.path().getParent())).as("%s", d.path().getParent()).isEqualTo("rwx------");
        }
        progress.clear();
        long t0 = System.nanoTime();
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec(port, cp));
            exp.resume(db);
            System.out.printf("ssh resume 3x1 (RDB, 3000 keys) healthy in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            assertThat(progress).anySatisfy(l -> assertThat(l).startsWith("shard 0 (slots 0-5461): resuming from "
                    + dir.resolve("db/db_0/dump.rdb")));
            assertThat(DataChecks.missing(db, 3000)).as("keys not back").isEmpty();
            assertThat(DataChecks.clusterCheck(db).exitCode()).isZero();
            exp.stop(db);
        }
    }

    @Test
    void aofKeepsEveryAcknowledgedWriteThroughALostAllocation() throws Exception {
        int port = ports();
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec(port, Checkpoint.aof()));
            exp.start(db);
            DataChecks.write(db, 3000);
            // Every acknowledged write in the AOF files, which a SIGKILL keeps: looked for there, not guessed from a pause.
            DataChecks.awaitAllInAppendOnlyFiles(db);
            // The allocation is lost: every shard SIGKILLed on its host (the hosts are this machine's loopback
            // addresses, so a host's pid is a pid here), nothing saved at a stop.
            for (LaunchedShard s : db.shards()) {
                ProcessHandle h = ProcessHandle.of(s.pid().orElseThrow()).orElseThrow();
                h.destroyForcibly();
                h.onExit().get(10, TimeUnit.SECONDS);
            }
            exp.detach(db);
            assertThat(exp.status("db").state()).isEqualTo("STALE");
        }
        Path aofDir = dir.resolve("db/db_1/appendonlydir");
        assertThat(perms(aofDir)).isEqualTo("rwx------");
        // A new allocation gets other addresses: here, another port on the same hosts.
        int moved = ports();
        long t0 = System.nanoTime();
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec(moved, Checkpoint.aof()));
            exp.resume(db);
            System.out.printf("ssh resume 3x1 (AOF, 3000 keys) after SIGKILL healthy in %.2f s%n",
                    (System.nanoTime() - t0) / 1e9);
            assertThat(db.addresses()).containsExactly("127.0.1.1:" + moved, "127.0.1.2:" + moved,
                    "127.0.1.3:" + moved);
            assertThat(DataChecks.missing(db, 3000)).as("keys not back").isEmpty();
            assertThat(DataChecks.clusterCheck(db).exitCode()).isZero();
            exp.stop(db);
        }
        assertThat(record().data()).hasSize(3).allSatisfy(d -> assertThat(d.lastSave()).hasValueSatisfying(
                s -> assertThat(s).startsWith("AOF flushed and fsynced by SHUTDOWN at stop")));
    }
}
