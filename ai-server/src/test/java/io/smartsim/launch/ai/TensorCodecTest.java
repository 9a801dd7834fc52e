package io.smartsim.launch.ai;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TensorCodecTest {

    @Test
    void roundTripsEveryDtypeAndShape() {
        for (DType t : DType.values()) {
            byte[] data = new byte[6 * t.size()];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) i;
            }
            Tensor x = new Tensor(t, new long[] {2, 3}, data);
            assertThat(TensorCodec.decode(TensorCodec.encode(x))).contains(x);
        }
    }

    @Test
    void layoutIsTheDocumentedOne() {
        byte[] v = TensorCodec.encode(new Tensor(DType.INT16, new long[] {2}, new byte[] {1, 0, 2, 0}));
        assertThat(v).containsExactly('S', 'S', 'A', 'T', 1, 4, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0);
    }

    @Test
    void otherStringsAreNotTensors() {
        assertThat(TensorCodec.decode("hello".getBytes(StandardCharsets.UTF_8))).isEmpty();
        assertThat(TensorCodec.decode(new byte[] {'S', 'S', 'A', 'T', 1, 1, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1})).isEmpty();
    }

    @Test
    void dataMustMatchShape() {
        assertThatThrownBy(() -> new Tensor(DType.FLOAT, new long[] {3}, new byte[8]))
                .hasMessage("ERR data length does not match tensor shape and type");
    }

    @Test
    void doublesAreFormattedAsRedisDoes() {
        assertThat(AiCommands.formatDouble(1.5)).isEqualTo("1.5");
        assertThat(AiCommands.formatDouble(0.1f)).isEqualTo("0.10000000149011612");
        assertThat(AiCommands.formatDouble(-2)).isEqualTo("-2");
        assertThat(AiCommands.formatDouble(1e20)).isEqualTo("1e+20");
        assertThat(AiCommands.formatDouble(1.25e-7)).isEqualTo("1.2499999999999999e-07");
    }
}
