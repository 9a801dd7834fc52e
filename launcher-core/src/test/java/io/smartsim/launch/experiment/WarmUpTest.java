package io.smartsim.launch.experiment;

import io.smartsim.launch.ThisMachine;
import io.smartsim.launch.cluster.HealthChecker;
import io.smartsim.launch.cluster.Ping;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.planned.Access;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spi.PlainLauncher;
import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.status.ShardHealth;
import io.smartsim.launch.testing.Processes;
import org.junit.jupiter.api.AfterEach;
import redis.clients.jedis.Jedis;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code ThisMachine.warmUp}, what the CLI runs ahead of {@code db start} and in its class-data archive's training: it
 * asks the launcher for a placement only (no preflight, no start), writes nothing without a scratch directory, and in
 * one writes a manifest that reads back. {@link PlainLauncher} (a fake that records SPI calls) stands for the launcher.
 * The rehearsal a start runs while Redis holds its cluster back asks a real redis-server on loopback.
 */
@Timeout(30)
class WarmUpTest {
    @TempDir
    Path dir;

    private final List<Process> servers = new ArrayList<>();

    @BeforeEach
    void clearCalls() {
        PlainLauncher.CALLS.clear();
    }

    @AfterEach
    void stopServers() throws InterruptedException {
        for (Process p : servers) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** A real redis-server on loopback (found on PATH, never a resolved symlink: see the testbed notes), answering. */
    private int redis() throws Exception {
        int port = Processes.freeBase(1);
        servers.add(new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no").directory(dir.toFile())
                .redirectOutput(dir.resolve("redis.log").toFile()).redirectErrorStream(true).start());
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Ping.pong("127.0.0.1", port, 500)) {
            assertThat(System.nanoTime()).as("redis-server on port " + port + " answers PING within 20 s")
                    .isLessThan(until);
            Thread.sleep(10);
        }
        return port;
    }

    private static long infoCalls(int port) {
        try (Jedis j = new Jedis("127.0.0.1", port)) {
            String line = j.info("commandstats").lines().filter(l -> l.startsWith("cmdstat_info:")).findFirst()
                    .orElse("cmdstat_info:calls=0,");
            return Long.parseLong(line.replaceAll("^cmdstat_info:calls=(\\d+),.*$", "$1"));
        }
    }

    private static OrchestratorSpec spec() {
        return OrchestratorSpec.builder().launcher(PlainLauncher.NAME).instancesPerNode(3).build();
    }

    @Test
    void itPlansAndWritesNothing() throws Exception {
        ThisMachine.warmUp(spec(), Optional.empty());
        assertThat(PlainLauncher.CALLS).containsExactly("place");
        assertThat(WarmUp.NOWHERE).doesNotExist();
        try (var files = Files.list(dir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void withAScratchDirectoryItWritesAManifestThereThatReadsBack() {
        ThisMachine.warmUp(spec(), Optional.of(dir));
        assertThat(PlainLauncher.CALLS).containsExactly("place");
        assertThat(new ManifestStore(dir).read()).hasValueSatisfying(m -> assertThat(m.orchestrators()).isEmpty());
    }

    @Test
    void aSpecItCannotPlanFailsAsPlanningFails() {
        assertThatThrownBy(() -> ThisMachine.warmUp(OrchestratorSpec.builder().launcher("no-such-launcher").build(),
                Optional.empty())).hasMessageContaining("no-such-launcher");
        assertThat(PlainLauncher.CALLS).isEmpty();
    }

    @Test
    void theRehearsalAsksTheShardsWhatTheHealthCheckAsksAndOnlyReturnsWhatItSaw() throws Exception {
        int port = redis();
        long before = infoCalls(port);
        Optional<HealthReport> seen = WarmUp.rehearse(List.of(new HealthChecker.Target(0, "127.0.0.1", port,
                Optional.of("master"))), false, Access.NONE);
        assertThat(seen).hasValueSatisfying(r -> {
            assertThat(r.healthy()).as("problems: %s", r.problems()).isTrue();
            assertThat(r.shards()).singleElement().satisfies(s -> {
                assertThat(s.reachable()).isTrue();
                assertThat(s.role()).isEqualTo("master");
            });
        });
        // it asked the server itself: one INFO, as the health check does (the other one counted read 'before')
        assertThat(infoCalls(port) - before).isEqualTo(1 + 1);
        try (var files = Files.list(dir)) {
            assertThat(files).as("nothing written beside the server's log").extracting(Path::getFileName)
                    .extracting(Path::toString).containsExactly("redis.log");
        }
    }

    @Test
    void aShardThatDoesNotAnswerIsNoFaultOfTheRehearsalAndNothingIsThrown() {
        int closed = Processes.freeBase(1);
        Optional<HealthReport> seen = WarmUp.rehearse(List.of(new HealthChecker.Target(0, "127.0.0.1", closed)), true,
                Access.NONE);
        assertThat(seen).hasValueSatisfying(r -> {
            assertThat(r.healthy()).isFalse();
            assertThat(r.shards()).extracting(ShardHealth::reachable).containsExactly(false);
        });
    }

    @Test
    void aJvmRehearsesOnceOnAThreadThatDoesNotKeepItAlive() throws Exception {
        int closed = Processes.freeBase(1);
        List<HealthChecker.Target> targets = List.of(new HealthChecker.Target(0, "127.0.0.1", closed));
        // another test's start in this JVM may have rehearsed already; after this call, one has for certain
        Optional<Thread> first = WarmUp.whileWaiting(targets, true, Access.NONE);
        first.ifPresent(t -> assertThat(t.isDaemon()).isTrue());
        assertThat(WarmUp.whileWaiting(targets, true, Access.NONE)).isEmpty();
        if (first.isPresent()) {
            first.get().join(Duration.ofSeconds(20).toMillis());
            assertThat(first.get().isAlive()).as("the rehearsal ended").isFalse();
        }
    }
}
