package io.smartsim.launch.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The dashboard's HTTP side against a real 3-shard orchestrator: state, history, events stream, logs, no secret. */
class DashboardIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest();
    @TempDir
    Path dir;

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final ObjectMapper JSON = new ObjectMapper();

    static HttpResponse<String> get(URI u) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(u).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void thePageItsApiAndItsEventStreamShowTheExperimentWithoutItsSecrets() throws Exception {
        Path expDir = dir.resolve("exp");
        try (RunningOrchestrator orch = RunningOrchestrator.start(expDir, leftovers, 3);
             Dashboard d = Dashboard.start(expDir, HttpAccess.forBind("127.0.0.1"), 0,
                     TelemetryOptions.defaults().withInterval(Duration.ofMillis(300)))) {
            leftovers.port(d.server().port());
            URI base = d.server().uri();
            List<String> seen = new ArrayList<>();

            HttpResponse<String> page = get(base);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("<title>smartsim-launch dashboard</title>",
                    "/webjars/uplot/" + Dashboard.uplotVersion() + "/dist/uPlot.iife.min.js");
            HttpResponse<String> js = get(base.resolve("/webjars/uplot/" + Dashboard.uplotVersion()
                    + "/dist/uPlot.iife.min.js"));
            assertThat(js.statusCode()).isEqualTo(200);
            assertThat(js.body()).contains("uPlot");
            assertThat(get(base.resolve("/webjars/uplot/../../../etc/passwd")).statusCode()).isEqualTo(404);
            seen.add(page.body());

            HttpResponse<String> state = get(base.resolve("/api/state"));
            seen.add(state.body());
            JsonNode o = JSON.readTree(state.body()).at("/orchestrators/0");
            assertThat(o.get("id").asText()).isEqualTo(orch.db.id());
            assertThat(o.get("state").asText()).isEqualTo("RUNNING");
            assertThat(o.get("shards")).hasSize(3);
            for (JsonNode sh : o.get("shards")) {
                assertThat(sh.get("reachable").asBoolean()).isTrue();
                assertThat(sh.get("process").asText()).isEqualTo("alive");
                assertThat(sh.get("role").asText()).isEqualTo("master");
            }

            // The event stream: the state first, then samples of every shard as they are taken.
            HttpResponse<java.io.InputStream> stream = HTTP.send(HttpRequest.newBuilder(base.resolve("/api/events"))
                    .build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(stream.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/event-stream");
            java.util.Set<Integer> sampled = new java.util.HashSet<>();
            boolean sawState = false;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            try (BufferedReader r = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                String event = null;
                for (String line; sampled.size() < 3 && System.nanoTime() < end && (line = r.readLine()) != null; ) {
                    seen.add(line);
                    if (line.startsWith("event: ")) {
                        event = line.substring(7);
                    } else if (line.startsWith("data: ")) {
                        JsonNode data = JSON.readTree(line.substring(6));
                        if ("state".equals(event)) {
                            sawState = true;
                        } else if ("sample".equals(event) && data.get("reachable").asBoolean()) {
                            sampled.add(data.get("shard").asInt());
                        }
                    }
                }
            }
            assertThat(sawState).isTrue();
            assertThat(sampled).containsExactlyInAnyOrder(0, 1, 2);

            HttpResponse<String> history = get(base.resolve("/api/history"));
            seen.add(history.body());
            assertThat(JSON.readTree(history.body()).get(orch.db.id()).size()).isGreaterThanOrEqualTo(3);

            HttpResponse<String> log = get(base.resolve("/api/log?orchestrator=" + orch.db.id() + "&shard=1"));
            seen.add(log.body());
            assertThat(log.statusCode()).isEqualTo(200);
            assertThat(log.body()).contains("Ready to accept connections");
            assertThat(get(base.resolve("/api/log?orchestrator=nope&shard=1")).statusCode()).isEqualTo(404);
            assertThat(get(base.resolve("/api/log?model=../../etc/passwd")).statusCode()).isEqualTo(404);

            HttpResponse<String> metrics = get(base.resolve("/metrics"));
            seen.add(metrics.body());
            assertThat(metrics.body()).contains("smartsim_shard_up{");

            // The manifest holds the orchestrator's password; nothing the dashboard serves does.
            assertThat(orch.password()).hasSizeGreaterThan(8);
            assertThat(seen).allSatisfy(text -> assertThat(text).doesNotContain(orch.password()));
        }
    }

    /** This machine's short name as {@code hostname -s} prints it (and the colocated wrapper names its files). */
    static String shortHostname() throws Exception {
        Process p = new ProcessBuilder("hostname", "-s").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("hostname -s: %s", out).isZero();
        assertThat(out).isNotBlank();
        return out;
    }

    /**
     * A model started by the local launcher is listed, in {@code /api/state}, on this host's node, as
     * {@code hostname -s} names it (the node was empty: the local launcher recorded none).
     */
    @Test
    void aModelTheLocalLauncherStartedIsListedOnThisHost() throws Exception {
        Path expDir = dir.resolve("exp");
        try (io.smartsim.launch.Experiment exp = io.smartsim.launch.Experiment.create("node-it", expDir)) {
            io.smartsim.launch.Model sim = exp.createModel(io.smartsim.launch.spec.ModelSpec.builder("sim", "sh")
                    .args("-c", "echo sim done").build());
            exp.start(sim);
            assertThat(exp.waitFor(Duration.ofSeconds(60), sim)).isTrue();
            try (Dashboard d = Dashboard.start(expDir, HttpAccess.forBind("127.0.0.1"), 0,
                    TelemetryOptions.defaults())) {
                leftovers.port(d.server().port());
                JsonNode entities = JSON.readTree(get(d.server().uri().resolve("/api/state")).body()).get("entities");
                assertThat(entities).hasSize(1);
                JsonNode row = entities.get(0);
                assertThat(row.get("name").asText()).isEqualTo("sim");
                assertThat(row.get("status").asText()).isEqualTo("COMPLETED");
                assertThat(row.get("node").asText()).as("%s", row).isEqualTo(shortHostname());
            }
        }
    }
}
