package io.smartsim.launch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.status.ShardSample;
import io.smartsim.launch.telemetry.TelemetryFiles;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 18 through the jar: a plain {@code db start} (telemetry on by default) leaves a {@code db watch} process that
 * records samples under the experiment's {@code telemetry/}; {@code db stop} ends it (no process left: Leftovers);
 * {@code --telemetry off} leaves no process and records nothing; bad values are refused naming the option.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class TelemetryCliIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest();
    @TempDir
    Path tmp;

    private Path exp;
    private JarRunner jar;
    private int port;

    @BeforeEach
    void setUp() throws IOException {
        TestServers.assumeJarAndRedis();
        exp = tmp.resolve("exp");
        jar = JarRunner.in(tmp);
        port = leftovers.shardPorts(TestServers.freeBlock(18400, 1), 1);
    }

    private JsonNode status() throws Exception {
        JarRunner.Result r = jar.cli("db", "status", "--exp-dir", exp.toString(), "--json");
        return Json.mapper().readTree(r.out()).get("orchestrators").get(0);
    }

    private static void await(String what, Duration limit, java.util.function.BooleanSupplier cond)
            throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within " + limit + ": " + what);
            }
            Thread.sleep(100);
        }
    }

    @Test
    void dbStartRecordsSamplesInItsWatchProcessAndDbStopEndsIt() throws Exception {
        JarRunner.Result start = jar.cli("db", "start", "--exp-dir", exp.toString(), "--port",
                Integer.toString(port), "--telemetry-interval", "200ms");
        assertThat(start.exit()).as(start.toString()).isZero();
        assertThat(start.err()).contains("records telemetry every 200ms");
        long watchdog = status().get("supervision").get("watchdogPid").asLong();
        assertThat(ProcessHandle.of(watchdog).map(ProcessHandle::isAlive)).contains(true);
        await("3 samples under " + exp.resolve("telemetry"), Duration.ofSeconds(60),
                () -> TelemetryFiles.read(exp, "orchestrator").size() >= 3);
        List<ShardSample> samples = TelemetryFiles.read(exp, "orchestrator");
        assertThat(samples).allSatisfy(s -> {
            assertThat(s.reachable()).as(s.toString()).isTrue();
            assertThat(s.address()).endsWith(":" + port);
        });
        JsonNode tel = status().get("telemetry");
        assertThat(tel.get("on").asBoolean()).as(tel.toString()).isTrue();
        assertThat(tel.get("interval").asText()).isEqualTo("200ms");
        assertThat(tel.get("latest")).as(tel.toString()).hasSize(1);
        JsonNode last = tel.get("latest").get(0);
        assertThat(last.get("shard").asInt()).isZero();
        assertThat(last.get("reachable").asBoolean()).isTrue();
        assertThat(last.get("usedMemory").asLong()).isPositive();
        assertThat(last.get("clients").asLong()).as("the collector's own connection at least").isPositive();
        assertThat(last.get("keys").asLong()).isZero();
        assertThat(last.get("opsPerSec").isIntegralNumber()).isTrue();
        assertThat(last.get("ageSeconds").asDouble()).isGreaterThanOrEqualTo(0.0);
        assertThat(java.time.Instant.parse(last.get("time").asText()))
                .isAfterOrEqualTo(samples.get(samples.size() - 1).time());

        JarRunner.Result stop = jar.cli("db", "stop", "--exp-dir", exp.toString());
        assertThat(stop.exit()).as(stop.toString()).isZero();
        await("the watch process ended", Duration.ofSeconds(30), () -> ProcessHandle.of(watchdog)
                .filter(ProcessHandle::isAlive).filter(h -> !zombie(h.pid())).isEmpty());
        // Its pid file went with it (and so no exit file was written): nothing of it left in the experiment.
        try (var files = java.nio.file.Files.list(exp.resolve("orchestrator"))) {
            assertThat(files.map(f -> f.getFileName().toString())).as("the watch process's files after db stop")
                    .contains("watchdog.log").doesNotContain("watchdog.log.pid", "watchdog.log.exit");
        }
        // Leftovers then checks that no process of the experiment's directory is left.
    }

    /**
     * db start spawns its watch process beside the cluster's forming (so the CLI does not pay for the spawn once the
     * cluster is healthy): a start that fails after that must not leave it. The start fails for certain after its watch
     * process exists, whatever the machine's speed: as soon as the watch process's pid file appears, a shard is killed,
     * and the cluster, which Redis lets take writes only 2 s after each server started
     * ({@code CLUSTER_WRITABLE_DELAY}), can no longer form; the start then gives up at its {@code --timeout}.
     */
    @Test
    void aStartThatFailsAfterItsWatchProcessWasSpawnedLeavesNoWatchProcess() throws Exception {
        int base = leftovers.shardPorts(TestServers.freeBlock(18420, 3), 3);
        Path err = tmp.resolve("start.err");
        Process start = new ProcessBuilder(JarRunner.javaBinary(), "-jar", JarRunner.JAR.toString(), "db", "start",
                "--exp-dir", exp.toString(), "--port", Integer.toString(base), "--per-node", "3", "--timeout", "5")
                .redirectOutput(tmp.resolve("start.out").toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        try {
            Path watchPid = exp.resolve("orchestrator/watchdog.log.pid");
            await("the watch process's pid file, db start still running", Duration.ofSeconds(60),
                    () -> Files.exists(watchPid) || !start.isAlive());
            assertThat(start.isAlive()).as("db start still running once its watch process exists: %s",
                    Files.readString(err)).isTrue();
            long shard = Long.parseLong(Files.readString(exp.resolve(
                    "orchestrator/orchestrator_0/orchestrator_0.out.pid")).trim());
            ProcessHandle.of(shard).ifPresent(ProcessHandle::destroyForcibly);
            assertThat(start.waitFor(60, TimeUnit.SECONDS)).as("db start ends within 60 s").isTrue();
        } finally {
            start.destroyForcibly();
        }
        assertThat(start.exitValue()).as("db start: %s", Files.readString(err)).isEqualTo(1);
        JsonNode s = status();
        assertThat(s.get("state").asText()).as(s.toString()).isEqualTo("FAILED");
        long watchdog = s.path("supervision").path("watchdogPid").asLong(0);
        assertThat(watchdog).as("the watch process was spawned during the start: " + s).isPositive();
        assertThat(ProcessHandle.of(watchdog).filter(ProcessHandle::isAlive).filter(h -> !zombie(h.pid())))
                .as("the watch process, once db start has exited").isEmpty();
        try (var files = java.nio.file.Files.list(exp.resolve("orchestrator"))) {
            assertThat(files.map(f -> f.getFileName().toString())).as("the watch process's files")
                    .doesNotContain("watchdog.log.pid");
        }
        // Leftovers then checks that no process (shard or watch process) of the experiment's directory is left.
    }

    @Test
    void telemetryOffLeavesNoWatchProcessAndRecordsNothing() throws Exception {
        JarRunner.Result start = jar.cli("db", "start", "--exp-dir", exp.toString(), "--port",
                Integer.toString(port), "--telemetry", "off");
        assertThat(start.exit()).as(start.toString()).isZero();
        assertThat(start.err()).doesNotContain("watchdog of");
        JsonNode s = status();
        assertThat(s.path("supervision").path("watchdogPid").isMissingNode()
                || s.path("supervision").path("watchdogPid").isNull()).as(s.toString()).isTrue();
        // No process was left and db start's JVM has exited: nothing exists that could record.
        assertThat(exp.resolve("telemetry")).doesNotExist();
        assertThat(s.get("telemetry").get("on").asBoolean()).as(s.toString()).isFalse();
        assertThat(s.get("telemetry").get("latest")).isEmpty();
        JarRunner.Result stop = jar.cli("db", "stop", "--exp-dir", exp.toString());
        assertThat(stop.exit()).as(stop.toString()).isZero();
        assertThat(exp.resolve("telemetry")).doesNotExist();
    }

    @Test
    void badTelemetryValuesAreRefusedNamingTheOption() throws Exception {
        for (List<String> bad : List.of(List.of("--telemetry-interval", "0", "telemetry-interval: 0s is too short: give "
                        + "100ms or more"), List.of("--telemetry-interval", "abc", "telemetry-interval: 'abc' is not a "
                        + "duration"), List.of("--telemetry", "maybe", "telemetry: 'maybe' is not on or off"))) {
            List<String> argv = new java.util.ArrayList<>(List.of("db", "start", "--exp-dir", exp.toString(),
                    "--port", Integer.toString(port)));
            argv.addAll(bad.subList(0, 2));
            JarRunner.Result r = jar.cli(argv.toArray(String[]::new));
            assertThat(r.exit()).as(r.toString()).isEqualTo(2);
            assertThat(r.err()).as(r.toString()).contains("error: " + bad.get(2));
        }
        assertThat(Files.exists(exp.resolve("telemetry"))).isFalse();
    }

    private static boolean zombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
        } catch (IOException e) {
            return true;
        }
    }
}
