package io.smartsim.launch.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.telemetry.TelemetryOptions;
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
            // every shard names this host as its node, as the local models do (before: the plan's node index, "0")
            String host = shortHostname();
            for (JsonNode sh : o.get("shards")) {
                assertThat(sh.get("node").asText()).as("%s", sh).isEqualTo(host);
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
                            assertThat(data.get("node").asText()).as("%s", data).isEqualTo(host);
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
            assertThat(JSON.readTree(log.body()).get("lines").toString()).contains("Ready to accept connections");
            assertThat(get(base.resolve("/api/log?orchestrator=nope&shard=1")).statusCode()).isEqualTo(404);
            assertThat(get(base.resolve("/api/log?model=../../etc/passwd")).statusCode()).isEqualTo(404);

            HttpResponse<String> metrics = get(base.resolve("/metrics"));
            seen.add(metrics.body());
            assertThat(metrics.body()).contains("smartsim_shard_up{");
            assertThat(metrics.body().lines().filter(l -> l.startsWith("smartsim_shard_up{")).toList())
                    .as("the node label of each shard: this host").hasSize(3)
                    .allSatisfy(l -> assertThat(l).contains("node=\"" + host + "\""));

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

    /** The answer to /api/log?QUERY: its status, JSON body and content type. */
    record Answer(int status, JsonNode body, String type) {
    }

    static Answer log(URI base, String query) throws Exception {
        HttpResponse<String> r = get(base.resolve("/api/log" + (query.isEmpty() ? "" : "?" + query)));
        return new Answer(r.statusCode(), JSON.readTree(r.body()), r.headers().firstValue("Content-Type").orElse(""));
    }

    static void assertError(Answer a, int status, String parameter, String... says) {
        assertThat(a.status()).as("%s", a).isEqualTo(status);
        assertThat(a.type()).isEqualTo("application/json");
        assertThat(a.body().get("parameter").isNull() ? null : a.body().get("parameter").asText()).as("%s", a)
                .isEqualTo(parameter);
        assertThat(a.body().get("error").asText()).as("%s", a).contains(says);
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

    /**
     * {@code /api/log} answers alike for a shard and a model: 200 with the lines, 200 with {@code exists: false} and
     * no lines for a known shard or model whose log is not there (yet: a Slurm model whose job still waits has none;
     * here removed), 404 naming what is not there, 400 naming the parameter that is wrong. Before, a known one without
     * its file gave 200 and an empty text body, an unknown one 404 in plain text, and a bad parameter 404 too.
     */
    @Test
    void theLogApiAnswersEveryCaseAlike() throws Exception {
        Path expDir = dir.resolve("exp");
        try (RunningOrchestrator orch = RunningOrchestrator.start(expDir, leftovers, 1);
             Dashboard d = Dashboard.start(expDir, HttpAccess.forBind("127.0.0.1"), 0,
                     TelemetryOptions.defaults().withInterval(Duration.ofMillis(500)))) {
            leftovers.port(d.server().port());
            URI base = d.server().uri();
            String id = orch.db.id();
            io.smartsim.launch.Model sim = orch.exp.createModel(io.smartsim.launch.spec.ModelSpec.builder("sim", "sh")
                    .args("-c", "echo sim done").build());
            orch.exp.start(sim);
            assertThat(orch.exp.waitFor(Duration.ofSeconds(60), sim)).isTrue();
            String host = shortHostname();

            // 200: the lines, and what they are of
            Answer shardLog = log(base, "orchestrator=" + id + "&shard=0");
            assertThat(shardLog.status()).isEqualTo(200);
            assertThat(shardLog.type()).isEqualTo("application/json");
            assertThat(shardLog.body().get("orchestrator").asText()).isEqualTo(id);
            assertThat(shardLog.body().get("shard").asInt()).isZero();
            assertThat(shardLog.body().get("exists").asBoolean()).isTrue();
            assertThat(shardLog.body().get("lines").toString()).contains("Ready to accept connections");
            Answer modelLog = log(base, "model=sim");
            assertThat(modelLog.status()).isEqualTo(200);
            assertThat(modelLog.body().get("model").asText()).isEqualTo("sim");
            assertThat(modelLog.body().get("file").asText()).isEqualTo(sim.stdout().toString());
            assertThat(modelLog.body().get("exists").asBoolean()).isTrue();
            assertThat(modelLog.body().get("lines")).containsExactly(JSON.getNodeFactory().textNode("sim done"));

            // 200 with exists: false and no lines, for a known shard and a known model whose log is not there
            Path shardFile = orch.db.plan().shards().get(0).logPath();
            java.nio.file.Files.delete(shardFile);
            java.nio.file.Files.delete(sim.stdout());
            for (String q : List.of("orchestrator=" + id + "&shard=0", "model=sim")) {
                Answer a = log(base, q);
                assertThat(a.status()).as(q).isEqualTo(200);
                assertThat(a.body().get("exists").asBoolean()).as(q).isFalse();
                assertThat(a.body().get("lines")).as(q).isEmpty();
            }
            assertThat(log(base, "orchestrator=" + id + "&shard=0").body().get("file").asText())
                    .isEqualTo(shardFile.toString());

            // 404: what is not there, named, with what is
            assertError(log(base, "orchestrator=nope&shard=0"), 404, "orchestrator", "no orchestrator 'nope'",
                    "known: " + id);
            assertError(log(base, "orchestrator=" + id + "&shard=5"), 404, "shard",
                    "orchestrator '" + id + "' has no shard 5", "known: 0");
            assertError(log(base, "model=nope"), 404, "model", "no model 'nope'", "known: sim");
            assertError(log(base, "model=..%2F..%2Fetc%2Fpasswd"), 404, "model", "no model '../../etc/passwd'");
            assertError(log(base, "model=sim&colocated=" + host), 404, "colocated",
                    "model 'sim' has no colocated database");

            // 400: the parameter that is missing, malformed, unknown or given twice
            assertError(log(base, ""), 400, null, "which log?", "orchestrator=ID&shard=N");
            assertError(log(base, "shard=0"), 400, "orchestrator", "needs orchestrator=ID");
            assertError(log(base, "orchestrator=" + id), 400, "shard", "needs shard=N");
            assertError(log(base, "orchestrator=" + id + "&shard=x"), 400, "shard", "'x' is not a shard index");
            assertError(log(base, "orchestrator=" + id + "&shard="), 400, "shard", "is empty");
            assertError(log(base, "colocated=" + host), 400, "model", "needs model=NAME");
            assertError(log(base, "model=sim&colocated=..%2F..%2Fetc%2Fpasswd"), 400, "colocated",
                    "'../../etc/passwd' is not a node name");
            assertError(log(base, "orchestrator=" + id + "&shard=0&model=sim"), 400, "orchestrator", "one at a time");
            assertError(log(base, "modle=sim"), 400, "modle", "unknown parameter 'modle'");
            assertError(log(base, "model=sim&model=nope"), 400, "model", "given twice");
        }
    }
}
