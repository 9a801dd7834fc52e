package io.smartsim.launch.ssh;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.error.SchedulerUnreachableException;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The ssh launcher when the connection is cut mid-launch: sshd stops (testbeds/ssh/down) right after the shards
 * started, as a network failure or a rebooting host would. A class of its own (it was SshLauncherIT's last test): it
 * holds the ssh testbed alone, so the other ssh classes share it meanwhile.
 */
@TestbedLock(TestbedLock.Bed.SSH)
@org.junit.jupiter.api.Tag("ssh-alone") // run alone, after the others (launcher-ssh/pom.xml)
class SshConnectionCutIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;
    private final List<Integer> usedPorts = new ArrayList<>();

    @BeforeAll
    static void sshdUp() {
        SshTestbed.up();
    }

    @AfterEach
    void sshdBackUp() {
        if (!java.nio.file.Files.exists(SshTestbed.DIR.resolve("sshd.pid"))) {
            SshTestbed.up(); // the test failed before bringing it back
        }
        // Then the Leftovers check: processes by working dir, ports (bus and --ai too) on every host's address.
    }

    private int port() {
        int base = leftovers.freeBase(1);
        usedPorts.add(base);
        return base;
    }

    private OrchestratorSpec.Builder spec(int port) {
        return OrchestratorSpec.builder().launcher("ssh").nodes(3).instancesPerNode(1).port(port)
                .launcherOption("hosts", String.join(",", SshTestbed.HOSTS))
                .launcherOption("ssh-config", SshTestbed.sshConfig().toString());
    }

    @Test
    void aConnectionCutMidLaunchIsSchedulerUnreachableAndDbStopCleansUpOnceReachable() {
        int port = port();
        AtomicBoolean cut = new AtomicBoolean();
        try (Experiment exp = Experiment.create("ssh-demo", dir, line -> {
            // The shards have started; the next step needs SSH (is each process alive?). Cut it now.
            if (line.contains(" started on ") && cut.compareAndSet(false, true)) {
                SshTestbed.cut();
            }
        })) {
            Orchestrator db = exp.createOrchestrator(spec(port).build());
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(SchedulerUnreachableException.class)
                    .hasMessageContaining("127.0.1.")
                    .hasMessageNotContaining("not found");
            assertThat(cut).isTrue();
        }
        SshTestbed.up(); // reachable again
        OrchestratorRecord r = new ManifestStore(dir).read().orElseThrow().find("orchestrator").orElseThrow();
        assertThat(r.shards()).as("what was started is recorded, so db stop can find it").hasSize(3);

        Experiment later = Experiment.reconnect(dir);
        later.stop(later.orchestrator("orchestrator"));
        assertThat(Processes.serversOn(usedPorts)).isEmpty();
        assertThat(new SshLauncher().probe(r.shards()).values()).containsOnly(Liveness.GONE);
    }
}
