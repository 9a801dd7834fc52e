package io.smartsim.launch.pbs;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.planned.Access;
import io.smartsim.launch.planned.Tls;
import io.smartsim.launch.spi.TlsFiles;
import io.smartsim.launch.cluster.Ping;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import io.smartsim.launch.testing.TlsClients;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --tls} with the PBS launcher through the Torque-style front end over the Slurm testbed (testbeds/pbs/up;
 * no PBS server can run here: see PbsLauncherIT for what this front end covers and what it does not), with the
 * {@code ssh} run command: in an existing job and as a batch job.
 */
// Longer than the 5 min default: on the shared testbed a job may wait up to 120 s for nodes other tests hold,
// a batch orchestrator gets 150 s to start, and a job 60 s to end.
@org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
@TestbedLock(TestbedLock.Bed.SLURM)
@TestbedLock(TestbedLock.Bed.PBS)
class PbsTlsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(60);
    private static final LocalCommandRunner SH = new LocalCommandRunner();

    /** Hand-picked from this module's TLS range. */
    private static final List<Integer> PORTS = List.of(14500, 14600);

    @TempDir
    Path tmp;
    private final List<String> jobs = new ArrayList<>();

    @BeforeAll
    static void pbsFrontEndIsHere() {
        // Skips when declined (SKIP_SLURM=1) or impossible here (no qsub, not root); fails when it does not come up.
        PbsTestJobs.frontEndUp();
    }

    @AfterEach
    void deleteEverything() {
        if (!jobs.isEmpty()) {
            SH.run(PbsCommands.qdel(jobs), CMD);
        }
        // Then the Leftovers check: by working directory, and the ports (with bus and --ai ports) on every address.
    }

    /**
     * This test's servers, by port: Redis rewrites its process title to {@code redis-server ADDRESS:PORT [cluster]},
     * so the experiment directory does not show in it (the ssh run command execs the server).
     */
    private static List<String> redisOf(Path dir) {
        return Processes.serversOn(PORTS);
    }

    private static PbsParsers.Job job(String id) {
        return PbsParsers.find(PbsParsers.qstatText(SH.run(List.of("qstat", "-f", id), CMD).stdout()), id)
                .orElseThrow();
    }

    private static void usedOverTls(Experiment exp, Orchestrator db) throws Exception {
        Tls tls = db.plan().tls().orElseThrow();
        TlsClients.ownerOnly(tls);
        assertThat(exp.dbEnv()).containsEntry("SSDB_TLS_CA", tls.caCert().toString());
        TlsClients.tlsOnly(db, tls.caCert());
        TlsClients.clusterCheck(db, tls.caCert());
        TlsClients.jedisClusterWorks(db, tls.caCert(), 200);
        TlsClients.plainAndStrangersRefused(db);
    }

    /**
     * Regression: PBS's own "does the shard still answer?" check before and after killing it sent a plain-text
     * PING, which a TLS shard answers by closing the connection: a running TLS shard looked gone and stop left it
     * running. Now the shard's handle records its CA, and the launcher alone (no SHUTDOWN from core) ends it.
     */
    @Test
    void inAnExistingJobOverSshAndTheLaunchersOwnStopSeesTlsShards() throws Exception {
        String id = PbsTestJobs.holder(tmp, jobs::add);
        try (Experiment exp = Experiment.create("pbs-tls", tmp.resolve("exp"), System.out::println)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("pbs").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(14500, 1)).tls(true).launcherOption("alloc", id)
                    .launcherOption("sshConfig", PbsTestJobs.SSH_CONFIG.toString()).build());
            exp.start(db);
            assertThat(db.addresses()).containsExactly("127.0.1.1:14500", "127.0.1.2:14500", "127.0.1.3:14500");
            assertThat(TlsClients.subjectAltNames(db.plan().tls().orElseThrow()))
                    .contains("n1", "n2", "n3", "127.0.1.1", "127.0.1.2", "127.0.1.3");
            usedOverTls(exp, db);
            List<LaunchedShard> shards = db.shards();
            assertThat(shards).allSatisfy(s -> assertThat(s.handle()).containsEntry(TlsFiles.HANDLE_CA,
                    db.plan().tls().orElseThrow().caCert().toString()));
            // What the old plain check saw: nothing answering. What the recorded CA sees: every shard.
            for (LaunchedShard s : shards) {
                assertThat(Ping.answers(s.host(), s.port(), 1000)).isFalse();
                assertThat(Ping.answers(s.host(), s.port(), 1000, TlsFiles.access(s))).isTrue();
                assertThat(TlsFiles.access(s)).isNotEqualTo(Access.NONE);
            }
            exp.detach(db);
            new PbsLauncher().stop(shards, Duration.ofMillis(300));
            assertThat(redisOf(tmp)).as("the launcher's stop ended every TLS shard").isEmpty();
        }
        assertThat(job(id).running()).as("the user's job outlives the orchestrator").isTrue();
    }

    @Test
    void asABatchJobOverSsh() throws Exception {
        String id;
        try (Experiment exp = Experiment.create("pbs-tls", tmp.resolve("exp"), System.out::println)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("pbs").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(14600, 1))
                    .tls(true).startupTimeout(Duration.ofSeconds(150))
                    .launcherOption("batch", "true").launcherOption("time", "00:10:00")
                    .launcherOption("runCommand", "ssh")
                    .launcherOption("sshConfig", PbsTestJobs.SSH_CONFIG.toString()).build());
            exp.start(db);
            id = db.shards().get(0).handle().get(PbsLauncher.JOB);
            jobs.add(id);
            assertThat(db.addresses()).containsExactly("127.0.1.1:14600", "127.0.1.2:14600", "127.0.1.3:14600");
            usedOverTls(exp, db);
            exp.stop(db);
        }
        assertThat(redisOf(tmp)).isEmpty();
        assertThat(job(id).finished()).as("job %s after stop", id).isTrue();
    }
}
