package io.smartsim.launch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spi.LaunchedShard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** status and stop against manifests that need no running server: missing, corrupt, stopped, stale. */
class ManifestAndStateTest {
    @TempDir
    Path exp;

    @Test
    void garbage_manifest_exits_1_with_a_clear_message_and_no_stack_trace() throws Exception {
        Files.writeString(exp.resolve("manifest.json"), "{ this is not json");

        for (String command : List.of("status", "stop")) {
            Cli.Result r = Cli.run("db", command, "--exp-dir", exp.toString());
            assertThat(r.exit()).as(r.toString()).isEqualTo(1);
            assertThat(r.out()).isEmpty();
            assertThat(r.err()).startsWith("error: the manifest " + exp.resolve("manifest.json")
                    + " is not a valid smartsim-launch manifest at line 1");
            assertThat(r.err()).doesNotContain("\tat ", "Exception");
        }
    }

    @Test
    void missing_manifest_exits_1_saying_nothing_was_started_here() {
        for (String command : List.of("status", "stop")) {
            Cli.Result r = Cli.run("db", command, "--exp-dir", exp.toString());
            assertThat(r.exit()).as(r.toString()).isEqualTo(1);
            assertThat(r.err()).isEqualTo("error: no manifest at " + exp.resolve("manifest.json")
                    + ": nothing has been started in this experiment directory; check --exp-dir\n");
        }
    }

    @Test
    void stop_of_an_id_never_started_exits_1() {
        new ManifestStore(exp).update("demo", m -> m);

        Cli.Result r = Cli.run("db", "stop", "--exp-dir", exp.toString(), "--name", "never");

        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: no orchestrator 'never' in " + exp + "; known here: none\n");
    }

    @Test
    void status_of_an_empty_manifest_exits_1() {
        new ManifestStore(exp).update("demo", m -> m);

        Cli.Result r = Cli.run("db", "status", "--exp-dir", exp.toString());

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).isEqualTo("no orchestrators recorded in " + exp.resolve("manifest.json") + "\n");
    }

    @Test
    void a_stopped_orchestrator_reports_stopped_exit_1_and_cannot_be_stopped_again() throws Exception {
        record(Status.STOPPED, 6780, Optional.of(1L));

        Cli.Result status = Cli.run("db", "status", "--exp-dir", exp.toString());
        assertThat(status.exit()).as(status.toString()).isEqualTo(1);
        assertThat(status.out().lines().toList().get(0))
                .isEqualTo("orchestrator 'orchestrator' of experiment 'demo': STOPPED");

        Cli.Result json = Cli.run("db", "status", "--exp-dir", exp.toString(), "--json");
        JsonNode o = Json.mapper().readTree(json.out()).get("orchestrators").get(0);
        assertThat(o.get("state").asText()).isEqualTo("STOPPED");
        assertThat(o.get("healthy").asBoolean()).isFalse();
        assertThat(o.get("shards")).hasSize(1);

        Cli.Result stop = Cli.run("db", "stop", "--exp-dir", exp.toString());
        assertThat(stop.exit()).isEqualTo(1);
        assertThat(stop.err()).isEqualTo("error: orchestrator 'orchestrator' is not running (recorded: STOPPED); "
                + "nothing to stop\n");
    }

    @Test
    void a_running_record_whose_processes_are_gone_is_stale_and_stop_clears_it() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        record(Status.RUNNING, closedPort, Optional.of(p.pid()));

        Cli.Result status = Cli.run("db", "status", "--exp-dir", exp.toString(), "--name", "orchestrator");
        assertThat(status.exit()).as(status.toString()).isEqualTo(1);
        assertThat(status.out()).startsWith("orchestrator 'orchestrator' of experiment 'demo': STALE\n")
                .contains("error: recorded as RUNNING but none of its 1 processes exists");

        Cli.Result stop = Cli.run("db", "stop", "--exp-dir", exp.toString());
        assertThat(stop.exit()).as(stop.toString()).isZero();
        assertThat(stop.out()).startsWith("stopped 'orchestrator' of experiment 'demo' in ");

        Cli.Result after = Cli.run("db", "status", "--exp-dir", exp.toString());
        assertThat(after.out()).startsWith("orchestrator 'orchestrator' of experiment 'demo': STOPPED\n");
    }

    /** A manifest entry as a start would have left it, for a one-shard plan. */
    private void record(Status status, int port, Optional<Long> pid) {
        LaunchPlan plan;
        try (Experiment e = Experiment.create("demo", exp)) {
            plan = e.createOrchestrator(OrchestratorSpec.builder().port(port).build()).plan();
        }
        LaunchedShard shard = new LaunchedShard(0, "orchestrator_0", "127.0.0.1", port, pid,
                Optional.empty(), Map.of("node", "0"));
        new ManifestStore(exp).update("demo", m -> m.with(new OrchestratorRecord(plan.id(), "local", status,
                plan.spec(), plan, List.of(shard), Instant.now(), Optional.empty())));
    }
}
