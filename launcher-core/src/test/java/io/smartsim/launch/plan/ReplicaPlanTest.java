package io.smartsim.launch.plan;

import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.testing.Golden;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code --replicas}: roles, anti-affinity, ports after the host's masters, warnings and the planner's refusals. */
class ReplicaPlanTest {
    private static final Path EXP = Path.of("/scratch/exp");

    private static LaunchPlan plan(OrchestratorSpec spec, Placement placement) {
        return Planner.plan("demo", EXP, spec, placement,
                spec.auth() ? Optional.of(PlannerTest.FIXED) : Optional.empty());
    }

    private static Placement oneHost(int nodes) {
        return new Placement(Collections.nCopies(nodes, new Placement.Node("localhost", List.of("127.0.0.1"))));
    }

    private static Placement hosts(int nodes) {
        return new Placement(IntStream.range(0, nodes)
                .mapToObj(i -> new Placement.Node("n" + (i + 1), List.<String>of())).toList());
    }

    @Test
    void onOneHostReplicasFollowTheMastersPortsOwnNoSlotsAndOneWarningSaysSo() {
        LaunchPlan p = plan(OrchestratorSpec.builder().instancesPerNode(3).replicas(1).build(), oneHost(1));
        assertThat(p.shards()).extracting(ShardPlan::port).containsExactly(6780, 6781, 6782, 6783, 6784, 6785);
        assertThat(p.shards()).extracting(ShardPlan::roleText).containsExactly("master", "master", "master",
                "replica of 0", "replica of 1", "replica of 2");
        assertThat(p.shards()).extracting(ShardPlan::name).containsExactly("orchestrator_0", "orchestrator_1",
                "orchestrator_2", "orchestrator_3", "orchestrator_4", "orchestrator_5");
        assertThat(p.masters()).hasSize(3);
        assertThat(p.shards().subList(3, 6)).allSatisfy(s -> assertThat(s.slots()).isEmpty());
        assertThat(p.shards().subList(0, 3)).flatExtracting(ShardPlan::slots).containsExactly(new SlotRange(0, 5461),
                new SlotRange(5462, 10922), new SlotRange(10923, 16383));
        assertThat(p.processesPerNode()).isEqualTo(6);
        assertThat(p.warnings()).containsExactly("every replica shares host localhost with its master: replicas cover "
                + "a crashed process, but one host failure loses masters and replicas alike");
        // A replica's config is a cluster node's, with the first sync streamed at once; its own nodes file.
        Golden.assertMatches(p.shards().get(3).config(), "redis-cluster-replica-shard3.conf");
    }

    @Test
    void theRthReplicaOfAMasterOnNodeNGoesOnNodeNPlusRPlusOne() {
        LaunchPlan p = plan(OrchestratorSpec.builder().launcher("slurm").nodes(3).instancesPerNode(2).replicas(2)
                .build(), hosts(3));
        assertThat(p.shards()).hasSize(18);
        for (ShardPlan s : p.shards()) {
            s.replicaOf().ifPresent(m -> {
                ShardPlan master = p.shards().get(m);
                int r = (s.index() - 6) % 2;
                assertThat(s.node()).as(s.name()).isEqualTo((master.node() + r + 1) % 3);
                assertThat(s.host()).as(s.name()).isNotEqualTo(master.host());
            });
        }
        // Each host: its 2 masters on 6780-6781, then the 4 replicas placed on it.
        for (String h : List.of("n1", "n2", "n3")) {
            assertThat(p.shards().stream().filter(s -> s.host().equals(h)).map(ShardPlan::port))
                    .containsExactly(6780, 6781, 6782, 6783, 6784, 6785);
            assertThat(p.shards().stream().filter(s -> s.host().equals(h) && !s.replica()).map(ShardPlan::port))
                    .containsExactly(6780, 6781);
        }
        assertThat(p.processesPerNode()).isEqualTo(6);
        assertThat(p.warnings()).isEmpty();
    }

    @Test
    void threeNodesOneReplicaEachShiftsEveryReplicaToTheNextNode() {
        LaunchPlan p = plan(OrchestratorSpec.builder().launcher("slurm").nodes(3).replicas(1).build(), hosts(3));
        assertThat(p.shards()).extracting(ShardPlan::host).containsExactly("n1", "n2", "n3", "n2", "n3", "n1");
        assertThat(p.shards()).extracting(ShardPlan::port).containsExactly(6780, 6780, 6780, 6781, 6781, 6781);
        assertThat(p.warnings()).isEmpty();
    }

