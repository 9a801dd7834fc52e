package io.smartsim.launch.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.telemetry.Telemetry;
import io.smartsim.launch.telemetry.TelemetryOptions;
import org.junit.jupiter.api.Test;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * A real Prometheus (Debian's {@code prometheus}, installed by run-tests) scrapes {@code /metrics} every second and
 * its query API returns each shard's series with the experiment, orchestrator, shard and node labels; and it
 * accepts every query of {@code docs/grafana-dashboard.json}.
 */
class PrometheusIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // the orchestrator and Prometheus, both run in the @TempDir
    @TempDir
    Path dir;

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void prometheusScrapesEveryShardsSeriesWithTheToken() throws Exception {
        assumeThat(Path.of("/usr/bin/prometheus")).as("Debian's prometheus (run-tests installs it)").exists();
        Path expDir = dir.resolve("exp");
        try (RunningOrchestrator orch = RunningOrchestrator.start(expDir, leftovers, 3);
             Telemetry t = Telemetry.start(expDir, orch.record(),
                     TelemetryOptions.defaults().withInterval(Duration.ofMillis(500)));
             // As if bound to another address: Prometheus must present the token.
             MetricsServer server = MetricsServer.start(t, new HttpAccess("127.0.0.1",
                     Optional.of(HttpAccess.newToken())), 0)) {
            leftovers.port(server.port());
            String token = server.access().token().orElseThrow();
            URI metrics = server.uri().resolve("/metrics");
            assertThat(HTTP.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).as("without the token").isEqualTo(401);

            int promPort = leftovers.port(leftovers.freeBase(1));
            Path config = dir.resolve("prometheus.yml");
            Files.writeString(config, String.join("\n",
                    "global:",
                    "  scrape_interval: 1s",
                    "  evaluation_interval: 1s",
                    "scrape_configs:",
                    "  - job_name: smartsim",
                    "    scrape_interval: 1s",
                    "    scrape_timeout: 1s",
                    "    authorization:",
                    "      credentials: " + token,
                    "    static_configs:",
                    "      - targets: ['127.0.0.1:" + server.port() + "']",
                    ""));
            Path log = dir.resolve("prometheus.log");
            Process prom = new ProcessBuilder("/usr/bin/prometheus", "--config.file=" + config,
                    "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + promPort,
                    "--log.level=warn").directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            try {
                URI api = URI.create("http://127.0.0.1:" + promPort + "/api/v1/query?query="
                        + URLEncoder.encode("smartsim_shard_up", StandardCharsets.UTF_8));
                JsonNode up = awaitSeries(api, 3, prom, log);
                List<String> shards = new ArrayList<>();
                for (JsonNode r : up) {
                    JsonNode m = r.get("metric");
                    assertThat(m.get("experiment").asText()).isEqualTo("telemetry-it");
                    assertThat(m.get("orchestrator").asText()).isEqualTo(orch.db.id());
                    assertThat(m.get("node").asText()).isNotBlank();
                    assertThat(m.get("job").asText()).isEqualTo("smartsim");
                    assertThat(r.get("value").get(1).asText()).isEqualTo("1");
                    shards.add(m.get("shard").asText());
                }
                assertThat(shards).containsExactlyInAnyOrder("0", "1", "2");
                URI mem = URI.create("http://127.0.0.1:" + promPort + "/api/v1/query?query="
                        + URLEncoder.encode("smartsim_shard_used_memory_bytes > 0", StandardCharsets.UTF_8));
                assertThat(awaitSeries(mem, 3, prom, log)).hasSize(3);
                // The target is healthy in Prometheus's own eyes (it sent the token).
                JsonNode targets = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + promPort + "/api/v1/targets")).build(), HttpResponse.BodyHandlers.ofString()).body());
                assertThat(targets.at("/data/activeTargets/0/health").asText()).isEqualTo("up");

                // Every query of the shipped Grafana dashboard is PromQL this Prometheus accepts (variables: all).
                JsonNode grafana = JSON.readTree(Files.readString(GrafanaDashboardTest.docs()
                        .resolve("grafana-dashboard.json")));
                int queries = 0;
                for (JsonNode panel : grafana.path("panels")) {
                    for (JsonNode target : panel.path("targets")) {
                        String expr = target.path("expr").asText().replaceAll("\\$\\{?\\w+}?", ".*");
                        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                                + promPort + "/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8)))
                                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
                        assertThat(r.statusCode()).as("%s: %s", expr, r.body()).isEqualTo(200);
                        assertThat(JSON.readTree(r.body()).path("status").asText()).isEqualTo("success");
                        queries++;
                    }
                }
                assertThat(queries).isGreaterThanOrEqualTo(16);
            } finally {
                prom.destroy();
                if (!prom.waitFor(20, TimeUnit.SECONDS)) {
                    prom.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            assertThat(prom.isAlive()).isFalse();
        }
    }

    /** Polls the query API until its result has {@code count} series; fails with Prometheus's log if it died. */
    static JsonNode awaitSeries(URI query, int count, Process prom, Path log) throws Exception {
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
                    if (result.size() == count) {
                        return result;
                    }
                }
            } catch (java.io.IOException e) {
                last = e.toString(); // not listening yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("Prometheus did not return " + count + " series for " + query + " within 90 s; last "
                + "answer: " + last + "\nits log:\n" + Files.readString(log));
    }
}
