package io.smartsim.launch.ssh;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.exec.Transports;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --port auto} with the Slurm launcher behind a login node ({@code remote=}): the step that reads the nodes'
 * listening sockets runs through the same SSH session as every other Slurm command ({@link RecordingTransport}).
 */
@TestbedLock(TestbedLock.Bed.SLURM)
@TestbedLock(value = TestbedLock.Bed.SSH, shared = true)
class RemoteSlurmPortsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(30);
    private static final LocalCommandRunner SH = new LocalCommandRunner();
    private static final String LOGIN = "recording://127.0.0.1";

    @TempDir
    Path dir;
    private final List<String> jobs = new ArrayList<>();

    @BeforeAll
    static void testbedsUp() {
        SshTestbed.upWithSlurm();
    }

    @BeforeEach
    void freshLog() {
        RecordingTransport.reset();
    }

    @AfterEach
    void nothingLeft() {
        Transports.closeAll();
        List<Processes.Proc> left = Processes.serversUnder(dir);
        if (!jobs.isEmpty()) {
            SH.run(List.of("scancel", String.join(",", jobs)), CMD);
        }
        assertThat(left).as("redis-server processes of this test left behind").isEmpty();
        // Then the Leftovers check: anything of this test still there after scancel, ports on every address.
    }

    private static List<String> steps(String job) {
        return SH.run(List.of("squeue", "-h", "-s", "-j", job, "-o", "%i"), CMD).stdout().lines()
                .filter(l -> !l.isBlank()).toList();
    }

    @Test
    void theNodesPortsAreReadInOneStepThroughTheLoginNodeAndAHeldPortIsSkipped() throws Exception {
        CommandResult holder = SH.run(List.of("sbatch", "--parsable", "-N3", "-J", "remote-ports-holder",
                "--output=/dev/null", "--wrap", "sleep 600"), CMD);
        assertThat(holder.ok()).as(holder.describe()).isTrue();
        String job = holder.stdout().strip().split(";")[0];
        jobs.add(job);
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!SH.run(List.of("squeue", "-h", "-j", job, "-o", "%T"), CMD).stdout().strip().equals("RUNNING")
                && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        int base = Processes.freeBase(3);
        try (ServerSocket held = new ServerSocket()) {
            held.bind(new InetSocketAddress("127.0.1.1", base)); // n1's address
            try (Experiment exp = Experiment.create("remote-ports", dir)) {
                Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                        .instancesPerNode(1).port(base).autoPort(true).launcherOption("remote", LOGIN)
                        .launcherOption("ssh-config", SshTestbed.sshConfig().toString())
                        .launcherOption("alloc", job).build());
                assertThat(db.plan().shards()).extracting(ShardPlan::port).containsOnly(base + 1);
                assertThat(RecordingTransport.LOG.stream().filter(l -> l.startsWith("run srun")).toList())
                        .as("one step, through the login node").hasSize(1)
                        .allMatch(l -> l.contains("--jobid=" + job) && l.contains("--overlap")
                                && l.contains("--nodelist=n1,n2,n3"));
                exp.start(db);
                assertThat(db.addresses()).containsExactly("127.0.1.1:" + (base + 1), "127.0.1.2:" + (base + 1),
                        "127.0.1.3:" + (base + 1));
                assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");
                exp.stop(db);
            }
        }
        assertThat(steps(job)).containsOnly(job + ".batch");
    }
}
