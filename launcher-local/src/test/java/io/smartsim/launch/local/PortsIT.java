package io.smartsim.launch.local;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code --port auto} against real ports: busy ones are skipped, the choice is recorded, two never collide. */
class PortsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;

    @Test
    void autoSkipsABusyShardPortAndABusyBusPortAndRecordsWhatItChose() throws Exception {
        int base = leftovers.freeBase(12);
        try (ServerSocket shardPort = new ServerSocket(); ServerSocket busPort = new ServerSocket()) {
            shardPort.bind(new InetSocketAddress("127.0.0.1", base + 1));
            busPort.bind(new InetSocketAddress("127.0.0.1", base + 3 + OrchestratorSpec.BUS_PORT_OFFSET));
            try (Experiment exp = Experiment.create("auto", dir)) {
                Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).port(base)
                        .autoPort(true).build());
                // base+1 is busy, so is base+3's bus port: the first free block of 3 starts at base+4.
                assertThat(db.plan().shards()).extracting(ShardPlan::port)
                        .containsExactly(base + 4, base + 5, base + 6);
                exp.start(db);
                assertThat(db.health().healthy()).isTrue();
                assertThat(new ManifestStore(dir).read().orElseThrow().find("orchestrator").orElseThrow().shards())
                        .extracting(LaunchedShard::port).containsExactly(base + 4, base + 5, base + 6);
                assertThat(exp.dbEnv().get("SSDB")).isEqualTo("127.0.0.1:" + (base + 4) + ",127.0.0.1:" + (base + 5)
                        + ",127.0.0.1:" + (base + 6));
                exp.stop(db);
            }
        }
    }

    @Test
    void twoAutoOrchestratorsOfOneExperimentGetDisjointPorts() {
        int base = leftovers.freeBase(8);
        try (Experiment exp = Experiment.create("two", dir)) {
            Orchestrator a = exp.createOrchestrator(OrchestratorSpec.builder().id("a").instancesPerNode(3).port(base)
                    .autoPort(true).build());
            Orchestrator b = exp.createOrchestrator(OrchestratorSpec.builder().id("b").instancesPerNode(3).port(base)
                    .autoPort(true).build());
            Set<Integer> ports = new HashSet<>();
            for (Orchestrator o : List.of(a, b)) {
                for (ShardPlan s : o.plan().shards()) {
                    assertThat(ports.add(s.port())).as("port %d used twice", s.port()).isTrue();
                    assertThat(ports.add(s.busPort())).as("bus port %d used twice", s.busPort()).isTrue();
                }
            }
            exp.start(a, b);
            assertThat(a.health().healthy()).isTrue();
            assertThat(b.health().healthy()).isTrue();
        }
    }
}
