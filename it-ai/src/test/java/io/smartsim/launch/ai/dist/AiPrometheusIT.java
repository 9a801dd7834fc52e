package io.smartsim.launch.ai.dist;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.TelemetrySpec;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.TensorData;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.dashboard.HttpAccess;
import io.smartsim.launch.dashboard.MetricsServer;
import io.smartsim.launch.telemetry.Telemetry;
import io.smartsim.launch.telemetry.TelemetryOptions;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * A real Prometheus (Debian's {@code prometheus}) scrapes {@code /metrics} of an {@code --ai onnx} orchestrator (the
 * smartsim-ai module, the real model server) and its query API returns {@code smartsim_model_calls_total} with the
 * {@code model} label and the calls the client made.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class AiPrometheusIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest();
    @TempDir
    Path dir;
    final AiTestbed bed = new AiTestbed(leftovers);

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void prometheusScrapesEachModelsCallsWithTheModelLabel() throws Exception {
        assumeThat(Path.of("/usr/bin/prometheus")).as("Debian's prometheus (run-tests installs it)").exists();
        int base = bed.ports(1);
        int runs = 5;
        Path expDir = dir.resolve("exp");
        try (Experiment exp = Experiment.create("ai-prom", expDir)) {
            // The experiment's own collector off: this test's collector feeds /metrics.
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 1).auth(false)
                    .telemetry(TelemetrySpec.OFF).build());
            exp.start(db);
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                c.setModel("mlp", AiOrchestratorIT.MODEL, "ONNX", "CPU");
                c.putTensor("x", TensorData.of(new float[] {1, 2, 3, 4}, 1, 4));
                for (int k = 0; k < runs; k++) {
                    c.runModel("mlp", List.of("x"), List.of("y"));
                }
            }
            try (Telemetry t = Telemetry.start(expDir, new ManifestStore(expDir).read().orElseThrow()
                            .find(db.id()).orElseThrow(), TelemetryOptions.defaults()
                            .withInterval(Duration.ofMillis(500)));
                 MetricsServer server = MetricsServer.start(t, HttpAccess.forBind("127.0.0.1"), 0)) {
                leftovers.port(server.port());
                int promPort = leftovers.port(leftovers.freeBase(1));
                Path config = dir.resolve("prometheus.yml");
                Files.writeString(config, String.join("\n",
                        "global:",
                        "  scrape_interval: 1s",
                        "scrape_configs:",
                        "  - job_name: smartsim",
                        "    scrape_interval: 1s",
                        "    scrape_timeout: 1s",
                        "    static_configs:",
                        "      - targets: ['127.0.0.1:" + server.port() + "']",
                        ""));
                Path log = dir.resolve("prometheus.log");
                Process prom = new ProcessBuilder("/usr/bin/prometheus", "--config.file=" + config,
                        "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + promPort,
                        "--log.level=warn").directory(dir.toFile()).redirectErrorStream(true)
                        .redirectOutput(log.toFile()).start();
                try {
                    URI api = URI.create("http://127.0.0.1:" + promPort + "/api/v1/query?query=" + URLEncoder.encode(
                            "smartsim_model_calls_total{model=\"mlp\"} == " + runs, StandardCharsets.UTF_8));
                    JsonNode series = awaitSeries(api, prom, log);
                    JsonNode m = series.get(0).get("metric");
                    assertThat(m.get("experiment").asText()).isEqualTo("ai-prom");
                    assertThat(m.get("orchestrator").asText()).isEqualTo(db.id());
                    assertThat(m.get("shard").asText()).isEqualTo("0");
                    assertThat(m.get("node").asText()).isNotBlank();
                    assertThat(series.get(0).get("value").get(1).asText()).isEqualTo(Integer.toString(runs));
                    URI info = URI.create("http://127.0.0.1:" + promPort + "/api/v1/query?query=" + URLEncoder.encode(
                            "smartsim_model_info{model=\"mlp\",type=\"MODEL\",backend=\"ONNX\",device=\"CPU\"}",
                            StandardCharsets.UTF_8));
                    assertThat(awaitSeries(info, prom, log)).hasSize(1);
                } finally {
                    prom.destroy();
                    if (!prom.waitFor(20, TimeUnit.SECONDS)) {
                        prom.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    }
                }
                assertThat(prom.isAlive()).isFalse();
            }
            exp.stop(db);
        }
    }

    /** Polls the query API until it returns a series; fails with Prometheus's log if it died or after 90 s. */
    static JsonNode awaitSeries(URI query, Process prom, Path log) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        String last = "";
        while (System.nanoTime() < end) {
            if (!prom.isAlive()) {
                throw new AssertionError("prometheus exited " + prom.exitValue() + ":\n" + Files.readString(log));
            }
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(query).timeout(Duration.ofSeconds(5))
                        .build(), HttpResponse.BodyHandlers.ofString());
                last = r.body();
                if (r.statusCode() == 200) {
                    JsonNode result = JSON.readTree(r.body()).at("/data/result");
                    if (result.size() > 0) {
                        return result;
                    }
                }
            } catch (java.io.IOException e) {
                last = e.toString(); // not listening yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("Prometheus returned no series for " + query + " within 90 s; last answer: " + last
                + "\nits log:\n" + Files.readString(log));
    }
}
