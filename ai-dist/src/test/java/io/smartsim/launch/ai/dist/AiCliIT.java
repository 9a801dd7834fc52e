package io.smartsim.launch.ai.dist;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.OrchestratorSpec;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.TensorData;
import io.smartsim.launch.local.LocalLauncher;
import io.smartsim.launch.manifest.Json;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The launcher jar as users run it ({@code java -jar cli/target/smartsim-launch.jar}), finding the fronts' jars the way
 * it does on a user's machine: relative to itself ({@code cli/target -> ../../ai-dist/target/ai}), no setting needed.
 */
class AiCliIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    static final Path JAR = Path.of("../cli/target/smartsim-launch.jar").toAbsolutePath().normalize();

    @TempDir
    Path tmp;
    final AiTestbed bed = new AiTestbed(leftovers);

    record Result(int exit, String out, String err) {
    }

    Result cli(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toString()));
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(argv).directory(tmp.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().remove("SMARTSIM_AI_PATH");
        Path out = tmp.resolve("out.txt");
        Path err = tmp.resolve("err.txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(3, TimeUnit.MINUTES)).isTrue();
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void doctorListsTheBackendsWithTheirVersionsAndWhereTheyComeFrom() throws Exception {
        assertThat(JAR).isRegularFile();
        Result r = cli("doctor", "--json");
        JsonNode ai = Json.mapper().readTree(r.out()).get("ai");
        assertThat(ai.get("from").asText()).endsWith("ai-dist/target/ai");
        java.util.Map<String, String> versions = new java.util.TreeMap<>();
        ai.get("backends").forEach(b -> versions.put(b.get("name").asText(), b.get("version").asText()));
        // Every backend ai-dist carries, each with its runtime's version (asked in a separate JVM).
        assertThat(versions).containsEntry("ONNX", "1.19.2").containsKeys("TORCH", "TF", "TFLITE").hasSize(4);
        assertThat(versions.values()).allMatch(v -> v.matches("[0-9][0-9.]*"));
        // The AI Redis module is in the AI directory (the ai-module jar) and a throwaway redis-server loads it.
        assertThat(ai.get("module").asText()).as(r.out()).startsWith("ok jar:file:")
                .contains("ai-dist/target/ai/ai-module-").contains("smartsim-ai.so loads in ")
                .containsPattern("name ai ver 1\\b");
        assertThat(cli("doctor").out()).contains("model serving (--ai): ").contains("ONNX 1.19.2").contains(" from ")
                .contains("AI Redis module (smartsim-ai.so): ok ");
    }

    @Test
    void aBackendThatIsNotInstalledIsRefusedAtPlanTimeNamingWhatIs() throws Exception {
        Result r = cli("db", "plan", "--exp-dir", tmp.resolve("e").toString(), "--ai", "onnx,tensorrt");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: ai.backends: TENSORRT is not installed: the model-serving runtime from ")
                .contains("has ").contains("ONNX", "TORCH", "TF", "TFLITE");
        assertThat(tmp.resolve("e/orchestrator")).doesNotExist();
    }

    @Test
    void startStatusEnvAndStopThroughTheJarOnThreeShards() throws Exception {
        int base = bed.ports(3);
        String exp = tmp.resolve("exp").toString();
        Result start = cli("db", "start", "--exp-dir", exp, "--ai", "onnx", "--no-auth", "--per-node", "3",
                "--port", Integer.toString(base));
        assertThat(start.exit()).as(start.toString()).isZero();
        Result status = cli("db", "status", "--exp-dir", exp, "--json");
        assertThat(status.exit()).as(status.toString()).isZero();
        Result env = cli("db", "env", "--exp-dir", exp);
        Map<String, String> vars = new HashMap<>();
        for (String line : env.out().lines().toList()) {
            String l = line.replaceFirst("^export ", "");
            int eq = l.indexOf('=');
            if (eq > 0) {
                vars.put(l.substring(0, eq), l.substring(eq + 1).replace("'", ""));
            }
        }
        assertThat(vars).containsEntry("SSDB", "127.0.0.1:" + base + ",127.0.0.1:" + (base + 1) + ",127.0.0.1:"
                + (base + 2)).containsEntry("SR_DB_TYPE", "Clustered");
        try (Client c = Client.fromEnvironment(vars)) {
            c.setModel("mlp", AiOrchestratorIT.MODEL, "ONNX", "CPU");
            float[] x = {0, 1, 0, 1};
            c.putTensor("x", TensorData.of(x, 1, 4));
            c.runModel("mlp", List.of("x"), List.of("y"));
            assertThat(c.getTensor("y").asFloats()).containsExactly(AiOrchestratorIT.expected(x, 1),
                    org.assertj.core.data.Offset.offset(1e-5f));
        }
        Result stop = cli("db", "stop", "--exp-dir", exp);
        assertThat(stop.exit()).as(stop.toString()).isZero();
    }

    @Test
    void anExperimentFileAsksForAiAndTheDryRunShowsTheFrontAndItsServer() throws Exception {
        Files.writeString(tmp.resolve("exp.yaml"), """
                name: demo
                orchestrators:
                  - { id: db, instancesPerNode: 3, port: 11990, auth: false, ai: { backends: [onnx], threads: 2 } }
                models:
                  - { name: sim, exe: /bin/true }
                """);
        Result r = cli("run", "--dry-run", tmp.resolve("exp.yaml").toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("io.smartsim.launch.ai.AiServerMain --port 11990 --bind 127.0.0.1 "
                        + "--redis-port 31990 --threads 2 --backends ONNX --cluster --server-argv redis-server ",
                "    port 31990\n", "    cluster-announce-port 11990\n", "    cluster-port 21990\n");
        assertThat(tmp.resolve("exp")).doesNotExist();
    }

    @Test
    void portAutoSkipsABaseWhoseServerPortIsTaken() throws Exception {
        int base = bed.ports(2);
        try (ServerSocket held = new ServerSocket()) {
            held.setReuseAddress(true);
            held.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), base + 20000));
            OrchestratorSpec spec = AiTestbed.spec(base, 1).autoPort(true).build();
            assertThat(new LocalLauncher().choosePorts(spec).port()).isEqualTo(base + 1);
        }
    }
}
