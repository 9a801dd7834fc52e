package io.smartsim.launch.containers;

import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.Transports;
import io.smartsim.launch.testing.DataChecks;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 19: {@code --checkpoint} and {@code --resume} on other nodes, on a Slurm cluster of containers with 4 compute
 * nodes: a batch orchestrator on c1-c3 writes its snapshots to the cluster's shared file system and is stopped; the
 * resume, a new batch job kept off c1, runs every shard on another node than before (c2-c4), and every key is back.
 */
@TestbedLock(TestbedLock.Bed.CONTAINERS)
class SlurmResumeIT {
    @RegisterExtension
    static final ContainerTestbed testbed = new ContainerTestbed();
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // this machine: processes of the experiment dir, the ports
    @TempDir
    static Path keys;
    @TempDir
    static Path fs;
    /** This machine's experiment directories; the cluster's shared file system is mounted at the same path. */
    @TempDir
    static Path expRoot;
    private static SlurmCluster cluster;

    private final List<String> jobs = new ArrayList<>();

    @BeforeAll
    static void clusterUp() throws Exception {
        long t0 = System.nanoTime();
        cluster = SlurmCluster.start(4, keys, fs, expRoot);
        System.out.printf("it-containers: Slurm cluster (ctl, c1-c4, login) up and idle in %.2f s%n",
                (System.nanoTime() - t0) / 1e9);
    }

    @AfterAll
    static void clusterDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @AfterEach
    void nothingLeftOnAnyNode() throws InterruptedException {
        if (!jobs.isEmpty()) {
            cluster.onLogin("scancel", String.join(",", jobs));
        }
        Transports.closeAll();
        assertThat(Inside.leftovers(cluster.all(), expRoot.resolve("exp"), expRoot, Duration.ofSeconds(30)))
                .as("left inside the cluster's nodes after the test").isEmpty();
    }

    private OrchestratorSpec spec(int port, String exclude) {
        return OrchestratorSpec.builder().id("db").launcher("slurm").nodes(3).instancesPerNode(1).port(port)
                .checkpoint(Checkpoint.every(Duration.ofSeconds(1)))
                .launcherOption("batch", "true").launcherOption("sbatch", "--exclude=" + exclude)
                .launcherOption("remote", "login").launcherOption("ssh-config", cluster.sshConfig().toString())
                .build();
    }

    /** Shard index -> the compute node (c1..c4) whose address it has. */
    private static Map<Integer, String> nodesOf(Orchestrator db) {
        return db.shards().stream().collect(Collectors.toMap(s -> s.index(), s -> {
            for (int i = 0; i < 4; i++) {
                if (s.host().equals(cluster.nodeAddress(i))) {
                    return "c" + (i + 1);
                }
            }
            throw new AssertionError("shard " + s.index() + " at " + s.address() + " is on no compute node");
        }));
    }

    @Test
    void aCheckpointedOrchestratorResumesOnOtherNodesWithEveryKey() throws Exception {
        Path dir = Files.createDirectories(expRoot.resolve("exp"));
        leftovers.dir(dir);
        int port = leftovers.freeBase(1);
        Map<Integer, String> first;
        try (Experiment exp = Experiment.create("slurm-resume", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(port, "c4"));
            exp.start(db);
            jobs.add(db.shards().get(0).handle().get("jobId"));
            first = nodesOf(db);
            assertThat(first.values()).containsExactlyInAnyOrder("c1", "c2", "c3");
            DataChecks.write(db, 3000);
            DataChecks.awaitSnapshot(db);
            exp.stop(db); // saves each shard's data on the cluster's file system
        }
        List<String> onFs;
        try (var files = Files.walk(fs)) {
            onFs = files.map(p -> fs.relativize(p).toString()).filter(p -> p.endsWith("dump.rdb")).sorted().toList();
        }
        assertThat(onFs).as("the snapshots, on the cluster's shared file system")
                .containsExactly("exp/db/db_0/dump.rdb", "exp/db/db_1/dump.rdb", "exp/db/db_2/dump.rdb");

        long t0 = System.nanoTime();
        try (Experiment exp = Experiment.create("slurm-resume", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(port, "c1"));
            exp.resume(db);
            jobs.add(db.shards().get(0).handle().get("jobId"));
            System.out.printf("it-containers: resumed on other nodes, 3000 keys, healthy in %.2f s%n",
                    (System.nanoTime() - t0) / 1e9);
            Map<Integer, String> second = nodesOf(db);
            assertThat(second.values()).containsExactlyInAnyOrder("c2", "c3", "c4");
            for (int i = 0; i < 3; i++) {
                assertThat(second.get(i)).as("shard %d resumed on another node than %s", i, first.get(i))
                        .isNotEqualTo(first.get(i));
            }
            assertThat(DataChecks.missing(db, 3000)).as("keys not back").isEmpty();
            exp.stop(db);
        }
    }
}
