package io.smartsim.launch.pbs;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.testing.DataChecks;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.smartsim.launch.pbs.PbsTestJobs.SH;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --replicas 1} through the pbs launcher on the testbed's Torque front end (slurm-wlm-torque over the Slurm
 * testbed, nodes n1-n3 at 127.0.1.1-3), shards over ssh: 3 masters and 3 replicas, each replica on another node than
 * its master (the cluster's own CLUSTER NODES), attached, {@code redis-cli --cluster check} passing; {@code db stop}
 * leaves no process and no busy port. In an existing job and as a batch job. Ports 13100-13299.
 */
// Longer than the 5 min default: on the shared testbed a job may wait up to 120 s for nodes other tests hold,
// a batch orchestrator gets 150 s to start, and a job 60 s to end.
@org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
@TestbedLock(TestbedLock.Bed.SLURM)
@TestbedLock(TestbedLock.Bed.PBS)
class PbsReplicasIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path tmp;
    private final List<String> jobs = new ArrayList<>();

    @BeforeAll
    static void frontEnd() {
        PbsTestJobs.frontEndUp();
    }

    @AfterEach
    void nothingLeft() {
        if (!jobs.isEmpty()) {
            SH.run(PbsCommands.qdel(jobs), PbsTestJobs.CMD);
        }
        // Then the Leftovers check: processes by working dir, ports (bus and --ai too) on every address.
    }

    private Experiment experiment() {
        long t0 = System.nanoTime();
        return Experiment.create("pbs-replicas", tmp.resolve("exp"), line -> System.out.printf("  [%6.2f s] %s%n",
                (System.nanoTime() - t0) / 1e9, line));
    }

    private void check(Orchestrator db, int port) throws Exception {
        // Replica k+3 of master k on the next node, on the port after that node's master.
        assertThat(db.addresses()).containsExactly("127.0.1.1:" + port, "127.0.1.2:" + port, "127.0.1.3:" + port,
                "127.0.1.2:" + (port + 1), "127.0.1.3:" + (port + 1), "127.0.1.1:" + (port + 1));
        DataChecks.replicasOnOtherNodes(db, 3, 1);
        DataChecks.write(db, 500);
        assertThat(DataChecks.missing(db, 500)).isEmpty();
    }

    @Test
    void threeMastersWithOneReplicaEachInAnExistingJobPutEveryReplicaOnAnotherNode() throws Exception {
        String job = PbsTestJobs.holder(tmp, jobs::add);
        int port = 13100;
        leftovers.shardPorts(port, 2);
        long t0 = System.nanoTime();
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(PbsTestJobs.inJob(OrchestratorSpec.builder().nodes(3)
                    .instancesPerNode(1).replicas(1).port(port), job).build());
            assertThat(db.plan().warnings()).isEmpty();
            assertThat(db.plan().shards()).extracting(ShardPlan::host)
                    .containsExactly("n1", "n2", "n3", "n2", "n3", "n1");
            exp.start(db);
            System.out.printf("pbs alloc 3x1 + 1 replica each healthy in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            check(db, port);
            assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");
            exp.stop(db);
        }
        assertThat(Processes.serversUnder(tmp)).as("servers after db stop").isEmpty();
        assertThat(PbsTestJobs.job(job).map(PbsParsers.Job::running).orElse(false))
                .as("the user's job outlives the orchestrator").isTrue();
    }

    @Test
    void threeMastersWithOneReplicaEachAsABatchJob() throws Exception {
        int port = 13200;
        leftovers.shardPorts(port, 2);
        long t0 = System.nanoTime();
        String id;
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(PbsTestJobs.batch(OrchestratorSpec.builder().nodes(3)
                    .instancesPerNode(1).replicas(1).port(port)).build());
            assertThat(db.plan().warnings()).isEmpty();
            exp.start(db);
            id = db.shards().get(0).handle().get(PbsLauncher.JOB);
            jobs.add(id);
            System.out.printf("pbs batch 3x1 + 1 replica each healthy in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            check(db, port);
            exp.stop(db);
        }
        assertThat(Processes.serversUnder(tmp)).as("servers after db stop").isEmpty();
        assertThat(PbsTestJobs.awaitFinished(id)).as("batch job %s ended by db stop", id).isTrue();
    }
}
