package io.smartsim.launch.plan;

import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PortSearchTest {
    private static final int BASE = 41000;

    /** Busy ports per host, as a launcher would have gathered them. */
    private static PortSearch.Busy busy(Map<String, Set<Integer>> ports) {
        return (host, port) -> ports.getOrDefault(host, Set.of()).contains(port);
    }

    private static Placement nodes(String... hosts) {
        List<Placement.Node> out = new ArrayList<>();
        for (String h : hosts) {
            out.add(new Placement.Node(h, List.of()));
        }
        return new Placement(out);
    }

    @Test
    void nothingBusyKeepsTheSpecsPort() {
        OrchestratorSpec spec = OrchestratorSpec.builder().nodes(3).instancesPerNode(2).port(BASE).build();
        assertThat(PortSearch.choose(spec, nodes("n1", "n2", "n3"), busy(Map.of()), "n1,n2,n3").port()).isEqualTo(BASE);
    }

    @Test
    void aBusyShardPortOnOneHostMovesTheBaseOnEveryHostPastIt() {
        OrchestratorSpec spec = OrchestratorSpec.builder().nodes(3).instancesPerNode(2).port(BASE).build();
        // n2 runs shards on BASE and BASE+1; BASE+1 is held there, so no base up to BASE+1 fits on n2.
        int base = PortSearch.lowestFreeBase(spec, Map.of("n1", 2, "n2", 2, "n3", 2),
                busy(Map.of("n2", Set.of(BASE + 1))), "n1,n2,n3");
        assertThat(base).isEqualTo(BASE + 2);
    }

    @Test
    void aBusyBusPortIsSkippedWhenClusteredAndIgnoredWhenStandalone() {
        Map<String, Set<Integer>> held = Map.of("n1", Set.of(BASE + 2 + OrchestratorSpec.BUS_PORT_OFFSET));
        OrchestratorSpec clustered = OrchestratorSpec.builder().nodes(1).instancesPerNode(3).port(BASE).build();
        assertThat(PortSearch.lowestFreeBase(clustered, Map.of("n1", 3), busy(held), "n1")).isEqualTo(BASE + 3);
        OrchestratorSpec standalone = OrchestratorSpec.builder().nodes(1).instancesPerNode(1).port(BASE + 2).build();
        assertThat(PortSearch.lowestFreeBase(standalone, Map.of("n1", 1), busy(held), "n1")).isEqualTo(BASE + 2);
    }

    /** Issue 16: an --ai shard serves on its own port (the module); P + 20000, the front's server port, is no concern. */
    @Test
    void aBusyPortTwentyThousandAboveIsNoConcernOfAnAiShard() {
        OrchestratorSpec spec = OrchestratorSpec.builder().nodes(1).instancesPerNode(1).port(BASE)
                .ai(AiSpec.of(List.of("onnx"))).build();
        Map<String, Set<Integer>> held = Map.of("n1", Set.of(BASE + 20000));
        assertThat(PortSearch.lowestFreeBase(spec, Map.of("n1", 1), busy(held), "n1")).isEqualTo(BASE);
        assertThat(PortSearch.choose(spec, nodes("n1"), busy(held), "n1").port()).isEqualTo(BASE);
    }

    @Test
    void aHostWithMoreShardsNeedsALongerFreeBlock() {
        // Two nodes on host a (4 shards there: BASE..BASE+3), one on b (2 shards): BASE+3 busy on a only matters there.
        OrchestratorSpec spec = OrchestratorSpec.builder().nodes(3).instancesPerNode(2).port(BASE).build();
        Map<String, Integer> perHost = PortSearch.processesPerHost(spec, nodes("a", "b", "a"));
        assertThat(perHost).containsExactly(Map.entry("a", 4), Map.entry("b", 2));
        assertThat(PortSearch.lowestFreeBase(spec, perHost, busy(Map.of("a", Set.of(BASE + 3))), "a,b"))
                .isEqualTo(BASE + 4);
        assertThat(PortSearch.lowestFreeBase(spec, perHost, busy(Map.of("b", Set.of(BASE + 3))), "a,b"))
                .isEqualTo(BASE);
    }

    @Test
    void processesPerHostIsWhatThePlannerGivesEachHostWithReplicas() {
        OrchestratorSpec spec = OrchestratorSpec.builder().nodes(3).instancesPerNode(2).replicas(2).port(BASE)
                .auth(false).build();
        Placement placement = nodes("a", "b", "a");
        LaunchPlan plan = Planner.plan("demo", Path.of("/scratch/exp"), spec, placement, Optional.empty(),
                Optional.empty());
        Map<String, Set<Integer>> planned = new HashMap<>();
        plan.shards().forEach(s -> planned.computeIfAbsent(s.host(), h -> new TreeSet<>()).add(s.port()));
        Map<String, Integer> perHost = PortSearch.processesPerHost(spec, placement);
        planned.forEach((host, ports) -> assertThat(ports).as(host)
                .containsExactlyElementsOf(java.util.stream.IntStream.range(BASE, BASE + perHost.get(host)).boxed()
                        .toList()));
        assertThat(perHost.keySet()).isEqualTo(planned.keySet());
    }

    @Test
    void nothingFreeNamesThePortFieldTheRangeAndTheFix() {
        OrchestratorSpec spec = OrchestratorSpec.builder().nodes(1).instancesPerNode(3).port(BASE).build();
        assertThatThrownBy(() -> PortSearch.lowestFreeBase(spec, Map.of("n1", 3), (h, p) -> true, "127.0.0.1"))
                .isInstanceOf(InvalidSpecException.class)
                .satisfies(e -> assertThat(((InvalidSpecException) e).field()).isEqualTo("port"))
                .hasMessage("port: no 3 consecutive free ports (with their bus ports +10000) from " + BASE
                        + " up on 127.0.0.1; give a lower starting port, for example --port auto with the spec's port "
                        + "set lower, or stop what holds them");
        OrchestratorSpec three = OrchestratorSpec.builder().nodes(3).instancesPerNode(1).port(BASE).build();
        Map<String, Integer> perHost = new java.util.LinkedHashMap<>();
        perHost.put("n1", 1);
        perHost.put("n2", 1);
        assertThatThrownBy(() -> PortSearch.lowestFreeBase(three, perHost,
                (h, p) -> h.equals("n2"), "hosts n1,n2"))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessage("port: no base port from " + BASE + " up gives every host its consecutive free ports "
                        + "(with their bus ports +10000; n1 needs 1; n2 needs 1) on hosts n1,n2; give a lower "
                        + "starting port, for example --port auto with the spec's port set lower, or stop what holds "
                        + "them");
    }

    @Test
    void theSearchStopsWhereTheHighestPortWouldPass65535() {
        // 3 clustered shards from 55533: ports to 55535, bus ports to 65535, the last block that fits.
        OrchestratorSpec spec = OrchestratorSpec.builder().nodes(1).instancesPerNode(3).port(55533).build();
        assertThat(PortSearch.lowestFreeBase(spec, Map.of("n1", 3), busy(Map.of()), "n1")).isEqualTo(55533);
        assertThatThrownBy(() -> PortSearch.lowestFreeBase(spec, Map.of("n1", 3),
                busy(Map.of("n1", Set.of(65535))), "n1")).isInstanceOf(InvalidSpecException.class)
                .hasMessageStartingWith("port: no 3 consecutive free ports");
    }
}
