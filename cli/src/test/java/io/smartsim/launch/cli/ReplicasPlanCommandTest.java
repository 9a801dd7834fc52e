package io.smartsim.launch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.testing.Golden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code db plan --replicas}: the whole printed plan (golden), its JSON, and the bad inputs' errors. */
class ReplicasPlanCommandTest {
    @TempDir
    Path tmp;

    /** The output with this run's directory as /EXP and without the preflight line (it depends on this machine). */
    private String normalized(String out) {
        String text = out.replace(tmp.resolve("exp").toString(), "/EXP");
        return text.substring(0, text.lastIndexOf("preflight: "));
    }

    @Test
    void planShowsRolesReplicaPortsAfterTheMastersAndTheSharedHostWarning() {
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", tmp.resolve("exp").toString(), "--per-node", "3",
                "--replicas", "1", "--port", "21900");
        assertThat(r.exit()).as(r.toString()).isZero();
        Golden.assertMatches(normalized(r.out()), "db-plan-replicas.txt");
        assertThat(tmp.resolve("exp")).as("plan writes nothing").doesNotExist();
    }

    @Test
    void planJsonCarriesEachShardsRoleAndTheWarnings() throws Exception {
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", tmp.resolve("exp").toString(), "--per-node", "3",
                "--replicas", "1", "--port", "21900", "--json");
        assertThat(r.exit()).as(r.toString()).isZero();
        JsonNode plan = Json.mapper().readTree(r.out());
        assertThat(plan.get("shards")).hasSize(6);
        assertThat(plan.get("shards").get(0).get("role").asText()).isEqualTo("MASTER");
        assertThat(plan.get("shards").get(5).get("role").asText()).isEqualTo("REPLICA");
        assertThat(plan.get("shards").get(5).get("replicaOf").asInt()).isEqualTo(2);
        assertThat(plan.get("shards").get(5).get("port").asInt()).isEqualTo(21905);
        assertThat(plan.get("warnings").get(0).asText()).startsWith("every replica shares host localhost");
    }

    @Test
    void badReplicaCountsAreUsageErrorsNamingTheOption() {
        Cli.Result one = Cli.run("db", "plan", "--exp-dir", tmp.resolve("exp").toString(), "--replicas", "1");
        assertThat(one.exit()).isEqualTo(2);
        assertThat(one.err()).contains("replicas (--replicas): --replicas 1 needs a Redis Cluster");
        Cli.Result negative = Cli.run("db", "plan", "--exp-dir", tmp.resolve("exp").toString(), "--per-node", "3",
                "--replicas", "-1");
        assertThat(negative.exit()).isEqualTo(2);
        assertThat(negative.err()).contains("replicas (--replicas): -1 is out of range; use 0 (no replicas) to 15");
        Cli.Result ports = Cli.run("db", "plan", "--exp-dir", tmp.resolve("exp").toString(), "--per-node", "3",
                "--replicas", "2", "--port", "55530");
        assertThat(ports.exit()).isEqualTo(2);
        assertThat(ports.err()).contains("port/replicas (--port/--replicas): 55530 is too high: host localhost runs 7+ "
                + "processes");
        assertThat(tmp.resolve("exp")).doesNotExist();
    }

    @Test
    void runDryRunOfASlurmSpecFileWithReplicasPrintsEveryProcessAndItsNode() throws Exception {
        // Batch mode: nothing here asks Slurm anything. Three nodes, one replica each: no warning.
        Path f = tmp.resolve("replicas.yaml");
        java.nio.file.Files.writeString(f, """
                name: hpc
                orchestrators:
                  - id: db
                    launcher: slurm
                    nodes: 3
                    instancesPerNode: 1
                    replicas: 1
                    port: 21900
                    launcherOptions: { batch: "true" }
                """);
        Cli.Result r = Cli.run("run", f.toString(), "--exp-dir", tmp.resolve("exp").toString(), "--dry-run");
        assertThat(r.exit()).as(r.toString()).isZero();
        Golden.assertMatches(r.out().replace(tmp.toString(), "$DIR"), "run-dry-run-replicas.txt");
        assertThat(r.out()).doesNotContain("warning:");
    }
}
