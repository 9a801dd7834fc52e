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
        // layout 2: the data, the dimensions, then SSAT, version 2, dtype INT16 (4), 1 dimension, 0
        byte[] v = TensorCodec.encode(new Tensor(DType.INT16, new long[] {2}, new byte[] {1, 0, 2, 0}));
        assertThat(v).containsExactly(1, 0, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 'S', 'S', 'A', 'T', 2, 4, 1, 0);
    }

    @Test
    void layoutOneWrittenBeforeIsStillRead() {
        Tensor x = new Tensor(DType.INT16, new long[] {2}, new byte[] {1, 0, 2, 0});
        byte[] old = {'S', 'S', 'A', 'T', 1, 4, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0};
        assertThat(TensorCodec.encodeLayout1(x)).containsExactly(old);
        assertThat(TensorCodec.decode(old)).contains(x);
        for (DType t : DType.values()) {
            Tensor y = new Tensor(t, new long[] {3, 1, 2}, new byte[6 * t.size()]);
            assertThat(TensorCodec.decode(TensorCodec.encodeLayout1(y))).contains(y);
        }
    }

    @Test
    void otherStringsAreNotTensors() {
        assertThat(TensorCodec.decode("hello".getBytes(StandardCharsets.UTF_8))).isEmpty();
        assertThat(TensorCodec.decode(new byte[] {'S', 'S', 'A', 'T', 1, 1, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1})).isEmpty();
        // a layout-2 trailer whose dimensions do not match the data's length, and a trailer of an unknown version
        assertThat(TensorCodec.decode(new byte[] {1, 2, 0, 0, 0, 0, 0, 0, 0, 'S', 'S', 'A', 'T', 2, 1, 1, 0})).isEmpty();
        assertThat(TensorCodec.decode(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 'S', 'S', 'A', 'T', 3, 7, 1, 0})).isEmpty();
        assertThat(TensorCodec.decode("SSAT".getBytes(StandardCharsets.US_ASCII))).isEmpty();
    }

    @Test
    void dataMustMatchShape() {
        assertThatThrownBy(() -> new Tensor(DType.FLOAT, new long[] {3}, new byte[8]))
                .hasMessage("ERR data length does not match tensor shape and type");
    }
}
