package io.smartsim.launch.slurm;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Model;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.spec.BatchSettings;
import io.smartsim.launch.spec.ColocatedDb;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spec.RunSettings;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.testing.ColocatedChecks;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.testing.ColocatedChecks.await;
import static io.smartsim.launch.testing.ColocatedChecks.lines;
import static io.smartsim.launch.testing.ColocatedChecks.redisCli;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Colocated databases on the Slurm testbed (issue 17): a model's two ranks as one srun step on one node of an
 * allocation, and as a batch job of their own, each rank through the colocated wrapper. Real slurmctld/slurmd and
 * redis-server: exactly one database on the node, both ranks' keys in it, gone with the ranks, however they end; a
 * database that cannot start fails the model naming the node, the port and the log, and the application never runs.
 * One node per model only: the testbed's n1-n3 share this machine's network, file system and host name, so databases
 * of two nodes would meet on one socket path or port and their files on one name (issue 19's containers are for that).
 */
@TestbedLock(TestbedLock.Bed.SLURM)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SlurmColocatedIT {
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final Duration CMD = Duration.ofSeconds(30);
    private static final LocalCommandRunner SH = new LocalCommandRunner();
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir (servers, sruns, ranks), ports
    @TempDir
    Path tmp;
    private Path app;
    private Path go;
    private final List<String> jobs = new ArrayList<>();
    private final String node = ColocatedChecks.hostname();

    @BeforeAll
    static void slurmIsHere() {
        HolderJobs.assumeSlurmIsUp();
    }

    @BeforeEach
    void script() throws Exception {
        app = ColocatedChecks.app(tmp); // under srun its rank is SLURM_PROCID
        go = tmp.resolve("go");
    }

    @AfterEach
    void cancel() {
        List<String> mine = new ArrayList<>(jobs);
        mine.addAll(HolderJobs.jobsUnder(tmp));
        if (!mine.isEmpty()) {
            SH.run(SlurmCommands.scancel(mine), CMD);
        }
        // Then the Leftovers check: redis-server, srun and rank processes by working dir, the ports given out.
    }

    /** Both CPUs of one node, for a step of two tasks there, as a user's salloc -N1 -c2 would. */
    private String holder() throws InterruptedException {
        return HolderJobs.hold("colocated-it-holder", List.of("-N1", "-c2"), jobs::add);
    }

    private Experiment experiment() {
        long t0 = System.nanoTime();
        return Experiment.create("colo-slurm", tmp.resolve("exp"), line ->
                System.out.printf("  [%6.2f s] %s%n", (System.nanoTime() - t0) / 1e9, line));
    }

    @Test
    void twoRanksOfAStepShareOneDatabaseOverTheSocketAndNothingStaysAfter() throws Exception {
        String job = holder();
        Path socket = tmp.resolve("ssdb.sock");
        try (Experiment exp = experiment()) {
            Model sim = exp.createModel(ModelSpec.builder("sim", app.toString()).args(go.toString()).launcher("slurm")
                    .run(RunSettings.builder().alloc(job).nodes(1).tasks(2).build())
                    .colocatedDb(ColocatedDb.unixSocket(socket.toString(), 0750)).build());
            ColocatedPlan plan = sim.plan().colocated().orElseThrow();
            exp.start(sim);

            await(() -> lines(sim.stdout()).filter(l -> l.contains(" ok ")).count() == 2, WAIT, "both ranks wrote");
            assertThat(Processes.serversUnder(tmp)).as("exactly one database for the 2 ranks of the node").hasSize(1);
            assertThat(redisCli("-s", socket.toString(), "KEYS", "rank:*")).as("both ranks' keys in the one server")
                    .containsExactlyInAnyOrder("rank:0", "rank:1");
            assertThat(lines(sim.stdout())).allMatch(l -> l.endsWith("SSDB=unix://" + socket
                    + " SR_DB_TYPE=Standalone"));

            Files.createFile(go);
            assertThat(exp.waitFor(WAIT, sim)).isTrue();
            assertThat(sim.status()).as(Files.readString(sim.stderr())).isEqualTo(EntityStatus.COMPLETED);
            // the first rank waits for its node's keeper, which stops the server once both ranks have ended
            ColocatedChecks.assertNothingLeft(tmp, plan);
            assertThat(Files.readString(plan.log(node))).contains("ready to accept connections");
        }
    }

    @Test
    void twoRanksOfABatchJobShareOneDatabaseOverTcpAndNothingStaysAfter() throws Exception {
        int port = leftovers.freeBase(1);
        try (Experiment exp = experiment()) {
            Model sim = exp.createModel(ModelSpec.builder("sim", app.toString()).args(go.toString()).launcher("slurm")
                    .run(RunSettings.builder().nodes(1).tasks(2).batch(BatchSettings.defaults()).build())
                    .colocatedDb(ColocatedDb.tcp(port)).build());
            ColocatedPlan plan = sim.plan().colocated().orElseThrow();
            exp.start(sim);
            jobs.add(sim.launched().orElseThrow().handle().get(SlurmModelLauncher.JOB));
            assertThat(Files.readString(SlurmModelScripts.batchPath(sim.plan()))).as("the batch script's step")
                    .contains("bash " + plan.wrapper());

            await(() -> lines(sim.stdout()).filter(l -> l.contains(" ok ")).count() == 2, WAIT, "both ranks wrote");
            assertThat(Processes.serversUnder(tmp)).as("exactly one database for the 2 ranks of the node").hasSize(1);
            assertThat(redisCli("-p", Integer.toString(port), "KEYS", "rank:*"))
                    .containsExactlyInAnyOrder("rank:0", "rank:1");
            assertThat(lines(sim.stdout())).allMatch(l -> l.endsWith("SSDB=127.0.0.1:" + port
                    + " SR_DB_TYPE=Standalone"));

            Files.createFile(go);
            assertThat(exp.waitFor(WAIT, sim)).isTrue();
            assertThat(sim.status()).as(Files.readString(sim.stderr())).isEqualTo(EntityStatus.COMPLETED);
            ColocatedChecks.assertNothingLeft(tmp, plan);
        }
    }

    @Test
    void aTakenPortFailsTheStepNamingNodePortAndLogAndTheApplicationNeverRuns() throws Exception {
        String job = holder();
        int port = leftovers.freeBase(1);
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            try (Experiment exp = experiment()) {
                Model sim = exp.createModel(ModelSpec.builder("sim", app.toString()).launcher("slurm")
                        .run(RunSettings.builder().alloc(job).nodes(1).tasks(2).build())
                        .colocatedDb(ColocatedDb.tcp(port)).build());
                exp.start(sim);
                assertThat(exp.waitFor(WAIT, sim)).isTrue();
                assertThat(sim.status()).isEqualTo(EntityStatus.FAILED);
                assertThat(sim.detail().orElseThrow()).contains("on node " + node).contains("port " + port)
                        .contains("colocated-" + node + ".log").contains("Address already in use");
                assertThat(lines(sim.stdout())).noneMatch(l -> l.contains(" ok "));
                ColocatedChecks.assertNothingLeft(tmp, sim.plan().colocated().orElseThrow());
            }
        }
    }

    @Test
    void stoppingTheStepStopsItsDatabase() throws Exception {
        String job = holder();
        Path socket = tmp.resolve("stop.sock");
        try (Experiment exp = experiment()) {
            Model sim = exp.createModel(ModelSpec.builder("sim", app.toString()).args(go.toString()).launcher("slurm")
                    .run(RunSettings.builder().alloc(job).nodes(1).tasks(2).build())
                    .colocatedDb(ColocatedDb.unixSocket(socket.toString(), 0750)).build());
            exp.start(sim);
            await(() -> lines(sim.stdout()).filter(l -> l.contains(" ok ")).count() == 2, WAIT, "both ranks wrote");
            long server = Processes.serversUnder(tmp).get(0).pid();
            exp.stop(sim);
            assertThat(sim.status()).isEqualTo(EntityStatus.CANCELLED);
            // scancel signals every process of the step; the node's keeper then stops what is left
            await(() -> ProcessHandle.of(server).filter(ProcessHandle::isAlive).isEmpty()
                    && Processes.serversUnder(tmp).isEmpty(), Duration.ofSeconds(30), "the database ended");
        }
    }
}
