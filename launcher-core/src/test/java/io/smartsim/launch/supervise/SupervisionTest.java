package io.smartsim.launch.supervise;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SupervisionTest {
    /** A launcher that keeps the SPI's defaults: it can neither restart a shard nor lease one. Nothing is started. */
    private static final Launcher PLAIN = new Launcher() {
        @Override public String name() { return "plain"; }
        @Override public Placement place(OrchestratorSpec spec) { throw new UnsupportedOperationException(); }
        @Override public void preflight(LaunchPlan plan) { }
        @Override public List<LaunchedShard> start(LaunchPlan plan, LaunchContext c) { return List.of(); }
        @Override public Map<Integer, Launcher.Liveness> probe(List<LaunchedShard> shards) { return Map.of(); }
        @Override public void stop(List<LaunchedShard> shards, Duration grace) { }
    };

    @Test
    void aLauncherWithoutRestartIsRefusedByNameOnTheRestartField() {
        OrchestratorSpec spec = OrchestratorSpec.builder().restart(RestartPolicy.ON_FAILURE).build();
        assertThatThrownBy(() -> Supervision.refuseUnsupported(PLAIN, spec))
                .isInstanceOfSatisfying(InvalidSpecException.class, e -> assertThat(e.field()).isEqualTo("restart"))
                .hasMessageContaining("--restart on-failure is not supported by the plain launcher")
                .hasMessageContaining("leave it out");
    }

    @Test
    void aLauncherWithoutLeaseIsRefusedByNameOnTheLeaseField() {
        OrchestratorSpec spec = OrchestratorSpec.builder().lease(Duration.ofMinutes(10)).build();
        assertThatThrownBy(() -> Supervision.refuseUnsupported(PLAIN, spec))
                .isInstanceOfSatisfying(InvalidSpecException.class, e -> assertThat(e.field()).isEqualTo("lease"))
                .hasMessageContaining("--lease is not supported by the plain launcher")
                .hasMessageContaining("'db stop'");
    }

    @Test
    void aSpecAskingForNeitherPassesAnyLauncher() {
        assertThatCode(() -> Supervision.refuseUnsupported(PLAIN, OrchestratorSpec.builder().build()))
                .doesNotThrowAnyException();
    }
}
