package io.smartsim.launch.spi;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.RestartPolicy;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Capabilities are types: a launcher that is not {@link Restartable}, {@link Leasable} or {@link PortChooser} is
 * refused the option that needs one, by name, when the orchestrator is planned, before the launcher is asked anything
 * (no placement, no preflight, no start) and before the experiment writes a manifest. {@link PlainLauncher} (a fake:
 * every real launcher has every capability) stands for a launcher without them.
 */
@Timeout(30)
class CapabilityCheckTest {
    @TempDir
    Path dir;

    @BeforeEach
    void clearCalls() {
        PlainLauncher.CALLS.clear();
    }

    private OrchestratorSpec.Builder plain() {
        return OrchestratorSpec.builder().launcher(PlainLauncher.NAME).auth(false);
    }

    private void refused(OrchestratorSpec spec, String field, String message) {
        Path exp = dir.resolve("exp");
        try (Experiment e = Experiment.create("demo", exp)) {
            assertThatThrownBy(() -> e.createOrchestrator(spec))
                    .isInstanceOfSatisfying(InvalidSpecException.class, x -> assertThat(x.field()).isEqualTo(field))
                    .hasMessage(field + ": " + message);
            assertThat(e.orchestrators()).isEmpty();
        }
        assertThat(PlainLauncher.CALLS).as("SPI calls before the refusal").isEmpty();
        assertThat(exp.resolve("manifest.json")).doesNotExist();
    }

    @Test
    void restartOnFailureIsRefusedByNameBeforeTheLauncherIsAskedAnything() {
        refused(plain().restart(RestartPolicy.ON_FAILURE).build(), "restart", "--restart on-failure is not supported "
                + "by the plain launcher (it cannot start one shard again; the local, slurm, ssh and pbs launchers "
                + "can); leave it out, and check the orchestrator with 'db status'");
    }

    @Test
    void aLeaseIsRefusedByNameBeforeTheLauncherIsAskedAnything() {
        refused(plain().lease(Duration.ofMinutes(10)).build(), "lease", "--lease is not supported by the plain "
                + "launcher (it cannot start a lease guard beside each shard; the local, slurm, ssh and pbs launchers "
                + "can); leave it out, and stop the orchestrator with 'db stop' (for example from an EXIT trap in the "
                + "batch script)");
    }

    @Test
    void portAutoIsRefusedByNameBeforeTheLauncherIsAskedAnything() {
        refused(plain().autoPort(true).build(), "port", "the plain launcher cannot pick free ports (it cannot see its "
                + "nodes' ports before launch); give a fixed base port, for example --port "
                + OrchestratorSpec.DEFAULT_PORT);
    }

    @Test
    void withoutThoseOptionsThePlainLauncherIsPlannedAsAnyOther() {
        try (Experiment e = Experiment.create("demo", dir.resolve("exp"))) {
            assertThat(e.createOrchestrator(plain().build()).plan().shards()).hasSize(1);
        }
        assertThat(PlainLauncher.CALLS).containsExactly("place");
    }

    @Test
    void everyRealCapabilityIsAType() {
        assertThat(Launcher.class.getMethods()).extracting(java.lang.reflect.Method::getName)
                .doesNotContain("canRestart", "canLease", "restart", "restartGuard", "pushLease", "choosePorts");
    }
}
