package io.smartsim.launch.plan;

import io.smartsim.launch.AiSpec;
import io.smartsim.launch.Backend;
import io.smartsim.launch.InvalidSpecException;
import io.smartsim.launch.OrchestratorSpec;
import io.smartsim.launch.testing.Golden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AiPlannerTest {
    private static final Path EXP = Path.of("/scratch/exp");
    /** A fixed install, so that argv compares with golden files; real ones come from AiInstall.locate(). */
    static final AiInstall INSTALL = new AiInstall("/usr/lib/jvm/java-17/bin/java", "/opt/smartsim/ai/*",
            "/opt/smartsim/ai", List.of("ONNX"));

    private static LaunchPlan plan(OrchestratorSpec spec, Placement placement) {
        return Planner.plan("demo", EXP, spec, placement, spec.auth() ? Optional.of(PlannerTest.FIXED)
                : Optional.empty(), spec.ai().map(a -> INSTALL));
    }

    private static Placement oneHost(String... addrs) {
        return new Placement(List.of(new Placement.Node("localhost", List.of(addrs))));
    }

    private static Placement distinctHosts(int nodes) {
        return new Placement(java.util.stream.IntStream.range(0, nodes)
                .mapToObj(i -> new Placement.Node("n" + (i + 1), List.<String>of())).toList());
    }

    private static OrchestratorSpec.Builder ai() {
        return OrchestratorSpec.builder().ai(AiSpec.of(List.of("onnx")));
    }

    /** Argv one word a line, so a golden diff shows which word changed. */
    private static String words(List<String> argv) {
        return String.join("\n", argv) + "\n";
    }

    @Test
    void clusteredShardsRunTheFrontOnThePlannedPortAndTheirRedisBehindItAnnouncingTheFront() {
        LaunchPlan p = plan(ai().instancesPerNode(3).build(), oneHost("127.0.0.1"));
        ShardPlan s1 = p.shards().get(1);
        assertThat(p.shards()).extracting(ShardPlan::port).containsExactly(6780, 6781, 6782);
        assertThat(p.shards()).extracting(ShardPlan::busPort).containsExactly(16780, 16781, 16782);
        assertThat(s1.config()).contains("port 26781\n", "cluster-port 16781\n", "cluster-announce-port 6781\n",
                "cluster-announce-bus-port 16781\n");
        assertThat(s1.argv().get(s1.serverBinaryIndex())).isEqualTo("redis-server");
        Golden.assertMatches(s1.config(), "ai-redis-cluster-shard1.conf");
        Golden.assertMatches(words(s1.argv()), "ai-cluster-shard1.argv");
    }

    @Test
    void oneShardRunsTheFrontStandaloneWithoutClusterLines() {
        LaunchPlan p = plan(ai().auth(false).ai(new AiSpec(List.of("onnx"), "cpu", 2)).build(),
                oneHost("127.0.0.1"));
        ShardPlan s = p.shards().get(0);
        assertThat(s.config()).contains("port 26780\n").doesNotContain("cluster");
        Golden.assertMatches(words(s.argv()), "ai-standalone-no-auth.argv");
    }

    @Test
    void onBatchNodesTheFrontGetsNoBindAndTakesTheOneTheWrapperGivesItsServer() {
        LaunchPlan p = plan(ai().nodes(3).launcher("slurm").build(), distinctHosts(3));
        ShardPlan s = p.shards().get(2);
        assertThat(s.argv()).doesNotContain("--bind").containsSubsequence("--redis-port", "26780");
        Golden.assertMatches(words(s.argv()), "ai-cluster-bind-at-launch.argv");
    }

    @Test
    void withoutAiTheServerIsArgvZero() {
        LaunchPlan p = plan(OrchestratorSpec.builder().build(), oneHost("127.0.0.1"));
        assertThat(p.shards().get(0).serverBinaryIndex()).isZero();
        assertThat(AiPlanner.ports(p.spec(), 6780)).containsExactly(6780);
        assertThat(AiPlanner.ports(ai().instancesPerNode(3).build(), 6780)).containsExactly(6780, 16780, 26780);
        assertThat(AiPlanner.ports(ai().build(), 6780)).containsExactly(6780, 26780);
    }

    @Test
    void aServerPortOver65535IsRefusedNamingTheNumbers() {
        assertThatThrownBy(() -> plan(ai().port(45535).instancesPerNode(3).build(), oneHost("127.0.0.1")))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessage("port: 45535 is too high for --ai: host localhost runs a shard on 45536 whose "
                        + "redis-server takes 45536 + 20000 = 65536 (over 65535); use a base port of at most 45534");
    }

    @Test
    void aBackendThatIsNotInstalledIsRefusedNamingWhatIs() {
        assertThatThrownBy(() -> plan(ai().ai(AiSpec.of(List.of("onnx", "torch"))).build(), oneHost("127.0.0.1")))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessage("ai.backends: TORCH is not installed: the model-serving runtime from /opt/smartsim/ai has "
                        + "ONNX; choose from those, or add the backend's module jars (ai-torch and its runtime) there");
    }

    @Test
    void tlsAndClusteredKeydbAreRefusedByName() {
        assertThatThrownBy(() -> plan(ai().tls(true).build(), oneHost("127.0.0.1")))
                .hasMessageStartingWith("ai: --ai with --tls is not available");
        assertThatThrownBy(() -> plan(ai().backend(Backend.KEYDB).instancesPerNode(3).build(), oneHost("127.0.0.1")))
                .hasMessageStartingWith("ai: --ai with a clustered keydb backend is not available");
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
}
