package io.smartsim.launch.dashboard;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.TelemetrySpec;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.status.ShardSample;
import io.smartsim.launch.telemetry.TelemetryFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 18: the open Experiment records telemetry by default while its orchestrator runs (a real redis-server, the
 * local launcher), and stopping or closing ends the collector (no sampling thread left); {@code telemetry off}
 * records nothing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ExperimentTelemetryIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest();
    @TempDir
    Path expDir;

    private static List<Thread> collectorThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
                .filter(t -> t.getName().startsWith("telemetry-")).toList();
    }

    @Test
    void theOpenExperimentRecordsSamplesAndCloseStopsTheCollector() throws Exception {
        assertThat(collectorThreads()).as("no collector before the start").isEmpty();
        Experiment exp = Experiment.create("telemetry-on", expDir);
        try {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().port(leftovers.freeBase(1))
                    .telemetry(new TelemetrySpec(true, Duration.ofMillis(200))).build());
            exp.start(db);
            TelemetryIT.await("3 samples recorded under " + expDir.resolve("telemetry"), Duration.ofSeconds(30),
                    () -> TelemetryFiles.read(expDir, db.id()).size() >= 3);
            List<ShardSample> samples = TelemetryFiles.read(expDir, db.id());
            assertThat(samples).allSatisfy(s -> {
                assertThat(s.reachable()).as(s.toString()).isTrue();
                assertThat(s.usedMemory()).isPositive();
                assertThat(s.experiment()).isEqualTo("telemetry-on");
            });
            assertThat(collectorThreads()).isNotEmpty();
        } finally {
            exp.close(); // stops what it started, and its collector first
        }
        TelemetryIT.await("no collector thread after close", Duration.ofSeconds(10), () -> collectorThreads().isEmpty());
    }

    @Test
    void telemetryOffRecordsNothing() throws Exception {
        try (Experiment exp = Experiment.create("telemetry-off", expDir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().port(leftovers.freeBase(1))
                    .telemetry(TelemetrySpec.OFF).build());
            exp.start(db);
            // Healthy and supervised as chosen: a collector would have been started before start() returned.
            assertThat(collectorThreads()).isEmpty();
            assertThat(expDir.resolve("telemetry")).doesNotExist();
            exp.stop(db);
        }
        assertThat(Files.exists(expDir.resolve("telemetry"))).isFalse();
    }
}
