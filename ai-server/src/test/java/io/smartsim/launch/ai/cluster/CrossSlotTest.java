package io.smartsim.launch.ai.cluster;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class CrossSlotTest {
    private static byte[][] args(String... a) {
        return Arrays.stream(a).map(s -> s.getBytes(StandardCharsets.ISO_8859_1)).toArray(byte[][]::new);
    }

    @Test
    void slotsMatchTheSpecAndRedisClusterKeyslot() {
        assertThat(Slots.crc16("123456789".getBytes(StandardCharsets.US_ASCII), 0, 9)).isEqualTo(0x31C3);
        // From shared/notes/redisai.md, verified there with Redis 7.0.15 CLUSTER KEYSLOT.
        assertThat(Slots.of(new byte[] {'{', 0, 0, '}', '.', 'm', '1'})).isZero();
        assertThat(Slots.of("{8M}.m1".getBytes(StandardCharsets.ISO_8859_1))).isEqualTo(5461);
        assertThat(Slots.of(new byte[] {'{', (byte) 0xed, (byte) 0xeb, '}', '.', 'm', '1'})).isEqualTo(10923);
        assertThat(Slots.of("{}x".getBytes(StandardCharsets.US_ASCII)))
                .isEqualTo(Slots.crc16("{}x".getBytes(StandardCharsets.US_ASCII), 0, 3) & 16383);
    }

    @Test
    void aModelRunNamingKeysOfTwoSlotsGetsRedisAisCrossslotText() {
        assertThat(CrossSlot.check("AI.MODELEXECUTE", args("AI.MODELEXECUTE", "{a}.m", "INPUTS", "1", "{a}.x",
                "OUTPUTS", "1", "{b}.y", "TIMEOUT", "100"))).contains(
                "ERR CROSSSLOT Keys in request don't hash to the same slot");
        assertThat(CrossSlot.check("AI.MODELEXECUTE", args("AI.MODELEXECUTE", "{a}.m", "INPUTS", "2", "{a}.x",
                "{a}.z", "OUTPUTS", "1", "{a}.y", "TIMEOUT", "100"))).isEmpty();
        assertThat(CrossSlot.check("AI.SCRIPTEXECUTE", args("AI.SCRIPTEXECUTE", "{a}.s", "fn", "KEYS", "1", "{b}.k",
                "INPUTS", "1", "{a}.x", "OUTPUTS", "1", "{a}.y"))).isPresent();
        assertThat(CrossSlot.check("AI.SCRIPTRUN", args("AI.SCRIPTRUN", "{a}.s", "fn", "INPUTS", "{a}.x", "{b}.x2",
                "OUTPUTS", "{a}.y"))).isPresent();
        // Malformed: left to the command's own error text.
        assertThat(CrossSlot.check("AI.MODELEXECUTE", args("AI.MODELEXECUTE", "{a}.m", "INPUTS", "x"))).isEmpty();
        assertThat(CrossSlot.check("AI.TENSORSET", args("AI.TENSORSET", "{b}.t", "FLOAT", "1"))).isEmpty();
    }
}
