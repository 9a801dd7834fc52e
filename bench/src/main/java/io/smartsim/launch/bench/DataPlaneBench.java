package io.smartsim.launch.bench;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.cluster.Connections;
import io.smartsim.launch.spi.LaunchedShard;
import redis.clients.jedis.ClientSetInfoConfig;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisCluster;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Section 4: the data plane of a 3-shard orchestrator started through the API: a Java client (JedisCluster, one
 * pooled connection per thread) doing SET then GET of 1 KiB and 1 MiB values at 1, 8 and 32 connections, beside
 * {@code redis-benchmark --cluster} on the same orchestrator with the same sizes, connections and request counts.
 */
final class DataPlaneBench {
    static final int PORT = 19400;
    private static final List<Integer> CONCURRENCY = List.of(1, 8, 32);
    /** Runs per cell; the table shows the run with the median ops/s (its latencies with it). */
    private static final int REPEATS = 3;

    private final Path scratch;
    private final Report report;

    DataPlaneBench(Path scratch, Report report) {
        this.scratch = scratch;
        this.report = report;
    }

    record Result(double opsPerSecond, double p50Millis, double p99Millis) {
    }

    void run(int smallOps, int largeOps) throws Exception {
        report.heading("4. Data plane, 3-shard orchestrator: Java JedisCluster vs redis-benchmark --cluster");
        try (Experiment exp = Experiment.create("bench", scratch.resolve("data"))) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).port(PORT)
                    .auth(false).build()); // the measured clients send no AUTH
            exp.start(db);
            Set<HostAndPort> seeds = db.shards().stream().map(s -> new HostAndPort(s.host(), s.port()))
                    .collect(Collectors.toSet());
            List<List<String>> rows = new ArrayList<>();
            try (JedisCluster warm = cluster(seeds, 8)) {
                java(warm, 8, "SET", 1024, 5000, 1000); // JIT warm-up, not reported
                java(warm, 8, "GET", 1024, 5000, 1000);
            }
            for (int size : List.of(1024, 1024 * 1024)) {
                int ops = size > 4096 ? largeOps : smallOps;
                int keys = keyspace(size, ops);
                for (int conc : CONCURRENCY) {
                    List<Result> sets = new ArrayList<>();
                    List<Result> gets = new ArrayList<>();
                    List<Result> refSets = new ArrayList<>();
                    List<Result> refGets = new ArrayList<>();
                    for (int r = 0; r < REPEATS; r++) { // alternate the two clients so drift hits both alike
                        flush(db);
                        try (JedisCluster jc = cluster(seeds, conc)) {
                            sets.add(java(jc, conc, "SET", size, ops, keys));
                            gets.add(java(jc, conc, "GET", size, ops, keys));
                        }
                        flush(db);
                        List<Result> ref = redisBenchmark(db.shards().get(0), size, conc, ops, keys);
                        refSets.add(ref.get(0));
                        refGets.add(ref.get(1));
                    }
                    Result set = median(sets);
                    Result get = median(gets);
                    Result refSet = median(refSets);
                    Result refGet = median(refGets);
                    rows.add(row("SET", size, conc, ops, set, refSet));
                    rows.add(row("GET", size, conc, ops, get, refGet));
                    System.out.printf(Locale.ROOT, "  %d B x %d conns: SET %.0f/s (ref %.0f), GET %.0f/s (ref %.0f)%n",
                            size, conc, set.opsPerSecond(), refSet.opsPerSecond(), get.opsPerSecond(),
                            refGet.opsPerSecond());
                }
            }
            flush(db);
            exp.stop(db);
            report.table(List.of("op", "value", "conns", "requests", "Java ops/s", "Java p50 / p99 ms",
                    "redis-benchmark ops/s", "redis-benchmark p50 / p99 ms", "Java / redis-benchmark"), rows);
            report.note("Java: one JedisCluster, a pool of as many connections as threads, keys spread over all "
                    + "slots, every request timed; warmed up with 10k small requests first. redis-benchmark: "
                    + "--cluster -t set,get -d SIZE -c CONNS -n REQUESTS -r KEYS --csv (7.0; in cluster mode each "
                    + "of its connections is bound to one node). Both use the same key space (KEYS = 1000 keys of "
                    + "1 KiB, 100 keys of 1 MiB, each at most REQUESTS/8 so redis-benchmark's random SETs cover it "
                    + "before its GETs, which then hit: a GET that misses returns no value and would flatter the "
                    + "reference). Both pipeline nothing (one request in flight per connection). Each cell: 3 runs, the two clients "
                    + "alternating; the run with the median ops/s is shown.");
        }
    }

    private static List<String> row(String op, int size, int conc, int ops, Result java, Result ref) {
        return List.of(op, size >= 1024 * 1024 ? (size / (1024 * 1024)) + " MiB" : (size / 1024) + " KiB",
                Integer.toString(conc), Integer.toString(ops),
                String.format(Locale.ROOT, "%.0f", java.opsPerSecond()),
                String.format(Locale.ROOT, "%.3f / %.3f", java.p50Millis(), java.p99Millis()),
                String.format(Locale.ROOT, "%.0f", ref.opsPerSecond()),
                String.format(Locale.ROOT, "%.3f / %.3f", ref.p50Millis(), ref.p99Millis()),
                String.format(Locale.ROOT, "%.0f%%", 100 * java.opsPerSecond() / ref.opsPerSecond()));
    }

    private static JedisCluster cluster(Set<HostAndPort> seeds, int conc) {
        ConnectionPoolConfig pool = new ConnectionPoolConfig();
        pool.setMaxTotal(conc);
        pool.setMaxIdle(conc);
        return new JedisCluster(seeds, DefaultJedisClientConfig.builder().socketTimeoutMillis(10_000)
                .connectionTimeoutMillis(2_000).clientSetInfoConfig(ClientSetInfoConfig.DISABLED).build(), 3, pool);
    }

    private static Result median(List<Result> runs) {
        List<Result> sorted = new ArrayList<>(runs);
        sorted.sort(java.util.Comparator.comparingDouble(Result::opsPerSecond));
        return sorted.get(sorted.size() / 2);
    }

    /** Keys both clients use: small enough that redis-benchmark's random SETs cover all of them before its GETs. */
    static int keyspace(int size, int ops) {
        return Math.max(1, Math.min(size > 4096 ? 100 : 1000, ops / 8));
    }

    private static Result java(JedisCluster jc, int conc, String op, int size, int ops, int keys) throws Exception {
        byte[] value = new byte[size];
        new Random(42).nextBytes(value);
        int perThread = Math.max(1, ops / conc);
        ExecutorService pool = Executors.newFixedThreadPool(conc);
        try {
            List<Future<long[]>> futures = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int t = 0; t < conc; t++) {
                int base = t * perThread;
                futures.add(pool.submit(() -> {
                    long[] lat = new long[perThread];
                    for (int i = 0; i < perThread; i++) {
                        byte[] key = ("bench:" + size + ":" + ((base + i) % keys)).getBytes(StandardCharsets.US_ASCII);
                        long s = System.nanoTime();
                        if (op.equals("SET")) {
                            jc.set(key, value);
                        } else if (jc.get(key) == null) {
                            throw new IllegalStateException("GET found no value for a key SET before");
                        }
                        lat[i] = System.nanoTime() - s;
                    }
                    return lat;
                }));
            }
            List<long[]> all = new ArrayList<>();
            for (Future<long[]> f : futures) {
                all.add(f.get());
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            long[] lat = all.stream().flatMapToLong(java.util.Arrays::stream).toArray();
            return new Result(lat.length / wall, Stats.percentileOf(lat, 50), Stats.percentileOf(lat, 99));
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /** [SET, GET] from one redis-benchmark --csv run. */
    private static List<Result> redisBenchmark(LaunchedShard seed, int size, int conc, int ops, int keys) {
        Sh.Result r = Sh.run(List.of("redis-benchmark", "--cluster", "-h", seed.host(), "-p", Integer.toString(seed.port()),
                "-t", "set,get", "-d", Integer.toString(size), "-c", Integer.toString(conc), "-n", Integer.toString(ops),
                "-r", Integer.toString(keys), "--csv"), Duration.ofMinutes(5));
        if (!r.ok()) {
            throw new IllegalStateException("redis-benchmark failed: " + r.out());
        }
        Result set = null;
        Result get = null;
        for (String line : r.out().lines().toList()) {
            String[] f = line.replace("\"", "").split(",");
            if (f.length < 7 || !(f[0].equals("SET") || f[0].equals("GET"))) {
                continue;
            }
            Result x = new Result(Double.parseDouble(f[1]), Double.parseDouble(f[4]), Double.parseDouble(f[6]));
            if (f[0].equals("SET")) {
                set = x;
            } else {
                get = x;
            }
        }
        if (set == null || get == null) {
            throw new IllegalStateException("no SET/GET lines in redis-benchmark's output:\n" + r.out());
        }
        return List.of(set, get);
    }

    private static void flush(Orchestrator db) {
        for (LaunchedShard s : db.shards()) {
            try (Jedis j = Connections.open(s.host(), s.port(), Duration.ofSeconds(10))) {
                j.flushAll();
            }
        }
    }
}
