package io.smartsim.launch.cli;

import org.junit.jupiter.api.extension.RegisterExtension;
import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 7 item 5, a launcher that dies: the {@code db start} JVM is killed with SIGKILL after its shards are up but
 * before the cluster is healthy; {@code db cleanup} then finds the shards from the manifest and removes them. And
 * killed before it could record them at all (issue 14.6: the local launcher records a start once its first shard
 * runs, holding the shards until then): they end with it.
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

    /**
     * The manifest's lock, held here, keeps the start from recording anything: its shards run meanwhile (the record
     * comes once the first one does), held by the start. Killed then, it leaves none of them running and nothing
     * recorded, and the same start runs again on the same ports.
     */
    @Test
    void a_start_killed_before_it_recorded_its_shards_leaves_none_running() throws Exception {
        Files.createDirectories(exp);
        try (FileChannel ch = FileChannel.open(exp.resolve(".manifest.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock held = ch.lock()) {
            start = new ProcessBuilder(JarRunner.javaBinary(), "-jar", JarRunner.JAR.toString(), "db", "start",
                    "--exp-dir", exp.toString(), "--per-node", "3", "--port", Integer.toString(port), "--timeout",
                    "60").redirectOutput(tmp.resolve("start.out").toFile())
                    .redirectError(tmp.resolve("start.err").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (TestServers.redisProcessesOn(ports).size() < 3) {
                assertThat(start.isAlive()).as("db start runs: %s", Files.readString(tmp.resolve("start.err")))
                        .isTrue();
                assertThat(System.nanoTime()).as("3 shards running within 60 s, the record waiting for the lock")
                        .isLessThan(until);
                Thread.sleep(10);
            }
            assertThat(exp.resolve("manifest.json")).as("nothing recorded yet").doesNotExist();
            start.destroyForcibly(); // SIGKILL to the JVM's pid only: its shards are not signalled by this
            assertThat(start.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!TestServers.redisProcessesOn(ports).isEmpty()) {
            assertThat(System.nanoTime()).as("the unrecorded shards end within 20 s of their start's end: %s",
                    TestServers.redisProcessesOn(ports)).isLessThan(until);
            Thread.sleep(10);
        }
        assertThat(exp.resolve("manifest.json")).doesNotExist();

        JarRunner.Result again = jar.cli("db", "start", "--exp-dir", exp.toString(), "--per-node", "3", "--port",
                Integer.toString(port));
        assertThat(again.exit()).as(again.toString()).isZero();
        JarRunner.Result stop = jar.cli("db", "stop", "--exp-dir", exp.toString());
        assertThat(stop.exit()).as(stop.toString()).isZero();
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
