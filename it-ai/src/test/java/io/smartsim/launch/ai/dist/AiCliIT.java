package io.smartsim.launch.ai.dist;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.TensorData;
import io.smartsim.launch.local.LocalLauncher;
import io.smartsim.launch.spec.Json;
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
 * The launcher jar as users run it ({@code java -jar cli/target/smartsim-launch.jar}), finding the model server's jars
 * the way it does on a user's machine: relative to itself ({@code cli/target -> ../../ai-dist/target/ai}), no setting
 * needed.
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
        // Issue 16: the orchestrator's one model server, recorded for every shard, shown up.
        Path socket = Path.of(exp, "orchestrator", "ai", "model-server-0.sock");
        var servers = io.smartsim.launch.spec.Json.mapper().readTree(status.out()).get("orchestrators").get(0)
                .get("modelServers");
        assertThat(servers.size()).as(status.out()).isEqualTo(1);
        assertThat(servers.get(0).get("socket").asText()).isEqualTo(socket.toString());
        assertThat(servers.get(0).get("process").asText()).isEqualTo("alive");
        assertThat(servers.get(0).get("shards").toString()).isEqualTo("[0,1,2]");
        long modelServer = servers.get(0).get("pid").asLong();
        assertThat(AiTestbed.cmdline(modelServer)).contains("io.smartsim.launch.ai.modelserver.ModelServerMain");
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
        // Killed, it shows down (its shards still serve data; nothing restarts it without --restart on-failure).
        ProcessHandle.of(modelServer).orElseThrow().destroyForcibly();
        long until = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
        while (io.smartsim.launch.testing.Pids.running(modelServer) && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        Result down = cli("db", "status", "--exp-dir", exp);
        assertThat(down.out()).as(down.toString()).contains("model server (--ai) of shard(s) 0,1,2: DOWN (model "
                + "commands fail naming its socket; data commands work), pid " + modelServer + ", socket " + socket);
        Result stop = cli("db", "stop", "--exp-dir", exp);
        assertThat(stop.exit()).as(stop.toString()).isZero();
        assertThat(socket).doesNotExist();
    }

    /** {@code db stop} in a process of its own ends the model server that {@code db start} left running. */
    @Test
    void dbStopFromAnotherProcessEndsTheModelServerAfterTheShards() throws Exception {
        int base = bed.ports(1);
        String exp = tmp.resolve("exp").toString();
        Result start = cli("db", "start", "--exp-dir", exp, "--ai", "onnx", "--no-auth", "--port",
                Integer.toString(base));
        assertThat(start.exit()).as(start.toString()).isZero();
        Path socket = Path.of(exp, "orchestrator", "ai", "model-server-0.sock");
        assertThat(socket).exists();
        Result status = cli("db", "status", "--exp-dir", exp);
        assertThat(status.out()).as(status.toString()).containsPattern("model server \\(--ai\\) of shard\\(s\\) 0: "
                + "up, pid \\d+, socket " + java.util.regex.Pattern.quote(socket.toString()));
        long modelServer = Long.parseLong(status.out().replaceFirst("(?s).*model server \\(--ai\\) of shard\\(s\\) 0: "
                + "up, pid (\\d+),.*", "$1"));
        Result stop = cli("db", "stop", "--exp-dir", exp);
        assertThat(stop.exit()).as(stop.toString()).isZero();
        assertThat(io.smartsim.launch.testing.Pids.running(modelServer)).as("the model server after db stop").isFalse();
        assertThat(socket).doesNotExist();
    }

    /** The detached watchdog that {@code db start --restart on-failure} leaves starts a killed model server again. */
    @Test
    void theDetachedWatchdogStartsAKilledModelServerAgain() throws Exception {
        int base = bed.ports(1);
        String exp = tmp.resolve("exp").toString();
        Result start = cli("db", "start", "--exp-dir", exp, "--ai", "onnx", "--no-auth", "--port",
                Integer.toString(base), "--restart", "on-failure");
        assertThat(start.exit()).as(start.toString()).isZero();
        Map<String, String> vars = Map.of("SSDB", "127.0.0.1:" + base, "SR_DB_TYPE", "Standalone");
        try (Client c = Client.fromEnvironment(vars)) {
            c.setModel("mlp", AiOrchestratorIT.MODEL, "ONNX", "CPU");
        }
        long first = modelServerPid(exp);
        ProcessHandle.of(first).orElseThrow().destroyForcibly();
        long until = System.nanoTime() + java.time.Duration.ofSeconds(90).toNanos();
        long now = first;
        while (System.nanoTime() < until) {
            now = modelServerPid(exp);
            if (now != first && io.smartsim.launch.testing.Pids.running(now)) {
                break;
            }
            Thread.sleep(200);
        }
        assertThat(now).as("the model server's pid in the manifest after the watchdog's restart").isNotEqualTo(first);
        assertThat(AiTestbed.cmdline(now)).contains("io.smartsim.launch.ai.modelserver.ModelServerMain");
        try (Client c = Client.fromEnvironment(vars)) { // the stored model, pushed again by the module
            float[] x = {0, 1, 0, 1};
            c.putTensor("x", TensorData.of(x, 1, 4));
            c.runModel("mlp", List.of("x"), List.of("y"));
            assertThat(c.getTensor("y").asFloats()).containsExactly(AiOrchestratorIT.expected(x, 1),
                    org.assertj.core.data.Offset.offset(1e-5f));
        }
        Result stop = cli("db", "stop", "--exp-dir", exp);
        assertThat(stop.exit()).as(stop.toString()).isZero();
        assertThat(io.smartsim.launch.testing.Pids.running(now)).as("the restarted model server after db stop")
                .isFalse();
    }

    /** The model server's pid that the manifest records for shard 0. */
    private static long modelServerPid(String exp) {
        return new io.smartsim.launch.manifest.ManifestStore(Path.of(exp)).read().orElseThrow().find("orchestrator")
                .orElseThrow().shards().get(0).handle().entrySet().stream()
                .filter(e -> e.getKey().equals(io.smartsim.launch.plan.AiPlanner.HANDLE_PID))
                .mapToLong(e -> Long.parseLong(e.getValue())).findFirst().orElseThrow();
    }

    @Test
    void anExperimentFileAsksForAiAndTheDryRunShowsTheModuleAndTheModelServer() throws Exception {
        Files.writeString(tmp.resolve("exp.yaml"), """
                name: demo
                orchestrators:
                  - { id: db, instancesPerNode: 3, port: 11990, auth: false, ai: { backends: [onnx], threads: 2 } }
                models:
                  - { name: sim, exe: /bin/true }
                """);
        Result r = cli("run", "--dry-run", tmp.resolve("exp.yaml").toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        // Issue 16: the shards load the module on their own ports (no front, no +20000, no announce lines), and the
        // plan shows the model server they share, with the file's ai.threads as its --intra-op-threads.
        Path dir = tmp.resolve("exp/db");
        assertThat(r.out()).contains("    port 11990\n", "    loadmodule ", "smartsim-ai.so\" SOCKET \"" + dir
                        + "/ai/model-server-0.sock\" BACKENDS ONNX\n",
                "  model server 0 (--ai, socket " + dir + "/ai/model-server-0.sock, for shard(s) 0,1,2) command",
                "io.smartsim.launch.ai.modelserver.ModelServerMain --socket " + dir + "/ai/model-server-0.sock "
                        + "--backends ONNX --intra-op-threads 2\n")
                .doesNotContain("AiServerMain", "31990", "cluster-announce-port");
        assertThat(tmp.resolve("exp")).doesNotExist();
    }

    /** Issue 16: the shards of the local launcher take no server port (P+20000) any more, so a busy one is no reason to skip. */
    @Test
    void portAutoNoLongerSkipsABaseWhoseFrontServerPortIsTaken() throws Exception {
        int base = bed.ports(2);
        try (ServerSocket held = new ServerSocket()) {
            held.setReuseAddress(true);
            held.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), base + 20000));
            OrchestratorSpec spec = AiTestbed.spec(base, 1).autoPort(true).build();
            assertThat(new LocalLauncher().choosePorts(spec).port()).isEqualTo(base);
        }
    }
}
