package io.smartsim.launch.experiment;

import io.smartsim.launch.ThisMachine;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spi.PlainLauncher;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code ThisMachine.warmUp}, what the CLI runs ahead of {@code db start} and in its class-data archive's training: it
 * asks the launcher for a placement only (no preflight, no start), writes nothing without a scratch directory, and in
 * one writes a manifest that reads back. {@link PlainLauncher} (a fake that records SPI calls) stands for the launcher.
 */
@Timeout(30)
class WarmUpTest {
    @TempDir
    Path dir;

    @BeforeEach
    void clearCalls() {
        PlainLauncher.CALLS.clear();
    }

    private static OrchestratorSpec spec() {
        return OrchestratorSpec.builder().launcher(PlainLauncher.NAME).instancesPerNode(3).build();
    }

    @Test
    void itPlansAndWritesNothing() throws Exception {
        ThisMachine.warmUp(spec(), Optional.empty());
        assertThat(PlainLauncher.CALLS).containsExactly("place");
        assertThat(WarmUp.NOWHERE).doesNotExist();
        try (var files = Files.list(dir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void withAScratchDirectoryItWritesAManifestThereThatReadsBack() {
        ThisMachine.warmUp(spec(), Optional.of(dir));
        assertThat(PlainLauncher.CALLS).containsExactly("place");
        assertThat(new ManifestStore(dir).read()).hasValueSatisfying(m -> assertThat(m.orchestrators()).isEmpty());
    }

    @Test
    void aSpecItCannotPlanFailsAsPlanningFails() {
        assertThatThrownBy(() -> ThisMachine.warmUp(OrchestratorSpec.builder().launcher("no-such-launcher").build(),
                Optional.empty())).hasMessageContaining("no-such-launcher");
        assertThat(PlainLauncher.CALLS).isEmpty();
    }
}
