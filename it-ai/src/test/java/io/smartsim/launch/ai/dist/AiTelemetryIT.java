package io.smartsim.launch.ai.dist;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.TelemetrySpec;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.TensorData;
import io.smartsim.launch.status.ModelSample;
import io.smartsim.launch.status.ShardSample;
import io.smartsim.launch.telemetry.TelemetryFiles;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 18's model figures: an {@code --ai onnx} orchestrator on the local launcher (redis-server with the smartsim-ai
 * module, the real model server), started through the Experiment API with its collector on; a model stored and run N
 * times, and the shard's samples in the recorded JSONL carry the model's AI.INFO with calls == N. Without --ai the
 * collector sends no AI command.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class AiTelemetryIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest();

    @TempDir
    Path dir;
    final AiTestbed bed = new AiTestbed(leftovers);

    static final byte[] MODEL = AiOrchestratorIT.MODEL;

    /** Polls until {@code find} gives a value, at most {@code limit}. */
    static <T> T await(String what, Duration limit, Supplier<Optional<T>> find) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (true) {
            Optional<T> v = find.get();
            if (v.isPresent()) {
                return v.get();
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("not within " + limit + ": " + what);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void theRecordedSamplesCarryEachModelsAiInfoWithItsCalls() throws Exception {
        int base = bed.ports(1);
        int runs = 7;
        Path expDir = dir.resolve("exp");
        try (Experiment exp = Experiment.create("ai-tel", expDir)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 1).auth(false)
                    .telemetry(new TelemetrySpec(true, Duration.ofMillis(200))).build());
            exp.start(db);
            try (Client c = Client.fromEnvironment(db.dbEnv())) {
                c.setModel("mlp", MODEL, "ONNX", "CPU");
                c.putTensor("x", TensorData.of(new float[] {1, 2, 3, 4, -1, 0.5f, 0, 2}, 2, 4));
                for (int k = 0; k < runs; k++) {
                    c.runModel("mlp", List.of("x"), List.of("y"));
                }
            }
            // A sample taken after the last run: its model figures say exactly N calls.
            ModelSample m = await("a recorded sample with mlp at " + runs + " calls", Duration.ofSeconds(60), () ->
                    TelemetryFiles.read(expDir, db.id()).stream()
                            .filter(s -> s.models() != null)
                            .flatMap(s -> s.models().stream())
                            .filter(x -> x.key().equals("mlp") && x.calls() == runs).findFirst());
            assertThat(m.type()).isEqualTo("MODEL");
            assertThat(m.backend()).isEqualTo("ONNX");
            assertThat(m.device()).isEqualTo("CPU");
            assertThat(m.errors()).isZero();
            assertThat(m.samples()).as("each run's batch of 2 rows").isEqualTo(2L * runs);
            assertThat(m.durationMicros()).isPositive();
            assertThat(m.meanMicros()).isEqualTo((double) m.durationMicros() / runs);

            List<ShardSample> all = TelemetryFiles.read(expDir, db.id());
            assertThat(all).allSatisfy(s -> {
                assertThat(s.reachable()).as(s.toString()).isTrue();
                assertThat(s.models()).as("every sample of a reachable --ai master lists its models").isNotNull();
                assertThat(s.modelsError()).isNull();
                assertThat(s.modelsTruncated()).isNull();
            });
            // The samples before the model was stored list nothing; none lists a tensor.
            assertThat(all.get(0).models()).isEmpty();
            assertThat(all).allSatisfy(s -> assertThat(s.models()).extracting(ModelSample::key)
                    .isSubsetOf("mlp"));
            // The recorded line as a script reads it.
            String last = Files.readAllLines(TelemetryFiles.current(expDir, db.id()), StandardCharsets.UTF_8)
                    .stream().filter(l -> l.contains("\"models\":[{")).reduce((a, b) -> b).orElseThrow();
            assertThat(last).contains("\"key\":\"mlp\",\"type\":\"MODEL\",\"backend\":\"ONNX\",\"device\":\"CPU\","
                    + "\"calls\":" + runs + ",\"errors\":0,\"durationMicros\":");

            // The collector's commands on the shard: INFO, AI._LIST and AI.INFO, nothing refused.
            try (RespClient r = RespClient.connect(base)) {
                String stats = new String((byte[]) r.call("INFO", "commandstats"), StandardCharsets.UTF_8);
                assertThat(stats).contains("cmdstat_AI._LIST:", "cmdstat_AI.INFO:");
            }
            exp.stop(db);
        }
    }

    @Test
    void withoutAiTheCollectorSendsNoAiCommand() throws Exception {
        int base = bed.ports(1);
        Path expDir = dir.resolve("plain");
        try (Experiment exp = Experiment.create("plain-tel", expDir)) {
            Orchestrator db = exp.createOrchestrator(io.smartsim.launch.spec.OrchestratorSpec.builder().port(base).auth(false)
                    .telemetry(new TelemetrySpec(true, Duration.ofMillis(100))).build());
            exp.start(db);
            await("5 samples", Duration.ofSeconds(60), () -> TelemetryFiles.read(expDir, db.id()).size() >= 5
                    ? Optional.of(true) : Optional.empty());
            assertThat(TelemetryFiles.read(expDir, db.id())).allSatisfy(s -> {
                assertThat(s.models()).isNull();
                assertThat(s.modelsError()).isNull();
            });
            assertThat(Files.readString(TelemetryFiles.current(expDir, db.id()))).doesNotContain("models");
            try (RespClient r = RespClient.connect(base)) {
                String stats = new String((byte[]) r.call("INFO", "commandstats"), StandardCharsets.UTF_8);
                assertThat(stats).contains("cmdstat_info:").doesNotContainIgnoringCase("cmdstat_ai");
                String errors = new String((byte[]) r.call("INFO", "errorstats"), StandardCharsets.UTF_8);
                assertThat(errors).as("no command refused (an AI._LIST would be an unknown command here)")
                        .doesNotContain("errorstat_");
            }
            exp.stop(db);
        }
    }
}