    @Test
    void asManyReplicasAsNodesPutsOneBackOnItsMastersHostAndWarnsForEach() {
        LaunchPlan p = plan(OrchestratorSpec.builder().launcher("slurm").nodes(2).instancesPerNode(2).replicas(2)
                .build(), hosts(2));
        List<ShardPlan> shared = p.shards().stream().filter(s -> s.replicaOf()
                .map(m -> p.shards().get(m).host().equals(s.host())).orElse(false)).toList();
        assertThat(shared).extracting(ShardPlan::name).containsExactly("orchestrator_5", "orchestrator_7",
                "orchestrator_9", "orchestrator_11");
        assertThat(p.warnings()).hasSize(4).first().isEqualTo("replica orchestrator_5 of orchestrator_0 shares host "
                + "n1 with its master: one host failure loses both (2 node(s) for 2 replica(s) per master; use more "
                + "nodes than replicas)");
    }

    @Test
    void withoutReplicasNothingChanges() {
        LaunchPlan p = plan(OrchestratorSpec.builder().instancesPerNode(3).build(), oneHost(1));
        assertThat(p.shards()).allSatisfy(s -> assertThat(s.roleText()).isEqualTo("master"));
        assertThat(p.warnings()).isEmpty();
        assertThat(p.shards().get(0).config()).doesNotContain("repl-diskless");
    }

    @Test
    void rolesSurviveTheManifestAndOldManifestsReadAsMasters() throws Exception {
        LaunchPlan p = plan(OrchestratorSpec.builder().instancesPerNode(3).replicas(1).build(), oneHost(1));
        String json = Json.mapper().writeValueAsString(p.shards().get(4));
        assertThat(json).contains("\"role\" : \"REPLICA\"", "\"replicaOf\" : 1");
        assertThat(Json.mapper().readValue(json, ShardPlan.class)).isEqualTo(p.shards().get(4));
        String old = Json.mapper().writeValueAsString(p.shards().get(0)).replaceAll("(?s),\\s*\"role\".*", "}");
        assertThat(old).doesNotContain("role");
        ShardPlan read = Json.mapper().readValue(old, ShardPlan.class);
        assertThat(read.role()).isEqualTo(ShardPlan.Role.MASTER);
        assertThat(read.replicaOf()).isEmpty();
    }

    @Test
    void replicasOnOneShardOrNegativeAreRefusedByTheSpec() {
        assertThatThrownBy(() -> OrchestratorSpec.builder().replicas(1).build())
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("--replicas 1 needs a Redis Cluster")
                .hasMessageContaining("1 x 1 = 1 shard runs standalone");
        assertThatThrownBy(() -> OrchestratorSpec.builder().instancesPerNode(3).replicas(-1).build())
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("-1 is out of range");
        assertThatThrownBy(() -> OrchestratorSpec.builder().instancesPerNode(3).replicas(16).build())
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("16 is out of range; use 0");
    }

    @Test
    void replicasPushingAHostsPortsPastTheTopAreRefusedNamingTheCounts() {
        // The spec alone is fine (3 masters from 55530 reach bus port 65532); their 6 replicas on the same host are not.
        OrchestratorSpec spec = OrchestratorSpec.builder().instancesPerNode(3).replicas(2).port(55530).build();
        assertThatThrownBy(() -> plan(spec, oneHost(1)))
                .isInstanceOf(InvalidSpecException.class)
                .satisfies(e -> assertThat(((InvalidSpecException) e).field()).isEqualTo("port/replicas"))
                .hasMessageContaining("55530 is too high: host localhost runs 7+ processes (3 master(s) per node and 2 "
                        + "replica(s) of each master), so ports reach 55536 and bus port 65536 (over 65535); use a "
                        + "lower base port or fewer replicas");
    }

    @Test
    void keydbReplicasGetTheSameSyncSettingsItKnows() {
        LaunchPlan p = plan(OrchestratorSpec.builder().backend(io.smartsim.launch.spec.Backend.KEYDB).instancesPerNode(3)
                .replicas(1).build(), oneHost(1));
        Golden.assertMatches(p.shards().get(4).config(), "keydb-cluster-replica-shard4.conf");
    }
}
