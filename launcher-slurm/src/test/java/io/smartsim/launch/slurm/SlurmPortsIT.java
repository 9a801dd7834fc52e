package io.smartsim.launch.slurm;

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
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --port auto} in an allocation on the Slurm testbed (n1-n3 at 127.0.1.1-3): one srun step reads every node's
 * listening sockets, so a port this test holds on n2's address, or a bus port on n3's, moves the base on every node.
 */
@TestbedLock(TestbedLock.Bed.SLURM)
class SlurmPortsIT {
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
    void nothingLeftBehind() {
        if (!jobs.isEmpty()) {
            SH.run(SlurmCommands.scancel(jobs), CMD);
        }
        // Then the Leftovers check: processes by working dir, ports (bus and --ai too) on every node's address.
    }

    private static List<String> steps(String job) {
        return SlurmParsers.steps(SH.run(SlurmCommands.squeueSteps(List.of(job)), CMD).stdout()).stream()
                .map(SlurmParsers.Step::id).collect(Collectors.toList());
    }

    @Test
    void aPortHeldOnOneNodeAndABusPortOnAnotherMoveTheBaseOnEveryNode() throws Exception {
        String job = HolderJobs.hold3("slurm-ports-holder", jobs::add);
        int base = leftovers.freeBase(4);
        try (ServerSocket shardPort = new ServerSocket(); ServerSocket busPort = new ServerSocket()) {
            shardPort.bind(new InetSocketAddress("127.0.1.2", base)); // n2's address
            busPort.bind(new InetSocketAddress("127.0.1.3", base + 1 + OrchestratorSpec.BUS_PORT_OFFSET)); // n3's
            try (Experiment exp = Experiment.create("slurm-ports", tmp.resolve("exp"))) {
                long t0 = System.nanoTime();
                Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                        .instancesPerNode(1).port(base).autoPort(true).launcherOption("alloc", job).build());
                System.out.printf("--port auto over 3 nodes (one srun step) planned in %.2f s%n",
                        (System.nanoTime() - t0) / 1e9);
                assertThat(db.plan().shards()).extracting(ShardPlan::port).containsOnly(base + 2);
                assertThat(steps(job)).as("the step that read the ports is gone").containsOnly(job + ".batch");
                exp.start(db);
                assertThat(db.addresses()).containsExactly("127.0.1.1:" + (base + 2), "127.0.1.2:" + (base + 2),
                        "127.0.1.3:" + (base + 2));
                assertThat(new ManifestStore(tmp.resolve("exp")).read().orElseThrow().find(db.id()).orElseThrow()
                        .shards()).extracting(LaunchedShard::port).containsOnly(base + 2);
                Credentials cred = db.plan().auth().orElseThrow();
                CommandResult check = SH.run(List.of("redis-cli", "--user", cred.user(), "--cluster", "check",
                        db.shards().get(0).address()), Map.of("REDISCLI_AUTH", cred.password()), CMD);
                assertThat(check.exitCode()).as(check.describe()).isZero();
                assertThat(check.stdout()).contains("[OK] All 16384 slots covered.");
                exp.stop(db);
            }
        }
        assertThat(Processes.serversUnder(tmp)).isEmpty();
        assertThat(steps(job)).containsOnly(job + ".batch"); // only the holder's own batch step
    }

    @Test
    void aFixedPortInUseOnANodeIsRefusedBeforeAnyStepStartsNamingTheNodeAndItsHolder() throws Exception {
        String job = HolderJobs.hold3("slurm-ports-holder", jobs::add);
        int base = leftovers.freeBase(2);
        try (ServerSocket held = new ServerSocket()) {
            held.bind(new InetSocketAddress("127.0.1.2", base)); // n2's shard port, held by this JVM
            try (Experiment exp = Experiment.create("slurm-ports", tmp.resolve("exp"))) {
                Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                        .instancesPerNode(1).port(base).launcherOption("alloc", job).build());
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> exp.start(db))
                        .isInstanceOfSatisfying(io.smartsim.launch.error.InvalidSpecException.class,
                                e -> assertThat(e.field()).isEqualTo("port"))
                        // n1-n3 share this machine's kernel, so each node lists the socket; on a cluster, only n2
                        .hasMessageMatching(".*but " + base + " is already in use on node n[123] of allocation " + job
                                + " \\(held by pid " + ProcessHandle.current().pid() + " \\(java\\)\\);.*")
                        .hasMessageContaining("choose another --port, or --port auto");
            }
        }
        assertThat(Processes.serversUnder(tmp)).as("no server started").isEmpty();
        assertThat(steps(job)).as("no shard step started").containsOnly(job + ".batch");
    }

    /**
     * As a batch job the nodes are only known inside the job: each shard's wrapper looks at its node's listening
     * sockets before the server starts. A fixed port held on n2's address fails that shard with the holder named,
     * the launcher says so and cancels the job, and nothing is left.
     */
    @Test
    void aFixedPortInUseInABatchJobFailsOnItsNodeNamingTheHolderAndTheJobIsCancelled() throws Exception {
        int base = leftovers.freeBase(2);
        List<String> progress = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (ServerSocket held = new ServerSocket()) {
            held.bind(new InetSocketAddress("127.0.1.2", base)); // n2's shard port, held by this JVM
            try (Experiment exp = Experiment.create("slurm-ports", tmp.resolve("exp"), progress::add)) {
                Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                        .instancesPerNode(1).port(base).launcherOption("batch", "true").build());
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> exp.start(db))
                        .hasMessageContaining("port " + base + " is taken on node n2 (127.0.1.2), held by pid "
                                + ProcessHandle.current().pid() + " (java); choose another --port, or --port auto");
            } finally {
                progress.stream().filter(l -> l.startsWith("submitted batch job ")).map(l -> l.split(" ")[3])
                        .forEach(jobs::add);
            }
        }
        assertThat(jobs).as("a batch job was submitted").hasSize(1);
        assertThat(HolderJobs.gone(jobs.get(0))).as("batch job %s cancelled", jobs.get(0)).isTrue();
        assertThat(Processes.leftUnder(tmp, Processes.GRACE)).as("no shard left on n1 or n3").isEmpty();
    }
}
