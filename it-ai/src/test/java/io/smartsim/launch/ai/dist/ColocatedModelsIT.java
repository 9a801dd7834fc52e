package io.smartsim.launch.ai.dist;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Model;
import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.spec.ColocatedDb;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spec.RunSettings;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.testing.ColocatedChecks;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static io.smartsim.launch.testing.ColocatedChecks.lines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

/**
 * A colocated database with models stored before the application starts (issue 17), on the local launcher with real
 * parts: redis-server loading the smartsim-ai module, the node's model server from ai-dist/target/ai, and an
 * application that knows only SSDB and runs the model with redis-cli, as a SmartRedis client would by name.
 */
@Timeout(180)
class ColocatedModelsIT {
    private static final Duration WAIT = Duration.ofSeconds(120);
    /** Two rows of input for the linear model Y = X W + B ({@link AiOrchestratorIT#MODEL}). */
    private static final float[] X = {1, 2, 3, 4, -1, 0.5f, 0, 2};
    /**
     * A rank: stores its input under its own key, runs the preloaded model "mlp" on it, and prints the output's
     * values on one line with its rank; waits for the file $1 (at most 120 s) before it exits, if given.
     */
    private static final String APP = """
            #!/bin/bash
            set -eu
            rank="${SMARTSIM_RANK:-0}"
            cli=(redis-cli -s "${SSDB#unix://}")
            "${cli[@]}" AI.TENSORSET "x$rank" FLOAT 2 4 VALUES %s >/dev/null
            run=$("${cli[@]}" AI.MODELEXECUTE mlp INPUTS 1 "x$rank" OUTPUTS 1 "y$rank")
            [ "$run" = OK ] || { echo "rank $rank: AI.MODELEXECUTE said $run" >&2; exit 1; }
            echo "rank $rank y $("${cli[@]}" AI.TENSORGET "y$rank" VALUES | tr '\\n' ' ')"
            if [ -n "${1:-}" ]; then
                end=$((SECONDS + 120))
                while [ ! -e "$1" ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
            fi
            """.formatted(String.join(" ", java.util.stream.IntStream.range(0, X.length)
            .mapToObj(i -> Float.toString(X[i])).toList()));

    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir (the model server too), ports
    @TempDir
    Path dir;

    private Path app() throws Exception {
        Path app = dir.resolve("app.sh");
        Files.writeString(app, APP);
        Files.setPosixFilePermissions(app, PosixFilePermissions.fromString("rwxr-xr-x"));
        return app;
    }

    @Test
    void twoRanksRunTheModelTheirNodesDatabaseStoredBeforeTheyStartThenNothingIsLeft() throws Exception {
        Path model = dir.resolve("mlp.onnx");
        Files.write(model, AiOrchestratorIT.MODEL);
        Path socket = dir.resolve("ssdb.sock");
        Path go = dir.resolve("go");
        try (Experiment exp = Experiment.create("colo", dir.resolve("exp"))) {
            Model sim = exp.createModel(ModelSpec.builder("sim", app().toString()).args(go.toString())
                    .run(RunSettings.builder().tasks(2).build())
                    .colocatedDb(ColocatedDb.unixSocket(socket.toString(), 0700).noPinning()
                            .withModel("mlp", "onnx", "cpu", model.toString())).build());
            ColocatedPlan plan = sim.plan().colocated().orElseThrow();
            exp.start(sim);

            ColocatedChecks.await(() -> lines(sim.stdout()).filter(l -> l.contains(" y ")).count() == 2, WAIT,
                    "both ranks ran the model; their output: " + lines(sim.stdout()).toList());
            float[] want = AiOrchestratorIT.expected(X, 2);
            for (String line : lines(sim.stdout()).toList()) {
                List<Float> y = java.util.Arrays.stream(line.substring(line.indexOf(" y ") + 3).trim().split("\\s+"))
                        .map(Float::parseFloat).toList();
                assertThat(y).as(line).hasSize(want.length);
                for (int j = 0; j < want.length; j++) {
                    assertThat(y.get(j)).isCloseTo(want[j], offset(1e-5f));
                }
            }
            assertThat(Processes.serversUnder(dir)).as("one database for the node's 2 ranks").hasSize(1);
            assertThat(Processes.under(dir).stream().filter(p -> p.cmdline().contains(ModelServerPlan.MAIN)))
                    .as("one model server beside it").hasSize(1);
            assertThat(ColocatedChecks.redisCli("-s", socket.toString(), "AI.MODELGET", "mlp", "META"))
                    .as("the model the spec named, as stored").contains("ONNX", "CPU");

            Files.createFile(go);
            assertThat(exp.waitFor(WAIT, sim)).isTrue();
            assertThat(sim.status()).as("%s", sim.detail()).isEqualTo(EntityStatus.COMPLETED);
            ColocatedChecks.assertNothingLeft(dir, plan);
            String node = ColocatedChecks.hostname();
            assertThat(Files.readString(plan.modelServerOutput(node))).startsWith(ModelServerPlan.READY);
        }
    }

