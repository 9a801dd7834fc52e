package io.smartsim.launch.pbs;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --port auto} in an existing PBS job through the testbed's front end (slurm-wlm-torque over the Slurm testbed,
 * nodes n1-n3 at 127.0.1.1-3, reached with the ssh run command as in PbsLauncherIT): one command per node reads its
 * listening sockets, so a port this test holds on n3's address moves the base on every node.
 */
// Longer than the 5 min default: on the shared testbed a job may wait up to 120 s for nodes other tests hold,
// a batch orchestrator gets 150 s to start, and a job 60 s to end.
@org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
@TestbedLock(TestbedLock.Bed.SLURM)
@TestbedLock(TestbedLock.Bed.PBS)
class PbsPortsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(60);
    private static final LocalCommandRunner SH = new LocalCommandRunner();

    @TempDir
    Path tmp;
    private final List<String> jobs = new ArrayList<>();

    @BeforeAll
    static void pbsFrontEndIsHere() {
        // Skips when declined (SKIP_SLURM=1) or impossible here (no qsub, not root); fails when it does not come up.
        PbsTestJobs.frontEndUp();
    }

    @AfterEach
    void nothingLeftBehind() {
        if (!jobs.isEmpty()) {
            SH.run(PbsCommands.qdel(jobs), CMD);
        }
        // Then the Leftovers check: processes by working dir, ports (bus and --ai too) on every node's address.
    }

    private static PbsParsers.Job job(String id) {
        return PbsParsers.find(PbsParsers.qstatText(SH.run(List.of("qstat", "-f", id), CMD).stdout()), id)
                .orElseThrow();
    }

    /** A 3-node holder job, running. */
    private String holder() throws Exception {
        return PbsTestJobs.holder(tmp, jobs::add);
    }

    @Test
    void aPortHeldOnOneNodeMovesTheBaseOnEveryNodeOfTheJob() throws Exception {
        String id = holder();
        int base = leftovers.freeBase(4);
        try (ServerSocket held = new ServerSocket()) {
            held.bind(new InetSocketAddress("127.0.1.3", base + 1)); // n3's address
            try (Experiment exp = Experiment.create("pbs-ports", tmp.resolve("exp"))) {
                long t0 = System.nanoTime();
                // Two shards per node: base and base+1 on each, so base+1 held on n3 rules out base too.
                Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("pbs").nodes(3)
                        .instancesPerNode(2).port(base).autoPort(true).launcherOption("alloc", id)
                        .launcherOption("sshConfig", PbsTestJobs.SSH_CONFIG.toString()).build());
                System.out.printf("--port auto over 3 nodes (ssh run command) planned in %.2f s%n",
                        (System.nanoTime() - t0) / 1e9);
                assertThat(db.plan().shards()).extracting(ShardPlan::port)
                        .containsExactly(base + 2, base + 3, base + 2, base + 3, base + 2, base + 3);
                exp.start(db);
                assertThat(new ManifestStore(tmp.resolve("exp")).read().orElseThrow().find(db.id()).orElseThrow()
                        .shards()).extracting(LaunchedShard::port)
                        .containsExactly(base + 2, base + 3, base + 2, base + 3, base + 2, base + 3);
                Credentials cred = db.plan().auth().orElseThrow();
                CommandResult check = SH.run(List.of("redis-cli", "--user", cred.user(), "--cluster", "check",
                        db.shards().get(0).address()), Map.of("REDISCLI_AUTH", cred.password()), CMD);
                assertThat(check.exitCode()).as(check.describe()).isZero();
                assertThat(check.stdout()).contains("[OK] All 16384 slots covered.");
                exp.stop(db);
            }
        }
        assertThat(Processes.serversUnder(tmp)).isEmpty();
        assertThat(job(id).running()).as("the user's job outlives the orchestrator").isTrue();
    }

    @Test
    void aFixedPortInUseOnANodeIsRefusedBeforeAnyShardStartsNamingTheNodeAndItsHolder() throws Exception {
        String id = holder();
        int base = leftovers.freeBase(2);
        try (ServerSocket held = new ServerSocket()) {
            held.bind(new InetSocketAddress("127.0.1.3", base + OrchestratorSpec.BUS_PORT_OFFSET)); // a bus port
            try (Experiment exp = Experiment.create("pbs-ports", tmp.resolve("exp"))) {
                Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("pbs").nodes(3)
                        .instancesPerNode(1).port(base).launcherOption("alloc", id)
                        .launcherOption("sshConfig", PbsTestJobs.SSH_CONFIG.toString()).build());
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> exp.start(db))
                        .isInstanceOfSatisfying(io.smartsim.launch.error.InvalidSpecException.class,
                                e -> assertThat(e.field()).isEqualTo("port"))
                        // n1-n3 share this machine's kernel, so each node lists the socket; on a cluster, only n3
                        .hasMessageMatching(".*and bus ports .*, but " + (base + OrchestratorSpec.BUS_PORT_OFFSET)
                                + " is already in use on node n[123] of job " + java.util.regex.Pattern.quote(id)
                                + " \\(held by pid " + ProcessHandle.current().pid() + " \\(java\\)\\);.*");
            }
        }
        assertThat(Processes.serversUnder(tmp)).as("no server started").isEmpty();
        assertThat(Processes.leftBehind(tmp)).as("no wrapper or ssh client started").isEmpty();
    }

    /**
     * As a batch job the nodes are only known inside the job: each shard's wrapper looks at its node's listening
     * sockets before the server starts. A bus port held on n3's address fails that shard with the holder named, the
     * launcher says so and deletes the job, and nothing is left.
     */
    @Test
    void aFixedPortInUseInABatchJobFailsOnItsNodeNamingTheHolderAndTheJobIsDeleted() throws Exception {
        int base = leftovers.freeBase(2);
        int bus = base + OrchestratorSpec.BUS_PORT_OFFSET;
        List<String> progress = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (ServerSocket held = new ServerSocket()) {
            held.bind(new InetSocketAddress("127.0.1.3", bus)); // n3's bus port
            try (Experiment exp = Experiment.create("pbs-ports", tmp.resolve("exp"), progress::add)) {
                Orchestrator db = exp.createOrchestrator(PbsTestJobs.batch(OrchestratorSpec.builder().nodes(3)
                        .instancesPerNode(1).port(base)).build());
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> exp.start(db))
                        .hasMessageContaining("port " + bus + " is taken on node n3 (127.0.1.3), held by pid "
                                + ProcessHandle.current().pid() + " (java); choose another --port, or --port auto");
            } finally {
                jobs.addAll(PbsTestJobs.submitted(progress));
            }
        }
        assertThat(jobs).as("a batch job was submitted").hasSize(1);
        assertThat(PbsTestJobs.awaitFinished(jobs.get(0))).as("batch job %s deleted", jobs.get(0)).isTrue();
        assertThat(Processes.leftUnder(tmp, Processes.GRACE)).as("no shard left on n1 or n2; %s",
                PbsTestJobs.trail(tmp.resolve("exp/orchestrator"))).isEmpty();
    }
}
