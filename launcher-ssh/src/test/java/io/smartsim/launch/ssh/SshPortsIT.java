package io.smartsim.launch.ssh;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --port auto} with the ssh launcher: each host's listening sockets read over SSH from /proc/net/tcp, so a port
 * held on one host (here by this test, on that host's address) moves the base on every host past it.
 */
@TestbedLock(value = TestbedLock.Bed.SSH, shared = true)
class SshPortsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;
    private final List<Integer> usedPorts = new ArrayList<>();

    @BeforeAll
    static void sshdUp() {
        SshTestbed.up();
    }

    private OrchestratorSpec.Builder spec(int port) {
        return OrchestratorSpec.builder().launcher("ssh").nodes(3).instancesPerNode(1).port(port).autoPort(true)
                .launcherOption("hosts", String.join(",", SshTestbed.HOSTS))
                .launcherOption("ssh-config", SshTestbed.sshConfig().toString());
    }

    @Test
    void aPortHeldOnOneHostAndABusPortHeldOnAnotherAreSkippedOnEveryHost() throws Exception {
        int base = leftovers.freeBase(4);
        usedPorts.addAll(Processes.range(base, 4));
        try (ServerSocket shardPort = new ServerSocket(); ServerSocket busPort = new ServerSocket()) {
            // base on host 2's address, base+1's bus port on host 3's: the first base free everywhere is base+2.
            shardPort.bind(new InetSocketAddress(SshTestbed.HOSTS.get(1), base));
            busPort.bind(new InetSocketAddress(SshTestbed.HOSTS.get(2), base + 1 + OrchestratorSpec.BUS_PORT_OFFSET));
            try (Experiment exp = Experiment.create("ssh-ports", dir)) {
                long t0 = System.nanoTime();
                Orchestrator db = exp.createOrchestrator(spec(base).build());
                System.out.printf("--port auto over 3 hosts (one command each over SSH) planned in %.2f s%n",
                        (System.nanoTime() - t0) / 1e9);
                assertThat(db.plan().shards()).extracting(ShardPlan::port).containsOnly(base + 2);
                exp.start(db);
                assertThat(db.addresses()).containsExactly("127.0.1.1:" + (base + 2), "127.0.1.2:" + (base + 2),
                        "127.0.1.3:" + (base + 2));
                assertThat(new ManifestStore(dir).read().orElseThrow().find(db.id()).orElseThrow().shards())
                        .extracting(LaunchedShard::port).containsOnly(base + 2);

                Credentials cred = db.plan().auth().orElseThrow();
                ProcessBuilder checkCmd = new ProcessBuilder("redis-cli", "--user", cred.user(), "--cluster", "check",
                        "127.0.1.1:" + (base + 2)).redirectErrorStream(true);
                checkCmd.environment().put("REDISCLI_AUTH", cred.password());
                Process check = checkCmd.start();
                String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(check.exitValue()).as(out).isZero();
                assertThat(out).contains("[OK] All 16384 slots covered.");

                exp.stop(db);
                assertThat(Processes.serversOn(usedPorts)).isEmpty();
                assertThat(new SshLauncher().probe(db.shards()).values()).containsOnly(Liveness.GONE);
            }
        }
    }

    @Test
    void replicasTakeTheNextPortOnTheirHostSoTheBlockOfTwoMustBeFree() throws Exception {
        int base = leftovers.freeBase(4);
        usedPorts.addAll(Processes.range(base, 4));
        try (ServerSocket held = new ServerSocket()) {
            // With one replica each host runs two servers (base, base+1): base+1 held on host 1 rules out base too.
            held.bind(new InetSocketAddress(SshTestbed.HOSTS.get(0), base + 1));
            try (Experiment exp = Experiment.create("ssh-ports", dir)) {
                Orchestrator db = exp.createOrchestrator(spec(base).replicas(1).build());
                assertThat(db.plan().shards()).extracting(ShardPlan::port)
                        .containsExactly(base + 2, base + 2, base + 2, base + 3, base + 3, base + 3);
            }
        }
    }

    @Test
    void aBusyFixedPortFailsBeforeAnythingStartsNamingTheProcessThatHoldsIt() throws Exception {
        int base = leftovers.freeBase(1);
        usedPorts.add(base);
        try (ServerSocket held = new ServerSocket()) {
            held.bind(new InetSocketAddress(SshTestbed.HOSTS.get(1), base));
            try (Experiment exp = Experiment.create("ssh-ports", dir)) {
                Orchestrator db = exp.createOrchestrator(spec(base).autoPort(false).build());
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> exp.start(db))
                        .isInstanceOf(io.smartsim.launch.error.InvalidSpecException.class)
                        .hasMessage("port: 3 host(s) x 1 per host = 3 shard(s) use ports " + base + "-" + base
                                + " and bus ports +10000, but 127.0.1.2:" + base + " (host 127.0.1.2) already accepts "
                                + "connections (held by pid " + ProcessHandle.current().pid() + " (java)); stop what "
                                + "holds it, choose another --port, or --port auto");
                assertThat(db.shards()).as("nothing started").isEmpty();
            }
        }
    }
}
