package io.smartsim.launch.cluster;

import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.error.ReadinessTimeoutException;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.util.Deadline;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The one readiness wait every launcher uses, against real processes: redis-server on loopback as the shards, and
 * {@code sh} as a carrier that ends. Its single-shard use for restarts is {@link LandingTest}.
 */
@Timeout(60)
class ReadinessWaitTest {
    @TempDir
    Path dir;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopProcesses() throws InterruptedException {
        for (Process p : started) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Without --auth: the servers here are plain redis-server on loopback, with no ACL user to log in as. */
    private LaunchPlan plan() {
        return Planner.plan("demo", dir, OrchestratorSpec.builder().startupTimeout(Duration.ofSeconds(30))
                        .auth(false).build(),
                new Placement(List.of(new Placement.Node("localhost", List.of("127.0.0.1")))));
    }

    private static LaunchContext context(Duration budget, List<String> progress) {
        return new LaunchContext(Deadline.after(budget), progress::add, shard -> { });
    }

    /** A real redis-server on loopback (found on PATH, never a resolved symlink: see the testbed notes). */
    private Process redis(int port) throws IOException {
        Process p = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no").directory(dir.toFile())
                .redirectOutput(dir.resolve("redis-" + port + ".log").toFile()).redirectErrorStream(true).start();
        started.add(p);
        return p;
    }

    private Process sh(String script) throws IOException {
        Process p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        started.add(p);
        return p;
    }

    private static void awaitPong(int port) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Ping.pong("127.0.0.1", port, 500)) {
            assertThat(System.nanoTime()).as("redis-server on port " + port + " answers PING within 20 s")
                    .isLessThan(until);
            Thread.sleep(10);
        }
    }

    private static LaunchedShard at(int index, int port) {
        return new LaunchedShard(index, "db_" + index, "127.0.0.1", port, Optional.empty(), Optional.empty(), Map.of());
    }

    private static Optional<String> exitOf(Process p) {
        return p.isAlive() ? Optional.empty() : Optional.of("exited with code " + p.exitValue());
    }

    @Test
    void shardsThatLandLateAreWaitedForAndReturnedInOrderWithAProgressLineEach() throws Exception {
        int base = Processes.freeBase(2);
        Process first = redis(base);
        AtomicInteger reads = new AtomicInteger();
        List<Process> second = new CopyOnWriteArrayList<>();
        // The second shard "reports" only on its third read, and only then is its server started: the wait must keep
        // reading its report, then PING it until it answers.
        ReadinessWait.Shard late = new ReadinessWait.Shard() {
            @Override
            public Optional<LaunchedShard> landed() {
                if (reads.incrementAndGet() < 3) {
                    return Optional.empty();
                }
                if (second.isEmpty()) {
                    try {
                        second.add(redis(base + 1));
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }
                return Optional.of(at(1, base + 1));
            }
        };
        List<String> progress = new CopyOnWriteArrayList<>();
        List<LaunchedShard> up = ReadinessWait.of(plan(), context(Duration.ofSeconds(30), progress),
                        List.of(ReadinessWait.Shard.at(at(0, base), () -> exitOf(first)), late))
                .upAs(ls -> ls.address() + " (test)").await();
        assertThat(up).extracting(LaunchedShard::port).containsExactly(base, base + 1);
        assertThat(reads).as("landed once, then only PINGed").hasValue(3);
        // One line per shard as it comes up, counted in the order they did: shard 0 normally first, but a PING that
        // ran out its 500 ms under load can let shard 1 answer first (the order returned is the plan's either way).
        assertThat(progress).hasSize(2);
        assertThat(progress.get(0)).endsWith(" (1/2)");
        assertThat(progress.get(1)).endsWith(" (2/2)");
        assertThat(progress).extracting(l -> l.substring(0, l.length() - " (n/2)".length())).containsExactlyInAnyOrder(
                "shard 0 up on 127.0.0.1:" + base + " (test)", "shard 1 up on 127.0.0.1:" + (base + 1) + " (test)");
    }

    @Test
    void aShardWhoseProcessEndedFailsEvenWhenSomethingElseAnswersOnItsPort() throws Exception {
        int base = Processes.freeBase(1);
        Process other = redis(base); // someone else's server on the shard's port
        Process carrier = sh("exit 3");
        assertThat(carrier.waitFor(20, TimeUnit.SECONDS)).isTrue();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> ReadinessWait.of(plan(), context(Duration.ofSeconds(30), new ArrayList<>()),
                        List.of(ReadinessWait.Shard.at(at(0, base), () -> exitOf(carrier))))
                .failure((i, how) -> new ShardStartException("shard " + i + ": its carrier " + how)).await())
                .isInstanceOf(ShardStartException.class).hasMessage("shard 0: its carrier exited with code 3");
        assertThat(System.nanoTime() - t0).as("no wait for the deadline").isLessThan(Duration.ofSeconds(10).toNanos());
        assertThat(other.isAlive()).isTrue();
    }

    @Test
    void aCheckBetweenRoundsThatThrowsEndsTheWait() {
        // Port 1 on loopback: nothing listens, every PING is refused at once, so only the check can end the wait.
        AtomicInteger checks = new AtomicInteger();
        assertThatThrownBy(() -> ReadinessWait.of(plan(), context(Duration.ofSeconds(30), new ArrayList<>()),
                        List.of(ReadinessWait.Shard.at(at(0, 1), Optional::empty)))
                .every(Duration.ofMillis(50), () -> {
                    if (checks.incrementAndGet() == 2) {
                        throw new ShardStartException("batch job 7 ended while its shards were starting");
                    }
                }).await()).hasMessage("batch job 7 ended while its shards were starting");
        assertThat(checks).hasValue(2);
    }

    @Test
    void aCheckFromTheStartRunsOnceEvenWhenEveryShardAnswersAtOnce() throws Exception {
        int base = Processes.freeBase(1);
        redis(base);
        awaitPong(base);
        AtomicInteger checks = new AtomicInteger();
        ReadinessWait.of(plan(), context(Duration.ofSeconds(30), new ArrayList<>()),
                        List.of(ReadinessWait.Shard.at(at(0, base), Optional::empty)))
                .everyFromStart(Duration.ofHours(1), checks::incrementAndGet).await();
        assertThat(checks).as("checked before the first PING").hasValue(1);
        ReadinessWait.of(plan(), context(Duration.ofSeconds(30), new ArrayList<>()),
                        List.of(ReadinessWait.Shard.at(at(0, base), Optional::empty)))
                .every(Duration.ofHours(1), checks::incrementAndGet).await();
        assertThat(checks).as("every: not before a period has passed").hasValue(1);
    }

    @Test
    void atTheDeadlineEveryLateShardIsNamedWithWhereItLandedIfItDid() throws Exception {
        int base = Processes.freeBase(1);
        redis(base);
        awaitPong(base); // so that the one shard that is up is up before the short deadline, however loaded the machine
        List<String> progress = new CopyOnWriteArrayList<>();
        ReadinessWait.Shard silent = Optional::empty;
        assertThatThrownBy(() -> ReadinessWait.of(plan(), context(Duration.ofMillis(1500), progress),
                        List.of(ReadinessWait.Shard.at(at(0, base), Optional::empty), silent,
                                ReadinessWait.Shard.at(at(2, 1), Optional::empty)))
                .timeout(late -> ReadinessWait.notUp(plan(), 3, late, "were not up", "the job was deleted",
                        (i, ls) -> "shard " + i + ls.map(l -> " on " + l.address() + " (no PONG)")
                                .orElse(" (no report yet)"))).await())
                .isInstanceOf(ReadinessTimeoutException.class)
                .hasMessage("2 of 3 shard(s) of 'orchestrator' were not up within 30 s; the job was deleted:\n"
                        + "shard 1 (no report yet)\nshard 2 on 127.0.0.1:1 (no PONG)");
        assertThat(progress).as("the shard that answered said so").hasSize(1);
    }

    @Test
    void aWrappersOwnFailureReportEndsTheWaitAtOnceThroughTheLaunchersFailure() {
        long t0 = System.nanoTime();
        ReadinessWait.Shard failed = () -> {
            throw new Landing.WrapperFailed("found no address for node n4 (getent hosts n4); use --interface");
        };
        assertThatThrownBy(() -> ReadinessWait.of(plan(), context(Duration.ofSeconds(30), new ArrayList<>()),
                        List.of(failed)).failure((i, how) -> new ShardStartException("shard " + i + ": " + how))
                .await()).hasMessage("shard 0: found no address for node n4 (getent hosts n4); use --interface");
        assertThat(System.nanoTime() - t0).as("no wait for the deadline").isLessThan(Duration.ofSeconds(10).toNanos());
    }
}
