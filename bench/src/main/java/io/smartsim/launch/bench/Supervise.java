package io.smartsim.launch.bench;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.HealthReport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * The process whose footprint section 5 measures: an application that starts an orchestrator through the API and
 * then supervises it, checking its health every few seconds, for a bounded time; then stops it and exits.
 * Prints {@code READY} once healthy and {@code DONE} at the end. Arguments: dir port shards seconds pollSeconds.
 */
public final class Supervise {
    private Supervise() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        int shards = Integer.parseInt(args[2]);
        long seconds = Long.parseLong(args[3]);
        long poll = Long.parseLong(args[4]);
        try (Experiment exp = Experiment.create("bench-footprint", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(shards).port(port)
                    .startupTimeout(Duration.ofSeconds(120)).build());
            long t0 = System.nanoTime();
            exp.start(db);
            System.out.printf(Locale.ROOT, "READY %.3f%n", (System.nanoTime() - t0) / 1e9);
            System.out.flush();
            long until = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
            int checks = 0;
            int unhealthy = 0;
            while (System.nanoTime() < until) {
                Thread.sleep(Math.min(poll * 1000, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
                HealthReport h = db.health();
                checks++;
                if (!h.healthy()) {
                    unhealthy++;
                }
            }
            System.out.println("DONE checks=" + checks + " unhealthy=" + unhealthy);
            System.out.flush();
        }
    }
}
