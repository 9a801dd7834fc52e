package io.smartsim.launch.bench;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.util.Executables;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Section 3: the Slurm testbed (testbeds/slurm/up), 3 nodes x 1 shard: inside a running allocation (a holder job,
 * as a user's salloc) and as the orchestrator's own batch job. Skipped when there is no Slurm here.
 */
final class SlurmBench {
    static final int PORT = 19800;
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    private final Path scratch;
    private final Report report;
    private final List<String> jobs = new ArrayList<>();

    SlurmBench(Path scratch, Report report) {
        this.scratch = scratch;
        this.report = report;
    }

    void run(int runs) throws Exception {
        report.heading("3. Slurm testbed, 3 nodes x 1 shard, from the API call");
        if (Executables.onPath("sinfo").isEmpty()) {
            report.note("skipped: sinfo is not on PATH (no Slurm here; bring the testbed up with testbeds/slurm/up)");
            return;
        }
        Sh.Result nodes = Sh.run(List.of("sinfo", "-h", "-o", "%D %t"), Duration.ofSeconds(10));
        if (!nodes.ok()) {
            report.note("skipped: sinfo failed (is the testbed up? testbeds/slurm/up): " + nodes.out().trim());
            return;
        }
        try {
            List<Double> alloc = new ArrayList<>();
            List<Double> batch = new ArrayList<>();
            String holder = holder();
            for (int i = 0; i < runs; i++) {
                alloc.add(once(OrchestratorSpec.builder().launcher("slurm").nodes(3).instancesPerNode(1).port(PORT)
                        .startupTimeout(TIMEOUT).launcherOption("alloc", holder).build(), "alloc-" + i));
                batch.add(once(OrchestratorSpec.builder().launcher("slurm").nodes(3).instancesPerNode(1).port(PORT + 100)
                        .startupTimeout(TIMEOUT).launcherOption("batch", "true").build(), "batch-" + i));
                System.out.printf(Locale.ROOT, "  slurm run %d: alloc %.3f s, batch %.3f s%n", i, alloc.get(i),
                        batch.get(i));
            }
            report.table(List.of("mode", "healthy"), List.of(
                    List.of("alloc=<running holder job> (srun steps)", Stats.of(alloc).seconds()),
                    List.of("batch=true (own batch job, includes queueing)", Stats.of(batch).seconds())));
            report.note("Nodes: " + nodes.out().trim().replace('\n', ';') + ". All three testbed 'nodes' are this one "
                    + "machine (127.0.1.1-3), so this measures the launcher and Slurm's step/job start, not a network.");
        } finally {
            for (String j : jobs) {
                Sh.run(List.of("scancel", j), Duration.ofSeconds(10));
            }
        }
    }

    private double once(OrchestratorSpec spec, String tag) {
        long t0 = System.nanoTime();
        try (Experiment exp = Experiment.create("bench", scratch.resolve("slurm-" + tag))) {
            Orchestrator db = exp.createOrchestrator(spec);
            exp.start(db);
            double s = (System.nanoTime() - t0) / 1e9;
            String job = db.shards().get(0).handle().get("jobId");
            if (job != null && !jobs.contains(job) && "true".equals(spec.launcherOptions().get("batch"))) {
                jobs.add(job);
            }
            exp.stop(db);
            return s;
        }
    }

    /** A job holding 3 nodes, as a user's salloc would; returns its id once it runs. */
    private String holder() throws InterruptedException {
        Sh.Result r = Sh.run(List.of("sbatch", "--parsable", "-N3", "-J", "bench-holder", "--output=/dev/null",
                "--wrap", "sleep 900"), Duration.ofSeconds(30));
        if (!r.ok()) {
            throw new IllegalStateException("sbatch of the holder job failed: " + r.out());
        }
        String id = r.out().trim().split(";")[0];
        jobs.add(id);
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < until) {
            Sh.Result q = Sh.run(List.of("squeue", "-h", "-j", id, "-o", "%T"), Duration.ofSeconds(10));
            if (q.out().trim().equals("RUNNING")) {
                return id;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("holder job " + id + " did not start running within 60 s");
    }
}
