package io.smartsim.launch.local;

import io.smartsim.launch.status.OrchestratorState;
import io.smartsim.launch.Ensemble;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.Model;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.EnsembleSpec;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.status.EntitySummary;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spec.RunSettings;
import io.smartsim.launch.spec.Strategy;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Pids;
import io.smartsim.launch.testing.Processes;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisCluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Models and ensembles after a real orchestrator: ordering, SSDB, statuses, stop, and nothing left behind. */
class ExperimentModelsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;
    private Path writer;
    private final List<Integer> usedPorts = new ArrayList<>();

    private int ports(int count) {
        int base = leftovers.freeBase(count);
        usedPorts.addAll(Processes.range(base, count));
        return base;
    }

    @BeforeEach
    void script() throws IOException {
        writer = dir.resolve("writer.sh");
        try (var in = getClass().getResourceAsStream("/writer.sh")) { // from the test-jar too (it-local runs this)
            Files.copy(java.util.Objects.requireNonNull(in, "writer.sh on the test class path"), writer);
        }
        Files.setPosixFilePermissions(writer, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void aModelAndAnEnsembleOfFourWriteThroughSsdbOfAThreeShardCluster() {
        int base = ports(3);
        try (Experiment exp = Experiment.create("models", dir.resolve("exp"))) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().id("db").instancesPerNode(3)
                    .port(base).build());
            Model sim = exp.createModel(ModelSpec.builder("sim", writer.toString()).args("sim").build());
            Ensemble sweep = exp.createEnsemble(EnsembleSpec.builder("sweep", writer.toString())
                    .args(";alpha;-;beta;").param("alpha", "a", "b").param("beta", "x", "y")
                    .strategy(Strategy.ALL_PERM).build());

            exp.start(true, db, sim, sweep);

            assertThat(db.state()).as("start(block) waits for models, not orchestrators")
                    .isEqualTo(OrchestratorState.RUNNING);
            assertThat(exp.summary()).extracting(EntitySummary::name, EntitySummary::type, EntitySummary::status)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple("db", "Orchestrator", "RUNNING"),
                            org.assertj.core.groups.Tuple.tuple("sim", "Model", "COMPLETED"),
                            org.assertj.core.groups.Tuple.tuple("sweep_0", "Ensemble member", "COMPLETED"),
                            org.assertj.core.groups.Tuple.tuple("sweep_1", "Ensemble member", "COMPLETED"),
                            org.assertj.core.groups.Tuple.tuple("sweep_2", "Ensemble member", "COMPLETED"),
                            org.assertj.core.groups.Tuple.tuple("sweep_3", "Ensemble member", "COMPLETED"));
            assertThat(exp.models()).allSatisfy(m -> assertThat(m.exitCode()).contains(0));
            assertThat(exp.finished(sweep)).isTrue();
            assertThat(exp.summaryTable()).startsWith("NAME     TYPE             ID").contains("sweep_3  Ensemble member");

            // Every model found the database through SSDB alone, each under its own key prefix.
            try (JedisCluster jc = new JedisCluster(Set.of(new HostAndPort("127.0.0.1", base)),
                    LocalOrchestratorIT.login(db))) {
                for (String prefix : List.of("sim", "a-x", "a-y", "b-x", "b-y")) {
                    assertThat(jc.get(prefix + ":key")).isEqualTo("value-" + prefix);
                }
            }
            assertThat(sim.stdout()).hasContent("ok sim SSDB=" + db.ssdb() + " SR_DB_TYPE=Clustered");
            assertThat(sim.stdout()).startsWith(dir.resolve("exp").resolve("sim"));
            assertThat(sweep.members().get(3).stdout()).hasContent("ok b-y SSDB=" + db.ssdb()
                    + " SR_DB_TYPE=Clustered");
            assertThat(sweep.members().get(3).stdout().getParent()).isEqualTo(dir.resolve("exp/sweep/sweep_3"));
        }
    }

    @Test
    void aSecondOrchestratorIsSsdbWithItsIdAndAFailingModelReportsItsExitCode() throws IOException {
        int a = ports(1);
        int b = ports(1);
        try (Experiment exp = Experiment.create("two", dir.resolve("exp"))) {
            Orchestrator first = exp.createOrchestrator(OrchestratorSpec.builder().id("first").port(a).build());
            Orchestrator second = exp.createOrchestrator(OrchestratorSpec.builder().id("second").port(b).build());
            Model useSecond = exp.createModel(ModelSpec.builder("use_second", writer.toString())
                    .args("p", "second").build());
            Model fails = exp.createModel(ModelSpec.builder("fails", "sh").args("-c", "echo boom >&2; exit 3")
                    .build());
            exp.start(true, first, second, useSecond, fails);

            String pa = first.plan().auth().orElseThrow().password();
            String pb = second.plan().auth().orElseThrow().password();
            assertThat(pa).isNotEqualTo(pb);
            assertThat(exp.dbEnv()).containsExactly(
                    java.util.Map.entry("SSDB", "127.0.0.1:" + a), java.util.Map.entry("SR_DB_TYPE", "Standalone"),
                    java.util.Map.entry("SSDB_USER", "smartsim"), java.util.Map.entry("SSDB_PASSWORD", pa),
                    java.util.Map.entry("SSDB_second", "127.0.0.1:" + b),
                    java.util.Map.entry("SR_DB_TYPE_second", "Standalone"),
                    java.util.Map.entry("SSDB_USER_second", "smartsim"),
                    java.util.Map.entry("SSDB_PASSWORD_second", pb));
            assertThat(useSecond.status()).isEqualTo(EntityStatus.COMPLETED);
            assertThat(useSecond.stdout()).hasContent("ok p SSDB_second=127.0.0.1:" + b + " SR_DB_TYPE=Standalone");
            assertThat(fails.status()).isEqualTo(EntityStatus.FAILED);
            assertThat(fails.exitCode()).contains(3);
            assertThat(Files.readString(fails.stderr())).isEqualTo("boom\n");
        }
        assertThat(Processes.serversOn(usedPorts)).isEmpty();
    }

    @Test
    void stopCancelsARunningModelAndItsChildrenAndCloseStopsTheRest() throws Exception {
        Path pids = dir.resolve("pids");
        try (Experiment exp = Experiment.create("stop", dir.resolve("exp"))) {
            Model sleeper = exp.createModel(ModelSpec.builder("sleeper", "sh")
                    .args("-c", "sleep 300 & echo $! > " + pids + "; wait").build());
            Model other = exp.createModel(ModelSpec.builder("other", "sleep").args("300").build());
            exp.start(sleeper, other);
            assertThat(exp.waitFor(Duration.ofMillis(300), sleeper)).isFalse();
            assertThat(exp.poll()).extracting(EntitySummary::status).containsExactly("RUNNING", "RUNNING");
            long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!Files.exists(pids) || Files.readString(pids).isBlank()) {
                assertThat(System.nanoTime()).as("the model wrote its child's pid within 30 s").isLessThan(until);
                Thread.sleep(10);
            }
            long child = Long.parseLong(Files.readString(pids).strip());

            exp.stop(sleeper);
            assertThat(sleeper.status()).isEqualTo(EntityStatus.CANCELLED);
            assertThat(exp.finished(sleeper)).isTrue();
            // Stop waits for the model and its descendants to exit. The orphaned child may stay a zombie until
            // init reaps it: exited all the same.
            assertThat(Pids.running(child)).as("the model's child").isFalse();
            assertThat(other.status()).isEqualTo(EntityStatus.RUNNING);
            assertThatThrownBy(() -> exp.start(sleeper)).hasMessageContaining("already started");
            exp.close();
            assertThat(other.status()).isEqualTo(EntityStatus.CANCELLED);
            assertThat(Pids.running(other.launched().orElseThrow().pid().orElseThrow())).isFalse();
        }
    }

    @Test
    void whatTheLocalLauncherCannotHonourIsRefusedBeforeAnythingStarts() {
        int base = ports(1);
        try (Experiment exp = Experiment.create("refuse", dir.resolve("exp"))) {
            exp.createOrchestrator(OrchestratorSpec.builder().port(base).build());
            assertThatThrownBy(() -> exp.createModel(ModelSpec.builder("mpi", writer.toString())
                    .run(RunSettings.builder().nodes(2).build()).build()))
                    .isInstanceOf(InvalidSpecException.class)
                    .hasMessage("run.nodes: model 'mpi' asks for 2 nodes; the local launcher runs one process on this "
                            + "machine: remove it or choose the slurm launcher");
            assertThatThrownBy(() -> exp.createModel(ModelSpec.builder("typo", "./no-such.sh").baseDir(dir).build()))
                    .isInstanceOf(InvalidSpecException.class)
                    .hasMessage("exe: model 'typo': " + dir.resolve("no-such.sh") + " is not an executable file "
                            + "(check the path and chmod +x)");
            assertThatThrownBy(() -> exp.createModel(ModelSpec.builder("orchestrator", "true").build()))
                    .isInstanceOf(InvalidSpecException.class).hasMessageContaining("already has an entity named");
        }
        assertThat(Processes.serversOn(usedPorts)).isEmpty();
        assertThat(dir.resolve("exp")).doesNotExist();
    }
}
