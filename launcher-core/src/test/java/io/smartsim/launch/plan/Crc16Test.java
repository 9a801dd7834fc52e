package io.smartsim.launch.plan;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class Crc16Test {
    @Test
    void matchesTheRedisClusterSpecsCheckValue() {
        // Redis Cluster specification, appendix A: "123456789" -> 0x31C3.
        assertThat(Crc16.crc16("123456789".getBytes(StandardCharsets.US_ASCII))).isEqualTo(0x31C3);
    }

    @Test
    void slotsMatchWhatRedisAnswersForClusterKeyslot() {
        // Values a Redis 7 server answers for CLUSTER KEYSLOT.
        assertThat(Crc16.slot("foo")).isEqualTo(12182);
        assertThat(Crc16.slot("bar")).isEqualTo(5061);
        assertThat(Crc16.slot("somekey")).isEqualTo(11058);
        assertThat(Crc16.slot("")).isEqualTo(0);
    }

    @Test
    void hashTagsFollowTheSpecRules() {
        assertThat(Crc16.slot("{user1000}.following")).isEqualTo(Crc16.slot("{user1000}.followers"))
                .isEqualTo(Crc16.slot("user1000"));
        // Only the first {...} counts.
        assertThat(Crc16.slot("foo{bar}{zap}")).isEqualTo(Crc16.slot("bar"));
        // An empty tag means the whole key is hashed.
        assertThat(Crc16.slot("foo{}{bar}")).isEqualTo(Crc16.crc16("foo{}{bar}".getBytes(StandardCharsets.UTF_8)) % 16384);
        // The tag ends at the first '}' after the first '{'.
        assertThat(Crc16.slot("foo{{bar}}zap")).isEqualTo(Crc16.slot("{bar"));
        // No closing brace: the whole key.
        assertThat(Crc16.slot("foo{bar")).isEqualTo(Crc16.crc16("foo{bar".getBytes(StandardCharsets.UTF_8)) % 16384);
    }
}
