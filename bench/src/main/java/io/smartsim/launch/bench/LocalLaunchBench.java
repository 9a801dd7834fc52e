package io.smartsim.launch.bench;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.cluster.InfoParser;
import io.smartsim.launch.cluster.Ping;
import io.smartsim.launch.exec.DetachedProcess;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.PlanFiles;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.spi.Launchers;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Section 1: time to healthy from the API call, local launcher, beside the reference: the same redis-server
 * processes (same plan, same config files, same argv) formed by {@code redis-cli --cluster create --cluster-yes}
 * and waited on until every node says {@code cluster_state:ok}. Runs alternate ours/reference so both see the same
 * machine load.
 */
final class LocalLaunchBench {
    static final int API_PORT = 19000;
    static final int REF_PORT = 19200;
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    private final Path scratch;
    private final Report report;

    LocalLaunchBench(Path scratch, Report report) {
        this.scratch = scratch;
        this.report = report;
    }

    static OrchestratorSpec spec(int shards, int port) {
        // No password: the reference (redis-cli --cluster create) talks to the shards without one.
        return OrchestratorSpec.builder().instancesPerNode(shards).port(port).startupTimeout(TIMEOUT).auth(false).build();
    }

    void run(List<Integer> sizes, int runs) throws Exception {
        report.heading("1. Time to healthy, local launcher, from the API call");
        double[] cold = ours(1, -1); // the first launch in this JVM loads the classes; reported, not counted
        report.note(String.format(Locale.ROOT, "First launch in this JVM (1 shard, class loading included): %.3f s; "
                + "not counted below.", cold[0]));
        List<List<String>> rows = new ArrayList<>();
        for (int n : sizes) {
            int r = n >= 64 ? Math.min(runs, 3) : runs;
            List<Double> ours = new ArrayList<>();
            List<Double> stops = new ArrayList<>();
            List<Double> ref = new ArrayList<>();
            for (int i = 0; i < r; i++) {
                double[] o = ours(n, i);
                ours.add(o[0]);
                stops.add(o[1]);
                ref.add(reference(n, i));
                System.out.printf(Locale.ROOT, "  %3d shards run %d: api %.3f s (stop %.3f s), redis-cli %.3f s%n", n, i,
                        o[0], o[1], ref.get(ref.size() - 1));
            }
            Stats so = Stats.of(ours);
            Stats sr = Stats.of(ref);
            rows.add(List.of(Integer.toString(n), so.seconds(), sr.seconds(),
                    String.format(Locale.ROOT, "%.1fx", sr.median() / so.median()), Stats.of(stops).seconds()));
        }
        report.table(List.of("shards", "smartsim-launch API: healthy", "redis-server + redis-cli --cluster create",
                "ratio (ref/ours)", "API stop"), rows);
        report.note("Healthy = the API call returned (every node reports cluster_state:ok, all 16384 slots agreed; one "
                + "shard: PONG), confirmed afterwards by CLUSTER INFO on every node. Reference: same plan, config "
                + "files and argv, spawned the same way; timed from writing the files until every node reports "
                + "cluster_state:ok (polled every 10 ms); one shard: until PONG.");
    }

    /** [seconds to healthy, seconds to stop] */
    private double[] ours(int n, int run) throws Exception {
        Path dir = scratch.resolve("api-" + n + "-" + run);
        long t0 = System.nanoTime();
        try (Experiment exp = Experiment.create("bench", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(n, API_PORT));
            exp.start(db);
            double up = (System.nanoTime() - t0) / 1e9;
            if (db.clustered()) {
                for (var s : db.shards()) {
                    String state = clusterState(s.host(), s.port());
                    if (!"ok".equals(state)) {
                        throw new IllegalStateException("API returned but shard " + s.address() + " says " + state);
                    }
                }
            }
            long s0 = System.nanoTime();
            exp.stop(db);
            return new double[] {up, (System.nanoTime() - s0) / 1e9};
        }
    }

    private double reference(int n, int run) throws Exception {
        Path dir = scratch.resolve("ref-" + n + "-" + run);
        OrchestratorSpec spec = spec(n, REF_PORT);
        LaunchPlan plan = Planner.plan("bench", dir, spec, Launchers.find("local").place(spec));
        String bin = io.smartsim.launch.util.Executables.onPath("redis-server").orElseThrow().toString();
        List<DetachedProcess> procs = new ArrayList<>();
        long t0 = System.nanoTime();
        try {
            PlanFiles.write(plan);
            for (ShardPlan s : plan.shards()) {
                List<String> argv = new ArrayList<>(s.argv());
                argv.set(0, bin);
                procs.add(DetachedProcess.spawn(argv, s.workDir(), PlanFiles.consoleLog(s)));
            }
            long until = t0 + TIMEOUT.toNanos();
            for (ShardPlan s : plan.shards()) {
                while (!Ping.pong(s.advertisedAddress(), s.port(), 500)) {
                    check(until, "PONG from " + s.port());
                    Thread.sleep(2);
                }
            }
            if (plan.clustered()) {
                List<String> argv = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
                plan.shards().forEach(s -> argv.add(s.advertisedAddress() + ":" + s.port()));
                argv.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
                Sh.Result r = Sh.run(argv, TIMEOUT);
                if (!r.ok()) {
                    throw new IllegalStateException("redis-cli --cluster create failed: " + r.out());
                }
                for (ShardPlan s : plan.shards()) {
                    while (!"ok".equals(clusterState(s.advertisedAddress(), s.port()))) {
                        check(until, "cluster_state:ok from " + s.port());
                        Thread.sleep(10);
                    }
                }
            }
            return (System.nanoTime() - t0) / 1e9;
        } finally {
            for (ShardPlan s : plan.shards()) {
                try (Jedis j = io.smartsim.launch.cluster.Connections.open(s.advertisedAddress(), s.port(), Duration.ofSeconds(2))) {
                    j.sendCommand(Protocol.Command.SHUTDOWN, "NOSAVE");
                } catch (JedisException expected) {
                    // it closes the connection as it exits
                }
            }
            for (DetachedProcess p : procs) {
                p.terminate(Duration.ofSeconds(5));
            }
        }
    }

    private static void check(long untilNanos, String what) {
        if (System.nanoTime() > untilNanos) {
            throw new IllegalStateException("reference: no " + what + " within " + TIMEOUT.toSeconds() + " s");
        }
    }

    static String clusterState(String host, int port) {
        try (Jedis j = io.smartsim.launch.cluster.Connections.open(host, port, Duration.ofSeconds(2))) {
            return InfoParser.parse(j.clusterInfo()).getOrDefault("cluster_state", "?");
        } catch (JedisException e) {
            return "unreachable: " + e.getMessage();
        }
    }
}
