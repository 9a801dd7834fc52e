package io.smartsim.launch.client;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ClusterMapTest {
    @Test
    void prefixesAreSmartRedissForTheUsualThreeShardsAndHashToTheirSlot() {
        // shared/notes/redisai.md section 3: the prefixes of slots 0, 5461 and 10923.
        assertThat(ClusterMap.prefix(0)).containsExactly(0, 0);
        assertThat(ClusterMap.prefix(5461)).containsExactly('8', 'M');
        assertThat(ClusterMap.prefix(10923)).containsExactly(0xed, 0xeb);
        for (int slot : new int[] {0, 1, 5462, 10922, 16383, 8191}) {
            ClusterMap.Shard s = new ClusterMap.Shard(slot, 16383, "h", 1, "id");
            assertThat(ClusterMap.slot(s.key("model"))).isEqualTo(slot);
            for (byte b : s.prefix) {
                assertThat(b).isNotIn((byte) '{', (byte) '}');
            }
        }
        assertThat(ClusterMap.crc16("123456789".getBytes(), 0, 9)).isEqualTo(0x31C3);
    }
}
