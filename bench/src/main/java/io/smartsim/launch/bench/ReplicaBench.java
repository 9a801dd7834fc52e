package io.smartsim.launch.bench;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.HealthReport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Section "replicas": what {@code --replicas 1} costs at launch (3 masters with and without a replica each, local
 * launcher, time to healthy from the API call: every replica attached with its link up), and how long a killed
 * master's slots go unserved (SIGKILL until every slot has a reachable master again and the cluster says ok).
 */
final class ReplicaBench {
    static final int PORT = 21100;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final Path scratch;
    private final Report report;

    ReplicaBench(Path scratch, Report report) {
        this.scratch = scratch;
        this.report = report;
    }

    void run(int runs) throws Exception {
        report.heading("Replicas: launch cost and failover, local launcher");
        List<Double> plain = new ArrayList<>();
        List<Double> withReplica = new ArrayList<>();
        List<Double> failover = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            plain.add(launch(0, i, false));
            double[] r = {launch(1, i, true)};
            withReplica.add(r[0]);
            failover.add(lastFailover);
            System.out.printf(Locale.ROOT, "  run %d: 3 masters %.3f s, 3 masters x 1 replica %.3f s, failover %.2f s%n",
                    i, plain.get(i), r[0], lastFailover);
        }
        report.table(List.of("orchestrator", "API: healthy", "SIGKILL of a master until every slot is served again"),
                List.of(List.of("3 masters", Stats.of(plain).seconds(), "never (its slots stay lost)"),
                        List.of("3 masters x 1 replica (6 processes)", Stats.of(withReplica).seconds(),
                                Stats.of(failover).seconds())));
        report.note("Healthy with replicas = every replica attached to its master (CLUSTER NODES on every node) with "
                + "master_link_status:up. Failover: cluster-node-timeout 5000 ms as planned, so about 5 s before the "
                + "others count the master failed, then the replica's election.");
    }

    private double lastFailover = Double.NaN;

    private double launch(int replicas, int run, boolean killAMaster) throws Exception {
        Path dir = scratch.resolve("replicas-" + replicas + "-" + run);
        long t0 = System.nanoTime();
        try (Experiment exp = Experiment.create("bench", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).replicas(replicas)
                    .port(PORT).startupTimeout(TIMEOUT).build());
            exp.start(db);
            double up = (System.nanoTime() - t0) / 1e9;
            if (killAMaster) {
                ProcessHandle master = ProcessHandle.of(db.shards().get(0).pid().orElseThrow()).orElseThrow();
                master.destroyForcibly();
                master.onExit().get(5, TimeUnit.SECONDS);
                long k0 = System.nanoTime();
                long until = k0 + TIMEOUT.toNanos();
                HealthReport h = db.health();
                while (!h.serving() && System.nanoTime() < until) {
                    Thread.sleep(20);
                    h = db.health();
                }
                if (!h.serving()) {
                    throw new IllegalStateException("no failover within " + TIMEOUT.toSeconds() + " s: " + h.problems());
                }
                lastFailover = (System.nanoTime() - k0) / 1e9;
            }
            exp.stop(db);
            return up;
        }
    }
}
