package io.smartsim.launch.slurm;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.planned.Tls;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.ShardLogs;
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
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --tls} with the Slurm launcher on the testbed (testbeds/slurm/up: n1-n3 at 127.0.1.1-3, this machine's
 * file system shared): certificates made here in the orchestrator directory, shards on three nodes speaking TLS
 * only, checked with redis-cli and a Jedis client that trust the CA, a plain client refused, and stop (from a later
 * process) leaving no step, job or redis-server.
 */
@TestbedLock(TestbedLock.Bed.SLURM)
class SlurmTlsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(30);
    private static final LocalCommandRunner SH = new LocalCommandRunner();

    /** Hand-picked from this module's TLS range. */
    private static final List<Integer> PORTS = List.of(14100, 14200);

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
        // Then the Leftovers check: by working directory, and the ports (with bus and --ai ports) on every address.
    }

    /**
     * This test's servers, by port: the wrapper execs redis-server, which rewrites its process title to
     * {@code redis-server ADDRESS:PORT [cluster]}, so the experiment directory does not show in it.
     */
    private static List<String> redisOf(Path dir) {
        return Processes.serversOn(PORTS);
    }

    private static Set<String> steps(String job) {
        return SlurmParsers.steps(SH.run(SlurmCommands.squeueSteps(List.of(job)), CMD).stdout()).stream()
                .map(SlurmParsers.Step::id).collect(Collectors.toSet());
    }

    /** Everything a user does with the running TLS orchestrator, then status and stop from a later process. */
    private void usedAndStopped(Experiment exp, Orchestrator db) throws Exception {
        Tls tls = db.plan().tls().orElseThrow();
        TlsClients.ownerOnly(tls);
        assertThat(exp.dbEnv()).containsEntry("SSDB_TLS_CA", tls.caCert().toString());
        TlsClients.tlsOnly(db, tls.caCert());
        TlsClients.clusterCheck(db, tls.caCert());
        TlsClients.jedisClusterWorks(db, tls.caCert(), 300);
        TlsClients.plainAndStrangersRefused(db);
        Experiment later = Experiment.reconnect(tmp.resolve("exp"));
        OrchestratorStatus st = later.status(db.id());
        assertThat(st.state()).as(st.toString()).isEqualTo("RUNNING");
        later.stop(later.orchestrator(db.id()));
        // SHUTDOWN went in over TLS: each step ended with its server, no grace ran out, no scancel's SIGTERM (the
        // servers' logs say so).
        ShardLogs.endedByShutdownCommand(db.plan());
    }

    @Test
    void threeNodesOneShardEachInAnAllocation() throws Exception {
        String job = HolderJobs.hold3("slurm-tls-holder", jobs::add);
        try (Experiment exp = Experiment.create("slurm-tls", tmp.resolve("exp"), System.out::println)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(14100, 1))
                    .tls(true).launcherOption("alloc", job).build());
            exp.start(db);
            assertThat(db.addresses()).containsExactly("127.0.1.1:14100", "127.0.1.2:14100", "127.0.1.3:14100");
            // The certificate names the nodes and what this machine resolves them to: where they bound.
            assertThat(TlsClients.subjectAltNames(db.plan().tls().orElseThrow()))
                    .contains("n1", "n2", "n3", "127.0.1.1", "127.0.1.2", "127.0.1.3");
            usedAndStopped(exp, db);
        }
        assertThat(redisOf(tmp)).isEmpty();
        assertThat(steps(job)).containsOnly(job + ".batch"); // only the holder's own batch step
    }

    @Test
    void threeNodesAsABatchJob() throws Exception {
        String job;
        try (Experiment exp = Experiment.create("slurm-tls", tmp.resolve("exp"), System.out::println)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(14200, 1))
                    .tls(true).launcherOption("batch", "true").build());
            exp.start(db);
            job = db.shards().get(0).handle().get("jobId");
            jobs.add(job);
            assertThat(db.addresses()).containsExactly("127.0.1.1:14200", "127.0.1.2:14200", "127.0.1.3:14200");
            // The nodes are only known once the job runs: no names for them in the certificate. So what follows
            // also shows that redis-cli and Jedis (given a socket factory) check the CA chain, not host names.
            assertThat(TlsClients.subjectAltNames(db.plan().tls().orElseThrow()))
                    .noneMatch(n -> n.startsWith("batch-") || n.startsWith("127.0.1.") || n.startsWith("n"));
            usedAndStopped(exp, db);
        }
        assertThat(redisOf(tmp)).isEmpty();
        assertThat(SlurmParsers.jobs(SH.run(SlurmCommands.squeueJobs(List.of(job)), CMD).stdout()))
                .allMatch(SlurmParsers.Job::finished);
    }
}
