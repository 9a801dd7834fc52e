package io.smartsim.launch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shaded jar against real redis-server processes: start a 3-shard cluster, check it with redis-cli, status,
 * refuse a second start, stop, and leave nothing behind.
 */
class DbLifecycleIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final int BUS = TestServers.BUS;

    @TempDir
    Path tmp;

    private Path exp;
    private JarRunner jar;
    private int port;
    private final List<Integer> ports = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        TestServers.assumeJarAndRedis();
        exp = tmp.resolve("exp");
        jar = JarRunner.in(tmp);
        port = leftovers.shardPorts(TestServers.freeBlock(7100, 3), 3);
        ports.addAll(TestServers.withBus(port, 3));
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (jar == null) {
            return;
        }
        jar.cli("db", "stop", "--exp-dir", exp.toString()); // exit 1 when it is already stopped: fine
        // Then the Leftovers check: a server the stop missed fails the test (it used to be killed silently here).
    }

    @Test
    void start_check_status_stop_leaves_nothing_behind() throws Exception {
        Path expected = exp; // the CLI prints absolute paths
        JarRunner.Result start = jar.cli("db", "start", "--exp-dir", exp.toString(), "--per-node", "3",
                "--port", Integer.toString(port));

        assertThat(start.exit()).as(start.toString()).isZero();
        List<String> lines = start.outLines();
        assertThat(lines.get(lines.size() - 1))
                .isEqualTo("SSDB=127.0.0.1:" + port + ",127.0.0.1:" + (port + 1) + ",127.0.0.1:" + (port + 2));
        assertThat(lines.get(0)).startsWith("started 'orchestrator' of experiment 'exp': Clustered, 3 shard(s), "
                + "healthy in ");
        assertThat(start.err()).contains("forming a Redis Cluster over 3 shards");
        assertThat(lines).anyMatch(l -> l.matches("  0 +127\\.0\\.0\\.1:" + port + " +\\d+ +master +0-5461 +"
                + expected.resolve("orchestrator/orchestrator_0/orchestrator_0.log")));
        System.out.println("db start of 3 shards took " + start.took().toMillis() + " ms (JVM start included)");

        // The password is in the manifest (owner-only) and nowhere in what the commands print.
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(
                exp.resolve("manifest.json")))).isEqualTo("rw-------");
        JsonNode auth = Json.mapper().readTree(exp.resolve("manifest.json").toFile()).get("orchestrators").get(0)
                .get("plan").get("auth");
        String password = auth.get("password").asText();
        assertThat(password).matches("[0-9a-f]{64}");
        assertThat(start.out() + start.err()).doesNotContain(password);

        JarRunner.Result anonymous = jar.run(List.of("redis-cli", "-p", Integer.toString(port), "GET", "k"),
                Duration.ofSeconds(30));
        assertThat(anonymous.out() + anonymous.err()).contains("NOAUTH");
        JarRunner.Result check = jar.run(List.of("redis-cli", "-p", Integer.toString(port), "--user",
                auth.get("user").asText(), "--pass", password, "--no-auth-warning", "--cluster", "check",
                "127.0.0.1:" + port), Duration.ofSeconds(30));
        assertThat(check.exit()).as(check.toString()).isZero();
        assertThat(check.out()).contains("[OK] All 16384 slots covered.");

        JarRunner.Result env = jar.cli("db", "env", "--exp-dir", exp.toString());
        assertThat(env.exit()).as(env.toString()).isZero();
        assertThat(env.out()).contains("export SSDB_USER=smartsim\n",
                "# SSDB_PASSWORD is set for models; add --show-secrets to print it\n").doesNotContain(password);
        JarRunner.Result secrets = jar.cli("db", "env", "--exp-dir", exp.toString(), "--show-secrets");
        assertThat(secrets.out()).contains("export SSDB_PASSWORD=" + password + "\n");

        JarRunner.Result status = jar.cli("db", "status", "--exp-dir", exp.toString());
        assertThat(status.exit()).as(status.toString()).isZero();
        assertThat(status.outLines().get(0))
                .isEqualTo("orchestrator 'orchestrator' of experiment 'exp': RUNNING (cluster state ok)");
        assertThat(status.out()).containsPattern("  1 +127\\.0\\.0\\.1:" + (port + 1)
                + " +\\d+ +alive +yes +master +5462-10922 +0 +\\d+\\.\\d [KM]iB +\\d+");

        JarRunner.Result json = jar.cli("db", "status", "--exp-dir", exp.toString(), "--json");
        assertThat(json.exit()).as(json.toString()).isZero();
        JsonNode report = Json.mapper().readTree(json.out());
        assertThat(report.get("healthy").asBoolean()).isTrue();
        JsonNode db = report.get("orchestrators").get(0);
        assertThat(db.get("state").asText()).isEqualTo("RUNNING");
        assertThat(db.get("clusterState").asText()).isEqualTo("ok");
        assertThat(db.get("shards")).hasSize(3);
        assertThat(db.get("shards").get(2).get("slots").get(0).get("first").asInt()).isEqualTo(10923);
        assertThat(db.get("shards").get(2).get("process").asText()).isEqualTo("alive");
        assertThat(status.out() + status.err() + json.out() + json.err()).doesNotContain(password);

        JarRunner.Result again = jar.cli("db", "start", "--exp-dir", exp.toString(), "--per-node", "3",
                "--port", Integer.toString(port));
        assertThat(again.exit()).as(again.toString()).isEqualTo(1);
        assertThat(again.err()).contains("error: orchestrator 'orchestrator' is already running in " + exp)
                .doesNotContain("\tat ");
        assertThat(again.out()).isEmpty();

        JarRunner.Result stop = jar.cli("db", "stop", "--exp-dir", exp.toString());
        assertThat(stop.exit()).as(stop.toString()).isZero();
        assertThat(stop.outLines().get(0)).startsWith("stopped 'orchestrator' of experiment 'exp' in ")
                .endsWith(": 3 shard(s), no process left");
        assertThat(stop.out() + stop.err()).doesNotContain(password);

        assertThat(TestServers.redisProcessesOn(ports)).as("redis-server processes left on " + ports).isEmpty();
        for (int p : ports) {
            assertThat(TestServers.free(p)).as("port " + p + " free after stop").isTrue();
        }

        JarRunner.Result after = jar.cli("db", "status", "--exp-dir", exp.toString());
        assertThat(after.exit()).as(after.toString()).isEqualTo(1);
        assertThat(after.outLines().get(0)).isEqualTo("orchestrator 'orchestrator' of experiment 'exp': STOPPED");
        JsonNode afterJson = Json.mapper().readTree(jar.cli("db", "status", "--exp-dir", exp.toString(), "--json")
                .out());
        assertThat(afterJson.get("orchestrators").get(0).get("state").asText()).isEqualTo("STOPPED");

        JarRunner.Result stopAgain = jar.cli("db", "stop", "--exp-dir", exp.toString());
        assertThat(stopAgain.exit()).isEqualTo(1);
        assertThat(stopAgain.err()).isEqualTo("error: orchestrator 'orchestrator' is not running (recorded: "
                + "STOPPED); nothing to stop\n");
    }

    @Test
    void start_json_describes_a_standalone_shard() throws Exception {
        JarRunner.Result start = jar.cli("db", "start", "--exp-dir", exp.toString(), "--name", "single",
                "--port", Integer.toString(port), "--json");

        assertThat(start.exit()).as(start.toString()).isZero();
        JsonNode s = Json.mapper().readTree(start.out());
        assertThat(s.get("id").asText()).isEqualTo("single");
        assertThat(s.get("ssdb").asText()).isEqualTo("127.0.0.1:" + port);
        assertThat(s.get("dbType").asText()).isEqualTo("Standalone");
        assertThat(s.get("shards")).hasSize(1);
        assertThat(s.get("shards").get(0).get("role").asText()).isEqualTo("master");
        assertThat(s.get("manifest").asText()).isEqualTo(exp.resolve("manifest.json").toString());

        JarRunner.Result stop = jar.cli("db", "stop", "--exp-dir", exp.toString(), "--name", "single", "--json");
        assertThat(stop.exit()).as(stop.toString()).isZero();
        assertThat(Json.mapper().readTree(stop.out()).get("stopped").asBoolean()).isTrue();
        assertThat(TestServers.redisProcessesOn(ports)).isEmpty();
    }

    @Test
    void a_shard_that_cannot_start_fails_with_its_log_and_leaves_nothing() throws Exception {
        JarRunner.Result start = jar.cli("db", "start", "--exp-dir", exp.toString(), "--per-node", "3",
                "--port", Integer.toString(port), "--config", "no-such-directive yes");

        assertThat(start.exit()).as(start.toString()).isEqualTo(1);
        assertThat(start.err()).contains("error: shard ", "no-such-directive").doesNotContain("\tat ");
        assertThat(start.out()).isEmpty();
        assertThat(TestServers.redisProcessesOn(ports)).isEmpty();

        JarRunner.Result status = jar.cli("db", "status", "--exp-dir", exp.toString());
        assertThat(status.exit()).isEqualTo(1);
        assertThat(status.outLines().get(0)).isEqualTo("orchestrator 'orchestrator' of experiment 'exp': FAILED");
    }
}
