package io.smartsim.launch.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.smartsim.launch.status.ModelSample;
import io.smartsim.launch.status.ShardSample;
import io.smartsim.launch.telemetry.TestSamples;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code docs/grafana-dashboard.json}, the Grafana dashboard shipped for {@code /metrics}: well-formed JSON, a sane
 * layout, and every metric its queries name is one {@code /metrics} exports (the names of a real scrape of the
 * registry {@link MetricsServer} serves, fed a sample with every figure and a served model).
 */
@Timeout(30)
class GrafanaDashboardTest {
    static final Set<String> PROMQL_KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "and", "or", "unless", "bool", "offset");
    static JsonNode dashboard;
    static Set<String> exported;

    @BeforeAll
    static void read() throws Exception {
        Path file = docs().resolve("grafana-dashboard.json");
        dashboard = new ObjectMapper().readTree(Files.readString(file)); // fails on malformed JSON
        exported = exportedNames();
    }

    static Path docs() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("docs/grafana-dashboard.json"))) {
                return p.resolve("docs");
            }
        }
        throw new IllegalStateException("no docs/grafana-dashboard.json above " + Path.of("").toAbsolutePath());
    }

    /** The series names of a scrape of what /metrics serves, with every figure present. */
    static Set<String> exportedNames() throws Exception {
        ShardSample s = TestSamples.fromInfo(Instant.parse("2026-12-06T04:00:00Z"), 0, "n1", true, 3, String.join("\n",
                "role:master", "used_memory:1000", "used_memory_peak:2000", "db0:keys=5,expires=0,avg_ttl=0",
                "connected_clients:2", "instantaneous_ops_per_sec:10", "keyspace_hits:7", "keyspace_misses:1",
                "total_net_input_bytes:100", "total_net_output_bytes:200", "master_repl_offset:42",
                "slave0:ip=127.0.0.1,port=6381,state=online,offset=42,lag=1", "rdb_last_save_time:1700000000",
                "rdb_changes_since_last_save:3", ""))
                .withModels(List.of(new ModelSample("mlp", "MODEL", "ONNX", "CPU", 7, 1, 3_500_000, 500_000.0, 14)),
                        null, null);
        PrometheusRegistry registry = new PrometheusRegistry();
        MetricsServer.register(registry, () -> List.of(s)).labelValues("exp", "db", "ok").inc();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PrometheusTextFormatWriter(false).write(out, registry.scrape());
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]")
                .matcher(out.toString(StandardCharsets.UTF_8));
        while (m.find()) {
            names.add(m.group(1));
        }
        // the sample had every figure: each shard figure, each model figure, up, the model info and the sample count
        assertThat(names).hasSize(ShardMetrics.FIGURES.size() + ShardMetrics.MODEL_FIGURES.size() + 3);
        return names;
    }

    /** Every panel, those inside a row too. */
    static List<JsonNode> panels() {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : dashboard.path("panels")) {
            out.add(p);
            p.path("panels").forEach(out::add);
        }
        return out;
    }

    /** Every PromQL expression: the panels' targets and the variables' queries. */
    static List<String> expressions() {
        List<String> out = new ArrayList<>();
        for (JsonNode p : panels()) {
            p.path("targets").forEach(t -> out.add(t.path("expr").asText()));
        }
        for (JsonNode v : dashboard.path("templating").path("list")) {
            if ("query".equals(v.path("type").asText())) {
                out.add(v.path("query").path("query").asText());
                out.add(v.path("definition").asText());
            }
        }
        return out;
    }

    /**
     * The metric names in a PromQL expression: its identifiers that are not functions, keywords or labels (quoted
     * strings, label matchers, ranges and by/without/on/ignoring lists taken out; label_values(METRIC, LABEL): METRIC).
     */
    static Set<String> metricsIn(String expr) {
        String e = expr.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
                .replaceAll("label_values\\(([^,]*),[^)]*\\)", "$1");
        Set<String> out = new TreeSet<>();
        Matcher m = Pattern.compile("(?<![\\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*+)(?!\\s*\\()").matcher(e);
        while (m.find()) {
            if (!PROMQL_KEYWORDS.contains(m.group(1))) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    @Test
    void theMetricNameCheckFindsEachMetricAndOnlyMetrics() {
        assertThat(metricsIn("sum by (model, shard) (rate(smartsim_model_calls_total{experiment=~\"$experiment\","
                + "model=~\"a|b\"}[1m])) / sum by (model, shard) (rate(smartsim_model_calls_totl[5m])) or vector(0)"))
                .containsExactly("smartsim_model_calls_total", "smartsim_model_calls_totl");
        assertThat(metricsIn("label_values(smartsim_shard_up{experiment=~\"$experiment\"}, orchestrator)"))
                .containsExactly("smartsim_shard_up");
        assertThat(metricsIn("count(up == 0) or vector(0)")).containsExactly("up");
    }

    @Test
    void everyQueryNamesOnlyMetricsThatMetricsExports() {
        List<String> exprs = expressions();
        assertThat(exprs).isNotEmpty();
        for (String e : exprs) {
            assertThat(metricsIn(e)).as("the metrics of %s", e).isNotEmpty();
            assertThat(exported).as("the metrics of %s, among what /metrics exports", e).containsAll(metricsIn(e));
        }
    }

    @Test
    void theModelServingPanelsShowCallsErrorsAndMeanDurationByModelAndShard() {
        Set<String> used = new TreeSet<>();
        for (JsonNode p : panels()) {
            for (JsonNode t : p.path("targets")) {
                String e = t.path("expr").asText();
                used.addAll(metricsIn(e));
                if (e.contains("smartsim_model_")) {
                    assertThat(e).as(p.path("title").asText()).containsPattern("by \\([^)]*\\bmodel\\b[^)]*\\)")
                            .containsPattern("by \\([^)]*\\bshard\\b[^)]*\\)").contains("model=~\"$model\"");
                    assertThat(t.path("legendFormat").asText()).contains("{{model}}", "{{shard}}");
                }
            }
        }
        assertThat(used).contains("smartsim_model_calls_total", "smartsim_model_errors_total",
                "smartsim_model_duration_seconds_total");
        assertThat(panels()).as("a mean duration panel in seconds").anySatisfy(p -> {
            assertThat(p.path("title").asText()).containsIgnoringCase("mean duration");
            assertThat(p.path("fieldConfig").path("defaults").path("unit").asText()).isEqualTo("s");
        });
    }

    @Test
    void panelsHaveUniqueIdsDoNotOverlapAndUseOnlyDefinedVariables() {
        Set<Integer> ids = new TreeSet<>();
        List<int[]> boxes = new ArrayList<>();
        for (JsonNode p : panels()) {
            assertThat(ids.add(p.path("id").asInt(-1))).as("panel id %s unique", p.path("id")).isTrue();
            JsonNode g = p.path("gridPos");
            int[] b = {g.path("x").asInt(), g.path("y").asInt(), g.path("w").asInt(), g.path("h").asInt()};
            assertThat(b[0] + b[2]).as("%s fits the 24 columns", p.path("title")).isLessThanOrEqualTo(24);
            assertThat(b[2] * b[3]).as("%s has a size", p.path("title")).isPositive();
            for (int[] o : boxes) {
                boolean overlap = b[0] < o[0] + o[2] && o[0] < b[0] + b[2] && b[1] < o[1] + o[3] && o[1] < b[1] + b[3];
                assertThat(overlap).as("%s overlaps another panel", p.path("title")).isFalse();
            }
            boxes.add(b);
            for (JsonNode t : p.path("targets")) {
                assertThat(t.path("refId").asText()).isNotBlank();
                assertThat(p.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
            }
        }
        Set<String> vars = new TreeSet<>();
        dashboard.path("templating").path("list").forEach(v -> vars.add(v.path("name").asText()));
        for (String e : expressions()) {
            Matcher m = Pattern.compile("\\$\\{?(\\w+)").matcher(e);
            while (m.find()) {
                assertThat(vars).as("the variables %s uses", e).contains(m.group(1));
            }
        }
    }
}
