package io.smartsim.launch.plan;

import io.smartsim.launch.planned.SlotRange;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SlotRangeTest {
    @Test
    void threeMastersGetTheRangesRedisCliWouldGive() {
        assertThat(SlotRange.split(3)).containsExactly(new SlotRange(0, 5461), new SlotRange(5462, 10922),
                new SlotRange(10923, 16383));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 5, 7, 16, 64, 100, 128, 16384})
    void rangesAreContiguousCoverEverySlotAndDifferByAtMostOne(int masters) {
        List<SlotRange> r = SlotRange.split(masters);
        assertThat(r).hasSize(masters);
        assertThat(r.get(0).first()).isZero();
        assertThat(r.get(masters - 1).last()).isEqualTo(16383);
        for (int i = 1; i < masters; i++) {
            assertThat(r.get(i).first()).isEqualTo(r.get(i - 1).last() + 1);
        }
        int min = r.stream().mapToInt(SlotRange::size).min().orElseThrow();
        int max = r.stream().mapToInt(SlotRange::size).max().orElseThrow();
        assertThat(max - min).isLessThanOrEqualTo(1);
        assertThat(r.stream().mapToInt(SlotRange::size).sum()).isEqualTo(16384);
    }

    @Test
    void compressMergesAdjacentSlots() {
        assertThat(SlotRange.compress(new int[]{5, 1, 2, 3, 9, 10}))
                .containsExactly(new SlotRange(1, 3), new SlotRange(5, 5), new SlotRange(9, 10));
        assertThat(new SlotRange(5, 5)).hasToString("5");
        assertThat(new SlotRange(0, 5461)).hasToString("0-5461");
    }

    @Test
    void rejectsImpossibleRanges() {
        assertThatThrownBy(() -> new SlotRange(10, 9)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SlotRange(0, 16384)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SlotRange.split(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
