package io.smartsim.launch.dashboard;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot.InfoDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.smartsim.launch.status.ModelSample;
import io.smartsim.launch.status.ShardSample;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The collector's last sample of every shard as Prometheus metrics (Prometheus's Java client data model), labelled
 * {@code experiment}, {@code orchestrator}, {@code shard} and {@code node} (and {@code model} for the model-serving
 * series). A shard that did not answer its last sample has {@code smartsim_shard_up 0} and none of the other series
 * (no stale figures). See docs/telemetry.md.
 */
public final class ShardMetrics implements MultiCollector {
    private final Supplier<List<ShardSample>> samples;

    public ShardMetrics(Supplier<List<ShardSample>> samples) {
        this.samples = samples;
    }

    private record Figure(String name, String help, boolean counter, Function<ShardSample, Number> value) {
    }

    static final List<Figure> FIGURES = List.of(
            new Figure("smartsim_shard_used_memory_bytes", "used_memory of the shard (INFO memory)", false,
                    ShardSample::usedMemory),
            new Figure("smartsim_shard_peak_memory_bytes", "used_memory_peak of the shard", false,
                    ShardSample::peakMemory),
            new Figure("smartsim_shard_keys", "keys in db0 of the shard", false, ShardSample::keys),
            new Figure("smartsim_shard_connected_clients", "connected_clients, the collector's connection included",
                    false, ShardSample::clients),
            new Figure("smartsim_shard_ops_per_second", "instantaneous_ops_per_sec of the shard", false,
                    ShardSample::opsPerSec),
            new Figure("smartsim_shard_keyspace_hits", "keyspace_hits since the shard started", true,
                    ShardSample::hits),
            new Figure("smartsim_shard_keyspace_misses", "keyspace_misses since the shard started", true,
                    ShardSample::misses),
            new Figure("smartsim_shard_net_input_bytes", "total_net_input_bytes since the shard started", true,
                    ShardSample::netInBytes),
            new Figure("smartsim_shard_net_output_bytes", "total_net_output_bytes since the shard started", true,
                    ShardSample::netOutBytes),
            new Figure("smartsim_shard_master", "1 when the shard is a master now, 0 when a replica", false,
                    s -> s.role() == null ? null : "master".equals(s.role()) ? 1 : 0),
            new Figure("smartsim_shard_repl_offset", "replication offset (master_repl_offset or slave_repl_offset)",
                    false, ShardSample::replOffset),
            new Figure("smartsim_shard_repl_lag_seconds", "replica: seconds since it heard from its master; master: "
                    + "its replicas' largest lag", false, ShardSample::replLagSeconds),
            new Figure("smartsim_shard_last_save_timestamp_seconds", "rdb_last_save_time, seconds since the epoch",
                    false, s -> s.lastSave() == null ? null : s.lastSave().getEpochSecond()),
            new Figure("smartsim_shard_changes_since_save", "rdb_changes_since_last_save", false,
                    ShardSample::changesSinceSave),
            new Figure("smartsim_shard_sample_duration_seconds", "how long the collector's INFO call took", false,
                    s -> s.callMillis() / 1000.0));

    static Labels labels(ShardSample s) {
        return Labels.of("experiment", s.experiment(), "orchestrator", s.orchestrator(), "shard",
                Integer.toString(s.shard()), "node", s.node());
    }

    @Override
    public MetricSnapshots collect() {
        List<ShardSample> now = samples.get();
        List<MetricSnapshot> out = new ArrayList<>();
        GaugeSnapshot.Builder up = GaugeSnapshot.builder().name("smartsim_shard_up")
                .help("1 when the shard answered the collector's last INFO within its timeout, else 0");
        for (ShardSample s : now) {
            up.dataPoint(GaugeDataPointSnapshot.builder().labels(labels(s)).value(s.reachable() ? 1 : 0).build());
        }
        out.add(up.build());
        for (Figure f : FIGURES) {
            if (f.counter()) {
                CounterSnapshot.Builder b = CounterSnapshot.builder().name(f.name()).help(f.help());
                for (ShardSample s : now) {
                    Number v = s.reachable() ? f.value().apply(s) : null;
                    if (v != null) {
                        b.dataPoint(CounterDataPointSnapshot.builder().labels(labels(s)).value(v.doubleValue()).build());
                    }
                }
                out.add(b.build());
            } else {
                GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(f.name()).help(f.help());
                for (ShardSample s : now) {
                    Number v = s.reachable() ? f.value().apply(s) : null;
                    if (v != null) {
                        b.dataPoint(GaugeDataPointSnapshot.builder().labels(labels(s)).value(v.doubleValue()).build());
                    }
                }
                out.add(b.build());
            }
        }
        out.addAll(modelMetrics(now));
        return new MetricSnapshots(out);
    }

    private record ModelFigure(String name, String help, Function<ModelSample, Number> value) {
    }

    /** Counters from AI.INFO, per model or script key: they go back to 0 when the key is stored again or reset. */
    static final List<ModelFigure> MODEL_FIGURES = List.of(
            new ModelFigure("smartsim_model_calls", "runs (models) or calls (scripts) of the key on the shard, "
                    + "failed ones included (AI.INFO calls)", ModelSample::calls),
            new ModelFigure("smartsim_model_errors", "runs or calls that failed or timed out (AI.INFO errors)",
                    ModelSample::errors),
            new ModelFigure("smartsim_model_duration_seconds", "the runtime's time of the runs, summed "
                    + "(AI.INFO duration); with smartsim_model_calls_total, the mean latency",
                    m -> m.durationMicros() / 1e6),
            new ModelFigure("smartsim_model_samples", "the runs' batch sizes summed (AI.INFO samples)",
                    ModelSample::samples));

    static Labels labels(ShardSample s, ModelSample m) {
        return labels(s).add("model", m.key());
    }

    /**
     * With model serving: per model and script of each reachable master's last sample, its counters, and
     * {@code smartsim_model_info} (1, labelled {@code type}, {@code backend}, {@code device}); nothing otherwise.
     */
    static List<MetricSnapshot> modelMetrics(List<ShardSample> now) {
        List<ShardSample> serving = now.stream().filter(s -> s.reachable() && s.models() != null).toList();
        if (serving.isEmpty()) {
            return List.of();
        }
        List<MetricSnapshot> out = new ArrayList<>();
        // An info metric (written smartsim_model_info, value 1): the key's type, backend and device as labels.
        InfoSnapshot.Builder info = InfoSnapshot.builder().name("smartsim_model")
                .help("one per model or script key a shard serves, with its type (MODEL or SCRIPT), backend and device");
        for (ShardSample s : serving) {
            for (ModelSample m : s.models()) {
                info.dataPoint(InfoDataPointSnapshot.builder().labels(labels(s, m).add("type", m.type())
                        .add("backend", m.backend()).add("device", m.device())).build());
            }
        }
        out.add(info.build());
        for (ModelFigure f : MODEL_FIGURES) {
            CounterSnapshot.Builder b = CounterSnapshot.builder().name(f.name()).help(f.help());
            for (ShardSample s : serving) {
                for (ModelSample m : s.models()) {
                    b.dataPoint(CounterDataPointSnapshot.builder().labels(labels(s, m))
                            .value(f.value().apply(m).doubleValue()).build());
                }
            }
            out.add(b.build());
        }
        return out;
    }
}
