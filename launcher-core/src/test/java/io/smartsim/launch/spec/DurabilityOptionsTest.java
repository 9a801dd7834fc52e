package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The spec fields of issues 7 and 9 (replicas, restart, checkpoint, lease, ai): parsing and field-named errors. */
class DurabilityOptionsTest {

    @Test
    void durationsReadWhatUsersType() {
        assertThat(Durations.parse("lease", "90")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("lease", "5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Durations.parse("lease", "2H")).isEqualTo(Duration.ofHours(2));
        assertThat(Durations.parse("lease", "1d")).isEqualTo(Duration.ofDays(1));
        assertThat(Durations.parse("lease", "500ms")).isEqualTo(Duration.ofMillis(500));
        for (String d : List.of("5m", "1500ms", "2h", "1d", "45s")) {
            assertThat(Durations.format(Durations.parse("x", d))).isEqualTo(d);
        }
        assertThatThrownBy(() -> Durations.parse("lease", "five minutes"))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("lease").hasMessageContaining("5m");
    }

    @Test
    void checkpointModes() {
        assertThat(Checkpoint.parse("aof")).isEqualTo(Checkpoint.aof());
        assertThat(Checkpoint.parse("every=5m")).isEqualTo(Checkpoint.every(Duration.ofMinutes(5)));
        assertThat(Checkpoint.parse("every=5m").toString()).isEqualTo("every=5m");
        assertThatThrownBy(() -> Checkpoint.parse("rdb")).hasMessageContaining("checkpoint")
                .hasMessageContaining("every=DURATION");
        assertThatThrownBy(() -> Checkpoint.parse("every=200ms")).hasMessageContaining("every=1s");
    }

    @Test
    void replicasNeedACluster() {
        assertThatThrownBy(() -> OrchestratorSpec.builder().replicas(1).build())
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("replicas")
                .hasMessageContaining("3 or more shards");
        assertThatThrownBy(() -> OrchestratorSpec.builder().nodes(3).replicas(-1).build())
                .hasMessageContaining("replicas").hasMessageContaining("out of range");
        OrchestratorSpec s = OrchestratorSpec.builder().nodes(3).replicas(2).build();
        assertThat(s.shardCount()).isEqualTo(3);
        assertThat(s.processCount()).isEqualTo(9);
    }

    @Test
    void leaseAndRestartAndAi() {
        assertThatThrownBy(() -> OrchestratorSpec.builder().lease(Duration.ofSeconds(1)).build())
                .hasMessageContaining("lease").hasMessageContaining("5s or more");
        assertThatThrownBy(() -> RestartPolicy.parse("always")).hasMessageContaining("restart")
                .hasMessageContaining("on-failure");
        assertThat(new AiSpec(List.of("onnx", "Torch", "ONNX"), "cpu", 0).backends()).containsExactly("ONNX", "TORCH");
        assertThatThrownBy(() -> new AiSpec(List.of(), "cpu", 0)).hasMessageContaining("ai.backends");
        assertThatThrownBy(() -> new AiSpec(List.of("onnx"), "tpu", 0)).hasMessageContaining("ai.device");
    }

    @Test
    void manifestRoundTripKeepsTheNewFields() throws Exception {
        OrchestratorSpec s = OrchestratorSpec.builder().nodes(3).replicas(1).restart(RestartPolicy.ON_FAILURE)
                .checkpoint(Checkpoint.every(Duration.ofMinutes(5))).lease(Duration.ofMinutes(10))
                .ai(AiSpec.of(List.of("onnx"))).build();
        String json = Json.mapper().writeValueAsString(s);
        assertThat(Json.mapper().readValue(json, OrchestratorSpec.class)).isEqualTo(s);
        // A manifest written before these fields existed still reads, with the defaults.
        String old = json.replaceAll("(?s),\\s*\"replicas\".*", "}");
        OrchestratorSpec read = Json.mapper().readValue(old, OrchestratorSpec.class);
        assertThat(read.replicas()).isZero();
        assertThat(read.restart()).isEqualTo(RestartPolicy.NO);
        assertThat(read.checkpoint()).isEmpty();
        assertThat(read.ai()).isEmpty();
    }
}
