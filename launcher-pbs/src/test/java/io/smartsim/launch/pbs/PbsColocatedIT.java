package io.smartsim.launch.pbs;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Model;
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
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.testing.ColocatedChecks.await;
import static io.smartsim.launch.testing.ColocatedChecks.redisCli;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Colocated databases on the PBS front end of the testbed (testbeds/pbs/up, issue 17): a model's batch job whose one
 * task runs through the colocated wrapper. Real qsub (Debian's slurm-wlm-torque over the Slurm testbed) and
 * redis-server: the database serves the task over the socket while it runs and is gone with it; one that cannot
 * start fails the model naming the node, the port and the log. One task only: several ranks need mpiexec, which the
 * testbed lacks (the batch script's {@code mpiexec ... bash colocated.sh} line is golden-tested instead).
 */
@TestbedLock(TestbedLock.Bed.SLURM)
@TestbedLock(TestbedLock.Bed.PBS)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class PbsColocatedIT {
    private static final Duration WAIT = Duration.ofSeconds(180); // a job may wait for nodes other tests hold
    private static final BatchSettings FIVE_MINUTES = new BatchSettings(Optional.of(Duration.ofMinutes(5)),
            Optional.empty(), Optional.of("debug"), Optional.empty(), List.of());
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, the ports given out
    @TempDir
    Path tmp;
    private Path app;
    private Path go;
    private final List<String> jobs = new ArrayList<>();
    private final List<String> progress = new CopyOnWriteArrayList<>();
    private final String node = ColocatedChecks.hostname();

    @BeforeAll
    static void pbsFrontEndIsHere() {
        PbsTestJobs.frontEndUp();
    }

    @BeforeEach
    void script() throws Exception {
        app = ColocatedChecks.app(tmp); // one task: rank 0
        go = tmp.resolve("go");
    }

    @AfterEach
    void deleteJobs() {
        PbsTestJobs.deleteJobs(progress, jobs);
        // Then the Leftovers check: redis-server and the task by working dir, the ports given out.
    }

    private Experiment experiment() {
        long t0 = System.nanoTime();
        return Experiment.create("colo-pbs", tmp.resolve("exp"), line -> {
            progress.add(line);
            System.out.printf("  [%6.2f s] %s%n", (System.nanoTime() - t0) / 1e9, line);
        });
    }

    @Test
    void aBatchJobsTaskIsServedByItsDatabaseOverTheSocketAndNothingStaysAfter() throws Exception {
        Path socket = tmp.resolve("ssdb.sock");
        try (Experiment exp = experiment()) {
            Model sim = exp.createModel(ModelSpec.builder("sim", app.toString()).args(go.toString()).launcher("pbs")
                    .run(RunSettings.builder().batch(FIVE_MINUTES).build())
                    .colocatedDb(ColocatedDb.unixSocket(socket.toString(), 0750)).build());
            ColocatedPlan plan = sim.plan().colocated().orElseThrow();
            exp.start(sim);
            jobs.add(sim.launched().orElseThrow().id());
            assertThat(Files.readString(PbsModelScripts.batchPath(sim.plan()))).as("the batch script's command")
                    .contains("bash " + plan.wrapper());

            // the task wrote its key through SSDB: read here through the socket (the job's output may come at its end)
            await(() -> {
                try {
                    return redisCli("-s", socket.toString(), "GET", "rank:0").equals(List.of("value-0"));
                } catch (Exception e) {
                    return false;
                }
            }, WAIT, "the task's key in its database");
            assertThat(Processes.serversUnder(tmp)).as("one database for the task's node").hasSize(1);

            Files.createFile(go);
            assertThat(exp.waitFor(WAIT, sim)).isTrue();
            assertThat(sim.status()).as(Files.readString(sim.stderr())).isEqualTo(EntityStatus.COMPLETED);
            assertThat(Files.readString(sim.stdout())).contains("rank 0 ok SSDB=unix://" + socket
                    + " SR_DB_TYPE=Standalone");
            ColocatedChecks.assertNothingLeft(tmp, plan);
            assertThat(Files.readString(plan.log(node))).contains("ready to accept connections");
        }
    }

    @Test
    void aTakenPortFailsTheBatchModelNamingNodePortAndLog() throws Exception {
        int port = leftovers.freeBase(1);
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            try (Experiment exp = experiment()) {
                Model sim = exp.createModel(ModelSpec.builder("sim", app.toString()).launcher("pbs")
                        .run(RunSettings.builder().batch(FIVE_MINUTES).build())
                        .colocatedDb(ColocatedDb.tcp(port)).build());
                exp.start(sim);
                jobs.add(sim.launched().orElseThrow().id());
                assertThat(exp.waitFor(WAIT, sim)).isTrue();
                assertThat(sim.status()).isEqualTo(EntityStatus.FAILED);
                assertThat(sim.detail().orElseThrow()).contains("on node " + node).contains("port " + port)
                        .contains("Address already in use");
                assertThat(ColocatedChecks.lines(sim.stdout())).noneMatch(l -> l.contains(" ok "));
                ColocatedChecks.assertNothingLeft(tmp, sim.plan().colocated().orElseThrow());
            }
        }
    }
}
