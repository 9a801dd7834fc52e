package io.smartsim.launch.telemetry;

import io.smartsim.launch.planned.Access;
import io.smartsim.launch.status.ModelSample;
import io.smartsim.launch.status.ShardSample;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** AI.INFO's reply (as Jedis hands it over) into a model sample, and the recorded line with and without models. */
class AiInfoTest {
    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The module's 18 elements: bulk strings, integers for the counters. */
    static List<Object> reply(String key, long duration, long samples, long calls, long errors) {
        return new ArrayList<>(List.of(b("key"), b(key), b("type"), b("MODEL"), b("backend"), b("ONNX"), b("device"),
                b("CPU"), b("tag"), b(""), b("duration"), duration, b("samples"), samples, b("calls"), calls,
                b("errors"), errors));
    }

    @Test
    void theModulesReplyGivesEveryFieldAndTheMean() {
        assertThat(AiInfo.of(reply("{abc}.mlp", 900, 12, 6, 1)))
                .isEqualTo(new ModelSample("{abc}.mlp", "MODEL", "ONNX", "CPU", 6, 1, 900, 150.0, 12));
        assertThat(AiInfo.of(reply("m", 0, 0, 0, 0)).meanMicros()).as("no call yet: no mean").isNull();
    }

    @Test
    void aReplyOfAnotherShapeIsRefusedNamingWhatIsMissing() {
        assertThatThrownBy(() -> AiInfo.of(List.of(b("key")))).hasMessage(
                "AI.INFO answered an array of 1, not name/value pairs");
        List<Object> noCalls = reply("m", 1, 1, 1, 0);
        noCalls.subList(14, 16).clear();
        assertThatThrownBy(() -> AiInfo.of(noCalls)).hasMessage("AI.INFO's reply has no calls");
    }

    @Test
    void aLineWithoutModelsIsUnchangedAndOneWithModelsReadsBack() throws Exception {
        ShardTarget t = new ShardTarget("exp", "db", 0, "127.0.0.1", 6380, "n1", Access.NONE);
        ShardSample plain = InfoSample.of(Instant.parse("2026-12-06T04:00:00Z"), t, 3, "role:master\n");
        assertThat(TelemetryFiles.line(plain)).doesNotContain("models").endsWith("\"changesSinceSave\":null}");
        ShardSample withModels = plain.withModels(List.of(AiInfo.of(reply("m", 900, 12, 6, 1))), true, null);
        String line = TelemetryFiles.line(withModels);
        assertThat(line).endsWith(",\"changesSinceSave\":null,\"models\":[{\"key\":\"m\",\"type\":\"MODEL\","
                + "\"backend\":\"ONNX\",\"device\":\"CPU\",\"calls\":6,\"errors\":1,\"durationMicros\":900,"
                + "\"meanMicros\":150.0,\"samples\":12}],\"modelsTruncated\":true}");
        assertThat(io.smartsim.launch.spec.Json.mapper().readValue(line, ShardSample.class)).isEqualTo(withModels);
    }
}
