package io.smartsim.launch.cli;

import org.junit.jupiter.api.extension.RegisterExtension;
import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 7 item 5, a launcher that dies: the {@code db start} JVM is killed with SIGKILL after its shards are up but
 * before the cluster is healthy; {@code db cleanup} then finds the shards from the manifest and removes them.
 */
class DbCleanupIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final int BUS = TestServers.BUS;

    @TempDir
    Path tmp;

    private Path exp;
    private JarRunner jar;
    private int port;
    private final List<Integer> ports = new ArrayList<>();
    private Process start;

    @BeforeEach
    void setUp() throws IOException {
        TestServers.assumeJarAndRedis();
        exp = tmp.resolve("exp");
        jar = JarRunner.in(tmp);
        port = leftovers.shardPorts(TestServers.freeBlock(8100, 3), 3);
        ports.addAll(TestServers.withBus(port, 3));
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (start != null && start.isAlive()) {
            start.destroyForcibly();
            start.waitFor(10, TimeUnit.SECONDS);
        }
        // Then the Leftovers check: processes by working dir, ports (bus and --ai too) on every address.
    }

    @RepeatedTest(3)
    void cleanup_after_the_launching_jvm_is_killed_mid_start_leaves_nothing() throws Exception {
        Path err = tmp.resolve("start.err");
        start = new ProcessBuilder(JarRunner.javaBinary(), "-jar", JarRunner.JAR.toString(), "db", "start",
                "--exp-dir", exp.toString(), "--per-node", "3", "--port", Integer.toString(port), "--timeout", "60")
                .redirectOutput(tmp.resolve("start.out").toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        long t0 = System.nanoTime();
        String seen = awaitLine(err, "shard 0 up on ", Duration.ofSeconds(60));
        start.destroyForcibly(); // SIGKILL to the JVM's pid only: its shards are not signalled
        assertThat(start.waitFor(10, TimeUnit.SECONDS)).isTrue();
        long killedAfter = (System.nanoTime() - t0) / 1_000_000;
        assertThat(seen).as("killed before 'healthy'").doesNotContain("healthy");

        JsonNode entry = Json.mapper().readTree(exp.resolve("manifest.json").toFile()).get("orchestrators").get(0);
        assertThat(entry.get("status").asText()).as(entry.toString()).isEqualTo("STARTING");
        assertThat(entry.get("shards")).hasSize(3);
        assertThat(TestServers.redisProcessesOn(ports)).as("the shards outlive the killed launcher").hasSize(3);

        JarRunner.Result cleanup = jar.cli("db", "cleanup", "--exp-dir", exp.toString());
        assertThat(cleanup.exit()).as(cleanup.toString()).isZero();
        assertThat(cleanup.outLines().get(0)).isEqualTo("cleaned up 'orchestrator' of experiment 'exp' (found "
                + "STARTING): 3 of 3 shard(s) stopped, 0 left; recorded FAILED");
        assertThat(cleanup.out()).containsPattern("  2 +127\\.0\\.0\\.1:" + (port + 2) + " +\\d+ +stopped");
        System.out.println("start killed " + killedAfter + " ms after launch; db cleanup took "
                + cleanup.took().toMillis() + " ms (JVM start included)");

        assertThat(TestServers.redisProcessesOn(ports)).as("redis-server processes left on " + ports).isEmpty();
        for (int p : ports) {
            assertThat(TestServers.free(p)).as("port " + p + " free after cleanup").isTrue();
        }

        JarRunner.Result status = jar.cli("db", "status", "--exp-dir", exp.toString());
        assertThat(status.exit()).as(status.toString()).isEqualTo(1);
        assertThat(status.outLines().get(0)).isEqualTo("orchestrator 'orchestrator' of experiment 'exp': FAILED");
        JsonNode json = Json.mapper().readTree(jar.cli("db", "status", "--exp-dir", exp.toString(), "--json").out());
        assertThat(json.get("orchestrators").get(0).get("state").asText()).isEqualTo("FAILED");
        assertThat(json.get("orchestrators").get(0).get("error").asText())
                .isEqualTo("cleaned up after an interrupted start");

        JarRunner.Result again = jar.cli("db", "cleanup", "--exp-dir", exp.toString());
        assertThat(again.exit()).as(again.toString()).isZero();
        assertThat(again.out()).isEqualTo("nothing to clean up in experiment 'exp'\n");
    }

    /** Polls the start's stderr until a line contains {@code marker} (or 'healthy', or the process ends). */
    private String awaitLine(Path err, String marker, Duration limit) throws Exception {
        long until = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < until) {
            String text = Files.exists(err) ? Files.readString(err) : "";
            if (text.contains(marker) || text.contains("healthy") || !start.isAlive()) {
                assertThat(text).as("db start stderr").contains(marker);
                return text;
            }
            Thread.sleep(2);
        }
        throw new AssertionError("no '" + marker + "' from db start within " + limit + ":\n" + Files.readString(err));
    }
}
