package io.smartsim.launch.dashboard;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.smartsim.launch.status.ModelSample;
import io.smartsim.launch.status.ShardSample;
import io.smartsim.launch.telemetry.TestSamples;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The text Prometheus reads, for one shard that answered and one that did not. */
class ShardMetricsTest {
    static final Instant NOW = Instant.parse("2026-12-06T04:00:00Z");

    @Test
    void anAnsweringShardHasItsFiguresAnUnreachableOneOnlyUpZero() throws Exception {
        // shard 0 on n1 at 127.0.0.1:6380, shard 1 on n2 at 127.0.0.1:6381, of orchestrator db of experiment exp
        ShardSample ok = TestSamples.fromInfo(NOW, 0, "n1", false, 3, "role:master\nused_memory:1000\n"
                + "keyspace_hits:7\ndb0:keys=5,expires=0,avg_ttl=0\nconnected_clients:2\n");
        ShardSample down = TestSamples.unreachable(NOW, 1, "n2", 1000, "no answer within 1000 ms (hung or overloaded)");
        PrometheusRegistry reg = new PrometheusRegistry();
        reg.register(new ShardMetrics(() -> List.of(ok, down)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PrometheusTextFormatWriter(false).write(out, reg.scrape());
        String text = out.toString(StandardCharsets.UTF_8);
        String la = "{experiment=\"exp\",node=\"n1\",orchestrator=\"db\",shard=\"0\"}";
        String lb = "{experiment=\"exp\",node=\"n2\",orchestrator=\"db\",shard=\"1\"}";
        assertThat(text).contains("smartsim_shard_up" + la + " 1.0\n", "smartsim_shard_up" + lb + " 0.0\n",
                "smartsim_shard_used_memory_bytes" + la + " 1000.0\n", "smartsim_shard_keys" + la + " 5.0\n",
                "smartsim_shard_keyspace_hits_total" + la + " 7.0\n", "smartsim_shard_master" + la + " 1.0\n",
                "smartsim_shard_connected_clients" + la + " 2.0\n", "# TYPE smartsim_shard_keyspace_hits_total counter");
        assertThat(text).doesNotContain("smartsim_shard_used_memory_bytes" + lb);
        // A figure the shard did not report (peak memory here) is left out, not written as 0.
        assertThat(text).doesNotContain("smartsim_shard_peak_memory_bytes" + la);
    }

    @Test
    void aModelServingMastersModelsHaveCountersLabelledByModelAndNoModelSeriesWithoutThem() throws Exception {
        ShardSample plain = TestSamples.fromInfo(NOW, 0, "n1", true, 3, "role:master\nused_memory:1000\n");
        ShardSample ok = plain.withModels(List.of(
                new ModelSample("mlp", "MODEL", "ONNX", "CPU", 7, 1, 3_500_000, 500_000.0, 14),
                new ModelSample("s", "SCRIPT", "TORCH", "CPU", 0, 0, 0, null, 0)), null, null);
        String text = scrape(List.of(ok));
        String lm = "{experiment=\"exp\",model=\"mlp\",node=\"n1\",orchestrator=\"db\",shard=\"0\"}";
        assertThat(text).contains("# TYPE smartsim_model_calls_total counter\n",
                "smartsim_model_calls_total" + lm + " 7.0\n", "smartsim_model_errors_total" + lm + " 1.0\n",
                "smartsim_model_duration_seconds_total" + lm + " 3.5\n",
                "smartsim_model_samples_total" + lm + " 14.0\n",
                "smartsim_model_info{backend=\"ONNX\",device=\"CPU\",experiment=\"exp\",model=\"mlp\",node=\"n1\","
                        + "orchestrator=\"db\",shard=\"0\",type=\"MODEL\"} 1\n",
                "smartsim_model_calls_total{experiment=\"exp\",model=\"s\",node=\"n1\",orchestrator=\"db\","
                        + "shard=\"0\"} 0.0\n");
        assertThat(scrape(List.of(plain))).doesNotContain("smartsim_model");
    }

    static String scrape(List<ShardSample> samples) throws Exception {
        PrometheusRegistry reg = new PrometheusRegistry();
        reg.register(new ShardMetrics(() -> samples));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PrometheusTextFormatWriter(false).write(out, reg.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }
}
