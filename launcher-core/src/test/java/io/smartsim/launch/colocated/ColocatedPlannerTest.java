package io.smartsim.launch.colocated;

import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.spec.Backend;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.ColocatedDb;
import io.smartsim.launch.spec.ColocatedModel;
import io.smartsim.launch.spec.EnsembleSpec;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.entity.ModelPlanner;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.testing.Golden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The colocated database's spec checks, plan, config and wrapper: pure, the rendered files as golden files. */
class ColocatedPlannerTest {
    private static final Path EXP = Path.of("/exp");

    private static ModelPlan plan(ColocatedDb db) {
        return ModelPlanner.plan(EXP, ModelSpec.builder("sim", "/bin/sim").colocatedDb(db).build());
    }

    @Test
    void tcpWrapperAndConfigAreGolden() {
        ModelPlan p = plan(ColocatedDb.tcp(6780).cpus(2).interfaces("ib0").config("maxmemory 1gb"));
        ColocatedPlan c = p.colocated().orElseThrow();
        Golden.assertMatches(ColocatedPlanner.wrapperText(c), "colocated-tcp.sh");
        Golden.assertMatches(ColocatedPlanner.configText(c), "colocated-tcp.conf");
        assertThat(c.config()).isEqualTo(Path.of("/exp/sim/colocated.conf"));
        assertThat(p.env()).containsEntry("SSDB", "127.0.0.1:6780").containsEntry("SR_DB_TYPE", "Standalone");
        assertThat(p.rankArgv()).containsExactly("bash", "/exp/sim/colocated.sh", "/bin/sim");
        assertThat(ColocatedPlanner.wrapperText(c)).contains("\npin=0-1\n").contains("interfaces=(ib0)");
    }

    @Test
    void socketWrapperAndConfigAreGolden() {
        ModelPlan p = plan(ColocatedDb.unixSocket("/tmp/ssdb.sock", 0755).pinning("1"));
        ColocatedPlan c = p.colocated().orElseThrow();
        Golden.assertMatches(ColocatedPlanner.wrapperText(c), "colocated-socket.sh");
        Golden.assertMatches(ColocatedPlanner.configText(c), "colocated-socket.conf");
        assertThat(ColocatedPlanner.configText(c)).contains("port 0\n").contains("unixsocket \"/tmp/ssdb.sock\"\n")
                .contains("unixsocketperm 755\n").doesNotContain("cluster-enabled");
        assertThat(p.env()).containsEntry("SSDB", "unix:///tmp/ssdb.sock");
        assertThat(ColocatedPlanner.wrapperText(c)).contains("\npin=1\n");
    }

    /**
     * Models and scripts: the wrapper starts the node's model server before the database (pinned like it), the
     * database loads the module with the model server's socket, and each model and script is stored before any
     * application starts. The runtime is a fixed value here; a real plan finds it with AiInstall.locate().
     */
    @Test
    void aWrapperWithModelsAndScriptsIsGolden() {
        ColocatedDb db = ColocatedDb.unixSocket("/tmp/ssdb.sock", 0755)
                .withModel(ColocatedModel.of("mlp", "onnx", "cpu", "/models/mlp.onnx").batching(8, 2, 50))
                .withModel(ColocatedModel.of("graph", "TF", "GPU:1", "/models/g.pb").nodes(List.of("x"),
                        List.of("y", "z")))
                .withScript("pre", "CPU", "/models/pre.py");
        ColocatedPlan c = ColocatedPlanner.plan("sim", EXP.resolve("sim"), db, Optional.of(new ColocatedPlan.Ai(
                "/usr/bin/java", "/opt/ai/*", Path.of("/opt/ai/smartsim-ai.so"), db.aiBackends())));
        Golden.assertMatches(ColocatedPlanner.wrapperText(c), "colocated-models.sh");
        assertThat(db.aiBackends()).containsExactly("TF", "TORCH", "ONNX");
        assertThat(db.models().get(0).command()).containsExactly("AI.MODELSTORE", "mlp", "ONNX", "CPU", "BATCHSIZE",
                "8", "MINBATCHSIZE", "2", "MINBATCHTIMEOUT", "50", "BLOB");
        assertThat(db.models().get(1).command()).containsExactly("AI.MODELSTORE", "graph", "TF", "GPU:1", "INPUTS",
                "1", "x", "OUTPUTS", "2", "y", "z", "BLOB");
        assertThat(c.ai().orElseThrow().needed()).containsExactly("/usr/bin/java", "/opt/ai", "/opt/ai/smartsim-ai.so");
        // without models, nothing of model serving runs
        assertThat(ColocatedPlanner.wrapperText(plan(ColocatedDb.tcp(6780)).colocated().orElseThrow()))
                .contains("\nbackends=''\n");
    }

