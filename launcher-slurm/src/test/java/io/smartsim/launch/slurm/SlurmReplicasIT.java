package io.smartsim.launch.slurm;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.cluster.ClusterNode;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --replicas 1} on the 3-node testbed: every replica on another node than its master, proven from the
 * cluster's own view (CLUSTER NODES) and from Slurm's (the node each step runs on).
 */
@TestbedLock(TestbedLock.Bed.SLURM)
class SlurmReplicasIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(30);
    private static final LocalCommandRunner SH = new LocalCommandRunner();

    @TempDir
    Path tmp;
    private final List<String> jobs = new ArrayList<>();

    @BeforeAll
    static void slurmIsHere() {
        HolderJobs.assumeSlurmIsUp();
    }

    @AfterEach
    void cancelEverything() {
        if (!jobs.isEmpty()) {
            SH.run(SlurmCommands.scancel(jobs), CMD);
        }
        // Then the Leftovers check: by working directory (Redis's title no longer names this test's directory).
    }

    private void assertAntiAffinity(Orchestrator db, String job) {
        // The cluster's view: each replica's address is not its master's host.
        Credentials c = db.plan().auth().orElseThrow();
        LaunchedShard first = db.shards().get(0);
        List<ClusterNode> view;
        try (Jedis j = new Jedis(new HostAndPort(first.host(), first.port()),
                DefaultJedisClientConfig.builder().user(c.user()).password(c.password()).build())) {
            view = ClusterNode.parseAll(j.clusterNodes());
        }
        Map<String, ClusterNode> byId = view.stream().collect(Collectors.toMap(ClusterNode::id, Function.identity()));
        List<ClusterNode> replicas = view.stream().filter(n -> n.flags().contains("slave")).toList();
        assertThat(replicas).hasSize(3);
        assertThat(view.stream().filter(ClusterNode::master).toList()).hasSize(3);
        for (ClusterNode r : replicas) {
            ClusterNode m = byId.get(r.masterId());
            assertThat(m).as("master of %s", r.id()).isNotNull();
            assertThat(r.host()).as("replica %s:%d and its master %s:%d", r.host(), r.port(), m.host(), m.port())
                    .isNotEqualTo(m.host());
        }
        // Slurm's view: the node each shard's step runs on, from squeue.
        Map<String, String> nodeOfStep = SlurmParsers.steps(SH.run(SlurmCommands.squeueSteps(List.of(job)), CMD)
                .stdout()).stream().collect(Collectors.toMap(SlurmParsers.Step::id, SlurmParsers.Step::nodeList));
        List<String> stepIds = SlurmLauncher.stepIds(db.shards());
        for (ShardPlan p : db.plan().shards()) {
            p.replicaOf().ifPresent(m -> {
                String replicaNode = nodeOfStep.get(stepIds.get(p.index()));
                String masterNode = nodeOfStep.get(stepIds.get(m));
                assertThat(replicaNode).as("node of %s", p.name()).isNotNull().isNotEqualTo(masterNode);
                assertThat(masterNode).as("node of master %d", m).isNotNull();
            });
        }
        CommandResult check = SH.run(List.of("redis-cli", "--user", c.user(), "--cluster", "check", first.address()),
                Map.of("REDISCLI_AUTH", c.password()), CMD);
        assertThat(check.exitCode()).as(check.describe()).isZero();
        assertThat(check.stdout()).contains("[OK] All 16384 slots covered.", "1 additional replica(s)");
    }

    @Test
    void threeMastersWithOneReplicaEachAsABatchJobPutEveryReplicaOnAnotherNode() throws Exception {
        long t0 = System.nanoTime();
        String job;
        try (Experiment exp = Experiment.create("slurm-replicas", tmp.resolve("exp"))) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                    .instancesPerNode(1).replicas(1).port(leftovers.shardPorts(21980, 2))
                    .launcherOption("batch", "true").build());
            assertThat(db.plan().warnings()).isEmpty();
            assertThat(db.plan().shards()).extracting(ShardPlan::host)
                    .containsExactly("batch-node-0", "batch-node-1", "batch-node-2", "batch-node-1", "batch-node-2",
                            "batch-node-0");
            exp.start(db);
            System.out.printf("batch 3x1 + 1 replica each healthy in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            job = db.shards().get(0).handle().get("jobId");
            jobs.add(job);
            assertThat(db.addresses()).containsExactly("127.0.1.1:21980", "127.0.1.2:21980", "127.0.1.3:21980",
                    "127.0.1.2:21981", "127.0.1.3:21981", "127.0.1.1:21981");
            assertAntiAffinity(db, job);
            assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");
            exp.stop(db);
        }
        assertThat(SlurmParsers.jobs(SH.run(SlurmCommands.squeueJobs(List.of(job)), CMD).stdout()))
                .allMatch(SlurmParsers.Job::finished);
    }

    @Test
    void threeMastersWithOneReplicaEachInAnAllocation() throws Exception {
        String job = HolderJobs.hold3("slurm-replicas-holder", jobs::add);
        try (Experiment exp = Experiment.create("slurm-replicas", tmp.resolve("exp"))) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                    .instancesPerNode(1).replicas(1).port(leftovers.shardPorts(21990, 2))
                    .launcherOption("alloc", job).build());
            assertThat(db.plan().shards()).extracting(ShardPlan::host)
                    .containsExactly("n1", "n2", "n3", "n2", "n3", "n1");
            exp.start(db);
            assertAntiAffinity(db, job);
            exp.stop(db);
        }
        assertThat(SlurmParsers.steps(SH.run(SlurmCommands.squeueSteps(List.of(job)), CMD).stdout()))
                .extracting(SlurmParsers.Step::id).containsOnly(job + ".batch");
    }
}
