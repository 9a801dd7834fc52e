package io.smartsim.launch.supervise;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RestartBudgetTest {
    private static final Instant T0 = Instant.parse("2026-11-25T21:00:00Z");

    @Test
    void aShardGetsMaxRestartsPerWindowThenNoneUntilTheOldestLeavesIt() {
        RestartBudget b = new RestartBudget(3, Duration.ofMinutes(10));
        assertThat(b.take(1, T0)).isTrue();
        assertThat(b.take(1, T0.plusSeconds(60))).isTrue();
        assertThat(b.take(1, T0.plusSeconds(120))).isTrue();
        assertThat(b.used(1, T0.plusSeconds(120))).isEqualTo(3);
        assertThat(b.take(1, T0.plusSeconds(599))).as("a fourth within 10 minutes").isFalse();
        assertThat(b.take(1, T0.plusSeconds(600))).as("the first restart has left the window").isTrue();
        assertThat(b.take(1, T0.plusSeconds(601))).isFalse();
    }

    @Test
    void shardsHaveBudgetsOfTheirOwn() {
        RestartBudget b = new RestartBudget(1, Duration.ofMinutes(1));
        assertThat(b.take(0, T0)).isTrue();
        assertThat(b.take(0, T0)).isFalse();
        assertThat(b.take(2, T0)).isTrue();
        assertThat(b.used(1, T0)).isZero();
        assertThat(b.describe()).isEqualTo("1 in 1m");
    }

    @Test
    void aBudgetThatAllowsNothingIsRefused() {
        assertThatThrownBy(() -> new RestartBudget(0, Duration.ofMinutes(1))).hasMessageContaining("max >= 1");
        assertThatThrownBy(() -> new RestartBudget(1, Duration.ZERO)).hasMessageContaining("positive window");
    }
}
