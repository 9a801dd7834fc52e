package io.smartsim.launch.plan;

import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spec.OrchestratorSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class EphemeralPortsTest {
    private static LaunchPlan plan(int port, int shards) {
        return Planner.plan("e", Path.of("/exp"), OrchestratorSpec.builder().port(port).instancesPerNode(shards)
                .auth(false).build(), new Placement(List.of(new Placement.Node("localhost", List.of("127.0.0.1")))),
                Optional.empty());
    }

    @Test
    void theDefaultPortAndItsBusPortsAreOutsideLinuxsRange() {
        assertThat(EphemeralPorts.warning(plan(OrchestratorSpec.DEFAULT_PORT, 3), EphemeralPorts.DEFAULT)).isEmpty();
        assertThat(EphemeralPorts.warning(plan(22765, 3), EphemeralPorts.DEFAULT)).isEmpty(); // bus 32765-32767
    }

    @Test
    void busPortsInTheRangeAreNamedWithABaseThatKeepsThemOut() {
        assertThat(EphemeralPorts.warning(plan(22767, 3), EphemeralPorts.DEFAULT)).hasValue("2 of its ports "
                + "(32768-32769) lie in the ephemeral port range 32768-60999, where the system picks ports for outgoing "
                + "connections: one may already hold a port when its shard starts. A base port of 22765 or lower "
                + "keeps them out (or --port auto).");
        // Standalone: no bus port; only the client port counts.
        assertThat(EphemeralPorts.warning(plan(40000, 1), EphemeralPorts.DEFAULT)).get().asString()
                .startsWith("1 of its ports (40000) lie").contains("A base port of 32767 or lower");
        assertThat(EphemeralPorts.warning(plan(40000, 1), new EphemeralPorts.Range(50000, 60000))).isEmpty();
    }
}
