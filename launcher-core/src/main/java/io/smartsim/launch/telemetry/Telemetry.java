package io.smartsim.launch.telemetry;

import io.smartsim.launch.cluster.Connections;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.ModelSample;
import io.smartsim.launch.status.ShardSample;
import io.smartsim.launch.status.Status;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.commands.ProtocolCommand;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The collector: every {@link TelemetryOptions#interval()}, per shard, one {@code INFO} with a short timeout (and with
 * model serving, on a master, {@code AI._LIST} and each model's {@code AI.INFO}), recorded
 * as a JSON line under the experiment directory ({@link TelemetryFiles}). Each shard is sampled by a thread of its
 * own on its own connection, so a shard that hangs (SIGSTOP, a long command) costs only its own sample, recorded as
 * unreachable after the call timeout; the others' samples keep their pace. Start it with an orchestrator that runs,
 * close it before (or after) stopping it: closing is safe twice and leaves no thread or connection behind.
 */
public final class Telemetry implements AutoCloseable {
    /**
     * With model serving, at most this many models and scripts of a shard are asked ({@code AI._LIST COUNT 101},
     * then one pipelined {@code AI.INFO} per key): the first 100 by key; the sample says when there are more.
     */
    public static final int MAX_MODELS_PER_SHARD = 100;

    private static final ProtocolCommand AI_LIST = () -> "AI._LIST".getBytes(StandardCharsets.US_ASCII);
    private static final ProtocolCommand AI_INFO = () -> "AI.INFO".getBytes(StandardCharsets.US_ASCII);

    private final ScheduledExecutorService pool;
    private final List<Sampler> samplers = new ArrayList<>();
    private final Map<String, TelemetryFiles.Writer> writers = new LinkedHashMap<>();
    private final Map<String, ShardSample> latest = new ConcurrentHashMap<>();
    private final List<Consumer<ShardSample>> listeners = new CopyOnWriteArrayList<>();
    private final TelemetryOptions options;
    private volatile boolean closed;

    private final boolean recording;

    private Telemetry(Path expDir, List<OrchestratorRecord> records, TelemetryOptions options, boolean recording) {
        this.options = options;
        this.recording = recording;
        List<ShardTarget> targets = new ArrayList<>();
        for (OrchestratorRecord r : records) {
            writers.put(r.id(), new TelemetryFiles.Writer(expDir, r.id(), options.maxFileBytes(),
                    options.keptFiles()));
            targets.addAll(ShardTarget.of(r));
        }
        AtomicInteger n = new AtomicInteger();
        ThreadFactory threads = r -> {
            Thread t = new Thread(r, "telemetry-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        // One thread per shard: a hung shard blocks only its own.
        pool = Executors.newScheduledThreadPool(Math.max(1, targets.size()), threads);
        for (ShardTarget t : targets) {
            Sampler s = new Sampler(t);
            samplers.add(s);
            pool.scheduleAtFixedRate(s, 0, options.interval().toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Samples the shards of {@code orchestrator} (one the manifest of {@code expDir} records as running) until closed.
     */
    public static Telemetry start(Path expDir, OrchestratorRecord orchestrator, TelemetryOptions options) {
        return new Telemetry(expDir, List.of(orchestrator), options, true);
    }

    /** Samples every orchestrator the manifest of {@code expDir} records as RUNNING now (none: an idle collector). */
    public static Telemetry startAll(Path expDir, TelemetryOptions options) {
        List<OrchestratorRecord> running = new ManifestStore(expDir).read()
                .map(m -> m.orchestrators().stream().filter(o -> o.status() == Status.RUNNING).toList())
                .orElse(List.of());
        return new Telemetry(expDir, running, options, true);
    }

    /**
     * As {@link #startAll}, keeping samples in memory only (the dashboard's own view): nothing is written, so it
     * never competes with the collector of the process that runs the experiment.
     */
    public static Telemetry watchAll(Path expDir, TelemetryOptions options) {
        List<OrchestratorRecord> running = new ManifestStore(expDir).read()
                .map(m -> m.orchestrators().stream().filter(o -> o.status() == Status.RUNNING).toList())
                .orElse(List.of());
        return new Telemetry(expDir, running, options, false);
    }

    public TelemetryOptions options() {
        return options;
    }

    /** The last sample of every shard sampled so far, by orchestrator then shard. */
    public List<ShardSample> latest() {
        return latest.values().stream().sorted(Comparator.comparing(ShardSample::orchestrator)
                .thenComparingInt(ShardSample::shard)).toList();
    }

    /** Calls {@code listener} with every new sample, on the sampling thread: it must be quick and not throw. */
    public void onSample(Consumer<ShardSample> listener) {
        listeners.add(listener);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        pool.shutdownNow();
        try {
            if (!pool.awaitTermination(options.callTimeout().toMillis() + 2000, TimeUnit.MILLISECONDS)) {
                // a call stuck past its socket timeout: the connections are closed below, which ends it
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        samplers.forEach(Sampler::disconnect);
    }

    private void record(ShardSample s) {
        if (closed) {
            return;
        }
        latest.put(s.orchestrator() + "/" + s.shard(), s);
        TelemetryFiles.Writer w = writers.get(s.orchestrator());
        if (recording) {
            synchronized (w) {
                try {
                    w.append(s);
                } catch (IOException e) {
                    // A full or read-only disk must not stop the collector (nor the experiment it watches): the
                    // sample is still served live; the file picks up again when the disk does.
                }
            }
        }
        for (Consumer<ShardSample> l : listeners) {
            try {
                l.accept(s);
            } catch (RuntimeException e) {
                // a listener's fault is its own
            }
        }
    }

    /** Samples one shard; keeps its connection between samples and opens a new one after a failure. */
    private final class Sampler implements Runnable {
        private final ShardTarget target;
        private volatile Jedis conn;

        Sampler(ShardTarget target) {
            this.target = target;
        }

        @Override
        public synchronized void run() {
            if (closed) {
                return;
            }
            Instant time = Instant.now();
            long t0 = System.nanoTime();
            ShardSample s;
            try {
                if (conn == null) {
                    conn = Connections.open(target.host(), target.port(), options.callTimeout(), target.access());
                }
                String reply = conn.info();
                s = InfoSample.of(time, target, millisSince(t0), reply);
                if (target.ai() && "master".equals(s.role())) {
                    s = withModels(conn, s);
                }
            } catch (JedisException | IllegalStateException e) {
                disconnect();
                s = target.unreachable(time, millisSince(t0), why(e));
            } catch (RuntimeException e) {
                disconnect();
                s = target.unreachable(time, millisSince(t0), e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            record(s);
        }

        /**
         * Adds the shard's models: {@code AI._LIST COUNT 101}, then {@code AI.INFO} of each key in one pipeline. A
         * shard that refuses these (an error of its module) still gives its INFO figures; the error is recorded.
         */
        private ShardSample withModels(Jedis c, ShardSample s) {
            Object listed;
            try {
                listed = c.sendCommand(AI_LIST, "COUNT", Integer.toString(MAX_MODELS_PER_SHARD + 1));
            } catch (JedisDataException e) {
                return s.withModels(null, null, "AI._LIST: " + e.getMessage());
            }
            List<byte[]> keys = new ArrayList<>();
            if (!(listed instanceof List<?> list) || !list.stream().allMatch(k -> k instanceof byte[])) {
                return s.withModels(null, null, "AI._LIST: not an array of keys: " + listed);
            }
            for (Object k : list) {
                keys.add((byte[]) k);
            }
            boolean truncated = keys.size() > MAX_MODELS_PER_SHARD;
            if (truncated) {
                keys = keys.subList(0, MAX_MODELS_PER_SHARD);
            }
            List<ModelSample> models = new ArrayList<>();
            if (!keys.isEmpty()) {
                List<Response<Object>> infos = new ArrayList<>();
                try (Pipeline p = c.pipelined()) {
                    for (byte[] k : keys) {
                        infos.add(p.sendCommand(AI_INFO, k));
                    }
                    p.sync();
                }
                for (Response<Object> r : infos) {
                    try {
                        models.add(AiInfo.of(r.get()));
                    } catch (JedisDataException | IllegalArgumentException e) {
                        // deleted between the list and its AI.INFO: not a model any more
                    }
                }
            }
            return s.withModels(models, truncated ? Boolean.TRUE : null, null);
        }

        private String why(RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String msg = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
            if (root instanceof java.net.SocketTimeoutException) {
                return "no answer within " + options.callTimeout().toMillis() + " ms (hung or overloaded)";
            }
            if (root instanceof java.net.ConnectException) {
                return "connection refused (the shard is not listening)";
            }
            return msg;
        }

        void disconnect() {
            Jedis c = conn;
            conn = null;
            if (c != null) {
                try {
                    c.close();
                } catch (RuntimeException e) {
                    // already broken
                }
            }
        }
    }

    private static long millisSince(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }
}
