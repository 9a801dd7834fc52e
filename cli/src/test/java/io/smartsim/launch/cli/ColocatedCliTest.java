package io.smartsim.launch.cli;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Model;
import io.smartsim.launch.spec.ColocatedDb;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.dashboard.Dashboard;
import io.smartsim.launch.dashboard.HttpAccess;
import io.smartsim.launch.telemetry.TelemetryOptions;
import io.smartsim.launch.testing.Golden;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Colocated databases through the CLI: {@code run --dry-run} shows the wrapper and config (golden), {@code db status}
 * lists a running model's database by node, {@code db cleanup} stops one whose keeper was killed (real redis-server).
 */
@Timeout(120)
class ColocatedCliTest {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest();
    @TempDir
    Path dir;
    private Path app;

    @BeforeEach
    void files() throws IOException {
        app = dir.resolve("app.sh");
        // a rank that waits until the file "go" appears (at most 60 s)
        Files.writeString(app, "#!/bin/bash\nend=$((SECONDS + 60))\n"
                + "while [ ! -e \"$1\" ] && [ \"$SECONDS\" -lt \"$end\" ]; do sleep 0.05; done\n");
        Files.setPosixFilePermissions(app, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void dryRunShowsTheWrapperAndTheConfig() throws IOException {
        Path f = dir.resolve("experiment.yaml");
        Files.writeString(f, """
                name: colo
                models:
                  - name: sim
                    exe: ./app.sh
                    run: { tasks: 2 }
                    colocatedDb: { unixSocket: /tmp/ssdb-colo-cli.sock, socketPermissions: 750, pinning: "1" }
                """);
        Path exp = dir.resolve("exp");
        Cli.Result r = Cli.run("run", f.toString(), "--exp-dir", exp.toString(), "--dry-run");
        assertThat(r.exit()).as(r.toString()).isZero();
        Golden.assertMatches(r.out().replace(dir.toString(), "$DIR"), "run-dry-run-colocated.txt");
        assertThat(r.out()).contains("colocated database: one per node, standalone redis on "
                + "unix:///tmp/ssdb-colo-cli.sock, pinned to CPUs 1").contains("SSDB=unix:///tmp/ssdb-colo-cli.sock");
        assertThat(exp).as("a dry run writes nothing").doesNotExist();
    }

    /**
     * Issue 17: a Slurm batch model runs each rank through the wrapper, as its dry run shows (PBS's, which asks qstat
     * for its dialect, in PbsModelScriptsTest).
     */
    @Test
    void aSlurmBatchModelRunsItsRanksThroughTheWrapperAsTheDryRunShows() throws IOException {
        Path f = dir.resolve("slurm.yaml");
        Files.writeString(f, """
                name: colo
                models:
                  - name: sim
                    launcher: slurm
                    exe: ./app.sh
                    run: { nodes: 1, batch: { time: "00:05:00" } }
                    colocatedDb: { port: 6780 }
                """);
        Path exp = dir.resolve("exp");
        Cli.Result r = Cli.run("run", f.toString(), "--exp-dir", exp.toString(), "--dry-run");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("bash " + exp.resolve("sim/colocated.sh") + " " + dir.resolve("app.sh"))
                .contains("script " + exp.resolve("sim/colocated.conf") + ":");
        assertThat(exp).as("a dry run writes nothing").doesNotExist();
    }

    @Test
    void statusListsTheDatabaseByNodeAndCleanupStopsOneWhoseKeeperWasKilled() throws Exception {
        Path socket = dir.resolve("st.sock");
        Path go = dir.resolve("go");
        Path expDir = dir.resolve("exp");
        try (Experiment exp = Experiment.create("colo", expDir)) {
            Model sim = exp.createModel(ModelSpec.builder("sim", app.toString()).args(go.toString())
                    .colocatedDb(ColocatedDb.unixSocket(socket.toString(), 0700)).build());
            exp.start(sim);
            long until = System.nanoTime() + 60_000_000_000L;
            while (sim.colocatedDatabases().stream().noneMatch(n -> n.health().equals("healthy"))) {
                assertThat(System.nanoTime()).as("the database answers within 60 s").isLessThan(until);
                Thread.sleep(20);
            }
            long pid = sim.colocatedDatabases().get(0).pid();

            Cli.Result status = Cli.run("db", "status", "--exp-dir", expDir.toString());
            assertThat(status.out()).as(status.toString()).contains("colocated databases of model 'sim':")
                    .containsPattern("\\n  [^ ]+ +unix://" + socket + " +" + pid + " +healthy +"
                            + expDir.resolve("sim"));
            Cli.Result json = Cli.run("db", "status", "--exp-dir", expDir.toString(), "--json");
            com.fasterxml.jackson.databind.JsonNode node = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(json.out()).path("colocated").path("sim").path(0);
            assertThat(node.path("pid").asLong()).isEqualTo(pid);
            assertThat(node.path("answering").asBoolean()).isTrue();
            assertThat(node.path("address").asText()).isEqualTo("unix://" + socket);
            assertThat(node.path("health").asText()).isEqualTo("healthy");
            // the dashboard's state has the same entry, field for field (and a "problem", null while it runs)
            try (Dashboard d = Dashboard.start(expDir, HttpAccess.forBind("127.0.0.1"), 0,
                    TelemetryOptions.defaults())) {
                leftovers.port(d.server().port());
                java.net.http.HttpResponse<String> state = java.net.http.HttpClient.newHttpClient().send(
                        java.net.http.HttpRequest.newBuilder(d.server().uri().resolve("/api/state"))
                                .timeout(java.time.Duration.ofSeconds(20)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                com.fasterxml.jackson.databind.JsonNode page = new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(state.body()).path("colocated").path("sim");
                assertThat(page.size()).as(state.body()).isEqualTo(1);
                node.fieldNames().forEachRemaining(f -> assertThat(page.path(0).get(f)).as(f).isEqualTo(node.get(f)));
                assertThat(page.path(0).get("problem").isNull()).isTrue();
            }

            // while the application runs, cleanup leaves its database alone and says so
            Cli.Result early = Cli.run("db", "cleanup", "--exp-dir", expDir.toString());
            assertThat(early.exit()).as(early.toString()).isZero();
            assertThat(early.out()).as(early.toString()).contains("colocated database of model 'sim' node ")
                    .contains(": left alone, its application still runs there (server pid " + pid);
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).hasValue(true);

            // the job dies whole but for the server: its keeper cannot stop it. Swept until nothing else is left: a
            // rank forks a new 'sleep' (holding the node's run lock, fd 9) while the sweep kills, and cleanup rightly
            // leaves a database alone while anything holds that lock
            long sweepUntil = System.nanoTime() + 30_000_000_000L;
            for (List<Processes.Proc> rest = nonServers(dir); !rest.isEmpty(); rest = nonServers(dir)) {
                assertThat(System.nanoTime()).as("the job's processes are gone within 30 s: %s", rest)
                        .isLessThan(sweepUntil);
                rest.forEach(p -> ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly));
                Thread.sleep(20);
            }
            assertThat(exp.waitFor(java.time.Duration.ofSeconds(60), sim)).isTrue();
            Cli.Result cleanup = Cli.run("db", "cleanup", "--exp-dir", expDir.toString());
            assertThat(cleanup.exit()).as(cleanup.toString()).isZero();
            assertThat(cleanup.out()).contains("colocated database of model 'sim' node ")
                    .contains("stopped server pid " + pid);
            assertThat(Processes.serversUnder(dir)).isEmpty();
            assertThat(socket).doesNotExist();
            assertThat(Cli.run("db", "status", "--exp-dir", expDir.toString()).out())
                    .doesNotContain("colocated databases");
        }
    }

    /** The live processes under {@code dir} other than Redis servers. */
    private static List<Processes.Proc> nonServers(Path dir) {
        return Processes.under(dir).stream().filter(p -> !p.server()).toList();
    }
}
