package io.smartsim.launch.dashboard;

import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.status.ShardSample;
import io.smartsim.launch.telemetry.Telemetry;
import io.smartsim.launch.telemetry.TelemetryFiles;
import io.smartsim.launch.telemetry.TelemetryOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisCluster;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The collector against a real 3-shard orchestrator: samples, a hung shard, bounded files. */
class TelemetryIT {
    @RegisterExtension
    static final Leftovers leftovers = Leftovers.perClass(); // the class's orchestrator, checked once it is stopped
    @TempDir
    static Path expDir;
    static RunningOrchestrator orch;

    @TempDir
    Path out; // each test's collector records here, so the tests do not read each other's samples

    @BeforeAll
    static void start() {
        orch = RunningOrchestrator.start(expDir, leftovers, 3);
    }

    @AfterAll
    static void stop() {
        if (orch != null) {
            orch.close();
        }
    }

    static void await(String what, Duration limit, BooleanSupplier cond) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within " + limit + ": " + what);
            }
            Thread.sleep(50);
        }
    }

    static List<ShardSample> of(List<ShardSample> all, int shard) {
        return all.stream().filter(s -> s.shard() == shard).toList();
    }

    @Test
    void everyShardIsSampledAndRecordedWithItsFiguresAndNoSecret() throws Exception {
        var rec = orch.record();
        try (JedisCluster jc = new JedisCluster(Set.of(HostAndPort.from(rec.shards().get(0).address())),
                DefaultJedisClientConfig.builder().user(rec.plan().auth().orElseThrow().user())
                        .password(orch.password()).build())) {
            for (int i = 0; i < 300; i++) {
                jc.set("k" + i, "v" + i);
            }
            jc.get("k1");
            jc.get("missing");
        }
        Instant afterWrites = Instant.now();
        TelemetryOptions opts = TelemetryOptions.defaults().withInterval(Duration.ofMillis(200));
        try (Telemetry t = Telemetry.start(out, rec, opts)) {
            await("two samples of each shard taken after the writes", Duration.ofSeconds(30), () -> {
                List<ShardSample> all = TelemetryFiles.read(out, rec.id());
                return Stream.of(0, 1, 2).allMatch(i -> of(all, i).stream()
                        .filter(s -> s.time().isAfter(afterWrites)).count() >= 2);
            });
            assertThat(t.latest()).hasSize(3);
        }
        List<ShardSample> all = TelemetryFiles.read(out, rec.id());
        assertThat(all).allSatisfy(s -> {
            assertThat(s.reachable()).as(s.toString()).isTrue();
            assertThat(s.experiment()).isEqualTo("telemetry-it");
            assertThat(s.orchestrator()).isEqualTo(rec.id());
            assertThat(s.role()).isEqualTo("master");
            assertThat(s.usedMemory()).isPositive();
            assertThat(s.peakMemory()).isGreaterThanOrEqualTo(s.usedMemory());
            assertThat(s.clients()).isPositive(); // the collector's own connection at least
            assertThat(s.netInBytes()).isPositive();
            assertThat(s.netOutBytes()).isPositive();
            assertThat(s.replOffset()).isNotNull();
            assertThat(s.lastSave()).isNotNull();
            assertThat(s.node()).isNotBlank();
        });
        // The last sample of each shard has its share of the 300 keys; together they hold all of them.
        long keys = Stream.of(0, 1, 2).mapToLong(i -> of(all, i).get(of(all, i).size() - 1).keys()).sum();
        assertThat(keys).isEqualTo(300);
        assertThat(all.stream().mapToLong(ShardSample::hits).max().orElseThrow()).isPositive();
        assertThat(all.stream().mapToLong(ShardSample::misses).max().orElseThrow()).isPositive();
        // The password is in the manifest, never in what the collector writes.
        String text = Files.readString(TelemetryFiles.current(out, rec.id()), StandardCharsets.UTF_8);
        assertThat(text).doesNotContain(orch.password());
    }

    @Test
    void aHungShardIsRecordedAsSuchAndDoesNotDelayTheOthersSamples() throws Exception {
        var rec = orch.record();
        long pid = orch.pid(1);
        // A call timeout far longer than the interval: a collector that waited for shard 1 before sampling the others
        // would leave gaps of at least this long in their samples.
        Duration callTimeout = Duration.ofSeconds(2);
        TelemetryOptions opts = TelemetryOptions.defaults().withInterval(Duration.ofMillis(100))
                .withCallTimeout(callTimeout);
        Instant stopped;
        try (Telemetry t = Telemetry.start(out, rec, opts)) {
            await("a first reachable sample of every shard", Duration.ofSeconds(30),
                    () -> t.latest().size() == 3 && t.latest().stream().allMatch(ShardSample::reachable));
            stopped = Instant.now();
            signal("STOP", pid);
            try {
                await("two samples of shard 1 recorded as unreachable", Duration.ofSeconds(60),
                        () -> of(TelemetryFiles.read(out, rec.id()), 1).stream()
                                .filter(s -> s.time().isAfter(stopped) && !s.reachable()).count() >= 2);
            } finally {
                signal("CONT", pid);
            }
            await("shard 1 answers again", Duration.ofSeconds(30), () -> of(TelemetryFiles.read(out, rec.id()), 1)
                    .stream().filter(s -> s.time().isAfter(stopped)).anyMatch(ShardSample::reachable));
        }
        List<ShardSample> all = TelemetryFiles.read(out, rec.id());
        List<ShardSample> hung = of(all, 1).stream().filter(s -> s.time().isAfter(stopped) && !s.reachable()).toList();
        assertThat(hung).allSatisfy(s -> {
            assertThat(s.error()).contains("no answer within 2000 ms");
            assertThat(s.usedMemory()).isNull();
            assertThat(s.callMillis()).isGreaterThanOrEqualTo(callTimeout.toMillis() - 50);
        });
        Instant hungFrom = hung.get(0).time();
        Instant hungTo = hung.get(hung.size() - 1).time().plus(callTimeout);
        for (int other : List.of(0, 2)) {
            List<ShardSample> during = of(all, other).stream()
                    .filter(s -> !s.time().isBefore(hungFrom) && !s.time().isAfter(hungTo)).toList();
            assertThat(during).as("shard %d sampled while shard 1 hung", other).hasSizeGreaterThan(2)
                    .allSatisfy(s -> assertThat(s.reachable()).isTrue());
            for (int i = 1; i < during.size(); i++) {
                Duration gap = Duration.between(during.get(i - 1).time(), during.get(i).time());
                assertThat(gap).as("gap between samples of shard %d while shard 1 hung", other)
                        .isLessThan(callTimeout);
            }
        }
    }

    @Test
    void theRecordedFilesStayBoundedByTheRotation() throws Exception {
        var rec = orch.record();
        long max = 1024;
        int kept = 2;
        TelemetryOptions opts = TelemetryOptions.defaults().withInterval(Duration.ofMillis(20)).withRotation(max, kept);
        Path rotated1 = TelemetryFiles.rotated(out, rec.id(), 1);
        Path rotated2 = TelemetryFiles.rotated(out, rec.id(), 2);
        try (Telemetry t = Telemetry.start(out, rec, opts)) {
            await("a second rotated file", Duration.ofSeconds(60), () -> Files.exists(rotated2));
            // Then rotations go on: the newest rotated file's first sample changes (at least) five times, and the
            // directory never holds more than the current file and two rotated ones, each within the size.
            Instant seen = first(rotated1);
            for (int round = 0; round < 5; round++) {
                Instant before = seen;
                await("rotation " + (round + 1), Duration.ofSeconds(60), () -> {
                    assertBounded(out, max, kept + 1);
                    Instant now = first(rotated1);
                    return now != null && !now.equals(before);
                });
                seen = first(rotated1);
            }
        }
        assertBounded(out, max, kept + 1);
        List<ShardSample> all = TelemetryFiles.read(out, rec.id());
        assertThat(all).hasSizeGreaterThan(3);
        assertThat(all).isSortedAccordingTo((a, b) -> a.shard() == b.shard() ? a.time().compareTo(b.time()) : 0);
    }

    private static Instant first(Path f) {
        try {
            List<String> lines = Files.readAllLines(f);
            return lines.isEmpty() ? null : Instant.parse(lines.get(0).replaceAll(".*\"time\":\"([^\"]+)\".*", "$1"));
        } catch (java.io.IOException e) {
            return null; // being rotated
        }
    }

    private static void assertBounded(Path expDir, long max, int files) {
        try (Stream<Path> s = Files.list(TelemetryFiles.dir(expDir))) {
            List<Path> all = s.toList();
            assertThat(all).as("telemetry files").hasSizeLessThanOrEqualTo(files);
            for (Path f : all) {
                long size;
                try {
                    size = Files.size(f);
                } catch (java.nio.file.NoSuchFileException rotatedMeanwhile) {
                    // renamed (current -> .1 -> .2) or dropped between the listing and here: the collector rotates
                    // while this reads; the file under its next name is checked on the next call
                    continue;
                }
                assertThat(size).as(f.toString()).isLessThanOrEqualTo(max);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static void signal(String sig, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
    }
}
