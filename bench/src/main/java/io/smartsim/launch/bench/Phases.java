package io.smartsim.launch.bench;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Where the time of one launch goes: the API's own progress lines, each stamped with the time since the call.
 * {@code java -cp bench/target/smartsim-launch-bench.jar io.smartsim.launch.bench.Phases SHARDS [PORT]}
 */
public final class Phases {
    private Phases() {
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        int port = args.length > 1 ? Integer.parseInt(args[1]) : LocalLaunchBench.API_PORT;
        Path scratch = Files.createTempDirectory("smartsim-bench-phases-");
        try {
            long[] t0 = {0};
            // Warm the JVM first: one standalone launch, not shown.
            try (Experiment warm = Experiment.create("warm", scratch.resolve("warm"))) {
                Orchestrator w = warm.createOrchestrator(LocalLaunchBench.spec(1, port));
                warm.start(w);
                warm.stop(w);
            }
            t0[0] = System.nanoTime();
            try (Experiment exp = Experiment.create("phases", scratch.resolve("exp"), line -> System.out.printf(
                    Locale.ROOT, "[%7.3f s] %s%n", (System.nanoTime() - t0[0]) / 1e9, line))) {
                Orchestrator db = exp.createOrchestrator(LocalLaunchBench.spec(n, port));
                System.out.printf(Locale.ROOT, "[%7.3f s] planned%n", (System.nanoTime() - t0[0]) / 1e9);
                exp.start(db);
                System.out.printf(Locale.ROOT, "[%7.3f s] start returned%n", (System.nanoTime() - t0[0]) / 1e9);
                long s0 = System.nanoTime();
                exp.stop(db);
                System.out.printf(Locale.ROOT, "stop took %.3f s%n", (System.nanoTime() - s0) / 1e9);
            }
        } finally {
            Leftovers.kill(scratch);
        }
        System.exit(0);
    }
}
