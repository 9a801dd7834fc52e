package io.smartsim.launch.experiment;

import io.smartsim.launch.status.OrchestratorState;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.error.SchedulerUnreachableException;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.supervise.EventLog;
import io.smartsim.launch.testing.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The start pipeline's failure paths: a failed start closes its {@link StartedOrchestrator} handle, which stops exactly
 * the shards this start reported, and records FAILED. A scripted launcher stands in for a real one here: core cannot
 * depend on a launcher module, and these paths need no process (the shards' ports have nothing listening). The same
 * pipeline with real redis-server processes is proven by launcher-local's ITs (LocalOrchestratorIT, SupervisionIT).
 */
class OrchestratorStartTest {
    @TempDir
    Path dir;
    /** Two of the three shards of the handle tests' orchestrator. */
    private List<LaunchedShard> two;

    /** A launcher that reports {@code report} shards, then fails or returns them, and records what it was asked to stop. */
    private static final class Scripted implements Launcher {
        final List<LaunchedShard> report;
        final boolean failAfterReporting;
        final boolean failPreflight;
        final List<List<LaunchedShard>> stopped = new CopyOnWriteArrayList<>();
        /** Whether {@link #stop} fails as an unreachable scheduler or host does. */
        boolean unreachableAtStop;

        Scripted(List<LaunchedShard> report, boolean failAfterReporting, boolean failPreflight) {
            this.report = report;
            this.failAfterReporting = failAfterReporting;
            this.failPreflight = failPreflight;
        }

        @Override
        public String name() {
            return "scripted";
        }

        @Override
        public Placement place(OrchestratorSpec spec) {
            return new Placement(List.of(new Placement.Node("localhost", List.of("127.0.0.1"))));
        }

        @Override
        public void preflight(LaunchPlan plan) {
            if (failPreflight) {
                throw new InvalidSpecException("port", "preflight refused the plan");
            }
        }

        @Override
        public List<LaunchedShard> start(LaunchPlan plan, LaunchContext context) {
            report.forEach(context.spawned());
            if (failAfterReporting) {
                throw new ShardStartException("shard " + report.size() + " exited at once; its log's tail: (none)");
            }
            return report;
        }

        @Override
        public Map<Integer, Liveness> probe(List<LaunchedShard> shards) {
            return Map.of();
        }

        @Override
        public void stop(List<LaunchedShard> shards, Duration grace) {
            stopped.add(List.copyOf(shards));
            if (unreachableAtStop) {
                throw new SchedulerUnreachableException("ssh to 127.0.1.2 failed: connection refused");
            }
        }
    }

    private OrchestratorHandle orchestrator(Scripted launcher, int shards) {
        int base = Processes.freeBase(shards); // nothing listens there: every PING and SHUTDOWN is refused
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").instancesPerNode(shards).port(base).auth(false)
                .launcher("scripted").startupTimeout(Duration.ofSeconds(5)).build();
        LaunchPlan plan = Planner.plan("demo", dir, spec, launcher.place(spec));
        return new OrchestratorHandle(plan, launcher, OrchestratorState.NEW, List.of());
    }

    private static List<LaunchedShard> shards(OrchestratorHandle db, int n) {
        List<LaunchedShard> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new LaunchedShard(i, "db_" + i, "127.0.0.1", db.plan().shards().get(i).port(),
                    Optional.of(900_000L + i), Optional.empty(), Map.of()));
        }
        return out;
    }

    private OrchestratorStart pipeline(ManifestStore store, List<String> progress) {
        return new OrchestratorStart("demo", dir, new Recorder(store, "demo"), progress::add);
    }

    @Test
    void aLaunchThatFailsHalfwayStopsExactlyTheShardsItReportedAndIsRecordedFailed() {
        Scripted launcher = new Scripted(new ArrayList<>(), true, false);
        OrchestratorHandle db = orchestrator(launcher, 3);
        launcher.report.addAll(shards(db, 2)); // two of three came up before the third failed
        ManifestStore store = new ManifestStore(dir);
        List<String> running = Collections.synchronizedList(new ArrayList<>());
        assertThatThrownBy(() -> pipeline(store, new ArrayList<>()).start(db, false, Supervise.IN_PROCESS,
                (o, t0) -> running.add(o.id())))
                .isInstanceOf(ShardStartException.class).hasMessageContaining("shard 2 exited at once");
        assertThat(launcher.stopped).as("one teardown, of the two shards it reported").containsExactly(launcher.report);
        assertThat(running).as("never kept: it never ran").isEmpty();
        assertThat(db.state()).isEqualTo(OrchestratorState.FAILED);
        OrchestratorRecord r = store.read().flatMap(m -> m.find("db")).orElseThrow();
        assertThat(r.status()).isEqualTo(Status.FAILED);
        assertThat(r.error()).hasValueSatisfying(e -> assertThat(e).contains("shard 2 exited at once"));
        assertThat(r.shards()).containsExactlyInAnyOrderElementsOf(launcher.report);
        assertThat(EventLog.in(db.plan().dir()).read()).extracting(Event::type).containsExactly(Event.STARTED);
    }

    @Test
    void aFailedLaunchWhoseShardsCouldNotBeStoppedStaysStartingForDbStopAndCleanup() {
        Scripted launcher = new Scripted(new ArrayList<>(), true, false);
        launcher.unreachableAtStop = true;
        OrchestratorHandle db = orchestrator(launcher, 3);
        launcher.report.addAll(shards(db, 2));
        ManifestStore store = new ManifestStore(dir);
        assertThatThrownBy(() -> pipeline(store, new ArrayList<>()).start(db, false, Supervise.IN_PROCESS,
                (o, t0) -> { }))
                .isInstanceOf(ShardStartException.class).hasMessageContaining("shard 2 exited at once")
                .satisfies(e -> assertThat(e.getSuppressed()).singleElement()
                        .isInstanceOf(SchedulerUnreachableException.class));
        assertThat(launcher.stopped).containsExactly(launcher.report);
        OrchestratorRecord r = store.read().flatMap(m -> m.find("db")).orElseThrow();
        assertThat(r.status()).as("its shards may still run: not FAILED, which 'db stop' refuses")
                .isEqualTo(Status.STARTING);
        assertThat(r.shards()).containsExactlyInAnyOrderElementsOf(launcher.report);
    }

    @Test
    void shardsThatStartedButAreNotHealthyAreAllStopped() {
        Scripted launcher = new Scripted(new ArrayList<>(), false, false);
        OrchestratorHandle db = orchestrator(launcher, 1);
        launcher.report.addAll(shards(db, 1));
        ManifestStore store = new ManifestStore(dir);
        assertThatThrownBy(() -> pipeline(store, new ArrayList<>()).start(db, false, Supervise.IN_PROCESS,
                (o, t0) -> { }))
                .isInstanceOf(LaunchException.class).hasMessageContaining("'db'");
        assertThat(launcher.stopped).containsExactly(launcher.report);
        assertThat(store.read().flatMap(m -> m.find("db")).orElseThrow().status()).isEqualTo(Status.FAILED);
    }

    @Test
    void aRefusedPreflightStartsRecordsAndStopsNothing() {
        Scripted launcher = new Scripted(List.of(), false, true);
        OrchestratorHandle db = orchestrator(launcher, 1);
        ManifestStore store = new ManifestStore(dir);
        assertThatThrownBy(() -> pipeline(store, new ArrayList<>()).start(db, false, Supervise.IN_PROCESS,
                (o, t0) -> { }))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("preflight refused the plan");
        assertThat(launcher.stopped).isEmpty();
        assertThat(store.read()).isEmpty();
        assertThat(db.state()).isEqualTo(OrchestratorState.NEW);
    }

    /** A handle of a start of three shards ({@link #two}: the first two), with shard 0 reported. */
    private StartedOrchestrator handle(Scripted launcher) {
        OrchestratorHandle db = orchestrator(launcher, 3);
        two = shards(db, 2);
        StartedOrchestrator started = new StartedOrchestrator("db", launcher, db.plan().access());
        started.spawned(two.get(0));
        return started;
    }

    @Test
    void theHandleStopsWhatItWasToldOfOnceClosedAndEachShardOnceWhenReportedAgain() {
        Scripted launcher = new Scripted(List.of(), false, false);
        StartedOrchestrator started = handle(launcher);
        started.spawned(two.get(1));
        LaunchedShard landed = new LaunchedShard(0, "db_0", "127.0.0.1", two.get(0).port(), Optional.of(1L),
                Optional.empty(), Map.of("node", "n1"));
        started.spawned(landed); // shard 0 reported again where it landed
        assertThat(started.shards()).containsExactly(two.get(1), landed);
        started.close();
        assertThat(launcher.stopped).containsExactly(List.of(two.get(1), landed));
        assertThat(started.watchdogPid()).isEmpty();
    }

    @Test
    void aShardReportedWhileTheJvmExitsIsKeptForTheTeardownAndEndsTheStart() {
        Scripted launcher = new Scripted(List.of(), false, false);
        StartedOrchestrator started = handle(launcher);
        assertThat(started.refuseMore()).containsExactly(two.get(0));
        assertThatThrownBy(() -> started.spawned(two.get(1))).isInstanceOf(LaunchException.class)
                .hasMessageContaining("while the JVM was exiting");
        assertThat(started.shards()).containsExactly(two.get(0), two.get(1));
    }

    @Test
    void noAuthWarningSaysWhoCanReachTheShards() {
        Scripted launcher = new Scripted(List.of(), false, false);
        assertThat(OrchestratorStart.noAuthWarning(orchestrator(launcher, 1).plan()))
                .contains("'db' has no password (--no-auth)").contains("any user or process on this machine");
    }
}
