package io.smartsim.launch.ssh;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.planned.Tls;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.ShardLogs;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import io.smartsim.launch.testing.TlsClients;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --tls} with the ssh launcher through the loopback sshd (hosts 127.0.1.1-3): the certificate and key reach
 * each host over the SSH session (the hosts may not share this machine's file system), owner-only; the cluster
 * speaks TLS only, redis-cli and a Jedis client trusting the CA use it, a plain client is refused, and status and
 * stop from a later process leave nothing.
 */
@TestbedLock(value = TestbedLock.Bed.SSH, shared = true)
class SshTlsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    /** Hand-picked from this module's TLS range; checked free before use. */
    private static final int PORT = 14300;

    @TempDir
    Path dir;
    private final List<Integer> usedPorts = new ArrayList<>(List.of(PORT));

    @BeforeAll
    static void sshdUp() {
        SshTestbed.up();
    }

    @Test
    void theKeyReachesEveryHostOverSshAndTheClusterSpeaksTlsOnly() throws Exception {
        for (String h : SshTestbed.HOSTS) {
            assertThat(Processes.free(h, PORT) && Processes.free(h, PORT + OrchestratorSpec.BUS_PORT_OFFSET))
                    .as("port %d on %s free", PORT, h).isTrue();
        }
        // openssl's key, held by a second name: while that link lives its inode cannot be handed to a new file (the
        // three copies here write the same path one after another, so without it the last copy may get it back).
        Path opensslKey = dir.resolve("server.key.as-openssl-wrote-it");
        try (Experiment exp = Experiment.create("ssh-tls", dir, line -> {
            System.out.println(line);
            if (line.startsWith("copying the TLS certificate and key to 3 host(s) over SSH")) {
                try {
                    // Made here by openssl a moment ago; the launcher has not written it anywhere yet.
                    Files.createLink(opensslKey, dir.resolve("orchestrator/tls/server.key"));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        })) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().launcher("ssh").nodes(3)
                    .instancesPerNode(1).port(leftovers.shardPorts(PORT, 1)).tls(true)
                    .launcherOption("hosts", String.join(",", SshTestbed.HOSTS))
                    .launcherOption("ssh-config", SshTestbed.sshConfig().toString()).build());
            exp.start(db);
            Tls tls = db.plan().tls().orElseThrow();
            // The hosts are this machine here: the copy over SSH replaced the file openssl made (written to a
            // temporary name under umask 077 and renamed), which is what a host without a shared file system gets.
            assertThat(opensslKey).as("progress announced the copy").exists();
            assertThat(Files.isSameFile(tls.key(), opensslKey)).as("the key was replaced by the copy").isFalse();
            TlsClients.ownerOnly(tls);
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(
                    tls.cert()))).isEqualTo("rw-------");
            assertThat(TlsClients.subjectAltNames(tls)).contains("127.0.1.1", "127.0.1.2", "127.0.1.3");
            assertThat(exp.dbEnv()).containsEntry("SSDB_TLS_CA", tls.caCert().toString());

            TlsClients.tlsOnly(db, tls.caCert());
            TlsClients.clusterCheck(db, tls.caCert());
            TlsClients.jedisClusterWorks(db, tls.caCert(), 300);
            TlsClients.plainAndStrangersRefused(db);

            Experiment later = Experiment.reconnect(dir);
            OrchestratorStatus st = later.status(db.id());
            assertThat(st.state()).as(st.toString()).isEqualTo("RUNNING");
            later.stop(later.orchestrator(db.id()));
            // SHUTDOWN went in over TLS: no grace period ran out, no SIGTERM (the servers' logs say so).
            ShardLogs.endedByShutdownCommand(db.plan());
            assertThat(Processes.serversOn(usedPorts)).isEmpty();
            assertThat(new SshLauncher().probe(db.shards()).values()).containsOnly(Liveness.GONE);
            for (String h : SshTestbed.HOSTS) {
                assertThat(Processes.free(h, PORT)).isTrue();
                assertThat(Processes.free(h, PORT + OrchestratorSpec.BUS_PORT_OFFSET)).isTrue();
            }
        }
    }
}
