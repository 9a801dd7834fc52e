package io.smartsim.launch.client;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The metadata encoding (shared notes section 5) and what the Dataset refuses. */
class DatasetTest {
    @Test
    void fieldsAppendInSmartRedissEncoding() {
        Dataset ds = new Dataset("d").addMetaScalar("n", 7).addMetaScalar("n", -1).addMetaString("s", "ab");
        assertThat(ds.encodedMeta().get("n")).containsExactly(3, 7, 0, 0, 0, -1, -1, -1, -1);
        assertThat(ds.encodedMeta().get("s")).containsExactly(7, 2, 0, 0, 0, 0, 0, 0, 0, 'a', 'b');
        assertThat(ds.getMetaInts("n")).containsExactly(7, -1);
        ds.addTensor("t", TensorData.of(new float[] {1}, 1));
        assertThat(ds.metaFieldNames()).containsExactly("n", "s");
        assertThat(ds.getMetaStrings(Dataset.TENSOR_NAMES)).containsExactly("t");
    }

    @Test
    void mixedTypesReservedNamesAndCorruptValuesAreRefused() {
        Dataset ds = new Dataset("d").addMetaScalar("n", 7);
        assertThatThrownBy(() -> ds.addMetaScalar("n", 1.5)).hasMessageContaining("holds INT32 values; it cannot take a DOUBLE");
        assertThatThrownBy(() -> ds.addMetaString(".tensor_names", "x")).hasMessageContaining("starts with '.'");
        assertThatThrownBy(() -> ds.putEncoded("bad", new byte[] {9, 0})).hasMessageContaining("type byte 9");
        assertThatThrownBy(() -> ds.putEncoded("bad", new byte[] {1, 0, 0})).hasMessageContaining("not a whole number of DOUBLE");
        ds.putEncoded("cut", new byte[] {7, 9, 0, 0, 0, 0, 0, 0, 0, 'a'});
        assertThatThrownBy(() -> ds.getMetaStrings("cut")).hasMessageContaining("runs past the field's end");
        assertThatThrownBy(() -> ds.getMetaDoubles("missing")).hasMessageContaining("no metadata field 'missing'");
    }
}
