package io.smartsim.launch.plan;

import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.spec.Backend;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.testing.Golden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AiPlannerTest {
    private static final Path EXP = Path.of("/scratch/exp");
    /** A fixed install without the module file; real ones come from AiInstall.locate(). */
    static final AiInstall INSTALL = new AiInstall("/usr/lib/jvm/java-17/bin/java", "/opt/smartsim/ai/*",
            "/opt/smartsim/ai", List.of("ONNX"));

    private static LaunchPlan plan(OrchestratorSpec spec, Placement placement) {
        return Planner.plan("demo", EXP, spec, placement, spec.auth() ? Optional.of(PlannerTest.FIXED)
                : Optional.empty(), spec.ai().map(a -> INSTALL));
    }

    private static Placement oneHost(String... addrs) {
        return new Placement(List.of(new Placement.Node("localhost", List.of(addrs))));
    }

    private static OrchestratorSpec.Builder ai() {
        return OrchestratorSpec.builder().ai(AiSpec.of(List.of("onnx")));
    }

    /** Argv one word a line, so a golden diff shows which word changed. */
    private static String words(List<String> argv) {
        return String.join("\n", argv) + "\n";
    }

    @Test
    void withoutAiTheServerIsArgvZeroAndAiTakesNoPortBeyondTheShardsAndBusPorts() {
        LaunchPlan p = plan(OrchestratorSpec.builder().build(), oneHost("127.0.0.1"));
        assertThat(p.shards().get(0).argv().get(0)).isEqualTo("redis-server");
        assertThat(AiPlanner.ports(p.spec(), 6780)).containsExactly(6780);
        assertThat(AiPlanner.ports(ai().instancesPerNode(3).build(), 6780)).containsExactly(6780, 16780);
        assertThat(AiPlanner.ports(ai().build(), 6780)).containsExactly(6780);
    }

    @Test
    void aBackendThatIsNotInstalledIsRefusedNamingWhatIs() {
        assertThatThrownBy(() -> plan(ai().ai(AiSpec.of(List.of("onnx", "torch"))).build(), oneHost("127.0.0.1")))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessage("ai.backends: TORCH is not installed: the model-serving runtime from /opt/smartsim/ai has "
                        + "ONNX; choose from those, or add the backend's module jars (ai-torch and its runtime) there");
    }

    @Test
    void theInstallMustBeGivenExactlyWhenTheSpecAsksForAi() {
        assertThatThrownBy(() -> Planner.plan("demo", EXP, OrchestratorSpec.builder().auth(false).build(),
                oneHost("127.0.0.1"), Optional.empty(), Optional.of(INSTALL)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--ai is off");
    }

    @Test
    void locateTakesTheEnvironmentFirstThenBesideTheLauncherJarThenTheBuildTree(@TempDir Path tmp) throws Exception {
        Path beside = Files.createDirectories(tmp.resolve("cli/target/ai"));
        Path built = Files.createDirectories(tmp.resolve("ai-dist/target/ai"));
        Path env = Files.createDirectories(tmp.resolve("env"));
        Files.writeString(built.resolve("ai-server.jar"), "x");
        Files.writeString(env.resolve("ai-server.jar"), "x");
        Optional<Path> code = Optional.of(tmp.resolve("cli/target"));
        java.util.function.Function<List<Path>, List<String>> lister = jars -> jars.stream()
                .map(j -> j.getParent().getFileName().toString().toUpperCase()).distinct().toList();
        AiInstall fromBuild = AiInstall.locate(Optional.empty(), Optional.empty(), code, "java", lister);
        assertThat(fromBuild.classPath()).isEqualTo(built + "/*");
        assertThat(fromBuild.from()).isEqualTo(built.toString());
        Files.writeString(beside.resolve("ai-server.jar"), "x");
        assertThat(AiInstall.locate(Optional.empty(), Optional.empty(), code, "java", lister).classPath())
                .isEqualTo(beside + "/*");
        AiInstall fromEnv = AiInstall.locate(Optional.empty(), Optional.of(env.toString()), code, "java", lister);
        assertThat(fromEnv.from()).isEqualTo("SMARTSIM_AI_PATH=" + env);
        assertThat(fromEnv.backends()).containsExactly("ENV");
        assertThatThrownBy(() -> AiInstall.locate(Optional.empty(), Optional.of(tmp.resolve("none").toString()), code,
                "java", lister)).hasMessageContaining("SMARTSIM_AI_PATH=" + tmp.resolve("none") + " holds no jar");
        assertThatThrownBy(() -> AiInstall.locate(Optional.empty(), Optional.empty(), Optional.of(tmp.resolve("x")),
                "java", lister)).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("no model-serving runtime on this machine: SMARTSIM_AI_PATH is unset");
    }

    // --- the Redis module (issue 16): what every launcher plans ---

    /** As {@link #INSTALL}, with the module file laid out beside the jars. */
    static final AiInstall MODULE_INSTALL = new AiInstall("/usr/lib/jvm/java-17/bin/java", "/opt/smartsim/ai/*",
            "/opt/smartsim/ai", List.of("ONNX", "TORCH"), Optional.of(Path.of("/opt/smartsim/ai/smartsim-ai.so")));

    private static LaunchPlan modulePlan(OrchestratorSpec spec, Path exp, AiInstall install) {
        return Planner.plan("demo", exp, spec, oneHost("127.0.0.1"), spec.auth()
                ? Optional.of(PlannerTest.FIXED) : Optional.empty(), spec.ai().map(a -> install));
    }

    @Test
    void withTheModuleEachShardLoadsItOnItsOwnPortAndOneModelServerServesTheHost() {
        LaunchPlan p = modulePlan(ai().instancesPerNode(3).ai(AiSpec.of(List.of("onnx", "torch"))).build(), EXP,
                MODULE_INSTALL);
        ShardPlan s1 = p.shards().get(1);
        assertThat(p.shards()).extracting(ShardPlan::port).containsExactly(6780, 6781, 6782);
        assertThat(s1.config()).contains("port 6781\n", "loadmodule \"/opt/smartsim/ai/smartsim-ai.so\" SOCKET "
                + "\"/scratch/exp/orchestrator/ai/model-server-0.sock\" BACKENDS ONNX,TORCH\n")
                .doesNotContain("26781", "cluster-announce", "cluster-port");
        assertThat(s1.argv()).containsExactly("redis-server", "/scratch/exp/orchestrator/orchestrator_1/redis.conf");
        Golden.assertMatches(s1.config(), "ai-module-redis-cluster-shard1.conf");
        assertThat(p.modelServers()).hasSize(1);
        ModelServerPlan m = p.modelServers().get(0);
        assertThat(m.shards()).containsExactly(0, 1, 2);
        assertThat(m.socketDirPrivate()).isFalse();
        assertThat(m.console()).isEqualTo(Path.of("/scratch/exp/orchestrator/ai/model-server-0.out"));
        Golden.assertMatches(words(m.argv()), "ai-module-model-server.argv");
        // What a launcher on other hosts checks there (ssh preflight): the java, the AI directory, the module.
        assertThat(m.needed()).containsExactly(m.argv().get(0), "/opt/smartsim/ai", "/opt/smartsim/ai/smartsim-ai.so");
        assertThat(AiPlanner.ports(p, 6780)).containsExactly(6780, 16780);
        assertThat(PortSearch.firstTaken(p, (h, port) -> port == 26780)).as("no port P + 20000 any more").isEmpty();
    }

    @Test
    void aiThreadsReachTheModelServerAndTheDefaultLeavesTheChoiceToTheRuntimes() {
        LaunchPlan capped = modulePlan(ai().ai(new AiSpec(List.of("onnx", "torch"), "cpu", 3)).build(), EXP,
                MODULE_INSTALL);
        List<String> argv = capped.modelServers().get(0).argv();
        assertThat(argv.subList(argv.size() - 2, argv.size())).containsExactly("--intra-op-threads", "3");
        assertThat(modulePlan(ai().build(), EXP, MODULE_INSTALL).modelServers().get(0).argv())
                .doesNotContain("--intra-op-threads");
    }

    @Test
    void withTheModuleReplicasShareTheHostsModelServer() {
        LaunchPlan p = modulePlan(ai().instancesPerNode(3).replicas(1).build(), EXP, MODULE_INSTALL);
        assertThat(p.modelServers()).singleElement().satisfies(m -> assertThat(m.shards())
                .containsExactly(0, 1, 2, 3, 4, 5));
        assertThat(p.shards()).allSatisfy(s -> assertThat(s.config()).contains("SOCKET \"/scratch/exp/orchestrator/ai/"
                + "model-server-0.sock\""));
    }

    @Test
    void withTheModuleTlsAndAClusteredKeydbAreNotRefused() {
        LaunchPlan tls = modulePlan(ai().tls(true).build(), EXP, MODULE_INSTALL);
        assertThat(tls.shards().get(0).config()).contains("tls-port 6780\n", "loadmodule ");
        LaunchPlan keydb = modulePlan(ai().backend(Backend.KEYDB).instancesPerNode(3).build(), EXP, MODULE_INSTALL);
        assertThat(keydb.shards().get(0).config()).contains("loadmodule ").doesNotContain("cluster-announce");
    }

    @Test
    void aSocketPathTooLongForLinuxGoesToAPrivateDirectoryNamedAfterTheExperiment() {
        Path longExp = Path.of("/scratch/" + "very-long-directory-name/".repeat(4) + "exp");
        LaunchPlan p = modulePlan(ai().build(), longExp, MODULE_INSTALL);
        ModelServerPlan m = p.modelServers().get(0);
        assertThat(longExp.resolve("orchestrator/ai/model-server-0.sock").toString().length())
                .isGreaterThan(AiPlanner.SOCKET_PATH_MAX);
        assertThat(m.socketDirPrivate()).isTrue();
        assertThat(m.socket().getParent().getParent()).isEqualTo(Path.of("/tmp"));
        assertThat(m.socket().getParent().getFileName().toString()).matches("smartsim-ai-[0-9a-f]{12}");
        assertThat(m.socket().toString().length()).isLessThanOrEqualTo(AiPlanner.SOCKET_PATH_MAX);
        assertThat(m.console().toString()).startsWith(longExp + "/orchestrator/ai/"); // the log stays in the experiment
        // stable for one directory (a restart finds the same socket), different for another
        assertThat(modulePlan(ai().build(), longExp, MODULE_INSTALL).modelServers().get(0).socket())
                .isEqualTo(m.socket());
        assertThat(modulePlan(ai().build(), Path.of(longExp + "2"), MODULE_INSTALL).modelServers().get(0).socket())
                .isNotEqualTo(m.socket());
        // the experiment directory's own socket path at exactly 107 bytes still fits
        String tail = "/orchestrator/ai/model-server-0.sock";
        Path exact = Path.of("/" + "x".repeat(AiPlanner.SOCKET_PATH_MAX - tail.length() - 1));
        assertThat(modulePlan(ai().build(), exact, MODULE_INSTALL).modelServers().get(0).socketDirPrivate()).isFalse();
        Path over = Path.of("/" + "x".repeat(AiPlanner.SOCKET_PATH_MAX - tail.length()));
        assertThat(modulePlan(ai().build(), over, MODULE_INSTALL).modelServers().get(0).socketDirPrivate()).isTrue();
    }

    @Test
    void withTheModuleAnInstallWithoutTheModuleFileIsRefusedNamingTheFix() {
        assertThatThrownBy(() -> modulePlan(ai().build(), EXP, INSTALL)).isInstanceOf(InvalidSpecException.class)
                .hasMessage("ai: the model-serving runtime from /opt/smartsim/ai has no smartsim-ai.so (the smartsim-ai "
                        + "Redis module the shards load under --ai); build it with a C compiler (apt-get install gcc; "
                        + "then mvn -DskipTests package lays it out in ai-dist/target/ai), or put the file beside the "
                        + "jars there");
    }

    @Test
    void theModuleFileIsFoundInTheAiDirectoryBesideAJarOrInAClassesDirectory(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("ai"));
        Files.writeString(dir.resolve("ai-server.jar"), "x");
        assertThat(AiInstall.moduleIn(dir.toString())).isEmpty();
        Files.writeString(dir.resolve("smartsim-ai.so"), "x");
        assertThat(AiInstall.moduleIn(dir.toString())).contains(dir.resolve("smartsim-ai.so"));
        assertThat(AiInstall.moduleIn(dir + "/*")).contains(dir.resolve("smartsim-ai.so"));
        assertThat(AiInstall.moduleIn("/nonexistent/a.jar:" + dir.resolve("ai-server.jar")))
                .contains(dir.resolve("smartsim-ai.so"));
        Path classes = Files.createDirectories(tmp.resolve("classes/io/smartsim/launch/ai/module"));
        Files.writeString(classes.resolve("smartsim-ai.so"), "x");
        assertThat(AiInstall.moduleIn(tmp.resolve("classes").toString())).contains(classes.resolve("smartsim-ai.so"));
        Function<List<Path>, List<String>> lister = jars -> List.of("ONNX");
        assertThat(AiInstall.locate(Optional.empty(), Optional.of(dir.toString()), Optional.empty(), "java", lister)
                .module()).contains(dir.resolve("smartsim-ai.so"));
    }
}
