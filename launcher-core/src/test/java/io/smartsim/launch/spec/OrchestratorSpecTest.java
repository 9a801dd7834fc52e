package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class OrchestratorSpecTest {

    private static InvalidSpecException invalid(UnaryOperator<OrchestratorSpec.Builder> b) {
        return catchThrowableOfType(InvalidSpecException.class, () -> b.apply(OrchestratorSpec.builder()).build());
    }

    @Test
    void tlsIsOffByDefaultAndAnIdThatWouldShadowTheCaVariableIsReserved() {
        assertThat(OrchestratorSpec.builder().build().tls()).isFalse();
        assertThat(OrchestratorSpec.builder().tls(true).build().toBuilder().build().tls()).isTrue();
        assertThat(invalid(b -> b.id("TLS_CA")).getMessage()).contains("SSDB_TLS_CA");
    }

    @Test
    void defaultsAreOneLocalRedisShardOnPort6780() {
        OrchestratorSpec s = OrchestratorSpec.builder().build();
        assertThat(s.id()).isEqualTo("orchestrator");
        assertThat(s.launcher()).isEqualTo("local");
        assertThat(s.backend()).isEqualTo(Backend.REDIS);
        assertThat(s.port()).isEqualTo(6780);
        assertThat(s.shardCount()).isEqualTo(1);
        assertThat(s.clustered()).isFalse();
        assertThat(s.startupTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.toBuilder().build()).isEqualTo(s);
    }

    @Test
    void zeroOrNegativeNodesNameTheFieldAndTheFix() {
        assertThat(invalid(b -> b.nodes(0)).getMessage())
                .isEqualTo("nodes: 0 is not a node count; use 1 or more");
        assertThat(invalid(b -> b.nodes(-3)).field()).isEqualTo("nodes");
        assertThat(invalid(b -> b.instancesPerNode(0)).field()).isEqualTo("instancesPerNode");
    }

    @Test
    void twoShardsAreRejectedBecauseAClusterNeedsThreeMasters() {
        InvalidSpecException e = invalid(b -> b.nodes(2).instancesPerNode(1));
        assertThat(e.getMessage()).isEqualTo("nodes/instancesPerNode: 2 node(s) x 1 per node = 2 shards, but a Redis "
                + "Cluster needs at least 3 masters; use 1 shard (standalone) or 3 or more (cluster)");
        assertThat(invalid(b -> b.nodes(1).instancesPerNode(2))).isNotNull();
        assertThat(OrchestratorSpec.builder().instancesPerNode(3).build().clustered()).isTrue();
    }

    @Test
    void portsOutOfRangeCountTheBusPort() {
        assertThat(invalid(b -> b.port(0)).field()).isEqualTo("port");
        assertThat(invalid(b -> b.port(70000)).getMessage()).contains("70000 is out of range");
        // A standalone shard may use a high port, but a cluster's bus port would pass 65535.
        assertThat(OrchestratorSpec.builder().port(60000).build().port()).isEqualTo(60000);
        assertThat(invalid(b -> b.port(60000).instancesPerNode(3)).getMessage())
                .isEqualTo("port: 60000 is out of range: 3 shard(s) per node use ports 60000-60002 and cluster bus "
                        + "ports 70000-70002; use a base port between 1024 and 55533");
    }

    @Test
    void otherFieldsAreCheckedToo() {
        assertThat(invalid(b -> b.id("no spaces")).field()).isEqualTo("id");
        assertThat(invalid(b -> b.launcher("Sl urm")).field()).isEqualTo("launcher");
        assertThat(invalid(b -> b.maxMemory("lots")).getMessage()).contains("use for example 512mb or 4gb");
        assertThat(invalid(b -> b.evictionPolicy("lru")).getMessage()).contains("allkeys-lru");
        assertThat(invalid(b -> b.addConfig("save 60 1\nport 1")).field()).isEqualTo("extraConfig");
        assertThat(invalid(b -> b.cpusPerShard(0)).field()).isEqualTo("cpusPerShard");
        assertThat(invalid(b -> b.startupTimeout(Duration.ZERO)).field()).isEqualTo("startupTimeout");
        assertThat(invalid(b -> b.interfaceName(" ")).field()).isEqualTo("interfaces");
    }

    @Test
    void backendsParseByNameAndListTheAllowedValues() {
        assertThat(Backend.parse("KeyDB")).isEqualTo(Backend.KEYDB);
        InvalidSpecException e = catchThrowableOfType(InvalidSpecException.class, () -> Backend.parse("mongo"));
        assertThat(e.getMessage()).isEqualTo("backend: unknown backend 'mongo'; use one of redis, keydb");
    }
}