    @Test
    void modelsAndScriptsAreCheckedNamingTheField() {
        assertThatThrownBy(() -> ColocatedModel.of("m", "caffe", "CPU", "/m"))
                .hasMessageContaining("colocatedDb.models (m).backend").hasMessageContaining("TF, TORCH, ONNX, TFLITE");
        assertThatThrownBy(() -> ColocatedModel.of("m", "ONNX", "TPU", "/m"))
                .hasMessageContaining("colocatedDb.models (m).device").hasMessageContaining("CPU, GPU or GPU:n");
        assertThatThrownBy(() -> ColocatedModel.of("m", "ONNX", "CPU", "/m").batching(0, 2, 0))
                .hasMessageContaining("minBatchSize needs a batchSize");
        assertThatThrownBy(() -> ColocatedModel.of("m", "ONNX", "CPU", "/m").nodes(List.of("x"), List.of()))
                .hasMessageContaining("colocatedDb.models (m).inputs").hasMessageContaining("ONNX model takes none");
        assertThatThrownBy(() -> ColocatedModel.of(" m", "ONNX", "CPU", "/m"))
                .hasMessageContaining("colocatedDb.models").hasMessageContaining("not a key name");
        assertThatThrownBy(() -> ColocatedDb.tcp(6780).withModel("m", "ONNX", "CPU", "/m").withScript("m", "CPU", "/s"))
                .hasMessageContaining("two models or scripts are named 'm'");
        assertThatThrownBy(() -> plan(ColocatedDb.tcp(6780).withModel("m", "ONNX", "CPU", "/nowhere/m.onnx")))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("colocatedDb.models (m).file").hasMessageContaining("/nowhere/m.onnx is not a "
                        + "readable file");
    }

    @Test
    void aModelFileIsTakenFromTheSpecsBaseDirectory(@TempDir Path base) throws Exception {
        java.nio.file.Files.write(base.resolve("m.onnx"), new byte[] {1});
        ColocatedDb db = ColocatedDb.tcp(6780).withModel("m", "ONNX", "CPU", "m.onnx");
        assertThat(db.resolvedAgainst(base).models().get(0).file()).isEqualTo(base.resolve("m.onnx"));
        assertThat(ColocatedDb.tcp(6780).withModel("m", "ONNX", "CPU", "/abs/m.onnx").resolvedAgainst(base).models()
                .get(0).file()).isEqualTo(Path.of("/abs/m.onnx"));
    }

    @Test
    void pinningDefaultsToTheFirstCpusAndAnEmptyListPinsNothing() {
        assertThat(ColocatedDb.tcp(1).cpuList()).isEqualTo("0");
        assertThat(ColocatedDb.tcp(1).cpus(3).cpuList()).isEqualTo("0-2");
        assertThat(ColocatedDb.tcp(1).cpus(3).noPinning().cpuList()).isEmpty();
        assertThat(ColocatedPlanner.wrapperText(plan(ColocatedDb.tcp(6780).noPinning()).colocated().orElseThrow()))
                .contains("\npin=''\n");
    }

    @Test
    void keydbGetsItsOwnThreadOption() {
        String conf = ColocatedPlanner.configText(plan(ColocatedDb.tcp(6780).cpus(2).backend(Backend.KEYDB))
                .colocated().orElseThrow());
        assertThat(conf).contains("server-threads 2\n").contains("enable-motd no\n").doesNotContain("io-threads");
        assertThat(ColocatedPlanner.wrapperText(plan(ColocatedDb.tcp(6780).backend(Backend.KEYDB)).colocated()
                .orElseThrow())).contains("server=keydb-server\n");
    }

    @Test
    void everyEnsembleMemberGetsItsOwnPortOrSocket() {
        List<ModelPlan> tcp = ModelPlanner.plan(EXP, EnsembleSpec.builder("sweep", "/bin/sim")
                .colocatedDb(ColocatedDb.tcp(6780)).param("a", "1", "2").build());
        assertThat(tcp).extracting(p -> p.env().get("SSDB")).containsExactly("127.0.0.1:6780", "127.0.0.1:6781");
        List<ModelPlan> sock = ModelPlanner.plan(EXP, EnsembleSpec.builder("sweep", "/bin/sim")
                .colocatedDb(ColocatedDb.unixSocket("/tmp/ssdb.sock", 0700)).param("a", "1", "2").build());
        assertThat(sock).extracting(p -> p.env().get("SSDB"))
                .containsExactly("unix:///tmp/ssdb-0.sock", "unix:///tmp/ssdb-1.sock");
        assertThat(sock.get(1).colocated().orElseThrow().dir()).isEqualTo(Path.of("/exp/sweep/sweep_1"));
    }

