package io.smartsim.launch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.manifest.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The shaded jar against real redis-server processes: start a 3-shard cluster, check it with redis-cli, status,
 * refuse a second start, stop, and leave nothing behind.
 */
class DbLifecycleIT {
    private static final int BUS = 10_000;

    @TempDir
    Path tmp;

    private Path exp;
    private JarRunner jar;
    private int port;
    private final List<Integer> ports = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(Files.isRegularFile(JarRunner.JAR), "run through 'mvn verify': needs " + JarRunner.JAR);
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/redis-server")), "needs redis-server");
        exp = tmp.resolve("exp");
        Files.createDirectories(tmp.resolve("calls"));
        jar = new JarRunner(tmp.resolve("calls"));
        port = freeBlock(3);
        IntStream.range(0, 3).forEach(i -> {
            ports.add(port + i);
            ports.add(port + i + BUS);
        });
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (jar == null) {
            return;
        }
        jar.cli("db", "stop", "--exp-dir", exp.toString()); // exit 1 when it is already stopped: fine
        for (long pid : leftovers()) {
            ProcessHandle.of(pid).ifPresent(h -> {
                h.destroyForcibly();
                h.onExit().orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
            });
        }
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

        assertThat(redisProcessesOnOurPorts()).as("redis-server processes left on " + ports).isEmpty();
        for (int p : ports) {
            assertThat(free(p)).as("port " + p + " free after stop").isTrue();
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
        assertThat(redisProcessesOnOurPorts()).isEmpty();
    }

    @Test
    void a_shard_that_cannot_start_fails_with_its_log_and_leaves_nothing() throws Exception {
        JarRunner.Result start = jar.cli("db", "start", "--exp-dir", exp.toString(), "--per-node", "3",
                "--port", Integer.toString(port), "--config", "no-such-directive yes");

        assertThat(start.exit()).as(start.toString()).isEqualTo(1);
        assertThat(start.err()).contains("error: shard ", "no-such-directive").doesNotContain("\tat ");
        assertThat(start.out()).isEmpty();
        assertThat(redisProcessesOnOurPorts()).isEmpty();

        JarRunner.Result status = jar.cli("db", "status", "--exp-dir", exp.toString());
        assertThat(status.exit()).isEqualTo(1);
        assertThat(status.outLines().get(0)).isEqualTo("orchestrator 'orchestrator' of experiment 'exp': FAILED");
    }

    /** The first of {@code n} consecutive client ports whose bus ports are free too, from a test-unique base. */
    private static int freeBlock(int n) {
        int span = 800;
        int offset = (int) (ProcessHandle.current().pid() % (span / 10)) * 10;
        for (int i = 0; i < span; i += 10) {
            int base = 7100 + (offset + i) % span;
            boolean ok = IntStream.range(0, n).allMatch(k -> free(base + k) && free(base + k + BUS));
            if (ok) {
                return base;
            }
        }
        throw new IllegalStateException("no free block of " + n + " ports in 7100-7899");
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code ps -eo pid=,args=} lines of redis-server processes whose title names one of our client ports. */
    private List<String> redisProcessesOnOurPorts() throws Exception {
        JarRunner.Result ps = jar.run(List.of("ps", "-eo", "pid=,args="), Duration.ofSeconds(10));
        return ps.outLines().stream().filter(l -> l.contains("redis-server"))
                .filter(l -> ports.stream().anyMatch(p -> l.contains(":" + p + " ") || l.endsWith(":" + p)))
                .toList();
    }

    /** Our leftovers only: redis-server processes on our ports whose working directory is under this test's dir. */
    private List<Long> leftovers() throws Exception {
        Path root = tmp.toRealPath();
        List<Long> pids = new ArrayList<>();
        for (String line : redisProcessesOnOurPorts()) {
            long pid = Long.parseLong(line.strip().split("\\s+", 2)[0]);
            Optional<Path> cwd = cwd(pid);
            if (cwd.isPresent() && cwd.get().startsWith(root)) {
                pids.add(pid);
            }
        }
        return pids;
    }

    private static Optional<Path> cwd(long pid) {
        try {
            return Optional.of(Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd")));
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }
}
