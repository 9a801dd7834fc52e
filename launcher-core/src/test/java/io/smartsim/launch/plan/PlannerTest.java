package io.smartsim.launch.plan;

import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spec.Backend;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.testing.Golden;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PlannerTest {
    private static final Path EXP = Path.of("/scratch/exp");
    /** A fixed password, so that configs compare with golden files; real ones come from Credentials.generate(). */
    static final Credentials FIXED = new Credentials("smartsim", "0123456789abcdef0123456789abcdef");

    private static LaunchPlan plan(String experiment, Path dir, OrchestratorSpec spec, Placement placement) {
        return Planner.plan(experiment, dir, spec, placement, spec.auth() ? Optional.of(FIXED) : Optional.empty());
    }

    private static Placement oneHost(int nodes, String... addrs) {
        return new Placement(Collections.nCopies(nodes, new Placement.Node("localhost", List.of(addrs))));
    }

    private static Placement distinctHosts(int nodes) {
        return new Placement(java.util.stream.IntStream.range(0, nodes)
                .mapToObj(i -> new Placement.Node("n" + (i + 1), List.<String>of())).toList());
    }

    @Test
    void threeLocalShardsGetConsecutivePortsBusPortsAndEvenSlots() {
        LaunchPlan p = plan("demo", EXP, OrchestratorSpec.builder().instancesPerNode(3).build(),
                oneHost(1, "127.0.0.1"));
        assertThat(p.clustered()).isTrue();
        assertThat(p.dir()).isEqualTo(Path.of("/scratch/exp/orchestrator"));
        assertThat(p.shards()).extracting(ShardPlan::port).containsExactly(6780, 6781, 6782);
        assertThat(p.shards()).extracting(ShardPlan::busPort).containsExactly(16780, 16781, 16782);
        assertThat(p.shards()).extracting(ShardPlan::name)
                .containsExactly("orchestrator_0", "orchestrator_1", "orchestrator_2");
        assertThat(p.shards()).flatExtracting(ShardPlan::slots).containsExactly(new SlotRange(0, 5461),
                new SlotRange(5462, 10922), new SlotRange(10923, 16383));
        ShardPlan s1 = p.shards().get(1);
        assertThat(s1.workDir()).isEqualTo(Path.of("/scratch/exp/orchestrator/orchestrator_1"));
        assertThat(s1.logPath()).isEqualTo(Path.of("/scratch/exp/orchestrator/orchestrator_1/orchestrator_1.log"));
        assertThat(s1.argv()).containsExactly("redis-server", "/scratch/exp/orchestrator/orchestrator_1/redis.conf");
        Golden.assertMatches(s1.config(), "redis-cluster-shard1.conf");
    }

    @Test
    void shardsOnDistinctNodesShareTheBasePort() {
        LaunchPlan p = plan("demo", EXP, OrchestratorSpec.builder().nodes(3).instancesPerNode(2)
                .launcher("slurm").build(), distinctHosts(3));
        assertThat(p.shards()).extracting(ShardPlan::port).containsExactly(6780, 6781, 6780, 6781, 6780, 6781);
        assertThat(p.shards()).extracting(ShardPlan::node).containsExactly(0, 0, 1, 1, 2, 2);
        assertThat(p.shards()).extracting(ShardPlan::host).containsExactly("n1", "n1", "n2", "n2", "n3", "n3");
        // No bind line: the node binds at launch.
        Golden.assertMatches(p.shards().get(3).config(), "redis-cluster-bind-at-launch.conf");
    }

    @Test
    void severalNodesOnOneHostNumberPortsAcrossTheHost() {
        LaunchPlan p = plan("demo", EXP, OrchestratorSpec.builder().nodes(2).instancesPerNode(2).build(),
                oneHost(2, "127.0.0.1"));
        assertThat(p.shards()).extracting(ShardPlan::port).containsExactly(6780, 6781, 6782, 6783);
    }

    @Test
    void oneShardRunsStandaloneWithoutClusterSettings() {
        LaunchPlan p = plan("demo", EXP, OrchestratorSpec.builder().id("db").maxMemory("2gb")
                .evictionPolicy("allkeys-lru").addConfig("hz 20").build(), oneHost(1, "127.0.0.1"));
        assertThat(p.clustered()).isFalse();
        assertThat(p.shards().get(0).slots()).isEmpty();
        Golden.assertMatches(p.shards().get(0).config(), "redis-standalone.conf");
    }

    @Test
    void keydbGetsItsOwnThreadingAndNoMotdAndNothingRedis7Only() {
        LaunchPlan p = plan("demo", EXP, OrchestratorSpec.builder().backend(Backend.KEYDB).instancesPerNode(3)
                .cpusPerShard(4).build(), oneHost(1, "127.0.0.1"));
        String conf = p.shards().get(0).config();
        assertThat(p.shards().get(0).argv().get(0)).isEqualTo("keydb-server");
        assertThat(p.shards().get(0).configPath().getFileName()).hasToString("keydb.conf");
        // Options KeyDB 6.3 does not know make it exit at once (shared/notes/keydb.md).
        assertThat(conf).doesNotContain("cluster-port", "io-threads", "cluster-announce-hostname",
                "cluster-preferred-endpoint-type", "enable-debug-command");
        Golden.assertMatches(conf, "keydb-cluster-shard0.conf");
    }

    @Test
    void tlsTurnsThePlainPortOffAndPointsEveryShardAtTheOrchestratorsOwnFiles() {
        LaunchPlan p = plan("demo", EXP, OrchestratorSpec.builder().instancesPerNode(3).tls(true).build(),
                oneHost(1, "127.0.0.1"));
        assertThat(p.tls()).contains(new io.smartsim.launch.planned.Tls(Path.of("/scratch/exp/orchestrator/tls")));
        assertThat(p.access().tls()).isEqualTo(p.tls());
        assertThat(p.shards()).extracting(ShardPlan::port).containsExactly(6780, 6781, 6782);
        assertThat(p.shards()).extracting(ShardPlan::busPort).containsExactly(16780, 16781, 16782);
        Golden.assertMatches(p.shards().get(1).config(), "redis-cluster-tls-shard1.conf");
    }

    @Test
    void keydbGetsTheSameTlsOptions() {
        LaunchPlan p = plan("demo", EXP, OrchestratorSpec.builder().backend(Backend.KEYDB).instancesPerNode(3)
                .tls(true).build(), oneHost(1, "127.0.0.1"));
        Golden.assertMatches(p.shards().get(0).config(), "keydb-cluster-tls-shard0.conf");
    }

    @Test
    void standaloneTlsHasNoClusterBusSetting() {
        LaunchPlan p = plan("demo", EXP, OrchestratorSpec.builder().id("db").tls(true).auth(false).build(),
                oneHost(1, "127.0.0.1"));
        assertThat(p.access().credentials()).isEmpty();
        assertThat(p.access().tls()).isPresent();
        Golden.assertMatches(p.shards().get(0).config(), "redis-standalone-tls-no-auth.conf");
    }

    @Test
    void withoutTlsThePlanHasNoTlsFiles() {
        LaunchPlan p = plan("demo", EXP, OrchestratorSpec.builder().build(), oneHost(1, "127.0.0.1"));
        assertThat(p.tls()).isEmpty();
        assertThat(p.access().tls()).isEmpty();
        assertThat(p.shards().get(0).config()).doesNotContain("tls");
    }

    @Test
    void redisWithSeveralCpusGetsIoThreadsAndKeepsProtectedModeOnBeyondLoopbackWithAPassword() {
        LaunchPlan p = plan("demo", EXP, OrchestratorSpec.builder().cpusPerShard(4).build(),
                oneHost(1, "10.1.2.3", "127.0.0.1"));
        Golden.assertMatches(p.shards().get(0).config(), "redis-io-threads-two-binds.conf");
    }

    @Test
    void withoutAuthNonLoopbackTurnsProtectedModeOffAndNoUserIsCreated() {
        LaunchPlan p = plan("demo", EXP, OrchestratorSpec.builder().cpusPerShard(4).auth(false).build(),
                oneHost(1, "10.1.2.3", "127.0.0.1"));
        assertThat(p.auth()).isEmpty();
        Golden.assertMatches(p.shards().get(0).config(), "redis-io-threads-two-binds-no-auth.conf");
    }

    @Test
    void everyShardGetsTheSameUserTheDefaultUserLockedAndReplicationCredentials() {
        LaunchPlan p = plan("demo", EXP, OrchestratorSpec.builder().instancesPerNode(3).build(),
                oneHost(1, "127.0.0.1"));
        assertThat(p.auth()).contains(FIXED);
        for (ShardPlan s : p.shards()) {
            assertThat(s.config().lines().filter(l -> l.startsWith("user ") || l.startsWith("master")
                    || l.startsWith("protected-mode"))).containsExactly(
                    "protected-mode yes",
                    "user default off resetpass resetkeys resetchannels -@all",
                    "user smartsim on >0123456789abcdef0123456789abcdef ~* &* +@all",
                    "masteruser smartsim",
                    "masterauth 0123456789abcdef0123456789abcdef");
        }
    }

    @Test
    void aRedactedPlanHoldsThePasswordNowhere() throws Exception {
        LaunchPlan p = plan("demo", EXP, OrchestratorSpec.builder().instancesPerNode(3).build(),
                oneHost(1, "127.0.0.1")).redacted();
        String json = io.smartsim.launch.spec.Json.mapper().writeValueAsString(p);
        assertThat(json).doesNotContain(FIXED.password()).contains(Credentials.REDACTED);
        assertThat(p.shards().get(0).config()).contains("user smartsim on ><redacted> ~* &* +@all\n",
                "masterauth <redacted>\n");
        assertThat(FIXED.toString()).doesNotContain(FIXED.password());
    }

    @Test
    void credentialsMustBeGivenExactlyWhenTheSpecAsksForAuth() {
        assertThatThrownBy(() -> Planner.plan("demo", EXP, OrchestratorSpec.builder().build(), oneHost(1, "127.0.0.1"),
                Optional.empty())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("auth is on");
        assertThatThrownBy(() -> Planner.plan("demo", EXP, OrchestratorSpec.builder().auth(false).build(),
                oneHost(1, "127.0.0.1"), Optional.of(FIXED))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void generatedPasswordsAreLongRandomAndDistinct() {
        Credentials a = Credentials.generate();
        Credentials b = Credentials.generate();
        assertThat(a.user()).isEqualTo("smartsim");
        assertThat(a.password()).matches("[0-9a-f]{64}").isNotEqualTo(b.password());
    }

    @Test
    void pathsWithQuotesAreEscapedForTheRedisConfigParser() {
        LaunchPlan p = plan("demo", Path.of("/tmp/my \"exp\" dir"), OrchestratorSpec.builder().build(),
                oneHost(1, "127.0.0.1"));
        assertThat(p.shards().get(0).config()).contains("dir \"/tmp/my \\\"exp\\\" dir/orchestrator/orchestrator_0\"");
    }

    @Test
    void portsPushedPastTheTopByManyShardsOnOneHostAreRejected() {
        assertThatThrownBy(() -> plan("demo", EXP, OrchestratorSpec.builder().port(55500).nodes(20)
                .instancesPerNode(2).build(), oneHost(20, "127.0.0.1")))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("port: 55500 is too high").hasMessageContaining("use a lower base port");
    }

    @Test
    void planAndPlacementMustAgreeOnTheNodeCount() {
        assertThatThrownBy(() -> plan("demo", EXP, OrchestratorSpec.builder().nodes(3).build(),
                distinctHosts(2))).isInstanceOf(InvalidSpecException.class).hasMessageContaining("placed 2 node(s)");
    }
}