    @Test
    void aModelThatDoesNotLoadStopsTheApplicationNamingTheModelAndNothingIsLeft() throws Exception {
        Path bad = dir.resolve("bad.onnx");
        Files.writeString(bad, "not an ONNX model");
        Path ran = dir.resolve("ran");
        try (Experiment exp = Experiment.create("colo", dir.resolve("exp"))) {
            Model sim = exp.createModel(ModelSpec.builder("sim", "/bin/touch").args(ran.toString())
                    .colocatedDb(ColocatedDb.unixSocket(dir.resolve("b.sock").toString(), 0700).noPinning()
                            .withModel("bad", "ONNX", "CPU", bad.toString())).build());
            exp.start(sim);
            assertThat(exp.waitFor(WAIT, sim)).isTrue();
            assertThat(sim.status()).isEqualTo(EntityStatus.FAILED);
            assertThat(sim.detail().orElseThrow()).contains("on node " + ColocatedChecks.hostname())
                    .contains("model bad did not load from " + bad);
            assertThat(ran).as("the application never started").doesNotExist();
            ColocatedChecks.assertNothingLeft(dir, sim.plan().colocated().orElseThrow());
        }
    }

    /**
     * A job killed whole but for its database and model server (the keeper too, kill -9): {@code db cleanup}'s
     * colocated part stops both and removes the model server's socket, pid file and temporary directory.
     */
    @Test
    void cleanupStopsTheModelServerAKilledKeeperLeftBesideItsDatabase() throws Exception {
        Path model = dir.resolve("mlp.onnx");
        Files.write(model, AiOrchestratorIT.MODEL);
        Path go = dir.resolve("go");
        try (Experiment exp = Experiment.create("colo", dir.resolve("exp"))) {
            Model sim = exp.createModel(ModelSpec.builder("sim", app().toString()).args(go.toString())
                    .colocatedDb(ColocatedDb.unixSocket(dir.resolve("c.sock").toString(), 0700).noPinning()
                            .withModel("mlp", "ONNX", "CPU", model.toString())).build());
            ColocatedPlan plan = sim.plan().colocated().orElseThrow();
            exp.start(sim);
            ColocatedChecks.await(() -> lines(sim.stdout()).anyMatch(l -> l.contains(" y ")), WAIT, "the rank ran");
            String node = ColocatedChecks.hostname();
            assertThat(plan.modelServerSocket(node)).exists();
            java.util.function.Predicate<Processes.Proc> kept = p -> p.server()
                    || p.cmdline().contains(ModelServerPlan.MAIN);
            for (Processes.Proc p : Processes.under(dir)) {
                if (!kept.test(p)) {
                    ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
            assertThat(exp.waitFor(WAIT, sim)).isTrue();
            ColocatedChecks.await(() -> Processes.under(dir).stream().allMatch(kept), WAIT, "all but the two gone");
            assertThat(Processes.under(dir)).as("the database and its model server, left by the killed keeper")
                    .hasSize(2);

            assertThat(exp.cleanupColocated()).singleElement().asString().contains("model 'sim' node " + node)
                    .contains("stopped server pid").contains("and its model server pid");
            ColocatedChecks.assertNothingLeft(dir, plan);
        }
    }
}