    @Test
    void theModelsOwnEnvWinsOverTheDatabaseVariables() {
        ModelPlan p = ModelPlanner.plan(EXP, ModelSpec.builder("sim", "/bin/sim").env("SSDB", "elsewhere:1")
                .colocatedDb(ColocatedDb.tcp(6780)).build());
        assertThat(p.env()).containsEntry("SSDB", "elsewhere:1");
    }

    @Test
    void socketPathsAreCheckedForLengthCharactersAndDirectory(@TempDir Path tmp) {
        String longPath = "/tmp/" + "a".repeat(100) + ".sock";
        assertThatThrownBy(() -> ColocatedDb.unixSocket(longPath, 0755))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("colocatedDb.unixSocket").hasMessageContaining("110 bytes")
                .hasMessageContaining("at most 107");
        assertThatThrownBy(() -> ColocatedDb.unixSocket("/tmp/my db.sock", 0755))
                .hasMessageContaining("colocatedDb.unixSocket").hasMessageContaining("characters");
        assertThatThrownBy(() -> ColocatedDb.unixSocket("ssdb.sock", 0755))
                .hasMessageContaining("colocatedDb.unixSocket").hasMessageContaining("not an absolute path");
        assertThatThrownBy(() -> plan(ColocatedDb.unixSocket(tmp.resolve("missing/ssdb.sock").toString(), 0755)))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("colocatedDb.unixSocket").hasMessageContaining("does not exist");
        // 107 bytes is the limit itself: accepted
        String limit = "/tmp/" + "b".repeat(ColocatedDb.MAX_SOCKET_PATH - "/tmp/".length());
        assertThat(ColocatedDb.unixSocket(limit, 0755).socket().orElseThrow().toString()).hasSize(107);
        // an ensemble member's derived path is checked too
        String nearLimit = "/tmp/" + "c".repeat(ColocatedDb.MAX_SOCKET_PATH - "/tmp/".length() - 5) + ".sock";
        assertThatThrownBy(() -> ModelPlanner.plan(EXP, EnsembleSpec.builder("e", "/bin/sim")
                .colocatedDb(ColocatedDb.unixSocket(nearLimit, 0755)).param("a", "1").build()))
                .hasMessageContaining("colocatedDb.unixSocket").hasMessageContaining("109 bytes");
    }

    @Test
    void theManifestKeepsTheDatabaseAndRendersTheFilesAgain() throws Exception {
        ModelPlan p = plan(ColocatedDb.unixSocket("/tmp/ssdb.sock", 0750).cpus(2).pinning("1")
                .backend(Backend.KEYDB).config("maxmemory 1gb"));
        var mapper = io.smartsim.launch.spec.Json.mapper();
        String json = mapper.writeValueAsString(p);
        assertThat(json).doesNotContain("#!/bin/bash").doesNotContain("protected-mode");
        ModelPlan back = mapper.readValue(json, ModelPlan.class);
        assertThat(back).isEqualTo(p);
        assertThat(ColocatedPlanner.wrapperText(back.colocated().orElseThrow()))
                .isEqualTo(ColocatedPlanner.wrapperText(p.colocated().orElseThrow()));
    }

    @Test
    void badFieldsAreNamedWithTheFix() {
        assertThatThrownBy(() -> ColocatedDb.tcp(0)).hasMessageContaining("colocatedDb.port");
        assertThatThrownBy(() -> ColocatedDb.unixSocket("/tmp/s.sock", 01000))
                .hasMessageContaining("colocatedDb.socketPermissions");
        assertThatThrownBy(() -> ColocatedDb.unixSocket("/tmp/s.sock", 0055))
                .hasMessageContaining("colocatedDb.socketPermissions").hasMessageContaining("owner");
        assertThatThrownBy(() -> ColocatedDb.tcp(6780).cpus(0)).hasMessageContaining("colocatedDb.cpus");
        assertThatThrownBy(() -> ColocatedDb.tcp(6780).pinning("0-a")).hasMessageContaining("colocatedDb.pinning");
        assertThatThrownBy(() -> ColocatedDb.unixSocket("/tmp/s.sock", 0755).interfaces("ib0"))
                .hasMessageContaining("colocatedDb.interfaces");
        assertThatThrownBy(() -> ColocatedDb.tcp(6780).config("port 7000"))
                .hasMessageContaining("colocatedDb.config").hasMessageContaining("sets port");
        assertThatThrownBy(() -> ColocatedDb.tcp(6780).config("a\nb")).hasMessageContaining("colocatedDb.config");
    }
}
