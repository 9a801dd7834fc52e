package io.smartsim.launch.ssh;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.exec.Routes;
import io.smartsim.launch.exec.Transports;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.planned.Tls;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.ShardLogs;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import io.smartsim.launch.testing.TlsClients;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --tls} with the Slurm launcher behind a login node ({@code remote=}, the loopback sshd in front of the
 * Slurm testbed): the certificates are made on this machine, copied to the login node's experiment directory over
 * the session, and the control plane (readiness PING, forming, health, SHUTDOWN) reaches the TLS shards through
 * ports forwarded to 127.0.0.1, which works because no client here checks host names, only the CA chain.
 */
@TestbedLock(TestbedLock.Bed.SLURM)
@TestbedLock(value = TestbedLock.Bed.SSH, shared = true)
class RemoteSlurmTlsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(30);
    private static final LocalCommandRunner SH = new LocalCommandRunner();
    private static final String LOGIN = "recording://127.0.0.1";
    private static final int PORT = 14400;

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
        // By port: the wrapper execs redis-server, whose process title does not show the experiment directory.
        List<String> left = Processes.serversOn(List.of(PORT));
        if (!jobs.isEmpty()) {
            SH.run(List.of("scancel", String.join(",", jobs)), CMD);
        }
        assertThat(left).as("redis-server processes of this test left behind").isEmpty();
        // Then the Leftovers check: anything of this test still there after scancel (killed), ports on every address.
    }

    @Test
    void batchJobBehindALoginNodeGetsTheFilesOverSshAndIsReachedThroughForwards() throws Exception {
        String job;
        try (Experiment exp = Experiment.create("remote-tls", dir, System.out::println)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(PORT, 1)).tls(true).launcherOption("batch", "true")
                    .launcherOption("remote", LOGIN).launcherOption("ssh-config", SshTestbed.sshConfig().toString())
                    .build());
            exp.start(db);
            job = db.shards().get(0).handle().get("jobId");
            jobs.add(job);
            Tls tls = db.plan().tls().orElseThrow();
            // The three files went to the login node's copy of the experiment directory, through the session.
            assertThat(RecordingTransport.LOG).contains("write " + tls.caCert(), "write " + tls.cert(),
                    "write " + tls.key());
            TlsClients.ownerOnly(tls);
            // This machine reaches the shards only through forwarded ports on 127.0.0.1, over TLS.
            assertThat(Routes.routed("127.0.1.2", PORT)).isTrue();
            InetSocketAddress via = Routes.resolve("127.0.1.2", PORT);
            assertThat(via.getAddress().getHostAddress()).isEqualTo("127.0.0.1");
            Credentials c = db.plan().auth().orElseThrow();
            try (Jedis j = new Jedis(new HostAndPort("127.0.0.1", via.getPort()), TlsClients.tlsConfig(db,
                    tls.caCert()))) {
                assertThat(j.clusterInfo()).contains("cluster_state:ok");
            }
            // redis-cli through the forward too: it checks the CA chain, not the name it connected to.
            ProcessBuilder pb = new ProcessBuilder("redis-cli", "--tls", "--cacert", tls.caCert().toString(),
                    "--user", c.user(), "-h", "127.0.0.1", "-p", Integer.toString(via.getPort()), "PING")
                    .redirectErrorStream(true);
            pb.environment().put("REDISCLI_AUTH", c.password());
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            assertThat(p.waitFor()).as(out).isZero();
            assertThat(out).isEqualTo("PONG");
            exp.detach(db);
        }
        // A later process: status and stop from the manifest, through a new session and new forwards, over TLS.
        Transports.closeAll();
        try (Experiment later = Experiment.reconnect(dir)) {
            OrchestratorStatus st = later.status("orchestrator");
            assertThat(st.state()).as(st.toString()).isEqualTo("RUNNING");
            Orchestrator db = later.orchestrator("orchestrator");
            later.stop(db);
            // SHUTDOWN over TLS ended the servers, and so the steps: no grace ran out, no scancel's SIGTERM
            ShardLogs.endedByShutdownCommand(db.plan());
        }
        CommandResult q = SH.run(List.of("squeue", "-h", "-j", job), CMD);
        assertThat(q.stdout().strip()).isEmpty();
    }

    @Test
    void inAllocationBehindALoginNodeOverTls() throws Exception {
        CommandResult holder = SH.run(List.of("sbatch", "--parsable", "-N3", "-J", "remote-tls-holder",
                "--output=/dev/null", "--wrap", "sleep 600"), CMD);
        assertThat(holder.ok()).as(holder.describe()).isTrue();
        String job = holder.stdout().strip().split(";")[0];
        jobs.add(job);
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!SH.run(List.of("squeue", "-h", "-j", job, "-o", "%T"), CMD).stdout().strip().equals("RUNNING")
                && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        try (Experiment exp = Experiment.create("remote-tls", dir, System.out::println)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("slurm").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(PORT, 1)).tls(true).launcherOption("alloc", job)
                    .launcherOption("remote", LOGIN).launcherOption("ssh-config", SshTestbed.sshConfig().toString())
                    .build());
            exp.start(db);
            Tls tls = db.plan().tls().orElseThrow();
            assertThat(RecordingTransport.LOG).contains("write " + tls.caCert(), "write " + tls.cert(),
                    "write " + tls.key());
            assertThat(RecordingTransport.LOG.stream().filter(l -> l.startsWith("spawn srun"))).hasSize(3);
            assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");
            exp.stop(db);
        }
        List<String> steps = SH.run(List.of("squeue", "-h", "-s", "-j", job, "-o", "%i"), CMD).stdout().lines()
                .filter(l -> !l.isBlank()).toList();
        assertThat(steps).containsOnly(job + ".batch");
    }
}
