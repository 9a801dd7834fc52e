package io.smartsim.launch.batch;

import io.smartsim.launch.plan.AiInstall;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.spec.OrchestratorSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The batch model server's wrapper, run by real bash: a node without the --ai runtime at the planned paths fails at
 * once, naming the node and the missing path in its report (what the launcher shows), instead of a model server that
 * never gets ready.
 */
@Timeout(60)
class ModelServerWrapperTest {
    @TempDir
    Path dir;

    private ModelServerPlan modelServer(LaunchPlan plan) {
        return plan.modelServers().get(0);
    }

    private LaunchPlan plan(String java, Path aiDir, Path module) {
        AiInstall install = new AiInstall(java, aiDir + "/*", aiDir.toString(), List.of("ONNX"), Optional.of(module));
        return Planner.plan("demo", dir.resolve("exp"), OrchestratorSpec.builder().auth(false)
                        .ai(AiSpec.of(List.of("onnx"))).build(),
                new Placement(List.of(new Placement.Node("n1", List.of("127.0.0.1")))), Optional.empty(),
                Optional.of(install));
    }

    /** Runs the wrapper with bash; its exit status. */
    private int run(LaunchPlan plan) throws Exception {
        ModelServerPlan m = modelServer(plan);
        Files.createDirectories(m.workDir());
        Path script = dir.resolve("model-server.sh");
        Files.writeString(script, BatchModelServers.wrapper(plan, m, new BatchModelServers.Words("n1", "1", "0",
                "a test", "bash"), ""));
        Process p = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("console").toFile()).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    @Test
    void aNodeWithoutTheRuntimesJavaOrModuleFailsAtOnceNamingTheNodeAndThePath() throws Exception {
        Path ai = Files.createDirectories(dir.resolve("ai"));
        Path module = Files.write(ai.resolve(AiInstall.MODULE_FILE), new byte[] {0});
        LaunchPlan noJava = plan(dir.resolve("no/such/java").toString(), ai, module);
        assertThat(run(noJava)).isEqualTo(3);
        assertThat(Files.readString(BatchModelServers.reportPath(modelServer(noJava))))
                .startsWith("error=node n1 has no " + dir.resolve("no/such/java") + ": the --ai runtime")
                .contains("must be at the same path on every node");

        LaunchPlan noModule = plan("/bin/true", ai, ai.resolve("elsewhere.so"));
        assertThat(run(noModule)).isEqualTo(3);
        assertThat(Files.readString(BatchModelServers.reportPath(modelServer(noModule))))
                .startsWith("error=node n1 has no " + ai.resolve("elsewhere.so"));
    }

    @Test
    void aNodeWithTheRuntimeGoesOnToReportAndRunTheModelServer() throws Exception {
        Path ai = Files.createDirectories(dir.resolve("ai"));
        Path module = Files.write(ai.resolve(AiInstall.MODULE_FILE), new byte[] {0});
        // "java" is /bin/true here: the wrapper execs it, and it exits 0 at once
        LaunchPlan plan = plan("/bin/true", ai, module);
        assertThat(run(plan)).isZero();
        assertThat(Files.readString(BatchModelServers.reportPath(modelServer(plan)))).startsWith("node=n1\n")
                .doesNotContain("error=");
    }
}
